"""Read-side SQL for parcels: bbox and attribute search, one parcel, the map page's frame.

Each read is one parameterised statement over the GiST-indexed table. Counting stops at
COUNT_CAP rows; beyond it the total is the planner's estimate, flagged as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select, text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID, Parcel, Village
from landmarket import landuse
from landmarket.access import Principal
from landmarket.codes import CodeError, parse_parcel_code
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.units import m2_to_ha

COUNT_CAP = 10_000
GEOJSON_DECIMALS = 6
P = Parcel.__table__
V = Village.__table__
# Columns any caller may read; PERSONAL ones only the bureau and the parcel's own collective.
PUBLIC_COLUMNS = (
    "parcel_code",
    "unit_code",
    "land_use_code",
    "ownership",
    "right_type",
    "registered",
    "registered_area_m2",
    "area_m2",
    "area_mu",
    "gk_zone",
    "village_code",
)
PERSONAL_COLUMNS = ("name", "attrs", "source_file", "batch_id")


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in EPSG:4490."""

    minx: float
    miny: float
    maxx: float
    maxy: float


def parse_bbox(text: str, field: str = "bbox") -> BBox:
    """Parse 'minx,miny,maxx,maxy' (EPSG:4490 degrees); InvalidInput names the field."""

    def bad(problem: str) -> InvalidInput:
        return InvalidInput(
            [RecordProblem(record="query", field=field, problem=problem)], source=f"{field}={text}"
        )

    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise bad("须为 minx,miny,maxx,maxy 四个数 / must be four numbers minx,miny,maxx,maxy")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise bad("含非数字 / contains a value that is not a number") from None
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise bad("经纬度超出范围 / longitude or latitude out of range (EPSG:4490 degrees)")
    if minx >= maxx or miny >= maxy:
        raise bad("须 minx < maxx 且 miny < maxy / needs minx < maxx and miny < maxy")
    return BBox(minx, miny, maxx, maxy)


@dataclass(frozen=True)
class ParcelFilter:
    """Search criteria of the parcels list."""

    bbox: BBox | None = None
    land_use_code: str | None = None
    village_code: str | None = None
    ownership: str | None = None
    min_area_mu: float | None = None
    max_area_mu: float | None = None

    def conditions(self) -> list:
        """SQL WHERE terms."""
        conds = []
        if self.bbox is not None:
            b = self.bbox
            env = func.ST_MakeEnvelope(b.minx, b.miny, b.maxx, b.maxy, SRID)
            conds += [P.c.geom.op("&&")(env), func.ST_Intersects(P.c.geom, env)]
        if self.land_use_code:
            conds.append(P.c.land_use_code == self.land_use_code)
        if self.village_code:
            conds.append(P.c.village_code == self.village_code)
        if self.ownership:
            conds.append(P.c.ownership == self.ownership)
        if self.min_area_mu is not None:
            conds.append(P.c.area_mu >= self.min_area_mu)
        if self.max_area_mu is not None:
            conds.append(P.c.area_mu <= self.max_area_mu)
        return conds


def _feature_select() -> Select:
    return select(
        *(P.c[c] for c in PUBLIC_COLUMNS + PERSONAL_COLUMNS),
        V.c.name.label("village_name"),
        func.ST_AsGeoJSON(P.c.geom, GEOJSON_DECIMALS).label("geometry"),
    ).select_from(P.outerjoin(V, V.c.code == P.c.village_code))


def to_feature(row: Any, viewer: Principal) -> dict[str, Any]:
    """A GeoJSON Feature of one parcel row, personal attributes only for those allowed."""
    m = row._mapping
    props: dict[str, Any] = {c: m[c] for c in PUBLIC_COLUMNS}
    props["land_use"] = landuse.name(m["land_use_code"])
    props["area_ha"] = round(float(m2_to_ha(m["area_m2"])), 4)
    props["village_name"] = m["village_name"]
    if viewer.may_see_personal(m["village_code"]):
        props.update({c: m[c] for c in PERSONAL_COLUMNS})
    return {
        "type": "Feature",
        "id": m["parcel_code"],
        "geometry": json.loads(m["geometry"]),
        "properties": props,
    }


def count_parcels(session: Session, flt: ParcelFilter) -> tuple[int, bool]:
    """(total, is_estimate): exact up to COUNT_CAP, the planner's estimate beyond."""
    conds = flt.conditions()
    capped = select(literal(1)).select_from(P).where(*conds).limit(COUNT_CAP + 1).subquery()
    n = session.execute(select(func.count()).select_from(capped)).scalar_one()
    if n <= COUNT_CAP:
        return n, False
    stmt = select(P.c.id).where(*conds)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return max(int(plan[0]["Plan"]["Plan Rows"]), COUNT_CAP + 1), True


def search_parcels(
    session: Session, flt: ParcelFilter, viewer: Principal, limit: int, offset: int
) -> list[dict[str, Any]]:
    """One page of parcels as GeoJSON Features, ordered by parcel code."""
    stmt = (
        _feature_select()
        .where(*flt.conditions())
        .order_by(P.c.parcel_code)
        .limit(limit)
        .offset(offset)
    )
    return [to_feature(row, viewer) for row in session.execute(stmt)]


def get_parcel(session: Session, parcel_code: str, viewer: Principal) -> dict[str, Any]:
    """One parcel as a GeoJSON Feature; InvalidInput for a malformed code, NotFound if absent."""
    try:
        parse_parcel_code(parcel_code)
    except CodeError as exc:
        raise InvalidInput(
            [RecordProblem(record=f"parcel {parcel_code}", field="parcel_code", problem=str(exc))]
        ) from None
    row = session.execute(_feature_select().where(P.c.parcel_code == parcel_code)).first()
    if row is None:
        raise NotFound(f"宗地不存在 / no parcel with parcel_code {parcel_code}")
    return to_feature(row, viewer)


MAP_VILLAGE_NAMES = 2_000  # village names a map page carries for its popups, at most
# The distinct land-use codes by skipping along their index (a loose index scan): a few dozen
# index probes however many parcels there are, where DISTINCT would read the whole table.
_LAND_USES = text(
    """
    WITH RECURSIVE u(code) AS (
        (SELECT land_use_code FROM parcels WHERE land_use_code IS NOT NULL
         ORDER BY land_use_code LIMIT 1)
        UNION ALL
        SELECT (SELECT p.land_use_code FROM parcels p WHERE p.land_use_code > u.code
                ORDER BY p.land_use_code LIMIT 1)
        FROM u WHERE u.code IS NOT NULL
    )
    SELECT code FROM u WHERE code IS NOT NULL
    """
)


@dataclass(frozen=True)
class MapOverview:
    """What a tiled parcels map needs besides its tiles: how many, where, which uses, names."""

    total: int
    bounds: tuple[float, float, float, float] | None  # minx, miny, maxx, maxy (EPSG:4490)
    land_uses: list[str]
    villages: dict[str, str]  # code → name of the villages in view (at most MAP_VILLAGE_NAMES)


def map_overview(session: Session, village_code: str | None = None) -> MapOverview:
    """Count, extent, land-use codes and village names of the stored parcels (or one village's).

    Bounded whatever the number of parcels: the extent is the villages' (parcels lie in their
    villages; the parcels' own extent only when no village is stored), the codes come from the
    index and the names are capped.
    """
    flt = ParcelFilter(village_code=village_code)
    total = count_parcels(session, flt)[0]
    village_cond = [V.c.code == village_code] if village_code else []
    extent = session.execute(
        select(func.ST_Extent(V.c.boundary)).where(*village_cond)
    ).scalar_one_or_none()
    if extent is None and total:
        extent = session.execute(
            select(func.ST_Extent(P.c.geom)).where(*flt.conditions())
        ).scalar_one_or_none()
    bounds = _box(extent) if extent else None
    if village_code:
        uses = session.scalars(
            select(P.c.land_use_code).where(P.c.village_code == village_code).distinct()
        ).all()
    else:
        uses = session.scalars(_LAND_USES).all()
    names = {}
    if bounds:
        env = func.ST_MakeEnvelope(*bounds, SRID)
        rows = session.execute(
            select(V.c.code, V.c.name)
            .where(V.c.boundary.op("&&")(env), *village_cond)
            .order_by(V.c.code)
            .limit(MAP_VILLAGE_NAMES)
        )
        names = {code: name for code, name in rows if name}
    return MapOverview(total, bounds, sorted(u for u in uses if u), names)


def _box(extent: str) -> tuple[float, float, float, float]:
    """'BOX(minx miny,maxx maxy)' → (minx, miny, maxx, maxy)."""
    low, high = extent[extent.index("(") + 1 : extent.index(")")].split(",")
    minx, miny = map(float, low.split())
    maxx, maxy = map(float, high.split())
    return minx, miny, maxx, maxy
