"""Loading one checked frame of parcels, villages or a constraint layer in an open transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from geopandas import GeoDataFrame, GeoSeries
from shapely.geometry import MultiPolygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID, ConstraintLayer, ImportBatch
from geodata.store.copy import copy_rows
from geodata.store.records import Mapped, map_features, map_parcels, map_villages, to_multipolygon
from landmarket.areas import areas_m2, zones_of
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.units import m2_to_mu

PARCEL_COPY = (
    "parcel_code", "unit_code", "land_use_code", "ownership", "right_type", "registered",
    "registered_area_m2", "area_m2", "area_mu", "gk_zone", "village_code", "name",
    "source_file", "batch_id", "geom", "attrs",
)  # fmt: skip
VILLAGE_COPY = ("code", "name", "township", "county_code", "area_m2", "boundary", "batch_id")
FEATURE_COPY = ("layer_id", "kind", "plan_code", "name", "geom", "attrs")


def _raise_if(problems: list[RecordProblem], source: str) -> None:
    if problems:
        raise InvalidInput(problems=problems, source=source)


def _series(rows: list[dict[str, Any]], key: str) -> GeoSeries:
    return GeoSeries([r[key] for r in rows], crs=SRID)


def _existing(session: Session, sql: str, values: list[str]) -> dict[str, Any]:
    """Which of values already exist (value → detail), checked in one query."""
    if not values:
        return {}
    return {row[0]: row[1] for row in session.execute(text(sql), {"values": values})}


def load_parcels(
    session: Session, frame: GeoDataFrame, batch: ImportBatch, village: str | None
) -> tuple[int, float]:
    """Map, check against the database and COPY parcels; returns (rows, total area m²)."""
    mapped = map_parcels(frame, village)
    _check_villages(session, mapped)
    taken = _existing(
        session,
        "SELECT parcel_code, batch_id FROM parcels WHERE parcel_code = ANY(:values)",
        [r["parcel_code"] for r in mapped.rows],
    )
    for row in mapped.rows:
        if row["parcel_code"] in taken:
            mapped.problems.append(
                RecordProblem(
                    f"parcel {row['parcel_code']}",
                    f"宗地代码已在库中（批次 {taken[row['parcel_code']]}）/ "
                    f"already in the database (batch {taken[row['parcel_code']]})",
                    "parcel_code",
                )
            )
    _raise_if(mapped.problems, batch.source_name)
    geoms = _series(mapped.rows, "geom")
    areas = areas_m2(geoms)
    zones = zones_of(geoms) if len(geoms) else np.zeros(0, dtype=int)
    for row, area, zone in zip(mapped.rows, areas, zones, strict=True):
        row.update(
            area_m2=float(area),
            area_mu=round(float(m2_to_mu(float(area))), 4),
            gk_zone=int(zone),
            source_file=batch.source_name,
            batch_id=batch.id,
        )
    count = copy_rows(session, "parcels", PARCEL_COPY, mapped.rows)
    return count, float(np.round(areas.sum(), 2))


def _check_villages(session: Session, mapped: Mapped) -> None:
    codes = sorted({r["village_code"] for r in mapped.rows if r["village_code"]})
    known = _existing(session, "SELECT code, id FROM villages WHERE code = ANY(:values)", codes)
    for row in mapped.rows:
        if row["village_code"] and row["village_code"] not in known:
            mapped.problems.append(
                RecordProblem(
                    f"parcel {row['parcel_code']}",
                    f"村 {row['village_code']} 未导入 / village not loaded; import villages first",
                    "village_code",
                )
            )


def load_villages(session: Session, frame: GeoDataFrame, batch: ImportBatch) -> tuple[int, float]:
    """Map, check and COPY village boundaries; returns (rows, total area m²)."""
    mapped = map_villages(frame)
    taken = _existing(
        session,
        "SELECT code, batch_id FROM villages WHERE code = ANY(:values)",
        [r["code"] for r in mapped.rows],
    )
    for row in mapped.rows:
        if row["code"] in taken:
            mapped.problems.append(
                RecordProblem(
                    f"village {row['code']}", "村代码已在库中 / village already loaded", "code"
                )
            )
    _raise_if(mapped.problems, batch.source_name)
    areas = areas_m2(_series(mapped.rows, "boundary"))
    for row, area in zip(mapped.rows, areas, strict=True):
        row.update(area_m2=float(area), batch_id=batch.id)
    count = copy_rows(session, "villages", VILLAGE_COPY, mapped.rows)
    return count, float(np.round(areas.sum(), 2))


def default_coverage(session: Session, village: str | None, source: str) -> MultiPolygon:
    """Union of the loaded village boundaries (one village with --village); refuse when none."""
    where = "WHERE code = :village" if village else ""
    wkb = session.execute(
        text(
            "SELECT ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_Union(boundary), 3))) "
            f"FROM villages {where}"
        ),
        {"village": village},
    ).scalar()
    coverage = to_multipolygon(shapely.from_wkb(bytes(wkb))) if wkb is not None else None
    if coverage is None:
        scope = f"村 {village} / village {village}" if village else "村界 / village boundaries"
        raise InvalidInput(
            problems=[
                RecordProblem(
                    "coverage",
                    f"未给出 --coverage 且库中没有{scope}，无法确定调查范围 / no --coverage given "
                    "and no boundary loaded to default to: a constraint layer needs the area it "
                    "was surveyed over",
                    "coverage",
                )
            ],
            source=source,
        )
    return coverage


def load_constraints(
    session: Session,
    frame: GeoDataFrame,
    kind: str,
    batch: ImportBatch,
    coverage: MultiPolygon,
    meta: dict[str, Any],
) -> tuple[int, int, list[str]]:
    """Create the layer row and COPY its features; returns (rows, layer id, warnings)."""
    mapped = map_features(frame, kind)
    _raise_if(mapped.problems, batch.source_name)
    layer = ConstraintLayer(
        kind=kind,
        name=meta.get("name") or batch.source_name,
        version=meta.get("version"),
        effective_date=_date(meta.get("effective_date")),
        source=meta.get("source") or batch.source_name,
        coverage=from_shape(coverage, srid=SRID),
        batch_id=batch.id,
    )
    session.add(layer)
    session.flush()
    for row in mapped.rows:
        row["layer_id"] = layer.id
    count = copy_rows(session, "constraint_features", FEATURE_COPY, mapped.rows)
    warnings: list[str] = []
    if mapped.rows:
        shapely.prepare(coverage)
        geoms = np.array([r["geom"] for r in mapped.rows], dtype=object)
        outside = int((~shapely.covers(coverage, geoms)).sum())
        if outside:
            warnings.append(
                f"{outside} 个要素超出调查范围 / {outside} feature(s) extend beyond the coverage"
            )
    return count, layer.id, warnings


def _date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            problems=[RecordProblem("options", f"日期无效 / not a date: {value}", "effective_date")]
        ) from exc
