"""OGC API - Features at /ogc: thin adapters from Starlette to the framework-free core."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentUser
from api.ogc import core

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])
JSON_RESPONSE = {200: {"content": {core.JSON: {}}}}
GEOJSON_RESPONSE = {200: {"content": {core.GEOJSON: {}}}}
Bbox = Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs (CRS84 default)")]
# Validated by the core (an invalid value is a 400, as Part 1 requires), documented here.
LIMIT_SCHEMA = {"minimum": 1, "maximum": core.MAX_LIMIT, "default": core.DEFAULT_LIMIT}
CrsParam = Annotated[str | None, Query(description="CRS84 (default) or EPSG:4490 (lat, lon)")]


def _respond(triple: core.Triple, media_type: str = core.JSON) -> JSONResponse:
    headers, status, content = triple
    return JSONResponse(content, status_code=status, headers=headers, media_type=media_type)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _run(request: Request, fn, *args: Any) -> core.Triple:
    with request.app.state.engine.connect() as conn:
        return fn(conn, *args)


@router.get("", summary="OGC 入口 / Landing page", responses=JSON_RESPONSE)
def landing(request: Request) -> JSONResponse:
    """Links to the API definition, conformance and the collections."""
    return _respond(core.landing(_base(request)))


@router.get("/conformance", summary="一致性类 / Conformance classes", responses=JSON_RESPONSE)
def conformance() -> JSONResponse:
    """Part 1 core and GeoJSON, OpenAPI 3.0, Part 2 CRS."""
    return _respond(core.conformance())


@router.get("/collections", summary="要素集 / Collections", responses=JSON_RESPONSE)
def collections(request: Request) -> JSONResponse:
    """Every collection with its extent and CRS list."""
    return _respond(_run(request, core.collections, _base(request)))


@router.get(
    "/collections/{collection_id}", summary="要素集说明 / One collection", responses=JSON_RESPONSE
)
def collection(collection_id: str, request: Request) -> JSONResponse:
    """One collection's description."""
    return _respond(_run(request, core.collection, collection_id, _base(request)))


@router.get(
    "/collections/{collection_id}/items", summary="要素 / Features", responses=GEOJSON_RESPONSE
)
def items(
    collection_id: str, request: Request, user: CurrentUser, bbox: Bbox = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None, crs: CrsParam = None,
    limit: Annotated[str | None, Query(json_schema_extra=LIMIT_SCHEMA)] = None,
    offset: Annotated[str | None, Query(json_schema_extra={"minimum": 0, "default": 0})] = None,
) -> JSONResponse:  # fmt: skip
    """Features with bbox, limit/offset paging (next links), numberMatched, crs."""
    params = dict(request.query_params)
    return _respond(
        _run(request, core.items, collection_id, params, user, _base(request)), core.GEOJSON
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="单个要素 / One feature",
    responses=GEOJSON_RESPONSE,
)
def item(
    collection_id: str, feature_id: str, request: Request, user: CurrentUser, crs: CrsParam = None
) -> JSONResponse:
    """One feature by its id (parcel code, village code, listing or polygon id)."""
    params = dict(request.query_params)
    return _respond(
        _run(request, core.item, collection_id, feature_id, params, user, _base(request)),
        core.GEOJSON,
    )
