"""The bureau's eligibility map (/maps/bureau) and the DEM slope image it overlays."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from api.deps import SessionCsrf, SessionDep, SettingsDep
from api.errors import problem_responses
from api.services.bureau import bureau_page, slope_image
from landmarket.codes import VILLAGE_CODE_PATTERN

router = APIRouter(tags=["maps"])
PageCheck = Literal["market_entry", "reclamation", "ticket_landing"]
VillageQuery = Annotated[
    str | None, Query(pattern=VILLAGE_CODE_PATTERN, description="村代码 / village")
]


@router.get(
    "/maps/bureau", response_class=HTMLResponse, summary="土地核查图 / Bureau eligibility map"
)
def bureau_map(
    session: SessionDep, settings: SettingsDep, csrf: SessionCsrf,
    check: Annotated[PageCheck, Query(description="核查项 / check")] = "reclamation",
    village_code: VillageQuery = None,
    on: Annotated[date | None, Query(description="政策日期 / policy date")] = None,
    site_only: Annotated[bool, Query(description="仅场地条件 / site facts only")] = True,
) -> str:  # fmt: skip
    """Stored parcels coloured by verdict, constraint layers, DEM slope; popups list the rules."""
    return bureau_page(session, settings, check, village_code, on, site_only, csrf)


@router.get(
    "/api/v1/dem/slope.png",
    response_class=Response,
    summary="坡度分级图 / Slope grades image",
    responses={200: {"content": {"image/png": {}}}, **problem_responses(404)},
)
def slope_png(
    session: SessionDep, settings: SettingsDep,
    bbox: Annotated[str, Query(description="minx,miny,maxx,maxy (EPSG:4490)")],
) -> Response:  # fmt: skip
    """PNG of the stored DEM's slope classed by the survey grades, on a Web Mercator grid."""
    image = slope_image(session, settings, bbox)
    return Response(image, media_type="image/png", headers={"Cache-Control": "max-age=300"})
