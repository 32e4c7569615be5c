"""Listing search and the collective's parcel overview: one parameterised statement each."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID, Parcel, Village
from geodata.listings.tables import ACTIVE_STATES, MARKET_STATES, Listing
from geodata.listings.views import API_PREFIX
from landmarket import landuse
from landmarket.listings import STATE_NAMES, SUPPLY_MODE_NAMES, ListingQuery, State

L, P, V = Listing.__table__, Parcel.__table__, Village.__table__
GEOJSON_DECIMALS = 6
PUBLIC_FIELDS = (
    "id", "state", "parcel_code", "village_code", "county_code", "asset_kind", "method",
    "supply_mode", "intended_uses", "primary_use", "term_years", "lease_years", "area_m2",
    "area_mu", "reserve_price_total", "price_per_mu", "title", "constraints_summary",
    "published_at",
)  # fmt: skip


def _conditions(q: ListingQuery) -> list:
    conds = []
    if q.bbox is not None:
        env = func.ST_MakeEnvelope(*q.bbox, SRID)
        conds += [P.c.geom.op("&&")(env), func.ST_Intersects(P.c.geom, env)]
    pairs = [
        (q.min_area_mu, L.c.area_mu, ">="), (q.max_area_mu, L.c.area_mu, "<="),
        (q.min_term_years, L.c.term_years, ">="), (q.max_term_years, L.c.term_years, "<="),
        (q.min_price_per_mu, L.c.price_per_mu, ">="), (q.max_price_per_mu, L.c.price_per_mu, "<="),
    ]  # fmt: skip
    for value, column, op in pairs:
        if value is not None:
            conds.append(column >= value if op == ">=" else column <= value)
    if q.use:
        conds.append(L.c.intended_uses.contains([q.use]))
    for value, column in (
        (q.supply_mode, L.c.supply_mode),
        (q.method, L.c.method),
        (q.asset_kind, L.c.asset_kind),
        (q.district, L.c.county_code),
        (q.village_code, L.c.village_code),
    ):
        if value:
            conds.append(column == value)
    if q.near is not None:
        conds.append(func.ST_DWithin(_geog(P.c.geom), _point(q.near), q.within_km * 1000.0))
    return conds


def _geog(geom):
    return func.geography(func.ST_Transform(geom, 4326))


def _point(near: tuple[float, float]):
    return func.geography(func.ST_SetSRID(func.ST_MakePoint(near[0], near[1]), 4326))


def search_listings(
    session: Session,
    q: ListingQuery,
    *,
    states: Iterable[str] = MARKET_STATES,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """(features, total) of listings matching q, nearest first when q.near is set."""
    distance = (
        (func.ST_Distance(_geog(P.c.geom), _point(q.near)) / 1000.0).label("distance_km")
        if q.near is not None
        else literal(None).label("distance_km")
    )
    stmt = (
        select(
            *(L.c[f] for f in PUBLIC_FIELDS),
            L.c.contact,
            V.c.name.label("village_name"),
            func.ST_AsGeoJSON(P.c.geom, GEOJSON_DECIMALS).label("geometry"),
            distance,
            func.count().over().label("total"),
        )
        .select_from(L.join(P, P.c.id == L.c.parcel_id).outerjoin(V, V.c.code == L.c.village_code))
        .where(L.c.state.in_(list(states)), *_conditions(q))
        .order_by(
            *([distance] if q.near is not None else []),
            L.c.published_at.desc().nulls_last(),
            L.c.id,
        )
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    total = rows[0].total if rows else _count(session, q, states) if offset else 0
    return [_feature(r) for r in rows], total


def _count(session: Session, q: ListingQuery, states: Iterable[str]) -> int:
    stmt = (
        select(func.count())
        .select_from(L.join(P, P.c.id == L.c.parcel_id))
        .where(L.c.state.in_(list(states)), *_conditions(q))
    )
    return session.execute(stmt).scalar_one()


def _feature(row: Any) -> dict[str, Any]:
    m = row._mapping
    props = {f: m[f] for f in PUBLIC_FIELDS}
    props["published_at"] = m["published_at"].isoformat() if m["published_at"] else None
    props["intended_uses"] = list(m["intended_uses"])
    props["village_name"] = m["village_name"]
    props["state_name"] = STATE_NAMES[State(m["state"])]
    props["supply_mode_name"] = SUPPLY_MODE_NAMES[m["supply_mode"]]
    if m["distance_km"] is not None:
        props["distance_km"] = round(float(m["distance_km"]), 3)
    props["href"] = f"{API_PREFIX}/{m['id']}"
    return {
        "type": "Feature",
        "id": m["id"],
        "geometry": json.loads(m["geometry"]),
        "properties": props,
    }


def village_parcels(
    session: Session,
    village_code: str,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The village's parcels with their live (or latest) listing: the collective's overview.

    bbox (minx, miny, maxx, maxy) keeps the parcels it touches; limit caps the features (in
    parcel-code order), and then `truncated` is true, `total` counts the village's parcels in the
    box and `bounds` is the village's extent, so a map can frame it and ask per view.
    """
    latest = (
        select(L.c.id, L.c.parcel_id, L.c.state, L.c.price_per_mu, L.c.supply_mode)
        .where(L.c.village_code == village_code)
        .distinct(L.c.parcel_id)
        .order_by(L.c.parcel_id, L.c.state.in_(ACTIVE_STATES).desc(), L.c.id.desc())
        .subquery()
    )
    stmt = (
        select(
            P.c.parcel_code,
            P.c.land_use_code,
            P.c.area_m2,
            P.c.area_mu,
            P.c.ownership,
            latest.c.id.label("listing_id"),
            latest.c.state,
            latest.c.price_per_mu,
            latest.c.supply_mode,
            func.ST_AsGeoJSON(P.c.geom, GEOJSON_DECIMALS).label("geometry"),
        )  # fmt: skip
        .select_from(P.outerjoin(latest, latest.c.parcel_id == P.c.id))
        .order_by(P.c.parcel_code)
    )
    where = [P.c.village_code == village_code]
    if bbox is not None:
        env = func.ST_MakeEnvelope(*bbox, SRID)
        where += [P.c.geom.op("&&")(env), func.ST_Intersects(P.c.geom, env)]
    stmt = stmt.where(*where)
    rows = session.execute(stmt if limit is None else stmt.limit(limit + 1)).all()
    truncated = limit is not None and len(rows) > limit
    features = []
    for r in rows[:limit] if truncated else rows:
        m = r._mapping
        props = {k: m[k] for k in ("parcel_code", "land_use_code", "area_m2", "area_mu",
                                   "ownership", "listing_id", "price_per_mu", "supply_mode")}  # fmt: skip
        props["land_use"] = landuse.name(m["land_use_code"])
        props["listing_state"] = m["state"] or "unlisted"
        features.append(
            {"type": "Feature", "geometry": json.loads(m["geometry"]), "properties": props}
        )
    out = {"type": "FeatureCollection", "village_code": village_code, "features": features}
    if limit is not None:
        out["truncated"] = truncated
        out["total"] = (
            session.scalar(select(func.count()).select_from(P).where(*where))
            if truncated
            else len(features)
        )
        e = (
            select(func.ST_Extent(P.c.geom).label("e"))
            .where(P.c.village_code == village_code)
            .subquery()
            .c.e
        )
        extent = session.execute(
            select(func.ST_XMin(e), func.ST_YMin(e), func.ST_XMax(e), func.ST_YMax(e))
        ).one()
        out["bounds"] = list(extent) if extent[0] is not None else None
    return out


BOUNDS_SQL = text(
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(p.geom) AS e "
    "FROM listings l JOIN parcels p ON p.id = l.parcel_id WHERE l.state = ANY(:states)) AS x"
)


def market_bounds(session: Session) -> list[float] | None:
    """[west, south, east, north] of the plots on the market (None when there are none)."""
    box = session.execute(BOUNDS_SQL, {"states": list(MARKET_STATES)}).first()
    return None if box is None or box[0] is None else [float(v) for v in box]
