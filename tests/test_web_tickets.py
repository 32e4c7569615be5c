"""Bureau ticket and plan pages over HTTP: acceptance issues a ticket, auctions open and close."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geodata.db.engine import session_scope
from geodata.settings import Settings
from geodata.tickets import create_project
from geodata.users import create_user
from tests.tickets_support import ON, A, homestead
from tests.web_fixtures import PASSWORD, csrf_of

pytest_plugins = ["tests.tickets_world"]  # fixtures: world, tx


@pytest.fixture(scope="module")
def bureau_client(world):
    """A TestClient signed in as a bureau clerk of the ticket world."""
    with session_scope(world.url) as s:
        create_user(s, "bureau", name="票务科", username="ticket.clerk", password=PASSWORD,
                    token=False)  # fmt: skip
    app = create_app(Settings(basemap="none"), database_url=world.url)
    with TestClient(app) as client:
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login", data={"username": "ticket.clerk", "password": PASSWORD, "csrf_token": token}
        )
        yield client


def test_acceptance_form_issues_the_ticket_then_an_auction_opens_and_closes(world, bureau_client):
    client = bureau_client
    households = [world.next_household() for _ in range(2)]
    with session_scope(world.url) as s:
        ids = [world.file(s, n).id for n in households]
        project = create_project(s, world.bureau, world.project_code(), "网页验收", ids, on=ON)
    desk = client.get("/bureau/tickets")
    assert desk.status_code == 200 and f"/bureau/tickets/acceptances/{project}" in desk.text
    page = client.get(f"/bureau/tickets/acceptances/{project}")
    csrf = csrf_of(page.text)
    form = {"csrf_token": csrf, "accepted_on": ON.isoformat(), "cost_per_mu": "20000"}
    for n in households:
        form[f"accepted_m2.{homestead(A, n)}"] = "150"
        form[f"slope_grade.{homestead(A, n)}"] = "2"
    assert client.post(f"/bureau/tickets/acceptances/{project}", data={**form, "csrf_token": ""}
                       ).status_code == 403  # fmt: skip
    done = client.post(f"/bureau/tickets/acceptances/{project}", data=form)
    assert done.status_code == 200, done.text
    with session_scope(world.url) as s:
        cert, issued = s.execute(
            text(
                "SELECT t.cert_no, t.issued_m2 FROM tickets t JOIN acceptances a "
                "ON a.id = t.acceptance_id WHERE a.project_id = :p"
            ),
            {"p": project},
        ).one()
    assert cert in done.text and issued > 0

    closes = (datetime.now() + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    auction = {"csrf_token": csrf, "cert": cert, "reserve_per_mu": "1", "mode": "sealed",
               "closes_at": closes}  # fmt: skip
    low = client.post("/bureau/tickets/auctions", data=auction)
    assert low.status_code in (409, 422) and 'role="alert"' in low.text  # below protected price
    opened = client.post("/bureau/tickets/auctions", data={**auction, "reserve_per_mu": "500000"})
    assert opened.status_code == 200, opened.text
    with session_scope(world.url) as s:
        auction_id = s.scalar(
            text("SELECT a.id FROM auctions a JOIN tickets t ON t.id = a.ticket_id "
                 "WHERE t.cert_no = :c"), {"c": cert},
        )  # fmt: skip
    assert auction_id is not None and f'data-auction="{auction_id}"' in opened.text
    time.sleep(2.5)
    closed = client.post(
        f"/bureau/tickets/auctions/{auction_id}/close", data={"csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert closed.status_code == 303
    with session_scope(world.url) as s:
        sold = s.scalar(text("SELECT sold FROM auction_results WHERE auction_id = :a"),
                        {"a": auction_id})  # fmt: skip
    assert sold is False  # nobody bid
    assert "未成交" in client.get("/bureau/tickets").text


def test_landing_form_shows_why_a_landing_is_refused(bureau_client):
    csrf = csrf_of(bureau_client.get("/bureau/tickets").text)
    resp = bureau_client.post(
        "/bureau/tickets/landings",
        data={"csrf_token": csrf, "cert": "NO-SUCH-CERT", "area_m2": "10",
              "parcel_code": "500111960001JC00001", "use": "operational"},
    )  # fmt: skip
    assert resp.status_code in (404, 409, 422) and 'role="alert"' in resp.text


def test_plans_page_lists_plans_for_the_bureau(bureau_client):
    resp = bureau_client.get("/bureau/plans")
    assert resp.status_code == 200 and 'id="plans"' in resp.text
