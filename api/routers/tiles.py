"""Vector tiles (/tiles/{collection}/{z}/{x}/{y}.pbf) and TileJSON, with ETag revalidation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import SettingsDep
from api.schemas.listings import ListingQueryDep
from geodata import tiles

router = APIRouter(tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MVT: {}}, "description": "Mapbox vector tile"},
    304: {"description": "未变化 / not modified (If-None-Match)"},
}


def _filters(coll: tiles.TileCollection, request: Request) -> dict[str, str]:
    return dict(sorted(request.query_params.items())) if coll.filterable else {}


@router.get("/tiles/{collection}.json", summary="TileJSON 图层描述 / TileJSON of a collection")
def tilejson(collection: str, request: Request, q: ListingQueryDep) -> dict[str, Any]:
    """TileJSON 3.0.0: tile URL (with the listing filters given), bounds, layers and fields."""
    coll = tiles.collection(collection)
    base = str(request.base_url).rstrip("/")
    query = request.url.query if coll.filterable else ""
    with request.app.state.engine.connect() as conn:
        return tiles.tilejson(conn, coll, base, query)


@router.get(
    "/tiles/{collection}/{z}/{x}/{y}.pbf",
    summary="矢量瓦片 / Mapbox vector tile",
    responses=TILE_RESPONSES,
    response_class=Response,
)
def tile(
    collection: str, z: int, x: int, y: int, request: Request, settings: SettingsDep,
    q: ListingQueryDep,
) -> Response:  # fmt: skip
    """All features of the tile, or an aggregate layer named *_aggregate_grid when too many."""
    coll = tiles.collection(collection)
    cap = settings.tile_max_features
    cache = (
        "public, max-age=0, must-revalidate"
        if coll.live
        else f"public, max-age={settings.tile_max_age}"
    )
    with tiles.tile_engine(request.app.state.database_url).connect() as conn:
        version = tiles.tile_version(conn, coll.name)
        tag = tiles.etag(coll.name, version, z, x, y, _filters(coll, request), cap)
        headers = {"ETag": tag, "Cache-Control": cache}
        if tag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        out = tiles.render_tile(conn, coll, z, x, y, cap=cap, query=q)
    headers["X-Tile-Layer"] = out.layer
    return Response(out.data, media_type=MVT, headers=headers)
