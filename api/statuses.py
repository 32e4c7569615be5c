"""Every operation declares the problem statuses it can return, derived from what it is made of.

A dependency that raises a status says so once with `@raises(...)` (the bearer token: 401; the session
cookie's CSRF check, `@raises(403, unsafe_only=True)`: 403 on unsafe operations only; a role
check: 401, 403); a path parameter names a record that may not exist (404); any parameter or body
may be invalid (422); any body may be unparseable (400) or over the size limit (413). `declare_problem_statuses` adds
these to each route's OpenAPI responses, so a router added later is covered without a list.
Statuses of the domain itself (404, 409 from the core) stay declared by the routers that serve it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.errors import problem_responses
from geodata.accounts.principals import UNSAFE_METHODS

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__problem_statuses__"
UNSAFE_ATTRIBUTE = "__unsafe_problem_statuses__"  # only on POST, PUT, PATCH, DELETE operations


def raises(*statuses: int, unsafe_only: bool = False) -> Callable[[F], F]:
    """Mark a dependency as raising these HTTP statuses (as problem+json).

    unsafe_only: only on unsafe operations (the cookie session's CSRF check: 403).
    """
    name = UNSAFE_ATTRIBUTE if unsafe_only else ATTRIBUTE

    def mark(fn: F) -> F:
        setattr(fn, name, tuple(sorted(set(getattr(fn, name, ())) | set(statuses))))
        return fn

    return mark


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def route_statuses(route: APIRoute) -> set[int]:
    """The problem statuses a route can return by its dependencies and parameters."""
    statuses: set[int] = set()
    unsafe = bool(route.methods & UNSAFE_METHODS)
    for d in _dependants(route.dependant):
        statuses.update(getattr(d.call, ATTRIBUTE, ()) if d.call is not None else ())
        if unsafe:
            statuses.update(getattr(d.call, UNSAFE_ATTRIBUTE, ()) if d.call is not None else ())
        if d.path_params:
            statuses.add(404)
        if d.path_params or d.query_params or d.header_params or d.cookie_params:
            statuses.add(422)
        if d.body_params:
            statuses.update((400, 413, 422))  # 400: a body that is not JSON at all
    return statuses


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router, kept as such
        if included is not None:
            yield from _api_routes(included.routes)


def declare_problem_statuses(app: FastAPI) -> None:
    """Add each route's derived problem statuses to its OpenAPI responses (call after routers)."""
    for route in _api_routes(app.router.routes):
        for status, response in problem_responses(*sorted(route_statuses(route))).items():
            if status not in route.responses and str(status) not in route.responses:
                route.responses[status] = response
    app.openapi_schema = None  # generated again with them
