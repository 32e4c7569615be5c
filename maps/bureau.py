"""The /maps/bureau page: parcels coloured by their stored verdict for one check, drawn from vector
tiles of the latest finished screening job, with the constraint layers (PBF, red line, UDB,
village plan) as tile overlays and the DEM slope as an image overlay.

The page carries no parcel data: Leaflet.VectorGrid fetches /tiles/screening_<check>/…, so the
HTML is the same few kilobytes whatever the district holds. A click opens the parcel's stored
verdict and fetches its rules (value, threshold) from the single-parcel check endpoint.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.raster_layers import ImageOverlay
from folium.template import Template

from geodata.screening.summary import VERDICT_COLOURS as CHECK_COLOURS
from geodata.screening.summary import VERDICT_LABELS as CHECK_LABELS
from landmarket.eligibility import CHECKS
from maps.assets import LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal
from maps.legend import Legend
from maps.parcels import DEFAULT_CENTER, FAVICON_LINK
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
SCRIPT = r"""
(function () {
  var map = %(map)s, cfg = %(cfg)s;
  function esc(v) {
    return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; });
  }
  function fmt(v) {
    if (v == null) return '—';
    if (Array.isArray(v)) return v.map(fmt).join(', ');
    if (typeof v === 'number') return String(Math.round(v * 100) / 100);
    return String(v);
  }
  function tiles(name) { return cfg.tiles + '/' + name + '/{z}/{x}/{y}.pbf'; }
  function pane(name, z) { var p = map.createPane(name); p.style.zIndex = z; return name; }
  function verdictOf(p) {
    var failed = (p.failed || '').split(';');
    if (cfg.scopeRule && failed.indexOf(cfg.scopeRule) >= 0) return 'not_applicable';
    return p.verdict || 'none';
  }
  var overlays = {};
  Object.keys(cfg.layers).forEach(function (kind, i) {
    var o = cfg.layers[kind], styles = {};
    var style = {weight: 1.5, color: o.outline, fill: true, fillColor: o.fill,
                 fillOpacity: o.opacity, opacity: 0.9, dashArray: o.dash,
                 className: 'lm-layer lm-layer-' + kind};
    styles[kind] = style; styles[kind + '_aggregate_grid'] = style;
    overlays[o.name] = L.vectorGrid.protobuf(tiles(kind), {
      pane: pane('lm-' + kind, 380 + i), vectorTileLayerStyles: styles, interactive: false,
      rendererFactory: L.svg.tile, maxNativeZoom: 20}).addTo(map);
  });
  function parcelStyle(p) {
    var v = verdictOf(p);
    return {fill: true, fillColor: cfg.colours[v] || '#999999', fillOpacity: 0.75,
            color: '#303030', weight: 0.7, opacity: 0.9, className: 'lm-parcel lm-' + v};
  }
  function cellStyle(p) {
    return {fill: true, fillColor: '#555555', fillOpacity: 0.35, color: '#555555', weight: 0.5,
            className: 'lm-cell'};
  }
  var styles = {}; styles[cfg.collection] = parcelStyle;
  styles[cfg.collection + '_aggregate_grid'] = cellStyle;
  var verdicts = L.vectorGrid.protobuf(tiles(cfg.collection), {
    pane: pane('lm-verdicts', 450), interactive: true, rendererFactory: L.svg.tile,
    maxNativeZoom: 20, vectorTileLayerStyles: styles});
  function rulesTable(body) {
    var rows = (body.rules || []).filter(function (r) {
      return r.status === 'fail' || r.status === 'needs_review'; });
    if (!rows.length) return '';
    return '<table class="lm-rules"><tr><th>规则 / Rule</th><th>测值 / Value</th>'
      + '<th>阈值 / Threshold</th></tr>' + rows.map(function (r) {
        var cls = r.status === 'fail' ? 'fail' : 'needs_review';
        return '<tr class="lm-rule lm-' + cls + '"><td>' + esc(r.title) + '<br><code>'
          + esc(r.rule_id) + '</code></td><td class="lm-value">' + esc(fmt(r.value)) + ' '
          + esc(r.unit) + '</td><td class="lm-threshold">' + esc(fmt(r.threshold)) + ' '
          + esc(r.unit) + '</td></tr>'; }).join('') + '</table>';
  }
  function scopeNote(body) {  // which rules the verdict rests on (site conditions or all)
    var site = body.scope === 'site';
    var html = '<p class="lm-scope">' + (site
      ? '仅评估场地条件 / site conditions only'
      : '全部规则 / all rules') + (body.site_verdict && !site
      ? '; 场地结论 / site verdict: ' + esc(cfg.labels[body.site_verdict] || body.site_verdict) : '')
      + '</p>';
    var missing = body.not_evaluated || [];
    if (missing.length) {
      html += '<p class="lm-not-evaluated">未评估 / not evaluated: ' + missing.map(function (r) {
        return '<code>' + esc(r.rule_id || r) + '</code>'; }).join(', ') + '</p>';
    }
    return html;
  }
  function popup(p) {
    if (p.count != null && p.parcel_code == null) {
      return '<b>' + esc(p.count) + ' 宗 / parcels</b>, ' + esc(fmt(p.area_mu))
        + ' 亩 / mu<br>放大查看 / zoom in';
    }
    var v = verdictOf(p);
    var failed = (p.failed || '').split(';').filter(Boolean);
    return '<table class="lm-popup"><tr><th>宗地代码 / Parcel code</th>'
      + '<td class="lm-parcel-code">' + esc(p.parcel_code) + '</td></tr>'
      + '<tr><th>面积 / Area</th><td>' + esc(fmt(p.area_mu)) + ' 亩 / mu</td></tr>'
      + '<tr><th>结论 / Verdict</th><td class="lm-verdict">' + esc(cfg.labels[v] || v)
      + '</td></tr><tr><th>未通过 / Failed</th><td class="lm-failed">'
      + esc(failed.join(', ') || '—') + '</td></tr></table>'
      + '<a class="lm-check-link" href="/bureau/check?code=' + encodeURIComponent(p.parcel_code)
      + '">核查、打印或保存 PDF / check, print or save as PDF</a>'
      + '<div class="lm-details">规则明细加载中… / loading rules…</div>';
  }
  function details(pop, p, html) {  // setContent: update() would redraw the first content
    pop.setContent(popup(p).replace(/<div class="lm-details">[^<]*<\/div>$/,
                                    '<div class="lm-details">' + html + '</div>'));
  }
  verdicts.on('click', function (e) {
    var p = e.layer.properties;
    var pop = L.popup({maxWidth: 460}).setLatLng(e.latlng).setContent(popup(p)).openOn(map);
    if (p.parcel_code == null) return;
    var url = cfg.check + '?site_only=' + cfg.siteOnly + (cfg.on ? '&on=' + cfg.on : '');
    var headers = {'Content-Type': 'application/json'};
    if (cfg.csrf) headers['X-CSRF-Token'] = cfg.csrf;  // a signed-in browser's session
    fetch(url, {method: 'POST', headers: headers,
                body: JSON.stringify({parcel_code: p.parcel_code})})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        details(pop, p, body ? scopeNote(body) + rulesTable(body) : '无规则明细 / no rule details');
      })
      .catch(function (err) {
        details(pop, p, '规则明细不可用 / rule details unavailable: ' + esc(err));
      });
  });
  verdicts.addTo(map);
  var all = {}; all[cfg.verdictsName] = verdicts;
  Object.keys(overlays).forEach(function (k) { all[k] = overlays[k]; });
  if (cfg.slopeLayer) all[cfg.slopeName] = window[cfg.slopeLayer];
  else all[cfg.slopeName] = L.layerGroup();
  L.control.layers(null, all, {collapsed: false, position: 'topright'}).addTo(map);
  window.lmBureau = {map: map, verdicts: verdicts, overlays: overlays};
})();
"""


class BureauLayers(MacroElement):
    """The verdict tiles, constraint tile layers, layer switch and popups of the bureau page."""

    _template = Template(
        "{% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}"
        "{% macro script(this, kwargs) %}{{ this.script }}{% endmacro %}"
    )

    def __init__(self, map_name: str, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "BureauLayers"
        self.css = CSS
        self.script = SCRIPT % {"map": map_name, "cfg": js_literal(config)}


class UrlImageOverlay(ImageOverlay):
    """An image overlay loaded from a platform URL (folium would try to read a relative path)."""

    def __init__(self, url: str, bounds: list[list[float]], **kwargs: Any) -> None:
        super().__init__("https://placeholder.invalid/", bounds, **kwargs)
        self.url = url


def page_config(
    check: str, on: str | None, site_only: bool, slope_layer: str | None
) -> dict[str, Any]:
    """What the page script needs: tile URLs, colours, labels, layer styles, the check URL."""
    return {
        "tiles": "/tiles",
        "collection": f"screening_{check}",
        "check": "/api/v1/checks/" + check.replace("_", "-"),
        "on": on,
        "siteOnly": "true" if site_only else "false",
        "scopeRule": SCOPE_RULES.get(check),
        "colours": VERDICT_COLOURS,
        "labels": VERDICT_LABELS,
        "verdictsName": CHECKS[check].title,
        "slopeName": SLOPE_NAME if slope_layer else SLOPE_NAME + " (无数据 / no DEM)",
        "slopeLayer": slope_layer,
        "layers": {
            k: {"name": n, "outline": o, "fill": f, "opacity": a, "dash": d}
            for k, (n, o, f, a, d) in LAYER_STYLES.items()
        },
    }


def bureau_map(
    check: str,
    bounds: list[float] | None,
    job: dict[str, Any] | None,
    slope: tuple[str, list[list[float]]] | None,
    slope_labels: dict[int, str],
    *,
    basemap: str = "none",
    tianditu_token: str | None = None,
    site_only: bool = True,
    csrf: str | None = None,
) -> LocalMap:
    """The page as a folium map: slope, constraint tiles, verdict tiles, layer control, legend.

    job: the finished screening whose verdicts the tiles show (id, parcels, finished, policy
    version, on), or None when no job has screened this check yet. csrf: the viewer's browser
    session's CSRF token, sent with the click's check (a POST) when the session authenticates it.
    """
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=14, control_scale=True, max_zoom=20,
                    extras=("vectorgrid",))  # fmt: skip
    root = fmap.get_root()
    root.title = f"{PAGE_TITLE} — {CHECKS[check].title}"
    root.header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    add_basemap(fmap, basemap, tianditu_token)
    slope_layer = None
    if slope is not None:
        url, box = slope
        image = UrlImageOverlay(url, box, name=SLOPE_NAME, opacity=0.6, interactive=False,
                                control=False)  # fmt: skip
        image.add_to(fmap)
        slope_layer = image.get_name()
    on = job.get("on") if job else None
    config = page_config(check, on, job.get("site_only", site_only) if job else site_only,
                         slope_layer)  # fmt: skip
    config["csrf"] = csrf
    BureauLayers(fmap.get_name(), config).add_to(fmap)
    if bounds:
        west, south, east, north = bounds
        fmap.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=18)
    legend_for(check, job, slope_labels).add_to(fmap)
    return fmap


def legend_for(check: str, job: dict[str, Any] | None, slope_labels: dict[int, str]) -> Legend:
    """Bilingual legend: verdict colours, constraint layers, slope grades, which job is shown."""
    entries = [(VERDICT_COLOURS[v], VERDICT_LABELS[v]) for v in VERDICT_COLOURS]
    entries += [(style[2], style[0]) for style in LAYER_STYLES.values()]
    entries += [(GRADE_COLOURS[g], label) for g, label in slope_labels.items()]
    if job is None:
        note = (
            "尚无完成的筛查任务 / no finished screening yet — "
            "POST /api/v1/screenings 或 / or `landmarket screen --parcels db`"
        )
    else:
        note = (
            f"{job['parcels']} 宗 / parcels · 任务 / job {job['id'][:8]} "
            f"({job['finished']}) · 政策 / policy {job['policy_version']}"
        )
    return Legend(f"{CHECKS[check].title}", entries, note=note)


def render_bureau_page(*args: Any, **kwargs: Any) -> str:
    """Full HTML of the page (arguments as bureau_map)."""
    return bureau_map(*args, **kwargs).get_root().render()
