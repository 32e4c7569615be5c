"""`landmarket sample load`: the sample township into the database, idempotently, in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.db.tables import ConstraintLayer, ImportBatch, Parcel, Raster, Village
from geodata.hygiene import check_layer
from geodata.sample.output import DEM_NAME, GPKG_NAME
from geodata.settings import get_settings
from geodata.store import import_frame, import_layer, transaction, write_audit
from geodata.store.importer import Target, file_sha256
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.layers import CONSTRAINT_KINDS, LAYER_NAMES

PREFIX = "sample:"  # source_name of every import batch the sample loader writes
CONSTRAINTS = CONSTRAINT_KINDS
SAMPLE_VERSION = "sample-2025"
SAMPLE_DATE = "2025-06-30"


@dataclass
class LoadSummary:
    """Rows loaded per layer; unchanged when the same sample was already loaded."""

    rows: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False
    replaced: bool = False

    def items(self) -> list[tuple[str, object]]:
        """(label, value) lines for the CLI."""
        state = "unchanged" if self.unchanged else "replaced" if self.replaced else "loaded"
        return [("state", state), *self.rows.items()]


def _sha(gpkg_sha: str, layer: str) -> str:
    return hashlib.sha256(f"{gpkg_sha}:{layer}".encode()).hexdigest()


def _sample_batches(session: Session) -> dict[str, tuple[int, str]]:
    """source_name → (batch id, sha256) of the sample batches in the database."""
    rows = session.execute(
        select(ImportBatch.source_name, ImportBatch.id, ImportBatch.sha256).where(
            ImportBatch.source_name.like(f"{PREFIX}%")
        )
    )
    return {name: (bid, sha) for name, bid, sha in rows}


def _clear(session: Session, batch_ids: list[int], actor: str) -> None:
    """Remove everything an earlier sample load wrote (fails if other records now refer to it)."""
    try:
        with session.begin_nested():
            session.execute(delete(ConstraintLayer).where(ConstraintLayer.batch_id.in_(batch_ids)))
            session.execute(delete(Parcel).where(Parcel.batch_id.in_(batch_ids)))
            session.execute(delete(Raster).where(Raster.batch_id.in_(batch_ids)))
            session.execute(delete(Village).where(Village.batch_id.in_(batch_ids)))
            session.execute(delete(ImportBatch).where(ImportBatch.id.in_(batch_ids)))
    except IntegrityError as exc:
        raise Conflict(
            "已载入的示例数据被其他记录引用，无法替换；请重建数据库后再载入 / the loaded sample is "
            "referenced by other records (withdrawals, listings, users...) and cannot be replaced; "
            f"reset the database to reload it ({exc.orig})"
        ) from exc
    write_audit(session, actor, "sample.clear", "import_batches", None, {"batches": batch_ids})


def _read(gpkg: Path, layer: str, kind: str) -> object:
    frame = pyogrio.read_dataframe(gpkg, layer=layer)
    checked, _notes = check_layer(frame, kind, source=f"{gpkg.name}:{layer}")
    return checked


def load_sample(
    target: Target = None,
    sample_dir: Path | None = None,
    actor: str = "sample",
    raster_dir: Path | None = None,
    force: bool = False,
) -> LoadSummary:
    """Load villages, parcels, the four constraint layers and the DEM; a repeat changes nothing.

    When the files differ from what was loaded before, the old sample is removed and the new one
    loaded in the same transaction, so a failure leaves the database as it was. force=True
    replaces the sample even when the files are unchanged.
    """
    directory = Path(sample_dir or get_settings().sample_dir)
    gpkg, dem = directory / GPKG_NAME, directory / DEM_NAME
    missing = [p for p in (gpkg, dem) if not p.is_file()]
    if missing:
        raise InvalidInput(
            [
                RecordProblem(
                    str(p),
                    "示例文件不存在，请先运行 landmarket sample build / "
                    "sample file missing; run `landmarket sample build`",
                )
                for p in missing
            ]
        )
    gpkg_sha, dem_sha = file_sha256(gpkg), file_sha256(dem)
    layers = ["villages", "parcels", *(f"constraints:{k}" for k in CONSTRAINTS)]
    wanted = {f"{PREFIX}{GPKG_NAME}#{layer}": _sha(gpkg_sha, layer) for layer in layers}
    wanted[f"{PREFIX}{DEM_NAME}"] = dem_sha
    summary = LoadSummary()
    with transaction(target) as session:
        have = _sample_batches(session)
        # A DEM imported by hand from the same file is adopted rather than imported twice.
        other_dem = session.scalar(
            select(ImportBatch.id).where(
                ImportBatch.layer == "dem",
                ImportBatch.sha256 == dem_sha,
                ImportBatch.source_name.not_like(f"{PREFIX}%"),
            )
        )
        if other_dem is not None:
            del wanted[f"{PREFIX}{DEM_NAME}"]
        if not force and {name: sha for name, (_, sha) in have.items()} == wanted:
            summary.unchanged = True
            by_layer = {_layer_of(name): bid for name, (bid, _) in have.items()}
            for layer in [*layers, "dem"]:
                if layer in by_layer:
                    count = session.scalar(
                        select(ImportBatch.row_count).where(ImportBatch.id == by_layer[layer])
                    )
                    summary.rows[layer] = int(count or 0)
            return summary
        if have:
            _clear(session, [bid for bid, _ in have.values()], actor)
            summary.replaced = True

        coverage = pyogrio.read_dataframe(gpkg, layer="coverage").set_index("layer").geometry
        for layer in layers:
            kind = layer.split(":", 1)[-1]
            frame = _read(gpkg, kind, layer)
            if layer == "parcels":
                frame = frame.drop(columns=["area_m2"])  # the store computes areas itself
                # GeoPackage nulls come back as floats; keep household attributes typed in attrs.
                frame["household_members"] = frame["household_members"].astype("Int64")
                frame["settled_in_town"] = frame["settled_in_town"].astype("boolean")
            extent: BaseGeometry | None = (
                coverage.get(kind) if layer.startswith("constraints:") else None
            )
            meta = {
                "name": LAYER_NAMES.get(kind),
                "version": SAMPLE_VERSION,
                "effective_date": SAMPLE_DATE,
                "source": f"{directory.name}/{GPKG_NAME}",
            }
            name = f"{PREFIX}{GPKG_NAME}#{layer}"
            report = import_frame(
                session,
                frame,
                layer,
                source_name=name,
                sha256=wanted[name],
                coverage=extent,
                actor=actor,
                meta=meta,
            )
            summary.rows[layer] = report.rows
        if other_dem is None:
            report = import_layer(session, dem, "dem", actor=actor, raster_dir=raster_dir)
            session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == report.batch_id)
                .values(source_name=f"{PREFIX}{DEM_NAME}")
            )
            summary.rows["dem"] = report.rows
    return summary


def _layer_of(source_name: str) -> str:
    """'sample:township.gpkg#parcels' → 'parcels'; the DEM batch → 'dem'."""
    return source_name.split("#", 1)[1] if "#" in source_name else "dem"
