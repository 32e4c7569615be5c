"""The /maps/investor page: plots on the market drawn from vector tiles, filters, popups, layers.

The page carries no plot data: Leaflet.VectorGrid (vendored) fetches /tiles/listings/… with the
filters as query parameters, so the HTML stays the same few kilobytes whatever the market holds.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from landmarket.codes import CHONGQING_COUNTIES
from landmarket.listings import SUPPLY_MODE_NAMES
from maps.assets import LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal
from maps.legend import Legend
from maps.parcels import DEFAULT_CENTER, FAVICON_LINK

PAGE_TITLE = "土地市场 / Land market for investors"
USE_NAMES = {
    "industrial": "工业 / industrial",
    "commercial": "商业 / commercial",
    "tourism": "旅游 / tourism",
    "entertainment": "娱乐 / entertainment",
    "comprehensive": "综合 / mixed",
    "education": "教育 / education",
    "science": "科研 / science",
    "culture": "文化 / culture",
    "health": "医疗卫生 / health",
    "sports": "体育 / sports",
    "residential": "住宅 / residential",
    "other": "其他 / other",
}
MODE_COLOURS = {
    "transfer": "#d7301f",
    "flexible_term": "#fc8d59",
    "lease_then_transfer": "#984ea3",
    "long_term_lease": "#2b8cbe",
    "lease": "#41ab5d",
}
# kind → (bilingual name, outline, fill, fill opacity) — the colours of the bureau map.
OVERLAYS = {
    "villages": ("村界 / village boundaries", "#444444", "#000000", 0.0),
    "pbf": ("永久基本农田 / permanent basic farmland", "#b8860b", "#ffd700", 0.30),
    "redline": ("生态保护红线 / ecological red line", "#c00000", "#ff4040", 0.20),
    "udb": ("城镇开发边界 / urban development boundary", "#6a3d9a", "#cab2d6", 0.12),
}
CSS = """
<style>
.lm-filter { background: rgba(255,255,255,0.95); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; width: 230px; }
.lm-filter h4 { margin: 0 0 6px; font-size: 13px; }
.lm-filter label { display: block; margin-top: 4px; color: #333; }
.lm-filter input, .lm-filter select { width: 100%; box-sizing: border-box; font-size: 12px; }
.lm-filter .lm-row { display: flex; gap: 4px; } .lm-filter .lm-row input { width: 50%; }
.lm-filter button { margin-top: 8px; margin-right: 4px; }
.lm-filter .lm-status { margin-top: 6px; color: #555; }
.lm-popup { border-collapse: collapse; font: 12px/1.45 "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; } .lm-popup th { text-align: left; padding: 1px 8px 1px 0; color: #444; }
</style>
"""
FORM = """
<h4>筛选地块 / Filter plots</h4>
<form class="lm-form">
<label>面积(亩) / Area (mu)</label>
<div class="lm-row"><input name="min_area_mu" type="number" min="0" step="any" placeholder="最小 / min">
<input name="max_area_mu" type="number" min="0" step="any" placeholder="最大 / max"></div>
<label>用途 / Use</label><select name="use"><option value="">全部 / any</option>{uses}</select>
<label>最短年期(年) / Minimum term (years)</label>
<input name="min_term_years" type="number" min="0" step="1">
<label>每亩最高底价(元) / Max price per mu (yuan)</label>
<input name="max_price_per_mu" type="number" min="0" step="any">
<label>供应方式 / Supply mode</label>
<select name="supply_mode"><option value="">全部 / any</option>{modes}</select>
<label>区县 / District</label>
<select name="district"><option value="">全部 / any</option>{districts}</select>
<button type="submit" class="lm-apply">筛选 / Apply</button><button type="reset">清除 / Reset</button>
<div class="lm-status"></div>
</form>
"""
SCRIPT = """
(function () {
  var map = %(map)s, cfg = %(cfg)s;
  var esc = function (v) {
    return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; });
  };
  var num = function (v, d) { return v == null ? '—' : Number(v).toLocaleString('zh-CN',
    {maximumFractionDigits: d == null ? 2 : d}); };
  function tiles(name, query) { return cfg.tiles + '/' + name + '/{z}/{x}/{y}.pbf' + (query ? '?' + query : ''); }
  function pane(name, z) { var p = map.createPane(name); p.style.zIndex = z; return name; }
  var overlays = {};
  Object.keys(cfg.overlays).forEach(function (kind, i) {
    var o = cfg.overlays[kind], styles = {};
    var style = {weight: kind === 'villages' ? 1.5 : 1, color: o.outline, fill: o.opacity > 0,
                 fillColor: o.fill, fillOpacity: o.opacity, opacity: 0.9};
    styles[kind] = style; styles[kind + '_aggregate_grid'] = style;
    overlays[o.name] = L.vectorGrid.protobuf(tiles(kind), {
      pane: pane('lm-' + kind, 380 + i), vectorTileLayerStyles: styles, interactive: false,
      rendererFactory: L.svg.tile, maxNativeZoom: 20});
  });
  var query = '';
  function plotStyle(p) {
    return {fill: true, fillColor: cfg.modeColours[p.supply_mode] || '#777', fillOpacity: 0.75, radius: 5,
            color: '#222', weight: 1.2, opacity: 1};
  }
  function cellStyle(p) {
    return {fill: true, fillColor: '#08519c', fillOpacity: Math.min(0.85, 0.25 + 0.12 * Math.log(1 + p.count)),
            color: '#08519c', weight: 0.5};
  }
  var listings = L.vectorGrid.protobuf(tiles('listings'), {
    pane: pane('lm-listings', 450), interactive: true, rendererFactory: L.svg.tile, maxNativeZoom: 20,
    getFeatureId: function (f) { var p = f.properties; return p.listing_id != null ? 'listing-' + p.listing_id : undefined; },
    vectorTileLayerStyles: {listings: plotStyle, listings_aggregate_grid: cellStyle}});
  function popup(p) {
    if (p.count != null && p.listing_id == null) {
      return '<b>' + esc(p.count) + ' 宗地块 / plots</b>, ' + esc(num(p.area_mu)) + ' 亩 / mu<br>放大查看 / zoom in';
    }
    var rows = [
      ['宗地代码 / Parcel', '<span class="lm-code">' + esc(p.parcel_code) + '</span>'],
      ['村 / Village', esc(p.village_name)],
      ['面积 / Area', esc(num(p.area_mu, 4)) + ' 亩 / mu'],
      ['用途 / Use', esc((p.uses || '').split(',').map(function (u) { return cfg.uses[u] || u; }).join('; '))],
      ['年期 / Term', esc(p.term_years) + ' 年 / years'],
      ['每亩底价 / Price per mu', esc(num(p.price_per_mu, 0)) + ' 元 / yuan'],
      ['底价总额 / Reserve price', esc(num(p.reserve_price_total, 0)) + ' 元 / yuan'],
      ['供应方式 / Supply mode', esc(cfg.modes[p.supply_mode] || p.supply_mode)],
      ['约束 / Constraints', esc(p.constraints)],
      ['状态 / State', esc(p.state === 'under_offer' ? '洽谈中 / under offer' : '已发布 / published')]];
    return '<table class="lm-popup">' + rows.map(function (r) {
      return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; }).join('') + '</table>' +
      '<a class="lm-link" href="' + cfg.listing + esc(p.listing_id) + '" target="_blank">查看挂牌 / View listing</a>';
  }
  listings.on('click', function (e) {
    L.popup({maxWidth: 380}).setLatLng(e.latlng).setContent(popup(e.layer.properties)).openOn(map);
  });
  listings.addTo(map);
  overlays[cfg.overlays.villages.name].addTo(map);
  var all = {}; all[cfg.listingsName] = listings;
  Object.keys(overlays).forEach(function (k) { all[k] = overlays[k]; });
  L.control.layers(null, all, {collapsed: false, position: 'topright'}).addTo(map);
  var filter = L.control({position: 'topleft'});
  filter.onAdd = function () {
    var div = L.DomUtil.create('div', 'lm-filter leaflet-control');
    div.innerHTML = cfg.form;
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    var form = div.querySelector('form'), status = div.querySelector('.lm-status');
    function apply(ev) {
      if (ev) ev.preventDefault();
      var params = [];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.value !== '') params.push(encodeURIComponent(el.name) + '=' + encodeURIComponent(el.value));
      });
      query = params.join('&');
      listings.setUrl(tiles('listings', query));
      status.textContent = query ? '已筛选 / filtered' : '';
      if (form.elements.district.value) zoomTo(query);
    }
    // A district chosen: fly to its plots on the market (the search API, same filters).
    function zoomTo(q) {
      fetch(cfg.search + '?limit=' + cfg.zoomLimit + '&' + q).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (data) {
        if (!data || q !== query) return;
        var found = L.geoJSON(data);
        var total = data.numberMatched != null ? data.numberMatched : data.features.length;
        status.textContent = '已筛选 / filtered: ' + total + ' 宗 / plots';
        if (found.getLayers().length) map.fitBounds(found.getBounds(), {padding: [30, 30], maxZoom: 16});
      }).catch(function () {});
    }
    form.addEventListener('submit', apply);
    form.addEventListener('reset', function () { setTimeout(apply, 0); });
    return div;
  };
  filter.addTo(map);
  window.lmInvestor = {map: map, listings: listings, overlays: overlays,
                       query: function () { return query; }};
})();
"""


class InvestorLayers(MacroElement):
    """The tile layers, layer switch, filter panel and popups of the investor page."""

    _template = Template(
        "{% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}"
        "{% macro script(this, kwargs) %}{{ this.script }}{% endmacro %}"
    )

    def __init__(self, map_name: str, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "InvestorLayers"
        self.css = CSS
        self.script = SCRIPT % {"map": map_name, "cfg": js_literal(config)}


def page_config(uses: list[str], districts: dict[str, str] | None = None) -> dict[str, Any]:
    """What the page script needs: tile and listing URLs, names, colours, the filter form."""
    districts = CHONGQING_COUNTIES if districts is None else districts
    names = {u: USE_NAMES.get(u, u) for u in uses}
    modes = {str(k): v for k, v in SUPPLY_MODE_NAMES.items()}
    option = '<option value="{}">{}</option>'.format
    return {
        "tiles": "/tiles",
        "listing": "/listings/",  # the HTML listing page (web.routes.listings_pages)
        "search": "/api/v1/listings",
        "zoomLimit": 500,
        "listingsName": "在市地块 / plots on the market",
        "uses": names,
        "modes": modes,
        "modeColours": MODE_COLOURS,
        "overlays": {
            k: {"name": n, "outline": o, "fill": f, "opacity": a}
            for k, (n, o, f, a) in OVERLAYS.items()
        },
        "form": FORM.format(
            uses="".join(option(u, n) for u, n in names.items()),
            modes="".join(option(m, n) for m, n in modes.items()),
            districts="".join(option(c, f"{c} {n}") for c, n in sorted(districts.items())),
        ),
    }


def investor_map(
    bounds: list[float] | None,
    uses: list[str],
    basemap: str = "none",
    tianditu_token: str | None = None,
) -> LocalMap:
    """The investor page as a folium map; bounds (west, south, east, north) of the plots on offer."""
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=13, control_scale=True, max_zoom=20,
                    extras=("vectorgrid",))  # fmt: skip
    root = fmap.get_root()
    root.title = PAGE_TITLE
    root.header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    add_basemap(fmap, basemap, tianditu_token)
    InvestorLayers(fmap.get_name(), page_config(uses)).add_to(fmap)
    if bounds:
        west, south, east, north = bounds
        fmap.fit_bounds([[south, west], [north, east]], padding=(30, 30), max_zoom=16)
    entries = [(MODE_COLOURS[str(m)], n) for m, n in SUPPLY_MODE_NAMES.items()]
    entries.append(("#08519c", "地块过密时的汇总网格 / grid of counts where plots are dense"))
    Legend("供应方式 / Supply mode", entries,
           note=None if bounds else "暂无在市地块 / no plots on the market").add_to(fmap)  # fmt: skip
    return fmap


def render_investor_page(*args: Any, **kwargs: Any) -> str:
    """Full HTML of the investor page."""
    return investor_map(*args, **kwargs).get_root().render()
