"""Map pages (/maps/...) and the platform's index page."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.app import TITLE, map_pages
from api.deps import SessionDep, SettingsDep
from geodata.services.parcels import map_overview
from landmarket.codes import VILLAGE_CODE_PATTERN
from maps.assets import FAVICON
from maps.parcels import render_parcels_page

router = APIRouter(tags=["maps"])

VillageQuery = Annotated[
    str | None, Query(pattern=VILLAGE_CODE_PATTERN, description="村代码 / village code (12 digits)")
]


@router.get("/maps/parcels", response_class=HTMLResponse, summary="宗地地类图 / Parcels map")
def parcels_page(session: SessionDep, settings: SettingsDep, village_code: VillageQuery = None):
    """Stored parcels coloured by GB/T 21010 land use, from vector tiles, with a legend and popups
    (public view); a village code frames that village."""
    view = map_overview(session, village_code)
    return render_parcels_page(
        view.total, view.bounds, view.land_uses, view.villages, settings.basemap,
        settings.tianditu_token,
    )  # fmt: skip


@router.get("/maps", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> str:
    """A bilingual index of the API docs and every map page (`/` is the workbench's home)."""
    links = [("/docs", "接口文档 / API docs (OpenAPI)"), ("/health", "健康检查 / Health")]
    links += map_pages(request.app)
    items = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>' for u, t in links)
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(TITLE)}'
        f'</title><link rel="icon" href="{FAVICON}"></head><body style="font-family:sans-serif">'
        f"<h1>{escape(TITLE)}</h1><ul>{items}</ul></body></html>"
    )
