"""Eligibility checks over posted or stored parcels; read-only, nothing is ever written.

Posted geometry may come in EPSG:4490, WGS84 or another CRS on those datums inside China; it is
converted to EPSG:4490 before measuring. A stored parcel is checked with its public facts, plus
its personal attributes only for callers allowed to see them, plus the application facts posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geodata.context import PLOT_MARGIN_DEG, context_for, plain_context_for, search_box
from geodata.crs import SWAPPED_MESSAGE, check_supported, parse_crs
from geodata.db.engine import SessionLocal
from geodata.route_cache import RouteCache
from geodata.screening import needs_of, stored_parcels
from geodata.services.check_models import ApprovalRouteRequest, CheckRequest, ParcelFeature
from geodata.settings import Settings
from landmarket.access import Principal
from landmarket.areas import CGCS2000, to_cgcs2000
from landmarket.codes import CodeError, parse_parcel_code
from landmarket.eligibility import check_parcel
from landmarket.eligibility.approval_route import route_of_plots
from landmarket.eligibility.inputs import ATTRIBUTE_COLUMNS, check_geometry_values, parcels_frame
from landmarket.eligibility.measure import LANDUSE, SLOPE
from landmarket.errors import InvalidInput, LandmarketError, NotFound, RecordProblem
from landmarket.policy import policy_from_settings

CHINA = (73.0, 3.0, 136.0, 54.0)  # lon/lat box of China
MAX_EXTENT_DEG = 0.5  # a parcel or project wider than ~50 km is not a parcel: refuse the work
# Facts of an application, which a caller may add to a stored parcel (the rest is the record's).
APPLICATION_FACTS = {
    "consent_ratio", "consent_for", "consent_total", "intended_use", "method", "term_years",
    "ticket_mu", "ticket_m2", "landing_use", "project_level", "project_category",
}  # fmt: skip


class PayloadTooLarge(LandmarketError):
    """More features than the platform accepts in one request."""

    status = 413
    title = "请求过大 / Payload too large"


def _bad(record: str, problem: str, field: str) -> InvalidInput:
    return InvalidInput([RecordProblem(record, problem, field)])


def _crs_text(member: Any) -> Any:
    """The CRS named by a GeoJSON 2008 crs member ({"type": "name", ...}) or plain text."""
    if isinstance(member, dict):
        name = (member.get("properties") or {}).get("name")
        if not name:
            raise _bad("crs", "crs 成员缺少 properties.name / crs member without a name", "crs")
        return name
    return member


def resolve_crs(member: Any, query: str | None) -> CRS:
    """The posted CRS (member or ?crs=, EPSG:4490 when neither); refused outside China."""
    return _resolved(_crs_text(member) if member is not None else None, query)[0]


@lru_cache(maxsize=128)
def _resolved(given_text: Any, query: str | None) -> tuple[CRS, bool]:
    """resolve_crs by the texts given, and whether geometries in it are taken as EPSG:4490 as
    they are (parcels_frame's test). A refusal raises, so only accepted CRSs are kept; pyproj's
    CRS objects are thread-safe."""
    given = [c for c in (given_text, query) if c]
    crs = parse_crs(given[0]) if given else CRS.from_epsg(4490)
    if len(given) == 2 and not crs.equals(parse_crs(given[1])):
        raise _bad("crs", f"crs 成员 {given[0]} 与 ?crs={given[1]} 不一致 / disagree", "crs")
    area = crs.area_of_use
    if area is not None:
        west, south, east, north = area.bounds
        if east < CHINA[0] or west > CHINA[2] or north < CHINA[1] or south > CHINA[3]:
            raise _bad(
                "crs",
                f"坐标系 {crs.name} 的适用范围在中国境外 / CRS {crs.name} "
                f"({crs.to_string()}) is for an area outside China ({area.name})",
                "crs",
            )
    check_supported(crs)
    return crs, crs.to_epsg() == CGCS2000


def posted_frame(features: list[dict[str, Any]], crs: CRS) -> gpd.GeoDataFrame:
    """Posted features as a validated EPSG:4490 frame inside China and of parcel size."""
    frame = parcels_frame({"type": "FeatureCollection", "features": features}, crs=crs)
    _inside_china(np.asarray(frame.geometry.values), crs)
    return frame


def posted_plots(
    features: list[dict[str, Any]],
    member: Any,
    query: str | None,
    shapes: Sequence[BaseGeometry | None] | None = None,
) -> np.ndarray:
    """posted_frame(features, resolve_crs(member, query))'s geometries, checked the same way and
    refused with the same problems, on plain arrays: plots whose properties carry facts the rules
    read (or a 'geometry' key) go through posted_frame itself, which types and checks those.
    shapes: the features' geometries already made from the same GeoJSON (the request model's
    `Geometry.shape`), used instead of making them again."""
    crs, as_is = _resolved(_crs_text(member) if member is not None else None, query)
    if any(_has_facts(f.get("properties")) for f in features):
        return np.asarray(posted_frame(features, crs).geometry.values)
    geoms = np.empty(len(features), dtype=object)
    problems = []
    for i, feature in enumerate(features):
        if shapes is not None and shapes[i] is not None:
            geoms[i] = shapes[i]
            continue
        try:
            geoms[i] = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(
                RecordProblem(f"feature {i}", f"几何无效 / bad geometry: {exc}", "geometry")
            )
    if problems:
        raise InvalidInput(problems, source="parcels")
    if not as_is:
        geoms = to_cgcs2000(geoms, crs)
    check_geometry_values(geoms)
    _inside_china(geoms, crs)
    return geoms


def _has_facts(properties: dict[str, Any] | None) -> bool:
    return bool(properties) and any(k in ATTRIBUTE_COLUMNS or k == "geometry" for k in properties)


def _inside_china(geoms: np.ndarray, crs: CRS) -> None:
    """EPSG:4490 geometries inside China and, all together, of parcel size."""
    bounds = shapely.bounds(geoms)
    inside = (
        (bounds[:, 0] >= CHINA[0])
        & (bounds[:, 2] <= CHINA[2])
        & (bounds[:, 1] >= CHINA[1])
        & (bounds[:, 3] <= CHINA[3])
    )
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        b = bounds[i]
        swapped = CHINA[0] <= b[1] <= CHINA[2] and CHINA[1] <= b[0] <= CHINA[3]
        text = SWAPPED_MESSAGE if swapped else "坐标在中国境外 / coordinates lie outside China"
        raise _bad(f"feature {i}", f"{text} ({crs.name})", "geometry")
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    if max(maxx - minx, maxy - miny) > MAX_EXTENT_DEG:
        raise _bad("geometry", f"范围超过 {MAX_EXTENT_DEG}° / extent above the limit", "geometry")


def stored_frame(
    session: Session, code: str, viewer: Principal, facts: dict[str, Any]
) -> gpd.GeoDataFrame:
    """A stored parcel with the facts the viewer may see, plus posted application facts."""
    try:
        parse_parcel_code(code)
    except CodeError as exc:
        raise _bad(f"parcel {code}", str(exc), "parcel_code") from None
    frame = stored_parcels(session, parcel_codes=[code], personal=False)
    if len(frame) == 0:
        raise NotFound(f"宗地不存在 / no parcel with parcel_code {code}")
    if viewer.may_see_personal(frame["village_code"].iloc[0]):
        frame = stored_parcels(session, parcel_codes=[code], personal=True)
    recorded = sorted(set(facts) - APPLICATION_FACTS)
    if recorded:
        raise _bad(
            f"parcel {code}",
            f"登记事实不能由请求改写 / recorded facts cannot be posted: {', '.join(recorded)}",
            recorded[0],
        )
    for key, value in facts.items():
        frame[key] = value
    return frame


def _policy_date(body_on: date | None, query_on: date | None) -> date | None:
    if body_on and query_on and body_on != query_on:
        raise _bad("on", f"请求体 on={body_on} 与 ?on={query_on} 不一致 / disagree", "on")
    return body_on or query_on


def run_check(
    session: Session,
    settings: Settings,
    name: str,
    body: CheckRequest,
    viewer: Principal,
    *,
    crs: str | None = None,
    on: date | None = None,
    site_only: bool = False,
) -> dict[str, Any]:
    """One parcel check (market_entry, reclamation, ticket_landing) → the verdict's JSON."""
    policy = policy_from_settings(settings, _policy_date(body.on, on))
    facts = body.properties.model_dump(exclude_none=True) if body.properties else {}
    if isinstance(body, ParcelFeature):
        feature = {"type": "Feature", "geometry": body.geometry.model_dump(), "properties": facts}
        frame = posted_frame([feature], resolve_crs(body.crs, crs))
    else:
        frame = stored_frame(session, body.parcel_code, viewer, facts)
    needs = needs_of([name])
    geom = shapely.union_all(frame.geometry.values)
    context = context_for(session, geom, parcels=LANDUSE in needs, dem=SLOPE in needs)
    verdict = check_parcel(name, frame, context, policy=policy, site_only=site_only)
    return verdict.to_dict()


def run_route(
    session: Session,
    settings: Settings,
    body: ApprovalRouteRequest,
    *,
    crs: str | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    """The approval route of a project over its posted plots → the route's JSON."""
    plots, policy = _route_inputs(settings, body, crs, on)
    # Plain arrays all the way (the same rows, measurements and rules as the frames would give):
    # the fixed cost of pandas objects around a few plots was most of a check's time.
    context = plain_context_for(session, plots, kinds=("pbf",), margin=PLOT_MARGIN_DEG)
    verdict = route_of_plots(body.project.model_dump(), plots, context, policy=policy)
    return verdict.to_dict()


def run_route_cached(
    cache: RouteCache,
    engine: Engine,
    settings: Settings,
    body: ApprovalRouteRequest,
    *,
    crs: str | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    """run_route on the worker's RouteCache (the same answer); on the SQL path when the cache
    cannot vouch for the rows under the plots."""
    plots, policy = _route_inputs(settings, body, crs, on)
    project = body.project.model_dump()
    box = search_box(shapely.union_all(plots), PLOT_MARGIN_DEG)
    m = PLOT_MARGIN_DEG
    near = shapely.bounds(plots) + np.array([-m, -m, m, m])
    with cache.lock:
        context = cache.context(box, near)
        if context is not None:
            return route_of_plots(project, plots, context, policy=policy).to_dict()
    with SessionLocal(bind=engine) as session:
        context = plain_context_for(session, plots, kinds=("pbf",), margin=PLOT_MARGIN_DEG)
    return route_of_plots(project, plots, context, policy=policy).to_dict()


def _route_inputs(
    settings: Settings, body: ApprovalRouteRequest, crs: str | None, on: date | None
) -> tuple[np.ndarray, Any]:
    """The posted plots (checked, EPSG:4490) and the policy of the date."""
    count = len(body.plots.features)
    if count > settings.max_features:
        raise PayloadTooLarge(
            f"地块数 {count} 超过上限 {settings.max_features} / {count} plots, "
            f"more than max_features={settings.max_features}"
        )
    policy = policy_from_settings(settings, _policy_date(body.on, on))
    member = body.crs if body.crs is not None else body.plots.crs
    features = [f.model_dump() for f in body.plots.features]
    if not features:
        raise _bad("plots", "没有地块 / no plots", "plots")
    shapes = [f.geometry.shape for f in body.plots.features]  # made once, by the model
    return posted_plots(features, member, crs, shapes), policy
