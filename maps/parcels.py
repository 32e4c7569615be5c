"""The /maps/parcels page: stored parcels coloured by land use, from vector tiles, with a legend
and popups.

The page carries no parcel data: Leaflet.VectorGrid fetches /tiles/parcels/… (an aggregate grid
where a tile would hold too many parcels), so the HTML is the same few kilobytes for a village or
a district of a million parcels. What it does carry is bounded: the extent, the land-use codes
present (colours and names for the legend and popups) and the names of the villages in view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from landmarket import landuse
from maps.assets import FAVICON, LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal
from maps.legend import Legend
from maps.styles import OUTLINE_COLOUR, UNKNOWN_COLOUR, land_use_colour

DEFAULT_CENTER = (29.70, 105.72)  # Dazu District
PAGE_TITLE = "宗地地类图 / Parcels by land use"
FAVICON_LINK = f'<link rel="icon" href="{FAVICON}" type="image/svg+xml"/>'
M2_PER_MU = 10_000 / 15
SCRIPT = r"""
(function () {
  var map = %(map)s, cfg = %(cfg)s;
  function esc(v) {
    return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; });
  }
  function colour(code) {
    code = String(code || '');
    return cfg.colours[code] || cfg.colours[code.slice(0, 2)] || cfg.unknown;
  }
  function parcelStyle(p) {
    return {fill: true, fillColor: colour(p.land_use_code), fillOpacity: 0.8, color: cfg.outline,
            weight: 0.6, opacity: 0.9, className: 'lm-parcel lm-use-' + esc(p.land_use_code)};
  }
  function cellStyle() {
    return {fill: true, fillColor: '#555555', fillOpacity: 0.35, color: '#555555', weight: 0.5,
            className: 'lm-cell'};
  }
  function popup(p) {
    if (p.count != null && p.parcel_code == null) {
      return '<b>' + esc(p.count) + ' 宗 / parcels</b>, ' + esc(Number(p.area_mu).toFixed(2))
        + ' 亩 / mu<br>放大查看 / zoom in';
    }
    var mu = Number(p.area_mu), village = cfg.villages[p.village_code];
    return '<table class="lm-popup">'
      + '<tr><th>宗地代码 / Parcel code</th><td class="lm-parcel-code">' + esc(p.parcel_code)
      + '</td></tr><tr><th>地类 / Land use</th><td>' + esc(p.land_use_code) + ' '
      + esc(cfg.names[p.land_use_code] || '') + '</td></tr>'
      + '<tr><th>面积 / Area</th><td>' + esc((mu * cfg.m2PerMu).toFixed(2)) + ' m² · '
      + esc(mu.toFixed(4)) + ' 亩 / mu</td></tr>'
      + '<tr><th>村 / Village</th><td>' + esc(village ? village + ' (' + p.village_code + ')'
                                                    : (p.village_code || '—')) + '</td></tr>'
      + '</table>';
  }
  var styles = {parcels: parcelStyle, parcels_aggregate_grid: cellStyle};
  var parcels = L.vectorGrid.protobuf(cfg.tiles, {
    interactive: true, rendererFactory: L.svg.tile, maxNativeZoom: 20,
    vectorTileLayerStyles: styles});
  parcels.on('click', function (e) {
    L.popup({maxWidth: 360}).setLatLng(e.latlng).setContent(popup(e.layer.properties))
      .openOn(map);
  });
  parcels.addTo(map);
  L.control.layers(null, {'宗地 / Parcels': parcels}, {collapsed: true}).addTo(map);
  window.lmParcels = {map: map, parcels: parcels};
})();
"""


class ParcelTiles(MacroElement):
    """The parcels' vector tiles, coloured by land-use code, each with a bilingual popup."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.script }}{% endmacro %}")

    def __init__(self, map_name: str, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ParcelTiles"
        self.script = SCRIPT % {"map": map_name, "cfg": js_literal(config)}


def page_config(land_uses: Iterable[str], villages: Mapping[str, str]) -> dict[str, Any]:
    """What the page script needs: the tile URL, colours and names of the codes, village names."""
    codes = sorted({str(c) for c in land_uses})
    classes = sorted({c[:2] for c in codes})
    return {
        "tiles": "/tiles/parcels/{z}/{x}/{y}.pbf",
        "colours": {c: land_use_colour(c) for c in [*classes, *codes]},
        "names": {c: landuse.name(c) for c in codes},
        "villages": dict(villages),
        "outline": OUTLINE_COLOUR,
        "unknown": UNKNOWN_COLOUR,
        "m2PerMu": M2_PER_MU,
    }


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
    total: int,
    bounds: tuple[float, float, float, float] | None,
    land_uses: Iterable[str] = (),
    villages: Mapping[str, str] | None = None,
    basemap: str = "none",
    tianditu_token: str | None = None,
) -> LocalMap:
    """The parcels page as a folium map over the stored parcels' tiles.

    total: how many parcels are stored (or in the village shown); bounds: their extent
    (minx, miny, maxx, maxy); land_uses: the codes present; villages: code → name for popups.
    """
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=13, control_scale=True, max_zoom=20,
                    extras=("vectorgrid",))  # fmt: skip
    fmap.get_root().title = PAGE_TITLE
    fmap.get_root().header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    add_basemap(fmap, basemap, tianditu_token)
    fmap.get_root().header.add_child(folium.Element(POPUP_CSS), name="lm_popup_css")
    ParcelTiles(fmap.get_name(), page_config(land_uses, villages or {})).add_to(fmap)
    if total and bounds:
        minx, miny, maxx, maxy = bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
        legend = land_use_legend(land_uses, f"{total} 宗 / parcels")
    else:
        legend = Legend("地类 / Land use (GB/T 21010)", [], note="暂无宗地 / no parcels loaded")
    legend.add_to(fmap)
    return fmap


def render_parcels_page(*args: Any, **kwargs: Any) -> str:
    """Full HTML of the parcels page (arguments as parcels_map)."""
    return parcels_map(*args, **kwargs).get_root().render()
