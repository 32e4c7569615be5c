"""Screening jobs over the API: bureau only, end to end, files that parse, agreement, errors."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.screening.headers import screening_headers
from geodata.screening.tables import ScreeningJob
from geodata.settings import Settings
from landmarket.policy import policy_from_settings
from tests.checks_world import AFTER_PLAN, VILLAGE, ChecksWorld

pytest_plugins = ["tests.checks_world"]

ALL_CHECKS = ["market_entry", "reclamation", "ticket_landing", "approval_route"]


@pytest.fixture(scope="module")
def client(checks_world: ChecksWorld, tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(basemap="none", var_dir=tmp_path_factory.mktemp("var"))
    with TestClient(create_app(settings, database_url=checks_world.url)) as c:
        yield c


def wait(client: TestClient, headers: dict, url: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url, headers=headers).json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


@pytest.fixture(scope="module")
def finished(client: TestClient, checks_world: ChecksWorld) -> dict:
    body = {"checks": ALL_CHECKS, "on": AFTER_PLAN, "village_code": VILLAGE, "site_only": False}
    res = client.post("/api/v1/screenings", json=body, headers=checks_world.auth("bureau"))
    assert res.status_code == 202, res.text
    assert res.headers["location"] == res.json()["links"]["self"]
    assert res.json()["state"] in ("queued", "running", "done")
    job = wait(client, checks_world.auth("bureau"), res.headers["location"])
    assert job["state"] == "done", job
    return job


@pytest.mark.parametrize(
    ("who", "status"), [("investor", 403), ("collective", 403), ("public", 401)]
)
def test_bureau_only(client, checks_world, who, status) -> None:
    body = {"checks": ["reclamation"], "all": True}
    res = client.post("/api/v1/screenings", json=body, headers=checks_world.auth(who))
    assert res.status_code == status and res.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/screenings", headers=checks_world.auth(who)).status_code == status


def test_job_end_to_end(client, checks_world, finished) -> None:
    bureau = checks_world.auth("bureau")
    progress = finished["progress"]
    assert progress["parcels"] == 7 and progress["chunks_done"] == progress["chunks_total"] == 1
    assert finished["summary"]["parcels"] == 7 and finished["policy_version"]
    assert finished["requested_by"].endswith(":bureau") and finished["error"] is None
    files = {k: v for k, v in finished["links"].items() if k != "self"}
    assert set(files) == {"gpkg", "csv", "html"}
    gpkg = client.get(files["gpkg"], headers=bureau)
    assert gpkg.status_code == 200
    info = pyogrio.read_info(io.BytesIO(gpkg.content), layer="screening")
    assert info["features"] == 7 and "reclamation.verdict" in info["fields"]
    text = client.get(files["csv"], headers=bureau).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7 and {r["宗地代码"] for r in rows} == set(checks_world.codes.values())
    html = client.get(files["html"], headers=bureau)
    assert html.headers["content-type"].startswith("text/html")
    for row in finished["summary"]["verdicts"]:
        assert f'<td class="n">{row["parcels"]}</td>' in html.text
    assert html.text.count('class="parcel"') == 7 * len(ALL_CHECKS)
    listed = client.get("/api/v1/screenings", headers=bureau).json()
    assert finished["id"] in [j["id"] for j in listed]
    again = client.get(finished["links"]["self"], headers=bureau).json()
    assert again["state"] == "done" and again["summary"] == finished["summary"]
    assert client.get(files["csv"], headers=checks_world.auth("investor")).status_code == 403


def test_single_parcel_and_screen_agree(client, checks_world, finished) -> None:
    bureau = checks_world.auth("bureau")
    gpkg = client.get(finished["links"]["gpkg"], headers=bureau).content  # the column ids
    table = pyogrio.read_dataframe(io.BytesIO(gpkg), layer="screening", read_geometry=False)
    for row in table.to_dict("records"):
        for name in ("market_entry", "reclamation", "ticket_landing"):
            body = {"parcel_code": row["parcel_code"], "on": AFTER_PLAN}
            path = f"/api/v1/checks/{name.replace('_', '-')}"
            verdict = client.post(path, json=body, headers=bureau).json()
            assert row[f"{name}.verdict"] == verdict["verdict"], (row["parcel_code"], name)
            for rule in verdict["rules"]:
                if isinstance(rule["value"], float):
                    assert float(row[rule["rule_id"]]) == pytest.approx(rule["value"], abs=1e-4)


def test_csv_opens_in_excel(client, checks_world, finished) -> None:
    """UTF-8 with BOM, Chinese headers by default, English on request, rows as on disk."""
    bureau = checks_world.auth("bureau")
    url = finished["links"]["csv"]
    resp = client.get(url, headers=bureau)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="screening.csv"'
    data = resp.content
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    ids = list(pyogrio.read_info(io.BytesIO(client.get(finished["links"]["gpkg"],
                                 headers=bureau).content), layer="screening")["fields"])  # fmt: skip
    policy = policy_from_settings(Settings(), date.fromisoformat(AFTER_PLAN))
    assert header == [screening_headers(ids, policy)[c][0] for c in ids]
    assert header[:3] == ["宗地代码", "面积(平方米)", "面积(亩)"]
    assert "集体经营性建设用地入市：结论" in header and "地票落地：地票缺口(平方米)" in header
    assert all(re.search("[\u4e00-\u9fff]", h) for h in header), header  # every one named
    assert "宅基地等农村建设用地复垦：平均坡度不超过25°(测值)" in header  # the job's policy
    assert len(body) == 7 and all(len(r) == len(header) for r in body)
    assert {r[0] for r in body} == set(checks_world.codes.values())
    # Excel round trip: what the csv module writes back reads the same
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == rows

    for english in (client.get(url + "?lang=en", headers=bureau),
                    client.get(url, headers={**bureau, "Accept-Language": "en-US,en;q=0.9"})):  # fmt: skip
        en = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"), newline="")))
        assert english.content.startswith(b"\xef\xbb\xbf")
        assert en[0][:3] == ["Parcel code", "Area (m²)", "Area (mu)"]
        assert not any(re.search("[\u4e00-\u9fff]", h) for h in en[0]), en[0]
        assert en[1:] == body  # only the header row changes


def test_bad_requests(client, checks_world) -> None:
    bureau = checks_world.auth("bureau")
    cases = [
        {"checks": ["reclamation"]},  # no scope
        {"checks": ["reclamation"], "all": True, "village_code": VILLAGE},  # two scopes
        {"checks": ["rivers"], "all": True},
        {"checks": ["reclamation"], "all": True, "on": "1990-01-01"},
        {"checks": ["reclamation"], "bbox": [106, 29, 105, 30]},
    ]
    for body in cases:
        res = client.post("/api/v1/screenings", json=body, headers=bureau)
        assert res.status_code == 422, (body, res.text)
    assert client.get("/api/v1/screenings/nope", headers=bureau).status_code == 404


def test_failed_job_records_its_error(checks_world, tmp_path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    app = create_app(Settings(basemap="none", var_dir=blocker), database_url=checks_world.url)
    bureau = checks_world.auth("bureau")
    with TestClient(app) as client:
        res = client.post(
            "/api/v1/screenings", json={"checks": ["reclamation"], "all": True}, headers=bureau
        )
        job = wait(client, bureau, res.headers["location"])
        assert job["state"] == "failed" and job["finished_at"]
        assert "not-a-directory" in job["error"]["detail"]
        assert set(job["links"]) == {"self"}
        missing = client.get(f"/api/v1/screenings/{job['id']}/files/summary.html", headers=bureau)
        assert missing.status_code == 404


def test_job_of_a_dead_process_goes_stale(client, checks_world) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with session_scope(checks_world.url) as session:
        session.add(
            ScreeningJob(
                id="0" * 32, state="running", checks=["reclamation"], scope={"all": True},
                requested_by="user:1:bureau", created_at=long_ago, updated_at=long_ago,
            )
        )  # fmt: skip
    job = client.get(f"/api/v1/screenings/{'0' * 32}", headers=checks_world.auth("bureau")).json()
    assert job["state"] == "failed" and "interrupted" in job["error"]["title"]
