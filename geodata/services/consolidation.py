"""Consolidation plans behind the API: request → inputs → domain planner → stored draft → JSON."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import geopandas as gpd
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape
from sqlalchemy.orm import Session

from geodata.consolidation.export import PlanRecords, plan_records, snap_plan
from geodata.consolidation.inputs import load_village_inputs
from geodata.consolidation.parcels import register_destinations
from geodata.consolidation.repository import (
    Viewer,
    advance_plan,
    get_plan,
    plan_history,
    plan_meta,
    save_plan,
    stored_records,
)
from geodata.consolidation.tables import ConsolidationPlanRecord
from geodata.settings import Settings
from landmarket.access import Principal, Role
from landmarket.areas import CGCS2000
from landmarket.codes import VILLAGE_CODE_PATTERN
from landmarket.consolidation import ConsolidationPlan, plan_consolidation
from landmarket.consolidation.sample import sample_village
from landmarket.eligibility.context import ConstraintContext
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import policy_from_settings

LISTINGS = "/api/v1/listings"
SAMPLE_VILLAGE = "500111101001"  # the code the sample village's parcel codes carry


class PlanRequest(BaseModel):
    """A consolidation plan to compute: a stored village, or explicit GeoJSON plots."""

    model_config = ConfigDict(extra="forbid")

    village_code: str | None = Field(
        None,
        pattern=VILLAGE_CODE_PATTERN,
        description="村代码: 从库中读取宗地、约束图层、村规划、DEM",
    )
    plots: dict[str, Any] | None = Field(
        None, description="零星地块 GeoJSON FeatureCollection (EPSG:4490 经纬度)"
    )
    destinations: dict[str, Any] | None = Field(
        None, description="目的地候选区 GeoJSON FeatureCollection (缺省: 村规划经营性用地)"
    )
    keep_within_delegation: bool | None = Field(
        None,
        description="切分: 每个目的地块不超过下放上限(默认不切分; 方案附国发〔2004〕28号警示) / cut "
        "every destination plot to the delegation limit (off by default; the plan carries the "
        "Guofa [2004] No. 28 warning against splitting to evade approval)",
    )
    maximise_contiguous: bool | None = Field(
        None,
        description="连片最大化(默认) / keep each contiguous destination parcel whole (default)",
    )


def viewer_for(user: Principal) -> Viewer:
    """Bureau: every plan; a collective: its village's plans and approved ones; others: approved."""
    if user.role is Role.bureau:
        return Viewer(True)
    return Viewer(False, user.village_code if user.role is Role.collective else None)


def _mode(req: PlanRequest) -> bool:
    """keep_within_delegation for the planner (false unless asked); both true contradict."""
    if req.maximise_contiguous and req.keep_within_delegation:
        raise InvalidInput(
            [
                RecordProblem(
                    "body",
                    "连片最大化与切分不能同时选择 / maximise_contiguous contradicts "
                    "keep_within_delegation",
                    "maximise_contiguous",
                )
            ]
        )
    return bool(req.keep_within_delegation)


def geojson_frame(
    data: dict[str, Any], name: str, numeric: tuple[str, ...] = ()
) -> gpd.GeoDataFrame:
    """Polygons of a GeoJSON FeatureCollection (lon/lat, EPSG:4490); problems name the feature."""
    features = data.get("features") if data.get("type") == "FeatureCollection" else None
    if not isinstance(features, list) or not features:
        raise InvalidInput(
            [RecordProblem(name, "须为非空 FeatureCollection / not a FeatureCollection", name)]
        )
    rows, geoms, problems = [], [], []
    for i, feature in enumerate(features):
        where = f"{name}.features[{i}]"
        try:
            geom = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            problems.append(RecordProblem(where, "几何无效 / bad geometry", "geometry"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            problems.append(RecordProblem(where, "须为面 / must be a polygon", "geometry"))
            continue
        props = dict(feature.get("properties") or {})
        for key in numeric:
            value = props.get(key)
            if value is not None and not _finite(value):
                problems.append(RecordProblem(where, "不是数字 / not a number", key))
        rows.append(props)
        geoms.append(geom)
    if problems:
        raise InvalidInput(problems, source=name)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CGCS2000)


def _finite(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def compute_plan(
    session: Session, settings: Settings, req: PlanRequest, on: date | None
) -> tuple[ConsolidationPlan, str]:
    """The plan a request asks for (nothing written) and its input kind ('village' | 'geojson')."""
    keep = _mode(req)
    if req.village_code is None and req.plots is None:
        raise InvalidInput(
            [
                RecordProblem(
                    "body", "须给出村代码或地块 / give village_code or plots", "village_code"
                )
            ]
        )
    plots = geojson_frame(req.plots, "plots", ("legal_area_m2", "slope_deg", "cost_yuan")) if (
        req.plots is not None
    ) else None  # fmt: skip
    destinations = (
        geojson_frame(req.destinations, "destinations", ("value_per_m2", "slope_deg"))
        if req.destinations is not None
        else None
    )
    context = ConstraintContext()
    if req.village_code is not None:
        inputs = load_village_inputs(session, req.village_code, with_plots=plots is None)
        context = inputs.context
        plots = inputs.plots if plots is None else plots
    policy = policy_from_settings(settings, on)
    plan = plan_consolidation(
        plots,
        policy,
        context=context,
        destinations=destinations,
        keep_within_delegation=keep,
        village=req.village_code or "",
    )
    return plan, "geojson" if req.plots is not None else "village"


def create_plan(
    session: Session, settings: Settings, user: Principal, req: PlanRequest, on: date | None
) -> dict[str, Any]:
    """Compute and store a draft plan for the caller's village (any village for the bureau)."""
    if user.role is not Role.bureau:
        user.require_village(req.village_code)
    plan, kind = compute_plan(session, settings, req, on)
    options = req.model_dump(include={"keep_within_delegation", "maximise_contiguous"})
    row = save_plan(
        session, plan, actor=user.actor, village_code=req.village_code, input_kind=kind,
        options={**options, "on": on.isoformat() if on else None},
    )  # fmt: skip
    session.commit()
    return plan_body(session, row)


def advance(session: Session, user: Principal, plan_id: int, to: str) -> dict[str, Any]:
    """Submit (bureau or the village's collective) or approve (the router admits the bureau)."""
    viewer = viewer_for(user)
    row = get_plan(session, plan_id, viewer)
    if user.role is not Role.bureau:
        user.require_village(row.village_code)
    row = advance_plan(session, plan_id, to, actor=user.actor, viewer=viewer)
    if to == "approved":
        register_destinations(session, row.id, user.actor)  # same transaction: all or nothing
    session.commit()
    return plan_body(session, row)


def feature_collection(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Plot records as a GeoJSON FeatureCollection (properties without geometry)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r["plot_id"],
                "geometry": json.loads(shapely.to_geojson(r["geometry"])),
                "properties": {k: v for k, v in r.items() if k != "geometry"},
            }
            for r in records
        ],
    }


def plan_body(session: Session, row: ConsolidationPlanRecord) -> dict[str, Any]:
    """One stored plan: bookkeeping, summary, plots as GeoJSON and the audit history."""
    records = stored_records(session, row)
    destinations = feature_collection(records.destinations)
    for feature in destinations["features"]:
        code = feature["properties"].get("parcel_code")
        feature["properties"]["links"] = [listing_link(code)] if code else []
    return {
        **records.summary,
        **records.meta,
        "origins": feature_collection(records.origins),
        "destinations": destinations,
        "history": plan_history(session, row.id),
    }


def listing_link(parcel_code: str) -> dict[str, Any]:
    """How the village's collective drafts a listing of a parcel the plan created."""
    return {
        "rel": "create-listing",
        "title": "挂牌此宗地(草稿) / draft a listing of this parcel",
        "href": LISTINGS,
        "method": "POST",
        "body": {"parcel_code": parcel_code},
    }


def plan_listing(row: ConsolidationPlanRecord) -> dict[str, Any]:
    """One line of the plan list: bookkeeping, balance, counts and trade-off, no plots."""
    keep = ("village", "mode", "on", "policy_version", "balance", "counts", "tradeoff")
    return {**plan_meta(row), **{k: row.result.get(k) for k in keep}}


_SAMPLES: dict[tuple, PlanRecords] = {}


def sample_records(settings: Settings, on: date | None = None) -> PlanRecords:
    """The sample village's plan (computed once per policy, not stored) for an empty database."""
    policy = policy_from_settings(settings, on)
    key = (policy.on, policy.version, str(settings.policy_dir), settings.sliver_tolerance_m2)
    if key not in _SAMPLES:
        _SAMPLES.clear()
        _SAMPLES[key] = _sample(policy)
    return _SAMPLES[key]


def _sample(policy) -> PlanRecords:
    village = sample_village()
    plan = plan_consolidation(
        village.plots,
        policy,
        context=village.context,
        destinations=village.destinations,
        village=SAMPLE_VILLAGE,
    )
    zone = snap_plan(plan)
    return plan_records(plan, zone, {"id": None, "status": plan.status, "sample": True})


__all__ = [
    "PlanRequest",
    "advance",
    "compute_plan",
    "create_plan",
    "feature_collection",
    "geojson_frame",
    "listing_link",
    "plan_body",
    "plan_listing",
    "sample_records",
    "viewer_for",
]
