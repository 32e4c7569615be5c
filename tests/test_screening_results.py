"""Stored verdicts per job: COPYed rows, percent and rate, diff of two jobs, cancellation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from api.app import create_app
from geodata.db.engine import SessionLocal, get_engine
from geodata.screening.executors import ScreeningCancelled
from geodata.screening.jobs import record_job, run_job
from geodata.screening.tables import ScreeningJob
from geodata.settings import Settings
from tests.checks_world import AFTER_PLAN, VILLAGE, ChecksWorld
from tests.test_api_screenings import wait

pytest_plugins = ["tests.checks_world"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(basemap="none", var_dir=tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="module")
def client(checks_world: ChecksWorld, settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database_url=checks_world.url)) as c:
        yield c


def _start(client, checks_world, on: str) -> dict:
    body = {"checks": ["reclamation", "market_entry"], "on": on, "village_code": VILLAGE}
    bureau = checks_world.auth("bureau")
    res = client.post("/api/v1/screenings", json=body, headers=bureau)
    assert res.status_code == 202, res.text
    return wait(client, bureau, res.headers["location"])


def test_results_stored_and_progress_reported(client, checks_world) -> None:
    job = _start(client, checks_world, AFTER_PLAN)
    assert job["state"] == "done", job
    progress = job["progress"]
    assert progress["parcels_done"] == progress["parcels"] == 7 and progress["percent"] == 100.0
    assert progress["parcels_per_second"] > 0
    with get_engine(checks_world.url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT parcel_code, reclamation, market_entry, ticket_landing, failed, "
                "ST_SRID(geom) AS srid FROM screening_results WHERE job_id = :j"
            ),
            {"j": job["id"]},
        ).all()
    assert {r.parcel_code for r in rows} == set(checks_world.codes.values())
    assert all(r.srid == 4490 and r.ticket_landing is None for r in rows)
    counts = {}
    for r in rows:
        counts[r.reclamation] = counts.get(r.reclamation, 0) + 1
    summary = {
        v["verdict"]: v["parcels"]
        for v in job["summary"]["verdicts"]
        if v["check"] == "reclamation"
    }
    assert counts == summary
    assert counts.get("ineligible", 0) > 0  # the world has refused parcels
    for r in rows:  # a refusal names its failed rules; an eligible parcel has none of its check
        named = any(i.startswith("reclamation.") for i in r.failed)
        assert named == (r.reclamation == "ineligible"), r


def test_diff_lists_parcels_whose_verdict_changed(client, checks_world) -> None:
    bureau = checks_world.auth("bureau")
    first = _start(client, checks_world, AFTER_PLAN)
    second = _start(client, checks_world, AFTER_PLAN)
    # The later job sees one parcel's verdict changed (as a layer or policy change would do).
    code = sorted(checks_world.codes.values())[0]
    with get_engine(checks_world.url).begin() as conn:
        before = conn.execute(
            text(
                "SELECT reclamation FROM screening_results WHERE job_id = :j AND parcel_code = :c"
            ),
            {"j": first["id"], "c": code},
        ).scalar_one()
        after = "needs_review" if before != "needs_review" else "eligible"
        conn.execute(
            text(
                "UPDATE screening_results SET reclamation = :v WHERE job_id = :j "
                "AND parcel_code = :c"
            ),
            {"v": after, "j": second["id"], "c": code},
        )
    url = f"/api/v1/screenings/diff?job_a={first['id']}&job_b={second['id']}&check=reclamation"
    res = client.get(url, headers=bureau)
    assert res.status_code == 200, res.text
    diff = res.json()
    assert diff["changed"] == 1 and diff["changes"][0]["parcel_code"] == code
    assert (diff["changes"][0]["before"], diff["changes"][0]["after"]) == (before, after)
    same = client.get(url.replace("check=reclamation", "check=market_entry"), headers=bureau)
    assert same.json()["changed"] == 0
    missing = client.get(url.replace(first["id"], "0" * 32), headers=bureau)
    assert missing.status_code == 404
    assert client.get(url, headers=checks_world.auth("investor")).status_code == 403
    # A finished job cannot be cancelled.
    done = client.post(f"/api/v1/screenings/{first['id']}/cancel", headers=bureau)
    assert done.status_code == 409


def test_cancelled_job_stops_and_says_so(checks_world, settings) -> None:
    engine = get_engine(checks_world.url)
    job = record_job(
        engine, settings, checks=["reclamation"], on=None, scope={"village_code": VILLAGE},
        site_only=True, actor="test",
    )  # fmt: skip
    with SessionLocal(bind=engine) as session, session.begin():
        session.execute(
            update(ScreeningJob).where(ScreeningJob.id == job.id).values(cancel_requested=True)
        )
    with pytest.raises(ScreeningCancelled):
        run_job(engine, settings, job.id, chunk_size=2, workers=1)
    with SessionLocal(bind=engine) as session:
        stored = session.get(ScreeningJob, job.id)
        assert stored.state == "cancelled" and stored.finished_at is not None
        assert 0 < stored.parcels_done < 7
        n = session.execute(
            text("SELECT count(*) FROM screening_results WHERE job_id = :j"), {"j": job.id}
        ).scalar_one()
        assert n == stored.parcels_done


def test_cli_screen_db_stores_a_job_and_diff_lists_changes(checks_world, tmp_path, monkeypatch):
    """`landmarket screen --parcels db` records a job with stored verdicts; `screen diff` compares."""
    import typer
    from typer.testing import CliRunner

    from cli.screen import register
    from geodata.settings import get_settings

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", checks_world.url)
    monkeypatch.setenv("LANDMARKET_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        jobs = []
        for name in ("a", "b"):
            args = [
                "screen",
                "--parcels",
                "db",
                "--village",
                VILLAGE,
                "--out",
                str(tmp_path / name),
            ]
            result = runner.invoke(app, [*args, "--checks", "reclamation", "--workers", "1"])
            assert result.exit_code == 0, result.output
            jobs.append(result.output.split("job: ")[1].split()[0])
        with get_engine(checks_world.url).begin() as conn:
            code = conn.execute(
                text(
                    "SELECT min(parcel_code) FROM screening_results WHERE job_id = :j "
                    "AND reclamation <> 'needs_review'"
                ),
                {"j": jobs[1]},
            ).scalar_one()
            conn.execute(
                text(
                    "UPDATE screening_results SET reclamation = 'needs_review', failed = '{}' "
                    "WHERE job_id = :j AND parcel_code = :c"
                ),
                {"j": jobs[1], "c": code},
            )
        diff = runner.invoke(app, ["screen", "diff", jobs[0], jobs[1], "--check", "reclamation"])
        same = runner.invoke(app, ["screen", "diff", jobs[0], jobs[0]])
        missing = runner.invoke(app, ["screen", "diff", jobs[0], "f" * 32])
    finally:
        get_settings.cache_clear()
    assert diff.exit_code == 0, diff.output
    assert code in diff.output and "needs_review" in diff.output
    assert " 0 宗结论变化" in same.output or "reclamation: 0" in same.output
    assert missing.exit_code != 0
