"""Mixed industrial and M0 land: compliance, reserve price, standard land, supply modes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SettingsDep
from api.errors import problem_responses
from geodata.services import zoning as svc
from landmarket.policy import policy_from_settings

OnQuery = Annotated[
    date | None, Query(description="政策日期(默认今天) / policy in force on this date")
]
router = APIRouter(prefix="/api/v1", tags=["zoning"], responses=problem_responses(401, 500))


@router.post("/zoning/checks", summary="用地方案合规审查 / Check a proposal")
def check(
    body: svc.ProposalBody, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """FAR, supporting shares, green ratio, approved zone, split flags and term, each with its source."""
    return svc.check(body, policy_from_settings(settings, on))


@router.post("/zoning/price", summary="出让底价 / Reserve price")
def price(
    body: svc.ProposalBody,
    settings: SettingsDep,
    _: CurrentUser,
    on: OnQuery = None,
    grade: Annotated[int | None, Query(ge=1, le=15, description="土地等别 / land grade")] = None,
) -> dict[str, Any]:
    """Floor-area-weighted benchmark prices, M0 share of office price, the industrial floor."""
    return svc.price(body, policy_from_settings(settings, on), grade)


@router.post("/standard-land/evaluations", summary="标准地评价 / Evaluate standard land")
def evaluate(
    body: svc.StandardLandBody, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Actual investment, output, tax, FAR and shares against the parcel's indicators."""
    return svc.evaluate(body, policy_from_settings(settings, on))


@router.post("/zoning/supply-plans", summary="供应方式与缴款计划 / Supply mode schedule")
def supply(
    body: svc.SupplyBody, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Term and payment schedule of long-term lease, lease-then-transfer or flexible term."""
    return svc.supply(body, policy_from_settings(settings, on))
