"""Permission matrix: every ticket endpoint × every role, with the status each must get.

Roles: anonymous public, an investor, the collective of the record's own village, the collective
of another village, the bureau. Each request is otherwise valid (a refusal is about the role, not
the body); a request expected to succeed gets fresh records, so successes never collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from geodata.db.engine import session_scope
from geodata.tickets import close_auction, list_auction, place_bid, queries
from geodata.tickets.checks import land_checked
from landmarket.policy import load_policy
from tests.tickets_sample_support import OWN, TODAY, SampleWorld

pytest_plugins = ["tests.tickets_sample_world"]  # fixtures: sample_world, sample_client

ROLES = ("public", "investor", "collective_own", "collective_other", "bureau")
V1 = "/api/v1"


def expect(public=200, investor=200, own=200, other=200, bureau=200) -> dict[str, int]:
    """Expected status per role."""
    return dict(zip(ROLES, (public, investor, own, other, bureau), strict=True))


READ_ALL = expect()
PERSONAL = expect(401, 403, 200, 403, 200)
BUREAU_WRITE = expect(401, 403, 403, 403, 201)
HOLDER_WRITE = expect(401, 403, 201, 403, 201)  # the tickets are held by the own collective


@dataclass
class State:
    """Shared records of the matrix (made through the ledger, not the API under test)."""

    w: SampleWorld
    held: str  # a ticket of the own collective, large enough for every split and landing
    sold: str  # a ticket of the own village sold at auction: statements exist
    open_auction: int
    closable: int
    withdrawal: int
    project: int
    pair: list[str]
    shared: str
    household: dict[str, Any]
    destination: tuple[str, Decimal]
    landing: int = 0

    def ticket(self) -> str:
        """A fresh ticket of the own collective."""
        return self.w.ticket(households=1)

    def auction(self, cert: str, opens: datetime, closes: datetime) -> int:
        """List a whole ticket at the protected price window given."""
        with session_scope(self.w.url) as s:
            area = queries.balance(s, cert)
        bureau = self.w.actors["bureau"]
        return list_auction(self.w.url, bureau, cert, area, 150_000, "sealed", opens, closes)


def _past(state: State) -> int:
    now = datetime.now(UTC)
    return state.auction(state.ticket(), now - timedelta(hours=2), now - timedelta(hours=1))


@pytest.fixture(scope="module")
def matrix(sample_world: SampleWorld) -> State:
    w = sample_world
    now = datetime.now(UTC)
    held = w.ticket(households=3, village=OWN)
    sold = w.ticket(households=1, village=OWN)
    state = State(w, held, sold, 0, 0, w.withdrawal(w.household(OWN)), w.project(1), [], "", {}, ("", Decimal(0)))  # fmt: skip
    done = state.auction(sold, now - timedelta(hours=2), now - timedelta(hours=1))
    place_bid(w.url, w.actors["investor"], done, 160_000, now - timedelta(minutes=90))
    close_auction(w.url, w.actors["bureau"], done, now)
    state.open_auction = state.auction(
        state.ticket(), now - timedelta(minutes=1), now + timedelta(days=1)
    )
    state.closable = _past(state)
    state.pair = [state.ticket(), state.ticket()]
    state.shared = state.ticket()
    state.household = w.household(OWN).body()
    state.destination = code, farmland = w.destination(Decimal(150))
    bureau = w.actors["bureau"]
    state.landing = land_checked(w.url, bureau, held, farmland, code, "operational", load_policy(TODAY)).landing_id  # fmt: skip
    return state


def _project_body(s: State, fresh: bool) -> dict[str, Any]:
    withdrawal = s.w.withdrawal(s.w.household()) if fresh else s.withdrawal
    return {"code": f"M-XM-{s.w.serial():04d}", "name": "矩阵", "withdrawal_ids": [withdrawal]}


def _acceptance_body(s: State, fresh: bool) -> dict[str, Any]:
    project = s.w.project(1) if fresh else s.project
    plots = [
        {"parcel_code": p.parcel_code, "accepted_m2": str(p.accepted_m2), "slope_grade": 2,
         "geometry": p.geometry.__geo_interface__}
        for p in s.w.inspections(project)
    ]  # fmt: skip
    return {"project_id": project, "accepted_on": TODAY.isoformat(), "cost_per_mu": 20000, "plots": plots}  # fmt: skip


def _landing_body(s: State, fresh: bool) -> dict[str, Any]:
    code, farmland = s.destination
    return {"cert": s.held, "parcel_code": code, "area_m2": str(farmland), "use": "industrial"}


Prepare = Callable[[State, bool], tuple[str, dict[str, Any] | None]]


class Case(NamedTuple):
    """One endpoint: its route, how to build a valid request, the status per role."""

    name: str
    method: str
    route: str
    prepare: Prepare
    expected: dict[str, int]


def get(url: Callable[[State], str]) -> Prepare:
    """A GET of a URL built from the shared records."""
    return lambda s, fresh: (url(s), None)


def _closes() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


W, P, T, A = f"{V1}/withdrawals", f"{V1}/reclamation-projects", f"{V1}/tickets", f"{V1}/auctions"
CASES = [
    Case(
        "file withdrawal",
        "POST",
        W,
        lambda s, f: (W, s.w.household(OWN).body() if f else s.household),
        expect(401, 403, 201, 403, 201),
    ),  # fmt: skip
    Case("list withdrawals", "GET", W, get(lambda s: f"{W}?village_code={OWN}"), PERSONAL),
    Case(
        "one withdrawal",
        "GET",
        W + "/{withdrawal_id}",
        get(lambda s: f"{W}/{s.withdrawal}"),
        PERSONAL,
    ),  # fmt: skip
    Case("create project", "POST", P, lambda s, f: (P, _project_body(s, f)), BUREAU_WRITE),
    Case("list projects", "GET", P, get(lambda s: P), READ_ALL),
    Case("one project", "GET", P + "/{project_id}", get(lambda s: f"{P}/{s.project}"), READ_ALL),
    Case(
        "accept project",
        "POST",
        f"{V1}/acceptances",
        lambda s, f: (f"{V1}/acceptances", _acceptance_body(s, f)),
        BUREAU_WRITE,
    ),  # fmt: skip
    Case("list tickets", "GET", T, get(lambda s: T), READ_ALL),
    Case("one ticket", "GET", T + "/{cert}", get(lambda s: f"{T}/{s.held}"), READ_ALL),
    Case(
        "lineage", "GET", T + "/{cert}/lineage", get(lambda s: f"{T}/{s.held}/lineage"), READ_ALL
    ),  # fmt: skip
    Case(
        "split",
        "POST",
        T + "/{cert}/splits",
        lambda s, f: (f"{T}/{s.held}/splits", {"area_m2": "10"}),
        HOLDER_WRITE,
    ),  # fmt: skip
    Case(
        "merge",
        "POST",
        T + "/merges",
        lambda s, f: (f"{T}/merges", {"certs": [s.ticket(), s.ticket()] if f else s.pair}),
        HOLDER_WRITE,
    ),  # fmt: skip
    Case(
        "list auction",
        "POST",
        A,
        lambda s, f: (
            A,
            {
                "cert": s.ticket() if f else s.shared,
                "reserve_per_mu": 150000,
                "closes_at": _closes(),
            },
        ),
        BUREAU_WRITE,
    ),  # fmt: skip
    Case("auctions", "GET", A, get(lambda s: A), READ_ALL),
    Case(
        "one auction", "GET", A + "/{auction_id}", get(lambda s: f"{A}/{s.open_auction}"), READ_ALL
    ),  # fmt: skip
    Case(
        "bid",
        "POST",
        A + "/{auction_id}/bids",
        lambda s, f: (f"{A}/{s.open_auction}/bids", {"price_per_mu": 150000}),
        expect(401, 201, 403, 403, 403),
    ),  # fmt: skip
    Case(
        "close auction",
        "POST",
        A + "/{auction_id}/close",
        lambda s, f: (f"{A}/{_past(s) if f else s.closable}/close", None),
        expect(401, 403, 403, 403, 200),
    ),  # fmt: skip
    Case(
        "approve landing",
        "POST",
        f"{V1}/landings",
        lambda s, f: (f"{V1}/landings", _landing_body(s, f)),
        BUREAU_WRITE,
    ),  # fmt: skip
    Case("landings", "GET", f"{V1}/landings", get(lambda s: f"{V1}/landings"), READ_ALL),
    Case(
        "one landing",
        "GET",
        f"{V1}/landings/{{landing_id}}",
        get(lambda s: f"{V1}/landings/{s.landing}"),
        READ_ALL,
    ),  # fmt: skip
    Case(
        "statements",
        "GET",
        f"{V1}/statements/{{cert}}",
        get(lambda s: f"{V1}/statements/{s.sold}"),
        PERSONAL,
    ),  # fmt: skip
    Case(
        "ticket map",
        "GET",
        "/maps/tickets",
        get(lambda s: f"/maps/tickets?cert={s.held}"),
        READ_ALL,
    ),  # fmt: skip
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_permission_matrix(matrix, sample_client, case):
    got = {}
    for role in ROLES:
        url, body = case.prepare(matrix, case.expected[role] < 300)
        r = sample_client.request(case.method, url, json=body, headers=matrix.w.auth(role))
        got[role] = r.status_code
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json", r.text
            assert r.json()["status"] == r.status_code and r.json()["detail"]
    assert got == case.expected, f"{case.name}: {got}"


def test_every_ticket_endpoint_is_in_the_matrix(sample_client):
    words = ("withdrawals", "reclamation", "acceptances", "tickets", "auctions", "landings",
             "statements")  # fmt: skip
    routes = {
        (method.upper(), path)
        for path, operations in sample_client.app.openapi()["paths"].items()
        if any(word in path for word in words)
        for method in operations
    }
    assert routes == {(c.method, c.route) for c in CASES}
