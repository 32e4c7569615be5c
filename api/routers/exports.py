"""Exports of a parcel selection: CSV and XLSX for Excel, 电子报盘 txt, GeoPackage."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import problem_responses
from api.paging import ParcelFilterDep
from geodata.exports import FORMATS, PARCEL_HEADERS, headers_in, parcel_export, table_bytes

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
Format = Literal["csv", "xlsx", "txt", "gpkg"]


@router.get(
    "/parcels",
    summary="导出宗地 / Export parcels",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media, _ in FORMATS.values()},
            "description": "文件 / the file",
        },
        **problem_responses(401, 422),
    },
)
def export_parcels(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    flt: ParcelFilterDep,
    format: Annotated[Format, Query(description="csv, xlsx, txt (电子报盘) or gpkg")] = "csv",
    lang: Annotated[Literal["zh", "en"], Query(description="表头语言 / header language")] = "zh",
) -> Response:
    """The parcels the filters select (public attributes), as a file named by its format."""
    frame = parcel_export(session, flt, settings.export_max_rows)
    data = table_bytes(frame, format, headers_in(PARCEL_HEADERS, lang), sheet="宗地 parcels")
    media, suffix = FORMATS[format]
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="parcels.{suffix}"'},
    )
