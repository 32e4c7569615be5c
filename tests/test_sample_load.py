"""`landmarket sample load`: the whole sample in PostGIS, and loading again changes nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geodata.db.tables import (
    ConstraintFeature,
    ConstraintLayer,
    ImportBatch,
    Parcel,
    Raster,
    Village,
)
from geodata.sample.load import load_sample
from geodata.settings import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_parcels"


def counts(session: Session) -> dict[str, int]:
    """Row counts of the tables the sample fills."""
    return {
        t.__tablename__: session.scalar(select(func.count()).select_from(t))
        for t in (Village, Parcel, ConstraintLayer, ConstraintFeature, Raster, ImportBatch)
    }


@pytest.fixture
def changed_sample(tmp_path: Path) -> Path:
    """A copy of the sample whose GeoPackage bytes differ (as after a regenerated sample)."""
    out = tmp_path / "changed"
    out.mkdir()
    shutil.copy(SAMPLE / "dem.tif", out / "dem.tif")
    shutil.copy(SAMPLE / "township.gpkg", out / "township.gpkg")
    with sqlite3.connect(out / "township.gpkg") as db:
        db.execute(
            "UPDATE gpkg_contents SET description = 'regenerated' WHERE table_name = 'parcels'"
        )
    return out


def test_sample_loads_completely_and_idempotently(
    session: Session, tmp_path: Path, changed_sample: Path
) -> None:
    parcels = pyogrio.read_dataframe(SAMPLE / "township.gpkg", layer="parcels", read_geometry=False)
    first = load_sample(session, SAMPLE, raster_dir=tmp_path)
    assert not first.unchanged and first.rows["parcels"] == len(parcels)
    loaded = counts(session)
    assert loaded["villages"] == 5 and loaded["parcels"] == len(parcels)
    assert loaded["constraint_layers"] == 4 and loaded["rasters"] == 1

    again = load_sample(session, SAMPLE, raster_dir=tmp_path)
    assert again.unchanged and again.rows["parcels"] == len(parcels)
    assert counts(session) == loaded

    # Household data is kept out of the public columns, in attrs.
    homestead = session.execute(
        select(Parcel.attrs, Parcel.ownership, Parcel.right_type)
        .where(Parcel.land_use_code == "0702")
        .limit(1)
    ).one()
    assert "household_id" in homestead.attrs and homestead.ownership == "collective"
    assert isinstance(homestead.attrs["household_members"], int)
    assert isinstance(homestead.attrs["settled_in_town"], bool)
    assert homestead.right_type == "homestead"
    notable = json.loads((SAMPLE / "notable.json").read_text(encoding="utf-8"))
    exact = session.scalar(
        select(Parcel.area_mu).where(Parcel.parcel_code == notable["exactly_15_mu"][0])
    )
    assert exact == 15.0

    # The village plan was surveyed over the township minus the UDB.
    plan_cov, town_cov = session.execute(
        text(
            "SELECT max(ST_Area(coverage::geography)) FILTER (WHERE kind = 'village_plan'),"
            " max(ST_Area(coverage::geography)) FILTER (WHERE kind = 'pbf') FROM constraint_layers"
        )
    ).one()
    assert plan_cov < town_cov

    replaced = load_sample(session, changed_sample, raster_dir=tmp_path)
    assert replaced.replaced and replaced.rows["parcels"] == len(parcels)
    assert counts(session) == {**loaded, "import_batches": loaded["import_batches"]}
    sources = session.scalars(select(ImportBatch.source_name)).all()
    assert len(sources) == len(set(sources)) == 7


def test_sample_load_command_seeds_a_living_market(make_database, monkeypatch, tmp_path):
    """What `make demo` runs: the township, its ticket history and its listings; twice is once."""
    from typer.testing import CliRunner

    from cli.main import app
    from geodata.db.engine import get_engine
    from geodata.db.migrate import upgrade
    from geodata.settings import get_settings

    url = make_database()
    upgrade(url)
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", url)
    monkeypatch.setenv("LANDMARKET_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(app, ["sample", "load"])
        assert first.exit_code == 0, first.output
        with Session(get_engine(url)) as session:
            seeded = {
                table: session.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("parcels", "withdrawals", "tickets", "landings", "listings")
            }
            published = session.scalar(
                text("SELECT count(*) FROM listings WHERE state = 'published'")
            )
        assert seeded["parcels"] > 4000
        assert seeded["withdrawals"] >= 24 and seeded["tickets"] >= 1 and seeded["landings"] >= 1
        assert published >= 10
        again = runner.invoke(app, ["sample", "load"])
        assert again.exit_code == 0, again.output
        with Session(get_engine(url)) as session:
            assert seeded == {
                table: session.scalar(text(f"SELECT count(*) FROM {table}")) for table in seeded
            }
    finally:
        get_settings.cache_clear()
