"""The /maps/stock page: idle land by stage and short-term uses of reserve land, for the bureau.

The layers are the bureau's lists (idle rights and temporary uses, a few hundred in a district),
so they travel inline; no holder names or personal data reach the page.
"""

from __future__ import annotations

from typing import Any

import folium

from landmarket.units import m2_to_mu
from maps.assets import FAVICON, LocalMap
from maps.basemap import add_basemap
from maps.legend import Legend
from maps.parcels import DEFAULT_CENTER

PAGE_TITLE = "存量土地: 闲置土地与短期利用 / Stock land: idle land and short-term uses"
STAGE_COLOURS = {"idle_fee": "#f28e2b", "recoverable": "#d62728"}
USE_COLOURS = {"active": "#1f77b4", "planned": "#9467bd", "expired": "#9e9e9e"}
STAGE_LABELS = {
    "idle_fee": "闲置满一年(征缴闲置费) / idle a year (fee)",
    "recoverable": "闲置满两年(可无偿收回) / idle two years (recovery)",
}
USE_LABELS = {
    "active": "短期利用中 / short-term use, active",
    "planned": "短期利用(未开始) / short-term use, planned",
    "expired": "短期利用已到期(收回) / short-term use expired (reverted)",
}


def _idle_feature(r: dict[str, Any]) -> dict[str, Any]:
    area = float(r["area_m2"])
    rules = "; ".join(f"{x['title']} ({x['source']})" for x in r["rules"])
    return {
        "type": "Feature",
        "geometry": r["geometry"],
        "properties": {
            "right_no": r["right_no"],
            "parcel_code": r["parcel_code"],
            "use": r["use"],
            "stage": r["stage"],
            "stage_name": r["stage_name"],
            "days_late": r["days_late"],
            "area": f"{area:,.2f} m² / {float(m2_to_mu(area)):.4f} 亩",
            "agreed_start_on": r["agreed_start_on"],
            "idle_fee_yuan": r["idle_fee_yuan"],
            "rules": rules,
        },
    }


def _use_feature(u: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": u["geometry"],
        "properties": {
            "parcel_code": u["parcel_code"],
            "use": u["use"],
            "land_kind": u["land_kind"],
            "period": f"{u['starts_on']} – {u['ends_on']}",
            "status": u["status"],
        },
    }


def stock_map(
    idle: list[dict[str, Any]],
    uses: list[dict[str, Any]],
    on: str,
    basemap: str = "none",
    tianditu_token: str | None = None,
) -> LocalMap:
    """Idle rights coloured by stage, short-term uses by status, a legend and popups."""
    fmap = LocalMap(location=DEFAULT_CENTER, zoom_start=13, control_scale=True)
    fmap.get_root().header.add_child(folium.Element(f'<link rel="icon" href="{FAVICON}">'))
    fmap.get_root().title = PAGE_TITLE
    add_basemap(fmap, basemap, tianditu_token)
    idle_layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": [_idle_feature(r) for r in idle]},
        name="闲置土地 / idle land",
        style_function=lambda f: {
            "color": STAGE_COLOURS[f["properties"]["stage"]],
            "fillColor": STAGE_COLOURS[f["properties"]["stage"]],
            "weight": 2,
            "fillOpacity": 0.5,
        },
        popup=folium.GeoJsonPopup(
            fields=[
                "right_no",
                "parcel_code",
                "use",
                "stage_name",
                "days_late",
                "area",
                "agreed_start_on",
                "idle_fee_yuan",
                "rules",
            ],
            aliases=[
                "权利号 / right",
                "宗地代码 / parcel",
                "用途 / use",
                "阶段 / stage",
                "逾期天数 / days late",
                "面积 / area",
                "约定动工 / agreed start",
                "闲置费(元) / fee (yuan)",
                "规则与依据 / rules and sources",
            ],
        ),  # fmt: skip
    )
    use_layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": [_use_feature(u) for u in uses]},
        name="短期利用 / short-term uses",
        style_function=lambda f: {
            "color": USE_COLOURS[f["properties"]["status"]],
            "fillColor": USE_COLOURS[f["properties"]["status"]],
            "weight": 1,
            "fillOpacity": 0.4,
        },
        popup=folium.GeoJsonPopup(
            fields=["parcel_code", "use", "land_kind", "period", "status"],
            aliases=[
                "宗地代码 / parcel",
                "用途 / use",
                "土地类型 / land",
                "期限 / period",
                "状态 / status",
            ],
        ),  # fmt: skip
    )
    for layer in (idle_layer, use_layer):
        if layer.data["features"]:
            layer.add_to(fmap)
    bounds = [layer.get_bounds() for layer in (idle_layer, use_layer) if layer.data["features"]]
    if bounds:
        south = min(b[0][0] for b in bounds)
        west = min(b[0][1] for b in bounds)
        north = max(b[1][0] for b in bounds)
        east = max(b[1][1] for b in bounds)
        fmap.fit_bounds([[south, west], [north, east]])
    entries = [(STAGE_COLOURS[k], v) for k, v in STAGE_LABELS.items()]
    entries += [(USE_COLOURS[k], v) for k, v in USE_LABELS.items()]
    Legend(
        f"存量土地 {on} / stock land on {on}",
        entries,
        note=f"闲置 {len(idle)} 宗, 短期利用 {len(uses)} 处 / {len(idle)} idle, {len(uses)} uses",
    ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def render_stock_page(*args: Any, **kwargs: Any) -> str:
    """The whole HTML page."""
    return stock_map(*args, **kwargs).get_root().render()
