"""The OGC API's own OpenAPI document (the landing page's service-desc), paths relative to /ogc.

GIS clients look an items path up in the service description to learn which query parameters
filter on the server: GDAL's OAPIF driver reads `/collections/{id}/items` and sends queryables as
name=value (or CQL2 text when filter-lang lists it). So each collection gets its own items path
with its queryables spelled out, generated from the collection registry.
"""

from __future__ import annotations

from typing import Any

from api.ogc.collections import COLLECTIONS, OgcCollection
from api.ogc.core import DEFAULT_LIMIT, GEOJSON, JSON, MAX_LIMIT, SCHEMA_JSON
from api.ogc.filters import FILTER_LANGS

PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}


def _param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, "style": "form", "explode": False}  # fmt: skip


def _ok(media: str, description: str) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {media: {"schema": {"type": "object"}}}},
        "400": {"description": "Bad request", "content": PROBLEM},
        "404": {"description": "Not found", "content": PROBLEM},
    }


COMMON = [
    _param("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
           "minx,miny,maxx,maxy (CRS84 unless bbox-crs)"),
    _param("bbox-crs", {"type": "string"}),
    _param("crs", {"type": "string", "format": "uri"}),
    _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                     "default": DEFAULT_LIMIT}),
    _param("offset", {"type": "integer", "minimum": 0, "default": 0}),
    _param("sortby", {"type": "string"}, "+name or -name, comma separated"),
    _param("filter", {"type": "string"}, "CQL2 text"),
    _param("filter-lang", {"type": "string", "enum": list(FILTER_LANGS)}),
    _param("filter-crs", {"type": "string", "format": "uri"}),
]  # fmt: skip


def _items(coll: OgcCollection) -> dict[str, Any]:
    queryables = [_param(q.name, q.schema(), f"{q.name} = value") for q in coll.queryables.values()]
    return {"get": {
        "summary": f"{coll.title}: features",
        "operationId": f"getItems_{coll.id}",
        "parameters": COMMON + queryables,
        "responses": _ok(GEOJSON, "A page of features"),
    }}  # fmt: skip


def openapi(base: str) -> dict[str, Any]:
    """OpenAPI 3.0 of /ogc, with one items path per collection."""
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "responses": _ok(JSON, "Landing page")}},
        "/conformance": {"get": {"summary": "Conformance", "responses": _ok(JSON, "Classes")}},
        "/collections": {"get": {"summary": "Collections", "responses": _ok(JSON, "All")}},
    }
    for coll in COLLECTIONS.values():
        prefix = f"/collections/{coll.id}"
        paths[prefix] = {"get": {"summary": coll.title, "responses": _ok(JSON, coll.title)}}
        paths[f"{prefix}/items"] = _items(coll)
        paths[f"{prefix}/items/{{featureId}}"] = {"get": {
            "summary": f"{coll.title}: one feature",
            "parameters": [{"name": "featureId", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": _ok(GEOJSON, "One feature"),
        }}  # fmt: skip
        paths[f"{prefix}/queryables"] = {"get": {
            "summary": f"{coll.title}: queryables",
            "responses": _ok(SCHEMA_JSON, "Queryables"),
        }}  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "landmarket OGC API", "version": "1.0"},
        "servers": [{"url": f"{base}/ogc"}],
        "paths": paths,
    }
