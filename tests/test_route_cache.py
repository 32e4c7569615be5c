"""The approval route on a worker's RouteCache answers as the SQL path, and follows changes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from geodata.db.engine import SessionLocal, get_engine
from geodata.db.migrate import upgrade
from geodata.db.roles import owner_url_for
from geodata.route_cache import RouteCache, Stale
from geodata.sample.load import load_sample
from geodata.services.check_models import ApprovalRouteRequest
from geodata.services.checks import run_route, run_route_cached
from geodata.settings import Settings

LEVELS = ("village", "township", "other")
CATEGORIES = ("other", "energy", "transport", "water")


@pytest.fixture(scope="module")
def township(make_database, tmp_path_factory) -> Iterator[str]:
    """A database with the sample township (4,727 parcels, the four layers) loaded."""
    url = make_database()
    upgrade(url)
    load_sample(url, raster_dir=tmp_path_factory.mktemp("rasters"))
    yield url


def _body(plots: list[dict], i: int = 0) -> ApprovalRouteRequest:
    features = [{"type": "Feature", "geometry": g, "properties": {}} for g in plots]
    return ApprovalRouteRequest.model_validate(
        {
            "project": {"level": LEVELS[i % 3], "category": CATEGORIES[i % 4]},
            "plots": {"type": "FeatureCollection", "features": features},
        }
    )


def _answers(url: str, cache: RouteCache, body: ApprovalRouteRequest) -> tuple[dict, dict]:
    """(SQL path, cached path) answers of one project."""
    engine, settings = get_engine(url), Settings(database_url=url, basemap="none")
    with SessionLocal(bind=engine) as session:
        want = run_route(session, settings, body)
    return want, run_route_cached(cache, engine, settings, body)


def test_cached_route_is_the_sql_route_on_every_sample_parcel(township) -> None:
    with get_engine(township).connect() as conn:
        rows = conn.execute(
            text("SELECT village_code, ST_AsGeoJSON(geom, 15) FROM parcels ORDER BY id")
        ).all()
    cache = RouteCache.for_engine(get_engine(township))
    plots = [json.loads(g) for _, g in rows]
    differ, checked = [], 0
    for i, (village, _) in enumerate(rows):
        projects = [[plots[i]]]
        # Every tenth parcel also with another of its village: a box over several tiles.
        other = next((j for j in range(i + 7, len(rows), 7) if rows[j][0] == village), None)
        if i % 10 == 0 and other is not None:
            projects.append([plots[i], plots[other]])
        for project in projects:
            want, got = _answers(township, cache, _body(project, i))
            checked += 1
            if got != want:
                differ.append(i)
    cache.close()
    assert checked > 5000 and differ == []
    assert cache.builds == 1 and cache.misses == 0  # never stale, never on the SQL path


def _plot(url: str, where: str) -> tuple[int, dict]:
    """The first parcel (by PBF area under it, then id) meeting a condition: id and geometry."""
    with get_engine(url).connect() as conn:
        row = conn.execute(
            text(
                "SELECT p.id, ST_AsGeoJSON(p.geom, 15) FROM parcels p "
                "LEFT JOIN constraint_features f ON f.kind = 'pbf' AND f.geom && p.geom "
                f"WHERE {where} "
                "ORDER BY ST_Area(ST_Intersection(f.geom, p.geom)) DESC NULLS LAST, p.id LIMIT 1"
            )
        ).one()
    return row[0], json.loads(row[1])


def test_a_change_under_the_plot_is_seen_at_once(township) -> None:
    """Land use changed, PBF deleted, a newer PBF version, a parcel deleted: each time the
    cached answer changes with the SQL path's, the cache rebuilt once."""
    owner = create_engine(owner_url_for(township))
    cache = RouteCache.for_engine(get_engine(township))
    on_pbf, pbf_plot = _plot(township, "f.id IS NOT NULL")
    arable, arable_plot = _plot(township, "f.id IS NULL AND p.land_use_code LIKE '01%'")
    last: dict[int, dict] = {}
    for pid, plot in ((on_pbf, pbf_plot), (arable, arable_plot)):
        want, got = _answers(township, cache, _body([plot], 1))
        assert got == want
        last[pid] = got
    assert cache.builds == 1

    def change(pid: int, plot: dict, sql: str) -> dict:
        assert _answers(township, cache, _body([plot], 1))[1] == last[pid]  # its tiles cached
        builds = cache.builds
        with owner.begin() as conn:
            conn.execute(text(sql), {"id": pid})
        want, got = _answers(township, cache, _body([plot], 1))
        assert got == want
        assert got != last[pid]
        assert (cache.builds, cache.misses) == (builds + 1, 0), sql
        last[pid] = got
        return got

    # The arable parcel becomes construction land: no arable land converted there any more.
    v = change(arable, arable_plot, "UPDATE parcels SET land_use_code = '0601' WHERE id = :id")
    assert v["land"] != {} and v == last[arable]
    # The PBF under the other plot is deleted: no PBF involved any more.
    assert rule(last[on_pbf], "approval.pbf_involved")["status"] == "fail"
    v = change(
        on_pbf,
        pbf_plot,
        "DELETE FROM constraint_features f USING parcels p "
        "WHERE p.id = :id AND f.kind = 'pbf' AND f.geom && p.geom",
    )
    assert rule(v, "approval.pbf_involved")["status"] == "pass"
    # A newer PBF version covering the plot, with the plot itself as farmland.
    v = change(
        on_pbf,
        pbf_plot,
        "WITH l AS (INSERT INTO constraint_layers (kind, name, effective_date, coverage) "
        "  SELECT 'pbf', 'newer', DATE '2030-01-01', "
        "         ST_Multi(ST_Envelope(ST_Buffer(geom, 0.01))) FROM parcels WHERE id = :id "
        "  RETURNING id) "
        "INSERT INTO constraint_features (layer_id, kind, geom) "
        "SELECT l.id, 'pbf', p.geom FROM l, parcels p WHERE p.id = :id",
    )
    assert rule(v, "approval.pbf_involved")["status"] == "fail"
    # The stored parcel under the arable plot is deleted: that ground has no land use.
    change(arable, arable_plot, "DELETE FROM parcels WHERE id = :id")
    cache.close()
    owner.dispose()


def rule(verdict: dict, rule_id: str) -> dict:
    return next(r for r in verdict["rules"] if r["rule_id"] == rule_id)


def test_rows_that_keep_disagreeing_go_down_the_sql_path(township) -> None:
    """When the stored rows disagree with the cache even after a rebuild (a writer in between),
    the check is answered on the SQL path: the same answer, counted as a miss."""

    class Disagreeing(RouteCache):
        def _assemble(self, box, near, rows):
            super()._assemble(box, near, rows)
            raise Stale

    _, plot = _plot(township, "f.id IS NOT NULL")
    cache = Disagreeing.for_engine(get_engine(township))
    want, got = _answers(township, cache, _body([plot], 2))
    cache.close()
    assert got == want and rule(got, "approval.pbf_involved")["status"] == "fail"
    assert (cache.builds, cache.misses) == (2, 1)
