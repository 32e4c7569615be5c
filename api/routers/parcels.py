"""Parcels: search by bbox and attributes, one parcel, import a file (bureau and collectives)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile, status

from api.deps import CurrentUser, SessionDep, SettingsDep, WriterUser
from api.errors import problem_responses
from api.paging import PageDep, ParcelFilterDep, feature_collection
from geodata.services.imports import import_parcels_upload
from geodata.services.parcels import count_parcels, get_parcel, search_parcels
from geodata.store.importer import read_options
from landmarket.codes import VILLAGE_CODE_PATTERN

router = APIRouter(
    prefix="/api/v1/parcels", tags=["parcels"], responses=problem_responses(401, 404)
)
GEOJSON = {"content": {"application/geo+json": {}}}


@router.get("", summary="宗地查询 / Search parcels", responses={200: GEOJSON})
def list_parcels(
    request: Request, session: SessionDep, user: CurrentUser, flt: ParcelFilterDep, page: PageDep
) -> dict[str, Any]:
    """Parcels in a bbox and matching attribute filters, by parcel code, one page at a time."""
    total, estimated = count_parcels(session, flt)
    features = search_parcels(session, flt, user, page.limit, page.offset)
    return feature_collection(request, features, total, estimated, page)


@router.get("/{parcel_code}", summary="单宗地 / One parcel", responses={200: GEOJSON})
def one_parcel(parcel_code: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """One parcel as a GeoJSON Feature (household data only for the bureau and its collective)."""
    return get_parcel(session, parcel_code, user)


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    summary="导入宗地 / Import parcels",
    responses=problem_responses(403, 409, 413),
)
def import_parcels(
    session: SessionDep,
    user: WriterUser,
    settings: SettingsDep,
    file: Annotated[
        list[UploadFile],
        File(description="GeoPackage/GeoJSON/Shapefile/电子报盘 txt, or a .zip (also of a .gdb)"),
    ],
    village_code: Annotated[str | None, Form(pattern=VILLAGE_CODE_PATTERN)] = None,
    zone: Annotated[
        int | None, Form(ge=18, le=37, description="缺带号时 / GK zone: 35–37 (3°), 18–19 (6°)")
    ] = None,
    source_layer: Annotated[
        str | None, Form(max_length=200, description="图层 / layer of a GeoPackage or FileGDB")
    ] = None,
    field_map: Annotated[
        str | None,
        Form(max_length=2000, description="字段映射 / target=source pairs, comma-separated"),
    ] = None,
    towgs84: Annotated[
        str | None, Form(max_length=200, description="西安80/北京54 七参数 / dx,dy,dz,rx,ry,rz,ds")
    ] = None,
) -> dict[str, Any]:
    """Import a parcel file all-or-nothing; a collective may import only its own village."""
    options = read_options(source_layer, field_map, towgs84)
    return import_parcels_upload(session, file, user, village_code, zone, settings, options)
