"""The /maps/tickets page: a ticket's genealogy — origin plots, certificates, landing parcels.

Certificates have no geometry of their own, so each is drawn as a labelled node: an issued ticket
at the centre of its origin plots, a split-off or merged one between its parents and the parcels
its area landed on. Lines run from the origin plots to the first certificate, arrows from parent
to child certificates and on to the landing parcels in the urban development boundary.
"""

from __future__ import annotations

import math
from typing import Any

import folium
import shapely
import shapely.ops
from branca.element import MacroElement
from folium.template import Template
from shapely.geometry import LineString, Point, shape

from maps.assets import FAVICON, LocalMap
from maps.basemap import add_basemap
from maps.js import js_literal
from maps.legend import Legend
from maps.parcels import DEFAULT_CENTER, POPUP_CSS

PAGE_TITLE = "地票谱系图 / Land ticket genealogy"
FAVICON_LINK = f'<link rel="icon" href="{FAVICON}" type="image/svg+xml"/>'
ORIGIN, LANDING, NODE, FLOW, LINK = "#2f8f46", "#d7263d", "#1f5fbf", "#333333", "#6b8f71"
UDB = "#e07b00"
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON = 111_320.0  # at the equator; times cos(latitude)
NODE_CSS = """
<style>
.lm-ticket-node span { display: inline-block; transform: translate(-50%, -50%); white-space: nowrap;
  background: #1f5fbf; color: #fff; border: 2px solid #fff; border-radius: 10px; padding: 1px 7px;
  font: 600 11px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  box-shadow: 0 1px 3px rgba(0,0,0,0.45); }
.lm-ticket-node.lm-kind-split span { background: #5a4fcf; }
.lm-ticket-node.lm-kind-merge span { background: #0f7c8c; }
</style>
"""


def _centroid(geoms: list[Any]) -> tuple[float, float] | None:
    """(lon, lat) of a point inside the union of some geometries."""
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return None
    point = shapely.union_all(geoms).representative_point()
    return point.x, point.y


def _entry(start: tuple[float, float], geom: Any) -> tuple[float, float]:
    """Where a line from start to the geometry's inner point first meets its boundary."""
    inner = geom.representative_point()
    crossing = LineString([start, (inner.x, inner.y)]).intersection(geom.boundary)
    if crossing.is_empty:
        return inner.x, inner.y
    nearest = shapely.ops.nearest_points(Point(start), crossing)[1]
    return nearest.x, nearest.y


def arrowhead(start: tuple[float, float], end: tuple[float, float]) -> list[list[float]]:
    """A small triangle [[lat, lon] × 3] at end, pointing from start to end (metric-scaled)."""
    kx = M_PER_DEG_LON * math.cos(math.radians(end[1]))
    dx, dy = (end[0] - start[0]) * kx, (end[1] - start[1]) * M_PER_DEG_LAT
    length = math.hypot(dx, dy)
    if length == 0:
        return []
    size = min(60.0, max(12.0, 0.12 * length))
    ux, uy = dx / length, dy / length
    bx, by = -ux * size, -uy * size  # back from the tip along the line
    wx, wy = -uy * size * 0.45, ux * size * 0.45  # half-width across the line
    corners = [(0.0, 0.0), (bx + wx, by + wy), (bx - wx, by - wy)]
    return [[end[1] + cy / M_PER_DEG_LAT, end[0] + cx / kx] for cx, cy in corners]


def genealogy(collection: dict[str, Any]) -> dict[str, Any]:
    """Positions of the certificates and the lines and arrows between plots, tickets and parcels."""
    features = collection["features"]
    tree = collection["lineage"]
    nodes = {n["cert_no"]: dict(n) for n in tree["nodes"]}
    parents: dict[str, list[str]] = {c: [] for c in nodes}
    children: dict[str, list[str]] = {c: [] for c in nodes}
    for e in tree["edges"]:
        parents[e["child"]].append(e["parent"])
        children[e["parent"]].append(e["child"])
    geoms = {id(f): shape(f["geometry"]) if f.get("geometry") else None for f in features}
    origins = [f for f in features if f["properties"]["role"] == "origin"]
    landings = [f for f in features if f["properties"]["role"] == "landing"]

    def landed_below(cert: str) -> list[Any]:
        own = [geoms[id(f)] for f in landings if f["properties"]["cert_no"] == cert]
        return own + [g for c in children[cert] for g in landed_below(c)]

    everything = _centroid(list(geoms.values())) or (DEFAULT_CENTER[1], DEFAULT_CENTER[0])
    pos: dict[str, tuple[float, float]] = {}
    for cert in nodes:  # the lineage lists tickets oldest first: parents come before children
        if not parents[cert]:
            mine = [geoms[id(f)] for f in origins if f["properties"]["cert_no"] == cert]
            pos[cert] = _centroid(mine) or _centroid(landed_below(cert)) or everything
            continue
        px = sum(pos[p][0] for p in parents[cert]) / len(parents[cert])
        py = sum(pos[p][1] for p in parents[cert]) / len(parents[cert])
        target = _centroid(landed_below(cert))
        if target is None:
            k = children[parents[cert][0]].index(cert) + 1
            pos[cert] = (px + 0.0012 * k, py - 0.0006 * k)
        else:
            pos[cert] = (px + 0.55 * (target[0] - px), py + 0.55 * (target[1] - py))
    lines, arrows = [], []

    def link(kind: str, a: tuple[float, float], b: tuple[float, float], info: dict, arrow: bool):
        lines.append({"kind": kind, "coords": [[a[1], a[0]], [b[1], b[0]]], **info})
        if arrow:
            head = arrowhead(a, b)
            if head:
                arrows.append({"kind": kind, "coords": head})

    for f in origins:
        c, g = f["properties"]["cert_no"], geoms[id(f)]
        if g is not None and c in pos:
            start = (g.representative_point().x, g.representative_point().y)
            info = {"from": f["properties"]["parcel_code"], "to": c}
            link("origin", start, pos[c], info | {"area": f["properties"]["accepted"]}, False)
    for e in tree["edges"]:
        info = {"from": e["parent"], "to": e["child"], "area": e["area"]}
        link("lineage", pos[e["parent"]], pos[e["child"]], info, True)
    for f in landings:
        c, g = f["properties"]["cert_no"], geoms[id(f)]
        if g is not None and c in pos:
            end = _entry(pos[c], g)
            info = {
                "from": c,
                "to": f["properties"]["parcel_code"],
                "area": f["properties"]["area"],
            }
            link("landing", pos[c], end, info, True)
    node_list = [{**n, "lon": pos[c][0], "lat": pos[c][1]} for c, n in nodes.items()]
    return {"nodes": node_list, "lines": lines, "arrows": arrows}


class TicketGenealogy(MacroElement):
    """Origin plots, landing parcels, certificate nodes, lines and arrowheads, with popups."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var data = {{ this.data }};
            var T = {{ this.texts }};
            function esc(v) {
                return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            }
            function area(a) { return a ? esc(a.m2) + ' m² · ' + esc(a.mu) + ' 亩 / mu' : '—'; }
            function table(rows) {
                return '<table class="lm-popup">' + rows.map(function (r) {
                    return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>';
                }).join('') + '</table>';
            }
            function origin(p) {
                return table([[T.cert, esc(p.cert_no)], [T.parcel, esc(p.parcel_code)],
                    [T.village, esc(p.village || p.village_code)], [T.accepted, area(p.accepted)],
                    [T.collective_only, area(p.collective_only)], [T.slope, esc(p.slope_grade)]]);
            }
            function landing(p) {
                return table([[T.cert, esc(p.cert_no)], [T.parcel, esc(p.parcel_code)],
                    [T.use, esc(T.uses[p.use] || p.use)], [T.landed, area(p.area)],
                    [T.date, esc(p.landed_on)],
                    [T.fees, p.two_fee_offset == null ? T.no_rate : esc(p.two_fee_offset) + ' 元 / yuan'],
                    [T.status, p.reversed ? T.reversed : T.landed_status]]);
            }
            function node(n) {
                return table([[T.cert, esc(n.cert_no) + '<br>' + esc(n.cert_code)],
                    [T.kind, esc(T.kinds[n.kind] || n.kind)], [T.issued, area(n.issued)],
                    [T.balance, area(n.balance)], [T.status, esc(T.statuses[n.status] || n.status)],
                    [T.holder, esc(n.holder_id)], [T.issue_date, esc(n.issue_date)]]);
            }
            function line(l) {
                return table([[T.from, esc(l.from)], [T.to, esc(l.to)], [T.area, area(l.area)]]);
            }
            var layers = [], context = [];
            context.push(L.geoJSON(data.villages, {
                style: {className: 'lm-village', color: '#7a7a7a', weight: 1, fill: false,
                        interactive: false}
            }));
            context.push(L.geoJSON(data.udb, {
                style: {className: 'lm-udb', color: {{ this.colours.udb|tojson }}, weight: 2,
                        dashArray: '8 5', fillColor: {{ this.colours.udb|tojson }}, fillOpacity: 0.06,
                        interactive: false}
            }));
            L.featureGroup(context).addTo(map);
            [[data.origins, origin, 'lm-origin-dot', {{ this.colours.origin|tojson }}],
             [data.landings, landing, 'lm-landing-dot', {{ this.colours.landing|tojson }}]
            ].forEach(function (set) {  // plots a few metres wide stay visible at every zoom
                set[0].features.forEach(function (f) {
                    layers.push(L.circleMarker([f.properties.lat, f.properties.lon], {
                        className: set[2], radius: 4, color: '#fff', weight: 1, fillColor: set[3],
                        fillOpacity: 1
                    }).bindPopup(set[1](f.properties), {maxWidth: 380}));
                });
            });
            layers.push(L.geoJSON(data.origins, {
                style: {className: 'lm-origin', color: {{ this.colours.origin|tojson }}, weight: 1.5,
                        fillColor: {{ this.colours.origin|tojson }}, fillOpacity: 0.55},
                onEachFeature: function (f, l) { l.bindPopup(origin(f.properties), {maxWidth: 380}); }
            }));
            layers.push(L.geoJSON(data.landings, {
                style: {className: 'lm-landing', color: {{ this.colours.landing|tojson }}, weight: 2,
                        fillColor: {{ this.colours.landing|tojson }}, fillOpacity: 0.45},
                onEachFeature: function (f, l) { l.bindPopup(landing(f.properties), {maxWidth: 380}); }
            }));
            data.lines.forEach(function (l) {
                var isOrigin = l.kind === 'origin';
                layers.push(L.polyline(l.coords, {
                    className: 'lm-line lm-line-' + l.kind, weight: isOrigin ? 1.2 : 2.5,
                    color: isOrigin ? {{ this.colours.link|tojson }} : {{ this.colours.flow|tojson }},
                    dashArray: isOrigin ? '4 4' : null, opacity: 0.9
                }).bindPopup(line(l)));
            });
            data.arrows.forEach(function (a) {
                layers.push(L.polygon(a.coords, {
                    className: 'lm-arrow lm-arrow-' + a.kind, color: {{ this.colours.flow|tojson }},
                    weight: 1, fillColor: {{ this.colours.flow|tojson }}, fillOpacity: 1
                }));
            });
            data.nodes.forEach(function (n) {
                var icon = L.divIcon({className: 'lm-ticket-node lm-kind-' + n.kind,
                    html: '<span>' + esc(n.cert_code) + '</span>', iconSize: null});
                layers.push(L.marker([n.lat, n.lon], {icon: icon, title: n.cert_no})
                    .bindPopup(node(n), {maxWidth: 380}));
            });
            var group = L.featureGroup(layers).addTo(map);
            if (layers.length) { map.fitBounds(group.getBounds(), {padding: [30, 30]}); }
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        collection: dict[str, Any],
        village_names: dict[str, str],
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._name = "TicketGenealogy"
        features = collection["features"]
        for f in features:
            code = f["properties"].get("village_code")
            if code in village_names:
                f["properties"]["village"] = village_names[code]
        for f in features:
            if f.get("geometry"):
                inner = shape(f["geometry"]).representative_point()
                f["properties"]["lon"], f["properties"]["lat"] = inner.x, inner.y
        data = {
            "origins": _fc([f for f in features if f["properties"]["role"] == "origin"]),
            "landings": _fc([f for f in features if f["properties"]["role"] == "landing"]),
            "villages": (context or {}).get("villages") or _fc([]),
            "udb": (context or {}).get("udb") or _fc([]),
            **genealogy(collection),
        }
        self.data = js_literal(data)
        self.texts = js_literal(TEXTS)
        self.colours = {
            "origin": ORIGIN, "landing": LANDING, "flow": FLOW, "link": LINK, "udb": UDB
        }  # fmt: skip


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [f for f in features if f.get("geometry")]}


TEXTS = {
    "cert": "地票 / Ticket",
    "parcel": "宗地代码 / Parcel",
    "village": "村 / Village",
    "accepted": "验收面积 / Accepted",
    "collective_only": "集体专属 / Collective-only",
    "slope": "坡度级别 / Slope grade",
    "use": "用途 / Use",
    "landed": "落地面积 / Landed",
    "date": "日期 / Date",
    "fees": "冲抵两费 / Two fees offset",
    "no_rate": "费率未配置 / rate not configured",
    "status": "状态 / Status",
    "landed_status": "已落地 / landed",
    "reversed": "已冲正 / reversed",
    "kind": "类型 / Kind",
    "issued": "证载面积 / Certificate area",
    "balance": "余额 / Balance",
    "holder": "持有人 / Holder",
    "issue_date": "签发日期 / Issued on",
    "from": "从 / From",
    "to": "至 / To",
    "area": "面积 / Area",
    "kinds": {"issue": "签发 / issued", "split": "拆分 / split off", "merge": "合并 / merged"},
    "statuses": {
        "held": "持有 / held",
        "listed": "挂牌中 / listed",
        "landed": "已落地 / landed",
        "merged": "已合并 / merged",
        "split": "已拆分 / split",
        "retired": "已注销 / retired",
        "reversed": "已冲正 / reversed",
    },
    "uses": {
        "operational": "经营性建设用地 / operational land",
        "industrial": "工业用地 / industrial land",
        "allocated": "划拨用地 / allocated land",
        "quota_purchase": "单独购买指标 / quota purchase",
        "linkage": "增减挂钩 / urban-rural linkage",
    },
}


def ticket_legend(collection: dict[str, Any] | None) -> Legend:
    """The bilingual legend, with the ticket's certificate, area and status as its note."""
    entries = [
        (ORIGIN, "复垦地块(来源) / origin plot (reclaimed)"),
        (LANDING, "落地宗地(城镇开发边界内) / landing parcel (inside the UDB)"),
        (NODE, "地票证书 / ticket certificate"),
        (FLOW, "面积流向 / flow of ticket area"),
        (UDB, "城镇开发边界 / urban development boundary"),
    ]
    if not collection:
        return Legend("地票谱系 / Ticket genealogy", entries, note="暂无地票 / no tickets yet")
    cert = collection["lineage"]["ticket"]
    node = next(n for n in collection["lineage"]["nodes"] if n["cert_no"] == cert)
    status = TEXTS["statuses"].get(node["status"], node["status"])
    note = (
        f"{cert} · {node['issued']['mu']} 亩 / mu ({node['issued']['m2']} m²) · {status} · "
        f"{len(collection['lineage']['nodes'])} 张证书 / certificates"
    )
    return Legend("地票谱系 / Ticket genealogy", entries, note=note)


def ticket_map(
    collection: dict[str, Any] | None,
    village_names: dict[str, str] | None = None,
    basemap: str = "none",
    tianditu_token: str | None = None,
    context: dict[str, Any] | None = None,
) -> LocalMap:
    """The genealogy page of a lineage FeatureCollection (geodata.tickets.lineage), or empty.

    context may hold "villages" and "udb" FeatureCollections drawn underneath for orientation.
    """
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=13, control_scale=True, max_zoom=20)
    fmap.get_root().title = PAGE_TITLE
    header = fmap.get_root().header
    header.add_child(folium.Element(FAVICON_LINK), name="lm_favicon")
    add_basemap(fmap, basemap, tianditu_token)
    header.add_child(folium.Element(POPUP_CSS), name="lm_popup_css")
    header.add_child(folium.Element(NODE_CSS), name="lm_ticket_css")
    if collection:
        TicketGenealogy(collection, village_names or {}, context).add_to(fmap)
    ticket_legend(collection).add_to(fmap)
    return fmap


def render_ticket_page(
    collection: dict[str, Any] | None,
    village_names: dict[str, str] | None = None,
    basemap: str = "none",
    tianditu_token: str | None = None,
    context: dict[str, Any] | None = None,
) -> str:
    """Full HTML of the ticket genealogy page."""
    fmap = ticket_map(collection, village_names, basemap, tianditu_token, context)
    return fmap.get_root().render()
