"""The /maps/bureau page: parcels coloured by their verdict for one check, with the constraint
layers (PBF, red line, UDB, village plan) and the DEM slope as toggleable overlays.
"""

from __future__ import annotations

import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.map import Layer
from folium.raster_layers import ImageOverlay
from folium.template import Template

from geodata.screening.summary import VERDICT_COLOURS as CHECK_COLOURS
from geodata.screening.summary import VERDICT_LABELS as CHECK_LABELS
from landmarket.eligibility import CHECKS
from maps.assets import LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal, script_safe
from maps.legend import Legend
from maps.parcels import COORD_DECIMALS, DEFAULT_CENTER, FAVICON_LINK, RawScript
from maps.slope_overlay import GRADE_COLOURS

PAGE_CHECKS = ("market_entry", "reclamation", "ticket_landing")
PAGE_TITLE = "土地核查图 / Bureau eligibility map"
# The rule that says whether a parcel is the kind of land a check is about: a paddy field fails
# reclamation's "rural construction land" rule, but to a bureau it is out of scope, not a refusal.
SCOPE_RULES = {
    "reclamation": "reclamation.rural_construction_land",
    "market_entry": "market_entry.operational_land",
}
NOT_APPLICABLE = "not_applicable"
VERDICT_COLOURS = {**CHECK_COLOURS, NOT_APPLICABLE: "#b8b8b8"}
VERDICT_LABELS = {
    **CHECK_LABELS,
    NOT_APPLICABLE: "不适用（非本项用地）/ not applicable (other land)",
}


def mark_out_of_scope(frame: gpd.GeoDataFrame, check: str) -> gpd.GeoDataFrame:
    """Parcels failing the check's scope rule get the verdict not_applicable (reasons kept)."""
    scope = SCOPE_RULES.get(check)
    if scope is None or not len(frame):
        return frame
    out = [
        any(r["rule_id"] == scope and r["status"] == "fail" for r in reasons)
        for reasons in frame["reasons"]
    ]
    return frame.assign(verdict=np.where(out, NOT_APPLICABLE, frame["verdict"].to_numpy()))


# kind → (bilingual name, outline colour, fill colour, fill opacity, dash pattern)
LAYER_STYLES = {
    "pbf": ("永久基本农田 / permanent basic farmland", "#b8860b", "#ffd700", 0.30, None),
    "redline": ("生态保护红线 / ecological red line", "#c00000", "#ff4040", 0.20, "6 4"),
    "udb": ("城镇开发边界 / urban development boundary", "#6a3d9a", "#cab2d6", 0.12, "10 5"),
    "village_plan": ("村庄规划 / village plan", "#01665e", "#80cdc1", 0.18, None),
}
SLOPE_NAME = "坡度分级 / DEM slope grades"
CSS = """
<style>
.lm-popup, .lm-rules { border-collapse: collapse; font: 12px/1.4 "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; }
.lm-popup th, .lm-rules th { text-align: left; padding: 1px 8px 1px 0; color: #444; }
.lm-rules { margin-top: 6px; } .lm-rules td { padding: 2px 6px 2px 0; vertical-align: top; }
.lm-rules tr.lm-fail td:first-child { color: #b00020; }
.lm-rules tr.lm-needs_review td:first-child { color: #a06000; }
.lm-rules code { color: #666; font-size: 11px; }
</style>
"""


def _rounded(geoms: np.ndarray) -> list[str]:
    return list(
        shapely.to_geojson(shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS)))
    )


def verdicts_geojson(frame: gpd.GeoDataFrame) -> str:
    """FeatureCollection of the parcels with verdict and reasons (see verdict_details)."""
    parts = []
    for geo, code, use, m2, verdict, reasons in zip(
        _rounded(np.asarray(frame.geometry.values)), frame["parcel_code"], frame["land_use"],
        frame["area_m2"], frame["verdict"], frame["reasons"], strict=True,
    ):  # fmt: skip
        props = {
            "parcel_code": code,
            "land_use_code": use,
            "area_m2": round(float(m2), 2),
            "verdict": verdict,
            "reasons": reasons,
        }
        parts.append(
            f'{{"type":"Feature","geometry":{geo},"properties":'
            f"{json.dumps(props, ensure_ascii=False)}}}"
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


class VerdictLayer(Layer):
    """Parcels as SVG paths filled by verdict; each popup lists its failed and review rules."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var colours = {{ this.colours }}, labels = {{ this.labels }};
            function esc(v) {
                return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            }
            function fmt(v) {
                if (v == null) return '—';
                if (Array.isArray(v)) return v.map(fmt).join(', ');
                if (typeof v === 'number') return String(Math.round(v * 100) / 100);
                return String(v);
            }
            function popup(p) {
                var html = '<table class="lm-popup">'
                    + '<tr><th>宗地代码 / Parcel code</th><td class="lm-parcel-code">'
                    + esc(p.parcel_code) + '</td></tr>'
                    + '<tr><th>地类 / Land use</th><td>' + esc(p.land_use_code) + '</td></tr>'
                    + '<tr><th>面积 / Area</th><td>' + esc(p.area_m2.toFixed(2)) + ' m²</td></tr>'
                    + '<tr><th>结论 / Verdict</th><td class="lm-verdict">'
                    + esc(labels[p.verdict] || p.verdict) + '</td></tr></table>';
                if (p.reasons.length) {
                    html += '<table class="lm-rules"><tr><th>规则 / Rule</th><th>测值 / Value</th>'
                        + '<th>阈值 / Threshold</th></tr>';
                    p.reasons.forEach(function (r) {
                        html += '<tr class="lm-rule lm-' + esc(r.status) + '"><td>' + esc(r.title)
                            + '<br><code>' + esc(r.rule_id) + '</code></td><td class="lm-value">'
                            + esc(fmt(r.value)) + ' ' + esc(r.unit) + '</td><td class="lm-threshold">'
                            + esc(fmt(r.threshold)) + ' ' + esc(r.unit) + '</td></tr>';
                    });
                    html += '</table>';
                }
                return html;
            }
            return L.geoJSON({{ this.get_name() }}_data, {
                style: function (f) {
                    return {color: '#303030', weight: 0.7, opacity: 0.9, fillOpacity: 0.75,
                            fillColor: colours[f.properties.verdict] || '#999999',
                            className: 'lm-parcel lm-' + f.properties.verdict};
                },
                onEachFeature: function (f, layer) {
                    layer.bindPopup(popup(f.properties), {maxWidth: 460});
                }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, frame: gpd.GeoDataFrame, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "VerdictLayer"
        self.data = script_safe(verdicts_geojson(frame))
        self.colours = js_literal(VERDICT_COLOURS)
        self.labels = js_literal(VERDICT_LABELS)

    def render(self, **kwargs) -> None:
        """The data goes in its own raw script (see maps.parcels.ParcelLayer)."""
        self.get_root().script.add_child(
            RawScript(f"var {self.get_name()}_data = {self.data};"), name=self.get_name() + "_data"
        )
        super().render(**kwargs)


class UrlImageOverlay(ImageOverlay):
    """An image overlay loaded from a platform URL (folium would try to read a relative path)."""

    def __init__(self, url: str, bounds: list[list[float]], **kwargs: Any) -> None:
        super().__init__("https://placeholder.invalid/", bounds, **kwargs)
        self.url = url


def constraint_group(kind: str, frame: gpd.GeoDataFrame | None) -> folium.FeatureGroup:
    """One toggleable constraint layer (empty, but still listed, when the data lack it)."""
    name, outline, fill, opacity, dash = LAYER_STYLES[kind]
    group = folium.FeatureGroup(name=name, overlay=True, control=True, show=True)
    if frame is not None and len(frame):
        geoms = np.asarray(frame.geometry.values)
        features = [
            {"type": "Feature", "geometry": json.loads(g), "properties": {}}
            for g in _rounded(geoms)
        ]
        style = {"color": outline, "weight": 1.5, "fillColor": fill, "fillOpacity": opacity}
        if dash:
            style["dashArray"] = dash
        style["className"] = f"lm-layer lm-layer-{kind}"
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda _f, s=style: s,
            interactive=False,
            control=False,
        ).add_to(group)
    return group


def bureau_map(
    frame: gpd.GeoDataFrame,
    check: str,
    layers: dict[str, gpd.GeoDataFrame | None],
    slope: tuple[str, list[list[float]]] | None,
    slope_labels: dict[int, str],
    *,
    basemap: str = "none",
    tianditu_token: str | None = None,
    total: int | None = None,
    policy_version: str = "",
) -> LocalMap:
    """The page as a folium map: slope, constraint layers, verdicts, layer control, legend."""
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=14, control_scale=True, max_zoom=20)
    root = fmap.get_root()
    root.title = f"{PAGE_TITLE} — {CHECKS[check].title}"
    root.header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    root.header.add_child(folium.Element(CSS), name="lm_bureau_css")
    add_basemap(fmap, basemap, tianditu_token)
    if slope is not None:
        url, bounds = slope
        UrlImageOverlay(url, bounds, name=SLOPE_NAME, opacity=0.6, interactive=False).add_to(fmap)
    else:  # still listed, so the page says the DEM is missing rather than hiding it
        folium.FeatureGroup(name=SLOPE_NAME + " (无数据 / no DEM)", show=False).add_to(fmap)
    for kind in LAYER_STYLES:
        constraint_group(kind, layers.get(kind)).add_to(fmap)
    frame = mark_out_of_scope(frame, check)
    VerdictLayer(frame, f"{CHECKS[check].title}").add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    if len(frame):
        minx, miny, maxx, maxy = frame.total_bounds
        fmap.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    legend_for(check, len(frame), total, slope_labels, policy_version).add_to(fmap)
    return fmap


def legend_for(
    check: str, shown: int, total: int | None, slope_labels: dict[int, str], policy_version: str
) -> Legend:
    """Bilingual legend: verdict colours, constraint layers, slope grades, what is shown."""
    entries = [(VERDICT_COLOURS[v], VERDICT_LABELS[v]) for v in VERDICT_COLOURS]
    entries += [(style[2], style[0]) for style in LAYER_STYLES.values()]
    entries += [(GRADE_COLOURS[g], label) for g, label in slope_labels.items()]
    if shown == 0:
        note = "暂无宗地 / no parcels loaded"
    elif total is not None and total > shown:
        note = f"仅显示前 {shown} 宗（共 {total} 宗）/ showing {shown} of {total}"
    else:
        note = f"{shown} 宗 / parcels"
    note += f" · 政策 / policy {policy_version}" if policy_version else ""
    return Legend(f"{CHECKS[check].title}", entries, note=note)


def render_bureau_page(*args: Any, **kwargs: Any) -> str:
    """Full HTML of the page (arguments as bureau_map)."""
    return bureau_map(*args, **kwargs).get_root().render()
