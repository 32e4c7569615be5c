"""OGC API - Features and Tiles metadata at /ogc: thin adapters from Starlette to the cores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import CurrentUser
from api.errors import problem_responses
from api.ogc import core, html, tilesets
from api.ogc.filters import FILTER_LANGS
from api.ogc.openapi import openapi

router = APIRouter(prefix="/ogc", tags=["OGC API"])
HTML_CONTENT = {core.HTML: {"schema": {"type": "string"}}}
JSON_RESPONSE = {200: {"content": {core.JSON: {}, **HTML_CONTENT}}}
GEOJSON_RESPONSE = {200: {"content": {core.GEOJSON: {}, **HTML_CONTENT}}}
PLAIN_JSON = {200: {"content": {core.JSON: {}}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


F_PARAM = _query(
    "f", {"type": "string", "enum": ["json", "html"]}, "输出格式 / representation: json or html"
)
CRS_PARAM = _query("crs", {"type": "string"}, "CRS84 (default) or EPSG:4490 (lat, lon)")
# Declared here (not as FastAPI parameters) so the OpenAPI says what OGC clients read (integer
# limit with default and maximum) while the core answers invalid values with OGC's 400.
ITEMS_PARAMS = [
    _query("bbox", {"type": "string"}, "minx,miny,maxx,maxy in bbox-crs (CRS84 default)"),
    _query("bbox-crs", {"type": "string"}, "CRS84 (default) or EPSG:4490"),
    CRS_PARAM,
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": core.MAX_LIMIT, "default": core.DEFAULT_LIMIT},
        f"每页要素数;超过 {core.MAX_LIMIT} 按 {core.MAX_LIMIT} / features per page; more than "
        f"{core.MAX_LIMIT} is served as {core.MAX_LIMIT}",
    ),
    _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "跳过的要素数 / skip"),
    _query(
        "sortby",
        {"type": "string"},
        "排序: +属性 或 -属性, 逗号分隔 / sort keys: +name or -name, comma separated (queryables)",
    ),
    _query(
        "filter",
        {"type": "string"},
        "CQL2 文本过滤, 如 land_use_code = '0601' AND area_mu >= 15 / CQL2 text filter",
    ),
    _query("filter-lang", {"type": "string", "enum": list(FILTER_LANGS)}, "cql2-text"),
    _query("filter-crs", {"type": "string"}, "CRS84"),
    F_PARAM,
]
ITEMS_DOC = (
    "Features with bbox, property filters on the collection's queryables (?land_use_code=0601), "
    "CQL2 text (filter), sortby, limit/offset paging with next links, numberMatched, crs."
)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _respond(
    request: Request,
    triple: core.Triple,
    media_type: str = core.JSON,
    template: str | None = None,
    **extra: Any,
) -> Response:
    headers, status, content = triple
    params = dict(request.query_params)
    if template and html.wants_html(params, request.headers.get("accept")):
        return HTMLResponse(html.render(template, content, **extra), status_code=status)
    return JSONResponse(content, status_code=status, headers=headers, media_type=media_type)


def _run(request: Request, fn: Callable[..., core.Triple], *args: Any) -> core.Triple:
    with request.app.state.engine.connect() as conn:
        return fn(conn, *args)


def _html_params(request: Request) -> dict[str, str]:
    """Query parameters; an HTML page draws in CRS84 whatever crs was asked."""
    params = dict(request.query_params)
    if html.wants_html(params, request.headers.get("accept")):
        params.pop("crs", None)
        params["f"] = "html"
    return params


@router.get(
    "",
    summary="OGC 入口 / Landing page",
    responses=JSON_RESPONSE,
    openapi_extra={"parameters": [F_PARAM]},
)
def landing(request: Request) -> Response:
    """Links to the API definition, conformance, collections, tilesets and styles."""
    return _respond(request, core.landing(_base(request)), template="landing")


@router.get(
    "/api",
    summary="OGC API 的 OpenAPI 文档 / OpenAPI of the OGC API",
    responses={200: {"content": {core.OPENAPI: {}}}},
)
def service_description(request: Request) -> JSONResponse:
    """OpenAPI 3.0 of /ogc with one items path per collection and its queryables."""
    return JSONResponse(openapi(_base(request)), media_type=core.OPENAPI)


@router.get("/conformance", summary="一致性类 / Conformance classes", responses=PLAIN_JSON)
def conformance() -> JSONResponse:
    """Features Part 1 (core, GeoJSON, HTML, OpenAPI), Part 2 CRS, Part 3 filter and CQL2 text."""
    _, status, content = core.conformance()
    return JSONResponse(content, status_code=status)


@router.get(
    "/collections",
    summary="要素集 / Collections",
    responses=JSON_RESPONSE,
    openapi_extra={"parameters": [F_PARAM]},
)
def collections(request: Request) -> Response:
    """Every collection with its extent and CRS list."""
    doc = _run(request, core.collections, _base(request))
    return _respond(request, doc, template="collections", title="要素集 / Collections")


@router.get(
    "/collections/{collection_id}",
    summary="要素集说明 / One collection",
    responses={**JSON_RESPONSE, **problem_responses(404)},
    openapi_extra={"parameters": [F_PARAM]},
)
def collection(collection_id: str, request: Request) -> Response:
    """One collection's description, with its queryables in the HTML page."""
    doc = _run(request, core.collection, collection_id, _base(request))
    props = core.queryables(collection_id, _base(request))[2]["properties"]
    return _respond(request, doc, template="collection", queryables=props)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="可查询属性 / Queryables of a collection",
    responses={200: {"content": {core.SCHEMA_JSON: {}}}, **problem_responses(404)},
)
def queryables(collection_id: str, request: Request) -> JSONResponse:
    """JSON Schema of the properties usable in property filters, CQL2 filters and sortby."""
    _, status, content = core.queryables(collection_id, _base(request))
    return JSONResponse(content, status_code=status, media_type=core.SCHEMA_JSON)


@router.get(
    "/collections/{collection_id}/items",
    summary="要素 / Features",
    description=ITEMS_DOC,
    responses={**GEOJSON_RESPONSE, **problem_responses(400, 401, 404)},
    openapi_extra={"parameters": ITEMS_PARAMS},
)
def items(collection_id: str, request: Request, user: CurrentUser) -> Response:
    """Features with bbox, property and CQL2 filters, sortby, paging (next links), crs."""
    params = _html_params(request)
    doc = _run(request, core.items, collection_id, params, user, _base(request))
    title = f"{core.collection_of(collection_id).title}"
    return _respond(
        request, doc, core.GEOJSON, template="items", title=title, collection_id=collection_id
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="单个要素 / One feature",
    responses={**GEOJSON_RESPONSE, **problem_responses(400, 401, 404)},
    openapi_extra={"parameters": [CRS_PARAM, F_PARAM]},
)
def item(collection_id: str, feature_id: str, request: Request, user: CurrentUser) -> Response:
    """One feature by its id (parcel code, village code, listing or polygon id)."""
    params = _html_params(request)
    doc = _run(request, core.item, collection_id, feature_id, params, user, _base(request))
    return _respond(
        request,
        doc,
        core.GEOJSON,
        template="item",
        title=f"{collection_id} {feature_id}",
        collection_id=collection_id,
    )


@router.get("/tileMatrixSets", summary="瓦片矩阵集 / Tile matrix sets", responses=PLAIN_JSON)
def tile_matrix_sets(request: Request) -> JSONResponse:
    """The tiling schemes the vector tiles use."""
    return JSONResponse(tilesets.tile_matrix_sets(_base(request))[2])


@router.get(
    "/tileMatrixSets/{tile_matrix_set_id}",
    summary="瓦片矩阵集定义 / One tile matrix set",
    responses={**PLAIN_JSON, **problem_responses(404)},
)
def tile_matrix_set(tile_matrix_set_id: str) -> JSONResponse:
    """WebMercatorQuad as an OGC Two Dimensional Tile Matrix Set."""
    return JSONResponse(tilesets.tile_matrix_set(tile_matrix_set_id)[2])


@router.get("/tiles", summary="矢量瓦片集 / Vector tilesets", responses=PLAIN_JSON)
def dataset_tilesets(request: Request) -> JSONResponse:
    """Every vector tileset the platform serves."""
    return JSONResponse(tilesets.tilesets(_base(request))[2])


@router.get(
    "/collections/{collection_id}/tiles",
    summary="要素集的矢量瓦片集 / Vector tilesets of a collection",
    responses={**PLAIN_JSON, **problem_responses(404)},
)
def collection_tilesets(collection_id: str, request: Request) -> JSONResponse:
    """The tilesets drawing one collection."""
    return JSONResponse(tilesets.tilesets(_base(request), _tiles_of(collection_id))[2])


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set_id}",
    summary="矢量瓦片集说明 / One vector tileset",
    responses={**PLAIN_JSON, **problem_responses(404)},
)
def collection_tileset(
    collection_id: str, tile_matrix_set_id: str, request: Request
) -> JSONResponse:
    """Tile URL template, zoom limits and layers with their fields."""
    doc = tilesets.tileset(_tiles_of(collection_id), tile_matrix_set_id, _base(request))
    return JSONResponse(doc[2])


def _tiles_of(collection_id: str) -> str:
    """The tile layer behind a feature collection, or a tile layer of that name."""
    coll = core.COLLECTIONS.get(collection_id)
    if coll is not None and coll.tiles:
        return coll.tiles
    return collection_id


@router.get("/styles", summary="样式 / Styles", responses=PLAIN_JSON)
def styles(request: Request) -> JSONResponse:
    """The Mapbox GL styles offered for the vector tiles."""
    return JSONResponse(tilesets.styles(_base(request))[2])


@router.get(
    "/styles/{style_id}",
    summary="样式文档 / A Mapbox GL style",
    responses={200: {"content": {tilesets.STYLE: {}}}, **problem_responses(404)},
)
def style(style_id: str, request: Request) -> JSONResponse:
    """Mapbox GL style v8 over every tile layer (QGIS, MapLibre)."""
    return JSONResponse(tilesets.style(style_id, _base(request))[2], media_type=tilesets.STYLE)
