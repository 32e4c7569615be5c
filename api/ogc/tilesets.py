"""OGC API - Tiles metadata and a Mapbox GL style for the vector tiles under /tiles.

Framework-free like the Features core: each function returns (headers, status, content). The
tiles themselves stay where they are (/tiles/{collection}/{z}/{x}/{y}.pbf, WebMercatorQuad with
z = tileMatrix, x = tileCol, y = tileRow); these documents let QGIS, GDAL and MapLibre find them.
"""

from __future__ import annotations

from typing import Any

from api.ogc.core import JSON, Triple
from geodata import tiles
from landmarket.errors import NotFound

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MVT = "application/vnd.mapbox-vector-tile"
STYLE = "application/vnd.mapbox.style+json"
REL_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
ORIGIN = 20037508.3427892  # half the Web Mercator world, metres
MAX_ZOOM = 24
STYLE_ID = "landmarket"
# Fill and outline colours per tile layer: distinct hues, the constraint layers in their usual
# map colours (farmland yellow, red line red, urban boundary purple).
COLOURS = {
    "parcels": ("#9ecae1", "#3182bd"),
    "listings": ("#31a354", "#006d2c"),
    "villages": ("#00000000", "#636363"),
    "pbf": ("#fed976", "#e6a700"),
    "redline": ("#fb6a4a", "#cb181d"),
    "udb": ("#bcbddc", "#54278f"),
    "village_plan": ("#fdd0a2", "#d94801"),
    "screening_market_entry": ("#c7e9c0", "#238b45"),
    "screening_reclamation": ("#dadaeb", "#756bb1"),
    "screening_ticket_landing": ("#fde0dd", "#c51b8a"),
    "screening_approval_route": ("#d9f0d3", "#8c510a"),
}
DEFAULT_COLOUR = ("#e0e0e0", "#252525")  # a layer added later without its own colour


def tile_matrix_sets(base: str) -> Triple:
    """The tiling schemes the tiles use (one: WebMercatorQuad)."""
    return {}, 200, {
        "tileMatrixSets": [{
            "id": TMS_ID,
            "title": "Google Maps Compatible for the World",
            "uri": TMS_URI,
            "links": [{"rel": "self", "type": JSON, "href": f"{base}/ogc/tileMatrixSets/{TMS_ID}"}],
        }]
    }  # fmt: skip


def tile_matrix_set(tms_id: str) -> Triple:
    """The WebMercatorQuad definition (OGC Two Dimensional Tile Matrix Set 2.0)."""
    if tms_id != TMS_ID:
        raise NotFound(f"没有瓦片矩阵集 / no tile matrix set {tms_id!r} (only {TMS_ID})")
    matrices = [
        {
            "id": str(z),
            "scaleDenominator": 559082264.0287178 / 2**z,
            "cellSize": 156543.03392804097 / 2**z,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-ORIGIN, ORIGIN],
            "tileWidth": 256,
            "tileHeight": 256,
            "matrixWidth": 2**z,
            "matrixHeight": 2**z,
        }
        for z in range(MAX_ZOOM + 1)
    ]
    return {}, 200, {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }  # fmt: skip


def _tile_collection(name: str) -> tiles.TileCollection:
    try:
        return tiles.COLLECTIONS[name]
    except KeyError:
        raise NotFound(f"没有矢量瓦片图层 / no vector tiles for {name!r}") from None


def _tileset_links(coll: tiles.TileCollection, base: str, self_href: str) -> list[dict[str, Any]]:
    return [
        {"rel": "self", "type": JSON, "href": self_href},
        {"rel": REL_SCHEME, "type": JSON, "href": f"{base}/ogc/tileMatrixSets/{TMS_ID}"},
        {
            "rel": "item",
            "type": MVT,
            "templated": True,
            "href": f"{base}/tiles/{coll.name}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}.pbf",
        },
        {"rel": "describedby", "type": JSON, "href": f"{base}/tiles/{coll.name}.json"},
    ]


def _summary(coll: tiles.TileCollection, base: str, href: str) -> dict[str, Any]:
    return {
        "title": coll.title,
        "description": coll.description,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": TMS_URI,
        "links": _tileset_links(coll, base, href),
    }


def tilesets(base: str, name: str | None = None) -> Triple:
    """Every vector tileset (name None) or those of one collection."""
    chosen = [_tile_collection(name)] if name else list(tiles.COLLECTIONS.values())
    return {}, 200, {
        "links": [{"rel": "self", "type": JSON,
                   "href": f"{base}/ogc/collections/{name}/tiles" if name else f"{base}/ogc/tiles"}],
        "tilesets": [
            _summary(c, base, f"{base}/ogc/collections/{c.name}/tiles/{TMS_ID}") for c in chosen
        ],
    }  # fmt: skip


def tileset(name: str, tms_id: str, base: str) -> Triple:
    """One tileset's metadata: template link, zoom limits and the layers with their fields."""
    coll = _tile_collection(name)
    if tms_id != TMS_ID:
        raise NotFound(f"没有瓦片矩阵集 / no tile matrix set {tms_id!r} (only {TMS_ID})")
    kinds = {"String": "string", "Number": "number", "Boolean": "boolean"}
    layer_props = {f: {"type": kinds.get(t, "string")} for f, t in coll.fields.items()}
    doc = _summary(coll, base, f"{base}/ogc/collections/{name}/tiles/{TMS_ID}")
    doc["tileMatrixSetLimits"] = [
        {"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": 2**z - 1,
         "minTileCol": 0, "maxTileCol": 2**z - 1}
        for z in range(coll.minzoom, min(coll.maxzoom, MAX_ZOOM) + 1)
    ]  # fmt: skip
    doc["layers"] = [
        {"id": coll.name, "dataType": "vector", "geometryDimension": 2,
         "propertiesSchema": {"type": "object", "properties": layer_props}},
        {"id": coll.aggregate_layer, "dataType": "vector", "geometryDimension": 2,
         "propertiesSchema": {"type": "object", "properties": {
             "count": {"type": "integer"}, "area_mu": {"type": "number"}}}},
    ]  # fmt: skip
    return {}, 200, doc


def styles(base: str) -> Triple:
    """The styles offered: one Mapbox GL style over every vector tile layer."""
    return {}, 200, {
        "styles": [{
            "id": STYLE_ID,
            "title": "landmarket 图层样式 / landmarket layers",
            "links": [{"rel": "stylesheet", "type": STYLE, "href": f"{base}/ogc/styles/{STYLE_ID}"}],
        }]
    }  # fmt: skip


def style(style_id: str, base: str) -> Triple:
    """A Mapbox GL style (v8) drawing every tile layer: fills, outlines, aggregate circles."""
    if style_id != STYLE_ID:
        raise NotFound(f"没有样式 / no style {style_id!r} (only {STYLE_ID})")
    sources: dict[str, Any] = {}
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f8f8f8"}}
    ]
    for coll in tiles.COLLECTIONS.values():
        fill, line = COLOURS.get(coll.name, DEFAULT_COLOUR)
        sources[coll.name] = {
            "type": "vector",
            "tiles": [f"{base}/tiles/{coll.name}/{{z}}/{{x}}/{{y}}.pbf"],
            "minzoom": 0,
            "maxzoom": min(coll.maxzoom, MAX_ZOOM),
            "attribution": "landmarket",
        }
        common = {"source": coll.name, "source-layer": coll.name, "minzoom": coll.minzoom}
        layers += [
            {"id": f"{coll.name}-fill", "type": "fill", **common,
             "paint": {"fill-color": fill, "fill-opacity": 0.5}},
            {"id": f"{coll.name}-line", "type": "line", **common,
             "paint": {"line-color": line, "line-width": 1}},
            {"id": f"{coll.name}-aggregate", "type": "circle", "source": coll.name,
             "source-layer": coll.aggregate_layer,
             "paint": {"circle-color": line, "circle-opacity": 0.6,
                       "circle-radius": ["interpolate", ["linear"], ["get", "count"],
                                         1, 3, 1000, 12]}},
        ]  # fmt: skip
    return {}, 200, {
        "version": 8,
        "name": "landmarket",
        "metadata": {"landmarket:legend": {n: COLOURS.get(n, DEFAULT_COLOUR)[1]
                                           for n in tiles.COLLECTIONS}},
        "sources": sources,
        "layers": layers,
    }  # fmt: skip
