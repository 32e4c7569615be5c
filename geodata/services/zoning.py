"""Zoning calculators behind the API: request bodies to the domain's proposals, plans, verdicts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.zoning import (
    DevelopmentProposal,
    check_proposal,
    evaluate_standard_land,
    indicator_set,
    proposal_from_dict,
    reserve_price,
    supply_plan,
)


class ProposalBody(BaseModel):
    """A development proposal for mixed industrial or M0 land (fields of proposal_from_dict)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    land_area_m2: float | None = Field(None, description="用地面积 / land area (or geometry)")
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON 面, EPSG:4490 经纬度")
    floor_area_m2: dict[str, Any] = Field(
        ..., description="分用途建筑面积 / floor area by use: industrial, warehousing, rd, "
        "office, commercial, supporting",
    )  # fmt: skip
    land_use_code: str = Field(..., description="用地代码, M0 = 100100 / land-use code")
    in_approved_zone: bool = False
    far: float | None = None
    building_density: float | None = None
    green_ratio: float | None = None
    supporting_land_m2: float | None = None
    split_transfer: bool = False
    split_sale: bool = False
    split_mortgage: bool = False
    requested_term_years: int | None = None
    district: str | None = Field(None, description="区县代码 / county code, e.g. 500111")


class StandardLandBody(BaseModel):
    """A standard-land parcel: its indicator targets (policy defaults if absent) and actuals."""

    model_config = ConfigDict(extra="forbid")

    parcel: str = "parcel"
    land_area_m2: float | None = Field(None, description="用地面积(总量换算亩均) / land area")
    indicators: dict[str, Any] | None = Field(None, description="出让指标 / listing targets")
    actual: dict[str, Any] = Field(..., description="实际值 / actual results")
    use: str | None = Field(
        None,
        description="用途, 须为标准地适用用途(工业、物流仓储) / use: one of the uses standard "
        "land applies to (standard_land.uses)",
    )


class SupplyBody(BaseModel):
    """A supply mode and the full-term price it is computed from."""

    model_config = ConfigDict(extra="forbid")

    mode: str = Field(..., description="long_term_lease | lease_then_transfer | ...")
    full_term_price: float = Field(..., description="最高年期地价 / price of the full term (yuan)")
    term_years: int | None = None
    lease_years: int | None = None
    use: str = "industrial"


def proposal(body: ProposalBody) -> DevelopmentProposal:
    """The domain proposal; a GeoJSON geometry is read as EPSG:4490 and measured in its zone."""
    data = body.model_dump(exclude_none=True)
    if body.geometry is not None:
        try:
            geom = shape(body.geometry)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                [RecordProblem(data.get("id", "proposal"), f"几何无效 / bad geometry: {exc}",
                               "geometry")]
            ) from exc  # fmt: skip
        data["geometry"] = geom
    return proposal_from_dict(data, record=data.get("id", "proposal"))


def check(body: ProposalBody, policy: Policy) -> dict[str, Any]:
    """The compliance verdict with every rule, its source and the policy version."""
    return check_proposal(proposal(body), policy).to_dict()


def price(body: ProposalBody, policy: Policy, grade: int | None) -> dict[str, Any]:
    """The reserve price with every component and factor."""
    return reserve_price(proposal(body), policy, grade=grade).to_dict()


def evaluate(body: StandardLandBody, policy: Policy) -> dict[str, Any]:
    """Met / not met per indicator, with ratios."""
    targets = indicator_set(policy, body.indicators, use=body.use)
    return evaluate_standard_land(
        targets, body.actual, policy, land_area_m2=body.land_area_m2, parcel=body.parcel
    ).to_dict()


def supply(body: SupplyBody, policy: Policy) -> dict[str, Any]:
    """Term and payment schedule of a supply mode."""
    return supply_plan(
        body.mode,
        body.full_term_price,
        policy,
        term_years=body.term_years,
        lease_years=body.lease_years,
        use=body.use,
    ).to_dict()


__all__ = ["ProposalBody", "StandardLandBody", "SupplyBody", "check", "evaluate", "price", "supply"]
