"""Every operation declares, as problem+json, the statuses its dependencies and parameters raise."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import CurrentUser
from api.errors import PROBLEM_JSON, install_problem_handlers
from api.params import RecordId
from api.statuses import declare_problem_statuses, raises
from geodata.db.engine import get_engine
from geodata.settings import Settings


@pytest.fixture(scope="module")
def openapi(db_url) -> dict:
    """The platform's OpenAPI document."""
    return create_app(Settings(basemap="none"), database_url=db_url).openapi()


def statuses(openapi: dict, method: str, path: str) -> set[str]:
    """The declared statuses of one operation."""
    return set(openapi["paths"][path][method]["responses"])


def test_token_role_path_and_body_statuses_are_declared(openapi):
    # a token (401), a role check (403), a path id (404), parameters (422), a body (400, 413)
    assert {"401", "404", "422"} <= statuses(openapi, "get", "/api/v1/listings/{listing_id}")
    assert {"401", "422"} <= statuses(openapi, "get", "/api/v1/listings")
    assert {"400", "401", "403", "413", "422"} <= statuses(openapi, "post", "/api/v1/landings")
    assert {"401", "403", "404"} <= statuses(
        openapi, "post", "/api/v1/consolidation-plans/{plan_id}/approve"
    )
    assert "400" not in statuses(openapi, "get", "/api/v1/tickets")  # no body, no 400
    # found by the fuzzer: the listing rules refuse public callers (403), unparseable JSON (400)
    assert "403" in statuses(openapi, "get", "/api/v1/listings/searches")
    assert "400" in statuses(openapi, "post", "/api/v1/listings/searches")


def test_every_problem_status_documents_problem_json(openapi):
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert PROBLEM_JSON in response.get("content", {}), (method, path, status)


@raises(409)
def busy() -> None:
    """A dependency of a router added later, which may refuse with 409."""


def post_thing(thing_id: RecordId, user: CurrentUser, _: Annotated[None, Depends(busy)]) -> dict:
    """An operation of that router."""
    return {}


def test_a_new_router_is_covered_without_a_list(db_url):
    router = APIRouter()
    router.post("/things/{thing_id}")(post_thing)
    app = FastAPI()
    app.state.engine = get_engine(db_url)
    install_problem_handlers(app)
    app.include_router(router)
    declare_problem_statuses(app)
    declared = set(app.openapi()["paths"]["/things/{thing_id}"]["post"]["responses"])
    assert {"401", "404", "409", "422"} <= declared and "413" not in declared  # no body
    resp = TestClient(app).post("/things/0")
    assert resp.status_code == 422 and str(resp.status_code) in declared


def test_a_body_that_is_not_json_is_a_declared_400(db_url, openapi):
    app = create_app(Settings(basemap="none"), database_url=db_url)
    resp = TestClient(app).post(
        "/api/v1/checks/reclamation",
        content=b"\x80{not json",
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400 and resp.headers["content-type"] == PROBLEM_JSON
    assert "400" in statuses(openapi, "post", "/api/v1/checks/{check}")
