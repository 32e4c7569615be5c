"""The /maps/consolidation page: a plan's origin plots, destination plots and balance panel."""

from __future__ import annotations

import json

import folium
import numpy as np
import shapely
from folium.map import Layer
from folium.template import Template

from geodata.consolidation.export import PlanRecords
from landmarket.eligibility import AUTHORITY_NAMES
from landmarket.units import m2_to_mu
from maps.assets import FAVICON, LocalMap
from maps.basemap import add_basemap
from maps.consolidation_panel import PANEL_WIDTH_PX, panel_html
from maps.js import js_literal, script_safe
from maps.legend import Legend
from maps.parcels import DEFAULT_CENTER, POPUP_CSS, RawScript

PAGE_TITLE = "零星地块整治方案 / Consolidation plan"
COORD_DECIMALS = 7  # ~1 cm: the plots are small
# Origins by role: reclaimed plots become farmland (green); destinations by approval authority.
ROLE_COLOURS = {
    "reclaimed": "#7bc96f",
    "spare": "#f2e394",
    "stays": "#6baed6",
    "unmovable": "#9e9e9e",
}
ROLE_LABELS = {
    "reclaimed": "拆旧复垦 / reclaimed",
    "spare": "可复垦未选用 / reclaimable, not used",
    "stays": "原地保留 / stays in place",
    "unmovable": "不可迁移 / cannot be moved",
}
AUTHORITY_COLOURS = {
    "district_county": "#f28e2b",
    "municipal": "#9c3d8f",
    "state_council": "#d62728",
}


def _features(records: list[dict], kind: str) -> list[str]:
    """GeoJSON Feature texts of one kind of plot with the popup's properties."""
    if not records:
        return []
    geoms = shapely.transform(
        np.asarray([r["geometry"] for r in records], dtype=object),
        lambda xy: np.round(xy, COORD_DECIMALS),
    )
    out = []
    for geo, r in zip(shapely.to_geojson(geoms), records, strict=True):
        route = r.get("route") or {}
        props = {
            "kind": kind,
            "plot_id": r["plot_id"],
            "area_m2": round(float(r["area_m2"]), 2),
            "area_mu": round(float(m2_to_mu(r["area_m2"])), 4),
        }
        if kind == "origin":
            props |= {
                "role": r["role"],
                "role_title": ROLE_LABELS.get(r["role"], r["role"]),
                "slope_grade": r.get("slope_grade"),
                "slope_mean_deg": r.get("slope_mean_deg"),
                "accepted_m2": (r.get("accepted") or {}).get("m2"),
                "reasons": r.get("reasons") or [],
            }
        else:
            authority = route.get("authority")
            props |= {
                "parcel_id": r.get("parcel_id"),
                "authority": authority,
                "authority_name": AUTHORITY_NAMES.get(authority, authority),
                "days_saved": float(route.get("days_saved") or 0.0),
                "plan_code": r.get("plan_code"),
            }
        out.append(
            f'{{"type":"Feature","geometry":{geo},"properties":'
            f"{json.dumps(props, ensure_ascii=False)}}}"
        )
    return out


def plan_geojson(records: PlanRecords) -> str:
    """Origins then destinations as one FeatureCollection."""
    parts = _features(records.origins, "origin") + _features(records.destinations, "destination")
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


class PlanLayer(Layer):
    """Origin plots by role and destination plots by approval authority, with bilingual popups."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var roles = {{ this.roles }}, authorities = {{ this.authorities }};
            function esc(v) {
                return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            }
            function row(k, v) { return '<tr><th>' + k + '</th><td>' + v + '</td></tr>'; }
            function popup(p) {
                var area = esc(p.area_m2.toFixed(2)) + ' m² · ' + esc(p.area_mu.toFixed(4))
                    + ' 亩 / mu';
                var html = '<table class="lm-popup">' + row('地块 / Plot',
                    '<span class="lm-plot-id">' + esc(p.plot_id) + '</span>');
                if (p.kind === 'origin') {
                    html += row('角色 / Role', esc(p.role_title)) + row('面积 / Area', area)
                        + row('坡度级别 / Slope grade', p.slope_grade == null ? '—'
                              : esc(p.slope_grade) + ' (' + esc(p.slope_mean_deg) + '°)');
                    if (p.reasons.length) {
                        html += row('原因 / Reasons', p.reasons.map(esc).join('<br>'));
                    }
                } else {
                    html += row('建新地块 / Destination', esc(p.parcel_id))
                        + row('面积 / Area', area)
                        + row('审批机关 / Approval authority', esc(p.authority_name))
                        + row('节省天数 / Days saved', esc(p.days_saved));
                }
                return html + '</table>';
            }
            return L.geoJSON({{ this.get_name() }}_data, {
                style: function (f) {
                    var p = f.properties, origin = p.kind === 'origin';
                    return {
                        color: origin ? '#404040' : '#202020', weight: origin ? 0.8 : 1.4,
                        fillColor: origin ? (roles[p.role] || '#cccccc')
                                          : (authorities[p.authority] || '#cccccc'),
                        fillOpacity: origin ? 0.85 : 0.6, className: 'lm-' + p.kind
                    };
                },
                onEachFeature: function (f, layer) {
                    layer.bindPopup(popup(f.properties), {maxWidth: 380});
                }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, records: PlanRecords, name: str = "整治方案 / Plan") -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "PlanLayer"
        self.data = script_safe(plan_geojson(records))
        self.roles = js_literal(ROLE_COLOURS)
        self.authorities = js_literal(AUTHORITY_COLOURS)

    def render(self, **kwargs) -> None:
        """Emit the data as a raw script (not through Jinja), then the layer."""
        self.get_root().script.add_child(
            RawScript(f"var {self.get_name()}_data = {self.data};"), name=self.get_name() + "_data"
        )
        super().render(**kwargs)


def plan_legend(records: PlanRecords) -> Legend:
    """Colours of the roles and authorities present in the plan."""
    roles = [r for r in ROLE_COLOURS if any(o["role"] == r for o in records.origins)]
    present = {(d.get("route") or {}).get("authority") for d in records.destinations}
    authorities = [a for a in AUTHORITY_COLOURS if a in present]
    entries = [(ROLE_COLOURS[r], f"原地块 / origin: {ROLE_LABELS[r]}") for r in roles]
    entries += [
        (AUTHORITY_COLOURS[a], f"建新地块 / destination: {AUTHORITY_NAMES[a]}") for a in authorities
    ]
    return Legend("整治方案 / Consolidation plan", entries, position="bottomleft")


def consolidation_map(
    records: PlanRecords, basemap: str = "none", tianditu_token: str | None = None
) -> LocalMap:
    """The page as a folium map: plots, legend and the balance panel."""
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=15, control_scale=True, max_zoom=21)
    root = fmap.get_root()
    root.title = PAGE_TITLE
    root.header.add_child(
        folium.Element(f'<link rel="icon" href="{FAVICON}" type="image/svg+xml"/>'),
        name="lm_favicon",
    )
    add_basemap(fmap, basemap, tianditu_token)
    root.header.add_child(folium.Element(POPUP_CSS), name="lm_popup_css")
    PlanLayer(records).add_to(fmap)
    geoms = [r["geometry"] for r in [*records.origins, *records.destinations]]
    if geoms:
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
        fmap.fit_bounds(  # keep the plots clear of the side panel on the right
            [[float(miny), float(minx)], [float(maxy), float(maxx)]],
            padding_top_left=(20, 20),
            padding_bottom_right=(PANEL_WIDTH_PX + 30, 20),
        )
    plan_legend(records).add_to(fmap)
    root.html.add_child(folium.Element(panel_html(records.summary, records.meta)), name="lm_panel")
    return fmap


def render_consolidation_page(
    records: PlanRecords, basemap: str = "none", tianditu_token: str | None = None
) -> str:
    """Full HTML of the consolidation page."""
    return consolidation_map(records, basemap, tianditu_token).get_root().render()


__all__ = [
    "AUTHORITY_COLOURS",
    "ROLE_COLOURS",
    "consolidation_map",
    "plan_geojson",
    "plan_legend",
    "render_consolidation_page",
]
