"""Response models of the eligibility checks and the screening models of the API (shown in /docs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geodata.services.check_models import ON_FIELD
from landmarket.codes import VILLAGE_CODE_PATTERN


class RuleResultOut(BaseModel):
    """One rule evaluated: status, measured value, threshold, unit and source."""

    rule_id: str
    title: str
    status: Literal["pass", "fail", "needs_review", "info"]
    value: Any = None
    threshold: Any = None
    unit: str
    source: str
    policy_version: str
    provisional: bool = False
    detail: str = ""


class VerdictOut(BaseModel):
    """A check's verdict with every rule, the areas (m², mu, ha) and the policy version."""

    model_config = ConfigDict(extra="allow")

    check: str
    title: str
    verdict: Literal["eligible", "ineligible", "needs_review"]
    policy_version: str
    on: date
    areas: dict[str, float]
    failed: list[str]
    needs_review: list[str]
    rules: list[RuleResultOut]


Authority = Literal["state_council", "municipal", "district_county"]


class ApprovalRouteOut(VerdictOut):
    """Who approves: the highest of the conversion and expropriation authorities (None: review)."""

    headline: str = Field(..., description="审批机关及理由 / the authority and the reason")
    reasons: list[str]
    authority: Authority | None
    authority_name: str | None
    conversion_authority: Authority | None
    expropriation: bool
    expropriation_authority: Authority | None = Field(
        ..., description="不征收时为空 / null when the project does not expropriate"
    )
    parallel_path: bool
    days_saved: dict[str, float | None]
    savings: list[dict[str, Any]]
    land: dict[str, dict[str, float]]
    plots: list[dict[str, Any]]


class ScreeningRequest(BaseModel):
    """A district screen: the checks, the policy date and one scope (village, bbox or all)."""

    model_config = ConfigDict(extra="forbid")

    checks: list[str] = Field(
        default_factory=lambda: ["market_entry", "reclamation", "ticket_landing", "approval_route"]
    )
    on: date | None = ON_FIELD
    village_code: str | None = Field(None, pattern=VILLAGE_CODE_PATTERN)
    bbox: list[float] | None = Field(
        None, min_length=4, max_length=4, description="minx, miny, maxx, maxy (EPSG:4490)"
    )
    all: bool = Field(False, description="全部宗地 / every stored parcel")
    site_only: bool = Field(True, description="仅场地条件 / site conditions only")


class ScreeningProgress(BaseModel):
    """Chunks and parcels done so far, percent done and parcels per second."""

    chunks_done: int
    chunks_total: int | None
    parcels: int | None
    parcels_done: int = 0
    percent: float | None = None
    parcels_per_second: float | None = None
    cancel_requested: bool = False


class ScreeningOut(BaseModel):
    """A screening job: state, progress, summary and links to the report files."""

    id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    checks: list[str]
    on: date | None
    scope: dict[str, Any]
    site_only: bool
    requested_by: str
    progress: ScreeningProgress
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    policy_version: str | None
    summary: dict[str, Any] | None
    error: dict[str, Any] | None
    links: dict[str, str]


class VerdictChange(BaseModel):
    """One parcel whose verdict differs between two jobs (None: not in that job)."""

    parcel_code: str
    before: str | None
    after: str | None
    failed_before: list[str]
    failed_after: list[str]


class ScreeningDiffOut(BaseModel):
    """The parcels whose verdict for one check changed from job_a to job_b."""

    job_a: str
    job_b: str
    check: str
    changed: int
    truncated: bool
    changes: list[VerdictChange]
