"""The /maps/parcels page: stored parcels coloured by land use, with a legend and popups."""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element
from folium.map import Layer
from folium.template import Template

from landmarket import landuse
from landmarket.units import m2_to_mu, round_area
from maps.assets import FAVICON, LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal, script_safe
from maps.legend import Legend
from maps.styles import OUTLINE_COLOUR, UNKNOWN_COLOUR, land_use_colour

COORD_DECIMALS = 6  # ~0.1 m at Chongqing's latitude: plenty for display, a third of the bytes
DEFAULT_CENTER = (29.70, 105.72)  # Dazu District
PAGE_TITLE = "宗地地类图 / Parcels by land use"
FAVICON_LINK = f'<link rel="icon" href="{FAVICON}" type="image/svg+xml"/>'


def parcels_geojson(frame: gpd.GeoDataFrame) -> str:
    """FeatureCollection of the page's parcels, coordinates rounded to 6 decimals.

    The frame needs geometry (EPSG:4490 or WGS84 longitude/latitude), parcel_code,
    land_use_code and area_m2; village (display name) and area_mu are optional.
    """
    if len(frame) == 0:
        return '{"type":"FeatureCollection","features":[]}'
    geoms = shapely.transform(
        np.asarray(frame.geometry.values), lambda xy: np.round(xy, COORD_DECIMALS)
    )
    geo_texts = shapely.to_geojson(geoms)
    area_m2 = round_area(frame["area_m2"].to_numpy(dtype=float))
    area_mu = frame["area_mu"].to_numpy(dtype=float) if "area_mu" in frame else m2_to_mu(area_m2)
    villages = frame["village"] if "village" in frame else [None] * len(frame)
    parts = []
    for geo, code, use, m2, mu, village in zip(
        geo_texts,
        frame["parcel_code"],
        frame["land_use_code"],
        area_m2,
        area_mu,
        villages,
        strict=True,
    ):
        props = {
            "parcel_code": code,
            "land_use_code": use,
            "land_use": landuse.name(use),
            "area_m2": float(m2),
            "area_mu": round(float(mu), 4),
            "village": village if village is None or isinstance(village, str) else str(village),
        }
        parts.append(
            f'{{"type":"Feature","geometry":{geo},"properties":'
            f"{json.dumps(props, ensure_ascii=False)}}}"
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


class ParcelLayer(Layer):
    """Parcels drawn as SVG paths, filled by land-use code, each with a bilingual popup."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var colours = {{ this.colours }};
            function esc(v) {
                return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            }
            function popup(p) {
                return '<table class="lm-popup">'
                    + '<tr><th>宗地代码 / Parcel code</th><td class="lm-parcel-code">'
                    + esc(p.parcel_code) + '</td></tr>'
                    + '<tr><th>地类 / Land use</th><td>' + esc(p.land_use_code) + ' '
                    + esc(p.land_use) + '</td></tr>'
                    + '<tr><th>面积 / Area</th><td>' + esc(p.area_m2.toFixed(2)) + ' m² · '
                    + esc(p.area_mu.toFixed(4)) + ' 亩 / mu</td></tr>'
                    + '<tr><th>村 / Village</th><td>' + esc(p.village || '—') + '</td></tr>'
                    + '</table>';
            }
            return L.geoJSON({{ this.get_name() }}_data, {
                style: function (f) {
                    return {
                        color: {{ this.outline|tojson }}, weight: 0.6, opacity: 0.9,
                        fillColor: colours[f.properties.land_use_code] || {{ this.unknown|tojson }},
                        fillOpacity: 0.8
                    };
                },
                onEachFeature: function (f, layer) {
                    layer.bindPopup(popup(f.properties), {maxWidth: 360});
                    layer.on('mouseover', function () { layer.setStyle({weight: 2.2}); });
                    layer.on('mouseout', function () { layer.setStyle({weight: 0.6}); });
                }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, frame: gpd.GeoDataFrame, name: str = "宗地 / Parcels") -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ParcelLayer"
        self.data = script_safe(parcels_geojson(frame))
        codes = sorted({str(c) for c in frame["land_use_code"]}) if len(frame) else []
        self.colours = js_literal({c: land_use_colour(c) for c in codes})
        self.outline = OUTLINE_COLOUR
        self.unknown = UNKNOWN_COLOUR

    def render(self, **kwargs) -> None:
        """Put the data in its own raw script first: a megabyte through Jinja costs seconds."""
        self.get_root().script.add_child(
            RawScript(f"var {self.get_name()}_data = {self.data};"), name=self.get_name() + "_data"
        )
        super().render(**kwargs)


class RawScript(Element):
    """Script text emitted as is (branca would otherwise compile it as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        """The text itself."""
        return self.text


POPUP_CSS = """
<style>
.lm-popup { border-collapse: collapse; font: 12px/1.4 "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; }
.lm-popup th { text-align: left; padding: 1px 8px 1px 0; color: #444; font-weight: 600; }
.lm-popup td { padding: 1px 0; }
</style>
"""


def land_use_legend(codes, note: str | None = None) -> Legend:
    """Legend rows for the land-use codes present, in code order."""
    entries = [(land_use_colour(c), f"{c} {landuse.name(c)}") for c in sorted(set(map(str, codes)))]
    return Legend("地类 / Land use (GB/T 21010)", entries, note=note)


def parcels_map(
    frame: gpd.GeoDataFrame,
    basemap: str = "none",
    tianditu_token: str | None = None,
    total: int | None = None,
) -> LocalMap:
    """The parcels page as a folium map over a frame of parcels (see parcels_geojson).

    total is how many parcels matched when the frame holds only the first of them.
    """
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=13, control_scale=True, max_zoom=20)
    fmap.get_root().title = PAGE_TITLE
    fmap.get_root().header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    add_basemap(fmap, basemap, tianditu_token)
    fmap.get_root().header.add_child(folium.Element(POPUP_CSS), name="lm_popup_css")
    ParcelLayer(frame).add_to(fmap)
    if len(frame):
        minx, miny, maxx, maxy = frame.total_bounds
        fmap.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
        note = None
        if total is not None and total > len(frame):
            note = f"仅显示前 {len(frame)} 宗（共 {total} 宗）/ showing {len(frame)} of {total}"
        legend = land_use_legend(frame["land_use_code"], note)
    else:
        legend = Legend("地类 / Land use (GB/T 21010)", [], note="暂无宗地 / no parcels loaded")
    legend.add_to(fmap)
    return fmap


def render_parcels_page(
    frame: gpd.GeoDataFrame,
    basemap: str = "none",
    tianditu_token: str | None = None,
    total: int | None = None,
) -> str:
    """Full HTML of the parcels page."""
    return parcels_map(frame, basemap, tianditu_token, total).get_root().render()
