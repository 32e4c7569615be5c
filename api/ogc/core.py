"""OGC API - Features core, framework-free: each function returns (headers, status, content).

Like pygeoapi's API object: no web framework here, only a connection, the base URL, the query
parameters and the viewer; the router adapts the triple to a Starlette response.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, text

from api.ogc.collections import COLLECTIONS, OgcCollection
from api.ogc.crs import CRS84, SUPPORTED, Crs, parse_bbox, parse_crs
from api.ogc.errors import OgcBadRequest
from api.ogc.filters import Where, cql2_filter, order_by, property_filters
from landmarket.errors import NotFound

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
]
# Part 1: a limit above the maximum is not an error, the maximum is used instead.
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
# Next links ask for at least this many features, so clients that always start with limit=10
# (GDAL before 3.8) read a district in a few requests; a client wanting small pages says so.
NEXT_PAGE_LIMIT = 1_000
COUNT_CAP = 10_000
DECIMALS = 7  # ~1 cm
ITEM_PARAMS = {
    "bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f", "sortby", "filter",
    "filter-lang", "filter-crs",
}  # fmt: skip
Triple = tuple[dict[str, str], int, Any]


def landing(base: str) -> Triple:
    """The landing page: links to the API definition, conformance and collections."""
    return {}, 200, {
        "title": "landmarket OGC API - Features / 重庆农村土地市场平台要素服务",
        "description": "挂牌、宗地、三区三线与村界 / listings, parcels, three zones three lines, villages",
        "links": [
            {"rel": "self", "type": JSON, "title": "本页 / this document", "href": f"{base}/ogc"},
            {"rel": "service-desc", "type": OPENAPI, "title": "OpenAPI", "href": f"{base}/ogc/api"},
            {"rel": "service-doc", "type": "text/html", "title": "API docs", "href": f"{base}/docs"},
            {"rel": "conformance", "type": JSON, "title": "Conformance", "href": f"{base}/ogc/conformance"},
            {"rel": "data", "type": JSON, "title": "Collections", "href": f"{base}/ogc/collections"},
            {"rel": "alternate", "type": HTML, "title": "HTML", "href": f"{base}/ogc?f=html"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "type": JSON,
             "title": "Tile matrix sets", "href": f"{base}/ogc/tileMatrixSets"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": JSON,
             "title": "Vector tilesets", "href": f"{base}/ogc/tiles"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/styles", "type": JSON,
             "title": "Styles", "href": f"{base}/ogc/styles"},
        ],
    }  # fmt: skip


def conformance() -> Triple:
    """The conformance classes implemented."""
    return {}, 200, {"conformsTo": CONFORMANCE}


def _collection_doc(conn: Connection, coll: OgcCollection, base: str) -> dict[str, Any]:
    items = f"{base}/ogc/collections/{coll.id}/items"
    extent = f"SELECT ST_Extent({coll.geom}) FROM {coll.table} WHERE {coll.where}"
    if coll.huge:  # the planner's statistics, not a scan of millions of rows
        table, column = coll.estimated_extent
        extent = f"SELECT coalesce(ST_EstimatedExtent('{table}', '{column}')::box2d, ({extent}))"
    box = conn.execute(
        text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({extent}) AS x(e)")
    ).first()
    bbox = [round(float(v), 7) for v in box] if box and box[0] is not None else [-180, -90, 180, 90]
    return {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": list(SUPPORTED),
        "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/4490",
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": JSON, "href": f"{base}/ogc/collections/{coll.id}"},
            {"rel": "alternate", "type": HTML, "href": f"{base}/ogc/collections/{coll.id}?f=html"},
            {"rel": "items", "type": GEOJSON, "title": coll.title, "href": items},
            {"rel": "items", "type": HTML, "title": coll.title, "href": f"{items}?f=html"},
            {"rel": REL_QUERYABLES, "type": SCHEMA_JSON, "title": "Queryables",
             "href": f"{base}/ogc/collections/{coll.id}/queryables"},
        ] + ([
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": JSON,
             "title": "Vector tiles", "href": f"{base}/ogc/collections/{coll.id}/tiles"},
        ] if coll.tiles else []),
    }  # fmt: skip


def collection_of(collection_id: str) -> OgcCollection:
    """A collection by id, 404 otherwise."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(f"没有要素集 / no collection {collection_id!r}") from None


def collections(conn: Connection, base: str) -> Triple:
    """Every collection with its extent and links."""
    docs = [_collection_doc(conn, c, base) for c in COLLECTIONS.values()]
    links = [{"rel": "self", "type": JSON, "href": f"{base}/ogc/collections"}]
    return {}, 200, {"links": links, "collections": docs}


def collection(conn: Connection, collection_id: str, base: str) -> Triple:
    """One collection's description."""
    return {}, 200, _collection_doc(conn, collection_of(collection_id), base)


def _int(
    params: dict[str, str], name: str, default: int, low: int, high: int, cap: bool = False
) -> int:
    """An integer parameter; below low is a 400, above high a 400 or, with cap, high."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OgcBadRequest(f"{name} 须为整数 / {name} must be an integer", name) from None
    if cap and value > high:
        return high
    if not low <= value <= high:
        raise OgcBadRequest(f"{name} 须在 {low}–{high} / {name} must be {low}–{high}", name)
    return value


def queryables(collection_id: str, base: str) -> Triple:
    """The JSON Schema of a collection's queryables (Part 3)."""
    coll = collection_of(collection_id)
    return {}, 200, {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/ogc/collections/{coll.id}/queryables",
        "type": "object",
        "title": coll.title,
        "properties": {name: q.schema() for name, q in coll.queryables.items()},
        "additionalProperties": False,
    }  # fmt: skip


def _select(coll: OgcCollection, crs: Crs, personal: bool) -> str:
    props = {**coll.properties, **(coll.personal if personal else {})}
    cols = ", ".join(f'{expr} AS "{name}"' for name, expr in props.items())
    geom = f"ST_FlipCoordinates({coll.geom})" if crs.lat_first else coll.geom
    village = f", {coll.village} AS _village" if coll.village else ", NULL AS _village"
    return f"SELECT {coll.fid} AS _fid, {cols}{village}, ST_AsGeoJSON({geom}, {DECIMALS}) AS _geometry FROM {coll.table}"


def _feature(row: Any, viewer: Any, coll: OgcCollection) -> dict[str, Any]:
    m = dict(row._mapping)
    fid, village, geometry = m.pop("_fid"), m.pop("_village"), m.pop("_geometry")
    if coll.personal and not viewer.may_see_personal(village):
        for name in coll.personal:
            m.pop(name, None)
    return {"type": "Feature", "id": fid, "geometry": json.loads(geometry), "properties": m}


def _count(conn: Connection, coll: OgcCollection, where: str, params: dict[str, Any]) -> int:
    """Exact up to COUNT_CAP; for huge tables the planner's estimate beyond it."""
    capped = f"SELECT count(*) FROM (SELECT 1 FROM {coll.table} WHERE {where} LIMIT {COUNT_CAP + 1}) AS c"
    n = conn.execute(text(capped), params).scalar_one()
    if n <= COUNT_CAP or not coll.huge:
        return n if n <= COUNT_CAP else _exact(conn, coll, where, params)
    sql = text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {coll.table} WHERE {where}")
    plan = conn.execute(sql.bindparams(**params)).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return max(int(plan[0]["Plan"]["Plan Rows"]), COUNT_CAP + 1)


def _exact(conn: Connection, coll: OgcCollection, where: str, params: dict[str, Any]) -> int:
    return conn.execute(
        text(f"SELECT count(*) FROM {coll.table} WHERE {where}"), params
    ).scalar_one()


def items(
    conn: Connection, collection_id: str, params: dict[str, str], viewer: Any, base: str
) -> Triple:
    """A page of features: bbox (with bbox-crs), crs, limit/offset, next/prev links."""
    coll = collection_of(collection_id)
    unknown = sorted(set(params) - ITEM_PARAMS - set(coll.queryables))
    if unknown:
        raise OgcBadRequest(f"未知参数 / unknown parameter(s) {unknown}", unknown[0])
    if params.get("filter-crs") not in (None, CRS84, "CRS84", "OGC:CRS84"):
        raise OgcBadRequest("filter-crs 只支持 CRS84 / filter-crs must be CRS84", "filter-crs")
    crs = parse_crs(params.get("crs"))
    bbox = parse_bbox(params.get("bbox"), parse_crs(params.get("bbox-crs"), "bbox-crs"))
    limit = _int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, cap=True)
    offset = _int(params, "offset", 0, 0, 10**9)
    cond = Where()
    if bbox is not None:
        env = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490)"
        cond.clauses.append(f"{coll.geom} && {env} AND ST_Intersects({coll.geom}, {env})")
        cond.params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    property_filters(coll, params, cond)
    cql2_filter(coll, params, cond)
    where, sql_params = cond.sql(coll.where), cond.params
    personal = bool(coll.personal) and viewer.may_see_some_personal
    page = text(
        f"{_select(coll, crs, personal)} WHERE {where} ORDER BY {order_by(coll, params)} LIMIT :limit OFFSET :offset"
    )
    rows = conn.execute(page, {**sql_params, "limit": limit, "offset": offset}).all()
    features = [_feature(r, viewer, coll) for r in rows]
    matched = _count(conn, coll, where, sql_params)
    links = _page_links(base, coll.id, params, limit, offset, len(features), matched)
    body = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberMatched": matched,
        "numberReturned": len(features),
        "links": links,
        "features": features,
    }
    return {"Content-Crs": crs.header()}, 200, body


def _page_links(
    base: str, cid: str, params: dict[str, str], limit: int, offset: int, n: int, matched: int
) -> list[dict]:
    url = f"{base}/ogc/collections/{cid}/items"
    html = params.get("f") == "html"
    kind = HTML if html else GEOJSON

    def href(off: int, size: int = limit) -> str:
        query = {**params, "limit": str(size), "offset": str(off)}
        return f"{url}?{urlencode(query)}"

    links = [
        {"rel": "self", "type": kind, "href": href(offset)},
        {"rel": "collection", "type": JSON, "href": f"{base}/ogc/collections/{cid}"},
    ]
    if offset + n < matched and n == limit:
        size = limit if html else max(limit, min(NEXT_PAGE_LIMIT, MAX_LIMIT))
        links.append({"rel": "next", "type": kind, "href": href(offset + limit, size)})
    if offset > 0:
        links.append({"rel": "prev", "type": kind, "href": href(max(0, offset - limit))})
    return links


def item(
    conn: Connection,
    collection_id: str,
    feature_id: str,
    params: dict[str, str],
    viewer: Any,
    base: str,
) -> Triple:
    """One feature by id."""
    coll = collection_of(collection_id)
    unknown = sorted(set(params) - {"crs", "f"})
    if unknown:
        raise OgcBadRequest(f"未知参数 / unknown parameter(s) {unknown}", unknown[0])
    crs = parse_crs(params.get("crs"))
    try:
        key = coll.fid_type(feature_id)
    except ValueError:
        raise NotFound(f"没有要素 / no feature {feature_id!r} in {coll.id}") from None
    personal = bool(coll.personal) and viewer.may_see_some_personal
    sql = text(f"{_select(coll, crs, personal)} WHERE {coll.where} AND {coll.fid} = :fid")
    row = conn.execute(sql, {"fid": key}).first()
    if row is None:
        raise NotFound(f"没有要素 / no feature {feature_id!r} in {coll.id}")
    feature = _feature(row, viewer, coll)
    feature["links"] = [
        {
            "rel": "self",
            "type": GEOJSON,
            "href": f"{base}/ogc/collections/{coll.id}/items/{feature_id}",
        },
        {"rel": "collection", "type": JSON, "href": f"{base}/ogc/collections/{coll.id}"},
    ]
    return {"Content-Crs": crs.header()}, 200, feature
