"""context_for: stored constraint layers with coverage, land-use parcels and a DEM window."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy.orm import Session

from geodata.context import RasterMissing, context_for, read_dem_window, search_box
from geodata.db.engine import session_scope
from geodata.db.tables import Raster
from geodata.rasters import read_dem
from geodata.store import import_frame
from landmarket.eligibility import check_parcel
from landmarket.policy import load_policy
from landmarket.screening import screen
from tests.checks_world import GK, ChecksWorld, gk, parcel_frame, to4490

pytest_plugins = ["tests.checks_world"]

HOME = to4490(gk(100, 500, 30, 20))
POLICY = load_policy(date(2026, 1, 1))


def test_layers_land_use_and_dem_window(checks_world: ChecksWorld) -> None:
    with session_scope(checks_world.url) as session:
        ctx = context_for(session, HOME)
    for kind in ("pbf", "redline", "udb", "village_plan"):
        layer = ctx.layer(kind)
        assert layer is not None and layer.coverage is not None
        assert layer.coverage.covers(HOME)
    assert list(ctx.village_plan.frame["plan_code"]) == ["0703"]  # the zone under the site
    assert "0702" in set(ctx.parcels.frame["land_use"])
    assert ctx.parcels.coverage is None  # gaps in land use are measured, not assumed
    full = read_dem(checks_world.dem_path)
    assert ctx.dem is not None and ctx.dem.shape[0] < full.shape[0] / 2
    # the window sits on the stored grid: same cell size, origin a whole number of cells off
    col = (ctx.dem.transform.c - full.transform.c) / full.transform.a
    row = (ctx.dem.transform.f - full.transform.f) / full.transform.e
    assert ctx.dem.transform.a == full.transform.a and col == int(col) and row == int(row)
    window = full.slope[
        int(row) : int(row) + ctx.dem.shape[0], int(col) : int(col) + ctx.dem.shape[1]
    ]
    inner = (slice(2, -2), slice(2, -2))  # edge cells of a window differ by construction
    np.testing.assert_allclose(ctx.dem.slope[inner], window[inner])


def test_far_away_place_has_no_layers_and_no_dem(checks_world: ChecksWorld) -> None:
    with session_scope(checks_world.url) as session:
        ctx = context_for(session, to4490(gk(20_000, 20_000, 50, 50)))
    assert (ctx.pbf, ctx.redline, ctx.udb, ctx.village_plan, ctx.dem) == (None,) * 5
    assert len(ctx.parcels.frame) == 0


def test_switches_and_kinds(checks_world: ChecksWorld) -> None:
    with session_scope(checks_world.url) as session:
        ctx = context_for(session, HOME, parcels=False, dem=False, kinds=("pbf", "udb"))
        with pytest.raises(ValueError, match="unknown constraint kinds"):
            context_for(session, HOME, kinds=("pbf", "rivers"))
    assert ctx.pbf is not None and ctx.udb is not None
    assert (ctx.redline, ctx.village_plan, ctx.parcels, ctx.dem) == (None,) * 4
    assert search_box((1.0, 2.0, 3.0, 4.0), 0.5) == (0.5, 1.5, 3.5, 4.5)


def test_newer_layer_version_wins_inside_its_coverage(session: Session) -> None:
    old_cov, new_cov = to4490(gk(0, 0, 1000, 1000)), to4490(gk(0, 0, 500, 1000))
    old = gpd.GeoDataFrame(geometry=[gk(100, 100, 100, 100), gk(700, 100, 100, 100)], crs=GK)
    new = gpd.GeoDataFrame(geometry=[gk(300, 100, 100, 100)], crs=GK)
    for frame, cov, when in ((old, old_cov, "2020-01-01"), (new, new_cov, "2024-01-01")):
        import_frame(
            session, frame.to_crs(4490), "constraints:pbf", source_name=f"pbf_{when}.geojson",
            coverage=cov, meta={"effective_date": when},
        )  # fmt: skip
    place = to4490(gk(0, 0, 1000, 300))
    ctx = context_for(session, place, parcels=False, dem=False)
    gk_frame = ctx.pbf.frame.to_crs(GK)
    xs = sorted(round(b[0] - gk(0, 0, 1, 1).bounds[0]) for b in gk_frame.geometry.bounds.values)
    assert xs == [300, 700]  # the old patch at x=100 lies in the new version's coverage
    assert ctx.pbf.coverage.covers(to4490(gk(1, 1, 998, 298)))  # both versions' coverage


def test_missing_raster_file_is_an_error(session: Session, tmp_path) -> None:
    session.add(
        Raster(kind="dem", path=str(tmp_path / "gone.tif"), crs="EPSG:4544", resolution=5.0,
               width=10, height=10, bounds=from_shape(to4490(gk(0, 0, 50, 50)), srid=4490))
    )  # fmt: skip
    session.flush()
    with pytest.raises(RasterMissing, match="gone.tif"):
        context_for(session, to4490(gk(10, 10, 5, 5)))


def test_window_outside_raster_is_none(checks_world: ChecksWorld) -> None:
    far = shapely.box(100.0, 20.0, 100.1, 20.1)
    assert read_dem_window(checks_world.dem_path, far.bounds) is None


def test_single_and_batch_contexts_agree(checks_world: ChecksWorld) -> None:
    parcels = parcel_frame().rename(columns={"land_use_code": "land_use"})
    parcels["legal_area_m2"] = parcels["registered_area_m2"]
    with session_scope(checks_world.url) as session:
        batch = screen(parcels, context_for(session, tuple(parcels.total_bounds)), policy=POLICY)
        for i in range(len(parcels)):
            one = parcels.iloc[[i]]
            ctx = context_for(session, one.geometry.iloc[0])
            for name in ("reclamation", "ticket_landing", "market_entry"):
                verdict = check_parcel(name, one, ctx, policy=POLICY)
                assert batch[f"{name}.verdict"].iloc[i] == verdict.verdict, (i, name)
                for rule in verdict.rules:
                    got = batch[rule.rule_id].iloc[i]
                    if isinstance(rule.value, float):
                        assert got == pytest.approx(rule.value, abs=1e-4), rule.rule_id
