"""The /maps/collective page: a collective's own parcels coloured by listing status.

The page is a shell: the script fetches the village's parcels from
/api/v1/listings/village-parcels as the signed-in browser session (the cookie), or with a
collective's token (from the URL fragment, which browsers never send to a server, or typed into
the form), which stays in the browser. An answer holds at most PARCELS_PER_ANSWER parcels: a
larger village is framed whole and then fetched for the view as the map moves.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from landmarket.listings import STATE_NAMES
from maps.assets import LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal
from maps.legend import Legend
from maps.parcels import DEFAULT_CENTER, FAVICON_LINK

PAGE_TITLE = "本村宗地与挂牌 / Our parcels and listings"
# Parcels one answer carries (~0.6 KB of GeoJSON each): a village larger than this is shown by
# view, so the page stays under 1 MB however many parcels the village has.
PARCELS_PER_ANSWER = 1_000
STATE_COLOURS = {
    "unlisted": "#d9d9d9",
    "draft": "#6baed6",
    "published": "#31a354",
    "under_offer": "#fd8d3c",
    "concluded": "#54278f",
    "withdrawn": "#969696",
}
STATE_LABELS = {"unlisted": "未挂牌 / not listed"} | {str(k): v for k, v in STATE_NAMES.items()}
CSS = """
<style>
.lm-login { background: rgba(255,255,255,0.96); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; width: 240px; }
.lm-login input { width: 100%; box-sizing: border-box; } .lm-login button { margin-top: 6px; }
.lm-login .lm-status { margin-top: 4px; color: #555; } .lm-login .lm-error { color: #b00020; }
.lm-popup { border-collapse: collapse; font: 12px/1.45 "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; } .lm-popup th { text-align: left; padding: 1px 8px 1px 0; color: #444; }
</style>
"""
SCRIPT = """
(function () {
  var map = %(map)s, cfg = %(cfg)s, layer = null;
  var esc = function (v) {
    return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; });
  };
  function popup(p) {
    var rows = [['宗地代码 / Parcel', esc(p.parcel_code)], ['地类 / Land use', esc(p.land_use_code + ' ' + p.land_use)],
      ['面积 / Area', esc(Number(p.area_mu).toFixed(4)) + ' 亩 / mu'],
      ['挂牌状态 / Listing', esc(cfg.labels[p.listing_state] || p.listing_state)]];
    if (p.price_per_mu != null) rows.push(['每亩底价 / Price per mu', esc(Math.round(p.price_per_mu)) + ' 元 / yuan']);
    var html = '<table class="lm-popup">' + rows.map(function (r) {
      return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; }).join('') + '</table>';
    if (p.listing_id != null) html += '<a href="' + cfg.listing + esc(p.listing_id) + '" target="_blank">查看挂牌 / View listing</a>';
    return html;
  }
  var fitted = false, following = false, current = null, timer = null, village = null;
  function show(data) {
    if (layer) map.removeLayer(layer);
    layer = L.geoJSON(data, {
      style: function (f) { return {color: '#505050', weight: 0.8, fillOpacity: 0.75,
        fillColor: cfg.colours[f.properties.listing_state] || '#cccccc'}; },
      onEachFeature: function (f, l) { l.bindPopup(popup(f.properties), {maxWidth: 360}); }
    }).addTo(map);
    if (fitted) return;  // later answers follow the view; only the first one frames the village
    fitted = true;
    var b = data.bounds;  // the village's extent when the answer holds only part of it
    if (data.truncated && b) {
      village = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
      map.fitBounds(village, {padding: [20, 20]});
    }
    else if (data.features.length) map.fitBounds(layer.getBounds(), {padding: [20, 20]});
  }
  function url(inView) {  // at most cfg.limit parcels an answer: a large village goes by view
    var u = cfg.data + '?limit=' + cfg.limit;
    if (inView) u += '&bbox=' + map.getBounds().toBBoxString();
    return u;
  }
  map.on('moveend', function () {
    // a view holding the whole village would get the answer already shown
    if (!following || (village && map.getBounds().contains(village))) return;
    clearTimeout(timer);
    timer = setTimeout(function () { load(current, true); }, 250);
  });
  var load = function () {};
  var control = L.control({position: 'topleft'});
  control.onAdd = function () {
    var div = L.DomUtil.create('div', 'lm-login leaflet-control');
    div.innerHTML = '<form><label>村集体令牌 / Collective token</label>' +
      '<input name="token" type="password" autocomplete="off">' +
      '<button type="submit">登录 / Sign in</button><div class="lm-status"></div></form>';
    L.DomEvent.disableClickPropagation(div);
    var form = div.querySelector('form'), status = div.querySelector('.lm-status');
    load = function (token, inView) {  // no token: the signed-in browser session (cookie)
      status.className = 'lm-status'; status.textContent = '加载中 / loading…';
      fetch(url(inView), {headers: token ? {Authorization: 'Bearer ' + token} : {}}).then(function (r) {
        return r.json().then(function (body) { return {ok: r.ok, body: body}; });
      }).then(function (res) {
        if (!res.ok && !token) { status.textContent = cfg.signIn; return; }
        if (!res.ok) { status.className = 'lm-status lm-error'; status.textContent = res.body.title || 'error'; return; }
        if (token) sessionStorage.setItem('lmToken', token);
        current = token;
        var body = res.body, n = body.features.length;
        following = following || !!body.truncated;
        status.textContent = body.village_code + ': ' + (body.truncated
          ? n + ' / ' + body.total + ' 宗 / parcels — ' + cfg.zoomIn : n + ' 宗 / parcels');
        show(body);
      });
    };
    form.addEventListener('submit', function (ev) { ev.preventDefault(); load(form.elements.token.value.trim()); });
    var hash = new URLSearchParams(location.hash.slice(1)), token = hash.get('token') || sessionStorage.getItem('lmToken');
    if (hash.get('token')) history.replaceState(null, '', location.pathname + location.search);
    if (token || cfg.session) setTimeout(function () { load(token || null); }, 0);
    return div;
  };
  control.addTo(map);
  window.lmCollective = {map: map, layer: function () { return layer; }};
})();
"""


class CollectiveLayer(MacroElement):
    """Sign-in control and the parcels layer loaded with the collective's token."""

    _template = Template(
        "{% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}"
        "{% macro script(this, kwargs) %}{{ this.script }}{% endmacro %}"
    )

    def __init__(self, map_name: str, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "CollectiveLayer"
        self.css = CSS
        self.script = SCRIPT % {"map": map_name, "cfg": js_literal(config)}


def collective_map(
    basemap: str = "none", tianditu_token: str | None = None, session: bool = False
) -> LocalMap:
    """The collective page as a folium map (session: the viewer is signed in in this browser)."""
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=14, control_scale=True, max_zoom=20)
    root = fmap.get_root()
    root.title = PAGE_TITLE
    root.header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    add_basemap(fmap, basemap, tianditu_token)
    config = {
        "data": "/api/v1/listings/village-parcels",
        "listing": "/listings/",  # the HTML listing page (web.routes.listings_pages)
        "colours": STATE_COLOURS,
        "labels": STATE_LABELS,
        "signIn": "请登录工作台或输入令牌 / sign in to the workbench or enter a token",
        "session": session,
        "limit": PARCELS_PER_ANSWER,
        "zoomIn": "放大查看其余宗地 / zoom in to see the rest",
    }
    CollectiveLayer(fmap.get_name(), config).add_to(fmap)
    entries = [(STATE_COLOURS[s], STATE_LABELS[s]) for s in STATE_COLOURS]
    Legend("挂牌状态 / Listing status", entries).add_to(fmap)
    return fmap


def render_collective_page(*args: Any, **kwargs: Any) -> str:
    """Full HTML of the collective page."""
    return collective_map(*args, **kwargs).get_root().render()
