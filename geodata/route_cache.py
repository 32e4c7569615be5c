"""A worker's read-only copy of what the approval route reads: PBF and the land-use parcels.

The route measures posted plots against the permanent basic farmland (all stored versions, the
newest authoritative inside its coverage) and the stored parcels' land use. Read per request,
that is one statement cutting coverages and sending every geometry under the plots as WKB, then
repairs, first-wins and projection of the same features over and over. Here they are read once
per tile (TILE_DEG square) and kept resolved, projected per Gauss-Krüger zone:

- a tile keeps the features whose envelope meets it, each resolved (validity, first-wins) against
  every stored feature of its kind whose envelope meets its own (the tile is read with a halo
  per kind that holds them), so a feature comes out the same from any tile — what the whole
  layer makes of it;
- older versions are cut to where no newer coverage lies, with the whole coverages (not cut to a
  box), and the coverage the route reads is their union, projected and prepared once per zone.

Validity, per request: one statement returns the id and row version (xmin) of the layers, PBF
features and parcels the SQL path would read for the plots' box. Every row must be in the cache
at that version, and every cached row whose envelope meets the box must be among them; otherwise
(a layer, feature or parcel was inserted, changed or deleted there) the whole cache is dropped
and rebuilt, and if the rows still disagree the caller falls back to the SQL path. No migration,
no trigger: xmin changes with every update, and ids are never reused.

One lock serialises use: prepared coverages and trees are shared, and the API calls this from
its event loop anyway (one thread a worker).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.db.tables import SRID
from landmarket.areas import gk_values
from landmarket.eligibility.context import ArrayLayer, ConstraintContext, Projected

TILE_DEG = 0.01  # ~1 km: a scattered project of a village meets a few tiles
MAX_TILES = 256  # least recently used tiles beyond this are dropped (~280 km²: a worker's memory)
KINDS = ("pbf",)  # the constraint layers the approval route reads
_RANK = 1 << 48  # (rank, id) as one sortable integer: ids stay below 2**48

_LAYERS_SQL = """
    SELECT id, xmin::text::bigint AS version, kind, ST_AsBinary(coverage) AS coverage
    FROM constraint_layers WHERE kind = ANY(%(kinds)s)
    ORDER BY effective_date DESC NULLS LAST, id DESC
"""
# The halo of a tile, per kind (first-wins never crosses kinds): the envelope of the PBF
# features, and of the parcels, whose envelope meets the tile — so a long PBF strip widens only
# the PBF read, never the parcels'.
_HALO_SQL = """
    WITH t AS (SELECT ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, %(srid)s) AS g)
    SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
        SELECT 1 AS part, (
            SELECT ST_Extent(f.geom) FROM constraint_features f, t
            WHERE f.layer_id = ANY(%(layers)s) AND f.geom && t.g
        ) AS e
        UNION ALL
        SELECT 2, (SELECT ST_Extent(p.geom) FROM parcels p, t WHERE p.geom && t.g)
    ) y
    ORDER BY part
"""
_ROWS_SQL = """
    SELECT 1 AS part, f.id, f.xmin::text::bigint, f.layer_id, f.plan_code, ST_AsBinary(f.geom)
    FROM constraint_features f
    WHERE f.layer_id = ANY(%(layers)s)
      AND f.geom && ST_MakeEnvelope(%(fx0)s, %(fy0)s, %(fx1)s, %(fy1)s, %(srid)s)
    UNION ALL
    SELECT 2, p.id, p.xmin::text::bigint, NULL, p.land_use_code, ST_AsBinary(p.geom)
    FROM parcels p
    WHERE p.geom && ST_MakeEnvelope(%(px0)s, %(py0)s, %(px1)s, %(py1)s, %(srid)s)
    ORDER BY 1, 2
"""
# What the SQL path (geodata.context.PLACE_CONTEXT_SQL) reads for a box, by id and row version.
_VERSIONS_SQL = """
    WITH box AS MATERIALIZED (
        SELECT ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, %(srid)s) AS g
    ),
    layers AS MATERIALIZED (
        SELECT l.id, l.xmin FROM constraint_layers l, box
        WHERE l.kind = ANY(%(kinds)s) AND l.coverage && box.g AND ST_Intersects(l.coverage, box.g)
    )
    SELECT 0, id, xmin::text::bigint FROM layers
    UNION ALL
    SELECT 1, f.id, f.xmin::text::bigint FROM constraint_features f, box
    WHERE f.layer_id IN (SELECT id FROM layers) AND f.geom && box.g
    UNION ALL
    SELECT 2, p.id, p.xmin::text::bigint FROM parcels p, box WHERE p.geom && box.g
"""


class Stale(Exception):
    """The stored rows under a box are not the cached ones."""


@dataclass
class Tile:
    """The resolved features whose envelope meets one tile, and the rows read for it."""

    geoms: np.ndarray  # EPSG:4490, resolved
    order: np.ndarray  # (layer rank, id): the SQL path's order
    env: np.ndarray  # envelopes of geoms
    layer: np.ndarray  # owning layer id (-1 for parcels)
    code: np.ndarray  # land_use_code (parcels) or plan_code
    # The rows read (the tile and its halo), for validation, sorted by key (id * 4 + part; part 1
    # a feature, 2 a parcel): key, xmin, layer (-1 for parcels) and envelope.
    row_key: np.ndarray
    row_version: np.ndarray
    row_layer: np.ndarray
    row_bounds: np.ndarray
    zones: dict[int, np.ndarray] = field(default_factory=dict)
    # Per-request selections that depend only on the tile and the layers read, kept: the
    # positions of a kind's features (by the layers meeting the box), and the rows to validate.
    _kind_positions: dict[Any, np.ndarray] = field(default_factory=dict)
    _checked_rows: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)

    def projected(self, zone: int) -> np.ndarray:
        """The geometries in a GK zone (computed once)."""
        if zone not in self.zones:
            self.zones[zone] = gk_values(self.geoms, zone)
        return self.zones[zone]

    def positions(self, layers: tuple[int, ...] | None) -> np.ndarray:
        """Positions of the features of these layers (None: the land-use parcels)."""
        found = self._kind_positions.get(layers)
        if found is None:
            if layers is None:
                found = np.flatnonzero(self.layer < 0)
            else:
                found = np.flatnonzero(np.isin(self.layer, np.array(layers, dtype=np.int64)))
            self._kind_positions[layers] = found
        return found

    def checked_rows(self, layers: np.ndarray) -> np.ndarray:
        """Whether each row read is one the SQL path reads when these layers meet the box: a
        parcel, or a feature of one of them."""
        key = tuple(layers.tolist())
        found = self._checked_rows.get(key)
        if found is None:
            found = (self.row_key % 4 == 2) | np.isin(self.row_layer, layers)
            self._checked_rows[key] = found
        return found


@dataclass
class _Layer:
    id: int
    version: int
    coverage: BaseGeometry  # whole, as stored
    own: BaseGeometry  # where this version is authoritative (no newer coverage)
    rank: int


class CachedLayer:
    """What measure_values reads of a layer (in_zone, coverage), from the cache's tiles."""

    def __init__(self, name: str, parts: list[tuple[Tile, np.ndarray]], coverage, zones) -> None:
        self.name = name
        self._parts = parts
        self.coverage = coverage
        self._coverages = zones  # kind's coverage per zone, prepared (shared, under the lock)
        self._zones: dict[int, Projected] = {}

    def in_zone(self, zone: int) -> Projected:
        """The layer's features under the plots in a GK zone, SQL order, coverage prepared."""
        if zone not in self._zones:
            geoms, keys, codes = [], [], []
            for tile, idx in self._parts:
                geoms.append(tile.projected(zone)[idx])
                keys.append(tile.order[idx])
                codes.append(tile.code[idx])
            geoms_a = np.concatenate(geoms) if geoms else np.zeros(0, dtype=object)
            keys_a = np.concatenate(keys) if keys else np.zeros((0, 2), dtype=np.int64)
            codes_a = np.concatenate(codes) if codes else np.zeros(0, dtype=object)
            # One feature may meet several tiles: keep it once, in the SQL order (rank, id).
            _, first = np.unique(keys_a[:, 0] * _RANK + keys_a[:, 1], return_index=True)
            geoms_a, codes_a = geoms_a[first], codes_a[first]
            coverage = None
            if self.coverage is not None:
                if zone not in self._coverages:
                    projected = gk_values(np.array([self.coverage], dtype=object), zone)[0]
                    shapely.prepare(projected)
                    self._coverages[zone] = projected
                coverage = self._coverages[zone]
            columns = {"land_use" if self.name == "parcels" else "plan_code": codes_a}
            self._zones[zone] = Projected(geoms_a, shapely.STRtree(geoms_a), coverage, columns)
        return self._zones[zone]


class RouteCache:
    """One worker's tiles of PBF and land-use parcels, on its own autocommit connection."""

    def __init__(self, url: str, *, tile_deg: float = TILE_DEG, max_tiles: int = MAX_TILES):
        self.url = url
        self.tile_deg = tile_deg
        self.max_tiles = max_tiles
        self.lock = threading.Lock()
        self.builds = 0  # times the layers were (re)read: the cache was built or dropped
        self.misses = 0  # requests left to the SQL path (rows disagreed after a rebuild)
        self._conn: psycopg.Connection | None = None
        self._reset()

    @classmethod
    def for_engine(cls, engine: Any) -> RouteCache:
        """A cache on the database of a SQLAlchemy engine (its own psycopg connection)."""
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(url)

    def _reset(self) -> None:
        self._layers: dict[str, list[_Layer]] | None = None
        self._coverage: dict[str, BaseGeometry | None] = {}
        self._coverage_zones: dict[str, dict[int, BaseGeometry]] = {}
        self._tiles: OrderedDict[tuple[int, int], Tile] = OrderedDict()

    def close(self) -> None:
        """Close the connection (the cache itself stays usable: it reconnects)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def context(self, box: tuple[float, float, float, float], near: np.ndarray):
        """The ConstraintContext of the SQL path for plots whose boxes (grown) are near, inside
        box (their search box); None when the stored rows disagree even after a rebuild."""
        try:
            return self._context(box, near)
        except psycopg.OperationalError:
            self.close()  # a dropped connection: reconnect once
            return self._context(box, near)

    def _context(self, box, near) -> ConstraintContext | None:
        conn = self._connection()
        params = {**_box(box), "kinds": list(KINDS)}
        rows = conn.execute(_VERSIONS_SQL, params, prepare=True).fetchall()
        for attempt in range(2):
            try:
                return self._assemble(box, near, rows)
            except Stale:
                self._reset()
                if attempt == 0:
                    rows = conn.execute(_VERSIONS_SQL, params, prepare=True).fetchall()
        self.misses += 1
        return None

    def _assemble(self, box, near, rows) -> ConstraintContext:
        self._load_layers()
        layers_seen = {rid: version for part, rid, version in rows if part == 0}
        area = shapely.box(*box)
        out: dict[str, Any] = {}
        meeting: dict[str, np.ndarray] = {}
        for kind in KINDS:
            mine = {
                layer.id: layer.version
                for layer in self._layers[kind]
                if shapely.intersects(layer.coverage, area)
            }
            if any(layers_seen.get(i) != v for i, v in mine.items()):
                raise Stale
            meeting[kind] = np.array(sorted(mine), dtype=np.int64)
        if len(layers_seen) != sum(len(m) for m in meeting.values()):
            raise Stale  # a layer meeting the box that the cache does not know
        tiles = [self._tile(key) for key in self._tile_keys(box)]
        read = np.concatenate([meeting[kind] for kind in KINDS])
        _validate(tiles, box, [r for r in rows if r[0] != 0], read)
        boxes = np.asarray(near, dtype=float).reshape(-1, 4)
        for kind in KINDS:
            ids = meeting[kind]
            if len(ids):
                parts = _near(tiles, boxes, tuple(ids.tolist()))
                out[kind] = CachedLayer(
                    kind, parts, self._coverage[kind], self._coverage_zones[kind]
                )
        parts = _near(tiles, boxes, None)
        land = CachedLayer("parcels", parts, None, {})
        return ConstraintContext(**out, parcels=land)

    def _tile_keys(self, box) -> list[tuple[int, int]]:
        d = self.tile_deg
        x0, y0 = math.floor(box[0] / d), math.floor(box[1] / d)
        x1, y1 = math.floor(box[2] / d), math.floor(box[3] / d)
        return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]

    def _load_layers(self) -> None:
        if self._layers is not None:
            return
        rows = self._connection().execute(_LAYERS_SQL, {"kinds": list(KINDS)}).fetchall()
        self._layers = {}
        for kind in KINDS:
            mine, newer = [], None
            for rank, (lid, version, _kind, wkb) in enumerate(r for r in rows if r[2] == kind):
                coverage = shapely.from_wkb(bytes(wkb))
                own = coverage if newer is None else shapely.difference(coverage, newer)
                shapely.prepare(coverage)  # whether it meets a request's box, per request
                mine.append(_Layer(lid, version, coverage, own, rank))
                newer = coverage if newer is None else shapely.union(newer, coverage)
            self._layers[kind] = mine
            coverage = shapely.union_all([layer.own for layer in mine]) if mine else None
            if coverage is not None and not coverage.is_valid:
                coverage = shapely.make_valid(coverage)
            self._coverage[kind] = coverage
            self._coverage_zones[kind] = {}
        self.builds += 1

    def _tile(self, key: tuple[int, int]) -> Tile:
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
            return tile
        tile = self._read_tile(key)
        self._tiles[key] = tile
        while len(self._tiles) > self.max_tiles:
            self._tiles.popitem(last=False)
        return tile

    def _read_tile(self, key: tuple[int, int]) -> Tile:
        d = self.tile_deg
        square = (key[0] * d, key[1] * d, (key[0] + 1) * d, (key[1] + 1) * d)
        layers = {layer.id: layer for kind in KINDS for layer in self._layers[kind]}
        conn = self._connection()
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            params = {**_box(square), "layers": list(layers)}
            halos = conn.execute(_HALO_SQL, params).fetchall()
            for prefix, halo in zip(("f", "p"), halos, strict=True):
                grown = _grown(square, halo) if halo[0] is not None else square
                params.update(
                    zip(
                        (f"{prefix}x0", f"{prefix}y0", f"{prefix}x1", f"{prefix}y1"),
                        grown,
                        strict=True,
                    )
                )
            rows = conn.execute(_ROWS_SQL, params).fetchall()
        ids = np.array([r[1] for r in rows], dtype=np.int64)
        raw = _from_wkb([r[5] for r in rows])
        bounds = shapely.bounds(raw) if len(raw) else np.zeros((0, 4))
        keys = ids * 4 + np.array([r[0] for r in rows], dtype=np.int64)
        by_key = np.argsort(keys, kind="stable")
        near = np.array([square])
        kept: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for kind in KINDS:
            geoms, order, owner, codes = [], [], [], []
            for layer in self._layers[kind]:
                pos = [i for i, r in enumerate(rows) if r[0] == 1 and r[3] == layer.id]
                g = raw[pos]
                if layer.rank > 0 and len(g):
                    g = shapely.intersection(g, layer.own)
                keep = ~shapely.is_empty(g)
                geoms.append(g[keep])
                key = np.array([(layer.rank, ids[i]) for i in pos], dtype=np.int64)
                order.append(key.reshape(-1, 2)[keep])
                owner.append(np.full(len(pos), layer.id, dtype=np.int64)[keep])
                codes.append(np.array([rows[i][4] for i in pos], dtype=object)[keep])
            kept.append(_resolved(kind, geoms, order, owner, codes, near))
        pos = [i for i, r in enumerate(rows) if r[0] == 2]
        land_order = np.array([(0, ids[i]) for i in pos], dtype=np.int64).reshape(-1, 2)
        kept.append(
            _resolved(
                "parcels",
                [raw[pos]],
                [land_order],
                [np.full(len(pos), -1, dtype=np.int64)],
                [np.array([rows[i][4] for i in pos], dtype=object)],
                near,
            )
        )
        geoms = np.concatenate([k[0] for k in kept])
        return Tile(
            geoms=geoms,
            env=shapely.bounds(geoms).reshape(-1, 4),
            order=np.concatenate([k[1] for k in kept]),
            layer=np.concatenate([k[2] for k in kept]),
            code=np.concatenate([k[3] for k in kept]),
            row_key=keys[by_key],
            row_version=np.array([r[2] for r in rows], dtype=np.int64)[by_key],
            row_layer=np.array([-1 if r[3] is None else r[3] for r in rows], dtype=np.int64)[
                by_key
            ],
            row_bounds=bounds[by_key],
        )


def _resolved(kind, geoms, order, owner, codes, near):
    """The features of one kind (in SQL order) resolved as ArrayLayer resolves them, keeping
    those whose envelope meets near: (geoms, order, owner layer, code)."""
    g = np.concatenate(geoms) if geoms else np.zeros(0, dtype=object)
    o = np.concatenate(order).reshape(-1, 2) if order else np.zeros((0, 2), dtype=np.int64)
    columns = {
        "row": np.arange(len(g)),
        "owner": np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64),
        "code": np.concatenate(codes) if codes else np.zeros(0, dtype=object),
    }
    layer = ArrayLayer(g, None, kind, columns, near=near)
    rows = layer.columns["row"].astype(np.int64)
    return (
        layer.geoms,
        o[rows],
        layer.columns["owner"].astype(np.int64),
        layer.columns["code"],
    )


def _near(
    tiles: list[Tile], boxes: np.ndarray, layers: tuple[int, ...] | None
) -> list[tuple[Tile, np.ndarray]]:
    """Per tile, the positions of its features of one kind (these layers' features, or the
    parcels for None) whose envelope meets a plot's box (envelopes touching count, as STRtree's
    query counts them)."""
    out = []
    for tile in tiles:
        cand = tile.positions(layers)
        if not len(cand):
            continue
        env = tile.env[cand]
        meets = np.zeros(len(cand), dtype=bool)
        for b in boxes:
            meets |= _meets(env, b)
        if meets.any():
            out.append((tile, cand[meets]))
    return out


def _meets(env: np.ndarray, b) -> np.ndarray:
    return (env[:, 0] <= b[2]) & (env[:, 2] >= b[0]) & (env[:, 1] <= b[3]) & (env[:, 3] >= b[1])


def _validate(tiles: list[Tile], box, rows: list, layers: np.ndarray) -> None:
    """The features (of the layers read) and parcels the SQL path reads for box are the cached
    ones at the same versions: none new, none changed, none gone."""
    got = np.array(rows, dtype=np.int64).reshape(-1, 3)
    keys, versions = got[:, 1] * 4 + got[:, 0], got[:, 2]
    sorted_keys = np.sort(keys)
    known = np.zeros(len(keys), dtype=bool)
    for tile in tiles:
        at = np.searchsorted(tile.row_key, keys)
        ok = at < len(tile.row_key)
        found = np.zeros(len(keys), dtype=bool)
        found[ok] = tile.row_key[at[ok]] == keys[ok]
        if (tile.row_version[at[found]] != versions[found]).any():
            raise Stale  # changed since this tile read it
        known |= found
        hit = _meets(tile.row_bounds, box) & tile.checked_rows(layers)
        if not _among(tile.row_key[hit], sorted_keys).all():
            raise Stale  # deleted, or moved away from the box
    if not known.all():
        raise Stale  # new under the box


def _among(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """np.isin(values, sorted_keys) for sorted keys, by binary search."""
    at = np.searchsorted(sorted_keys, values)
    inside = at < len(sorted_keys)
    out = np.zeros(len(values), dtype=bool)
    out[inside] = sorted_keys[at[inside]] == values[inside]
    return out


def _box(box) -> dict[str, float | int]:
    minx, miny, maxx, maxy = box
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, "srid": SRID}


def _grown(square, halo) -> tuple[float, float, float, float]:
    return (
        min(square[0], halo[0]),
        min(square[1], halo[1]),
        max(square[2], halo[2]),
        max(square[3], halo[3]),
    )


def _from_wkb(blobs: list) -> np.ndarray:
    if not blobs:
        return np.zeros(0, dtype=object)
    return np.asarray(shapely.from_wkb([bytes(b) for b in blobs]), dtype=object)
