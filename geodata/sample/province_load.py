"""One generated province district into PostGIS, in one transaction, replacing an earlier load of it."""

from __future__ import annotations

from pathlib import Path

import pyogrio
from sqlalchemy import select, update

from geodata.db.tables import ImportBatch
from geodata.hygiene import check_layer
from geodata.sample.load import CONSTRAINTS, LAYER_NAMES, _clear, _sha
from geodata.sample.synthetic import DEM_NAME, GPKG_NAME
from geodata.store import import_frame, import_layer, transaction
from geodata.store.importer import file_sha256

PREFIX = "province:"
VERSION = "province-synthetic"
EFFECTIVE = "2025-06-30"


def load_district(
    database_url: str,
    folder: Path,
    code: str,
    name: str,
    actor: str = "generate",
    raster_dir: Path | None = None,
) -> dict[str, int]:
    """Villages, parcels, the four constraint layers (with coverage) and the DEM of one district
    (the DEM copied into raster_dir, by default the settings' raster folder)."""
    gpkg, dem = folder / GPKG_NAME, folder / DEM_NAME
    sha = file_sha256(gpkg)
    prefix = f"{PREFIX}{code}:"
    rows: dict[str, int] = {}
    with transaction(database_url) as session:
        old = session.scalars(
            select(ImportBatch.id).where(ImportBatch.source_name.like(f"{prefix}%"))
        ).all()
        if old:
            _clear(session, list(old), actor)
        coverage = pyogrio.read_dataframe(gpkg, layer="coverage").set_index("layer").geometry
        for layer in ["villages", "parcels", *(f"constraints:{k}" for k in CONSTRAINTS)]:
            kind = layer.split(":", 1)[-1]
            frame = pyogrio.read_dataframe(gpkg, layer=kind)
            frame, _notes = check_layer(frame, layer, source=f"{code}/{GPKG_NAME}:{kind}")
            if layer == "parcels":
                frame = frame.drop(columns=["area_m2"])  # the store computes areas itself
                frame["household_members"] = frame["household_members"].astype("Int64")
                frame["settled_in_town"] = frame["settled_in_town"].astype("boolean")
            meta = {
                "name": f"{name} {LAYER_NAMES.get(kind, kind)}",
                "version": VERSION,
                "effective_date": EFFECTIVE,
                "source": f"landmarket generate --province ({code})",
            }
            report = import_frame(
                session, frame, layer, source_name=f"{prefix}{GPKG_NAME}#{layer}",
                sha256=_sha(sha, layer), actor=actor, meta=meta,
                coverage=coverage.get(kind) if layer.startswith("constraints:") else None,
            )  # fmt: skip
            rows[layer] = report.rows
        report = import_layer(session, dem, "dem", actor=actor, raster_dir=raster_dir)
        session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == report.batch_id)
            .values(source_name=f"{prefix}{DEM_NAME}")
        )
        rows["dem"] = report.rows
    return rows
