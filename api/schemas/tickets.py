"""Request bodies of the land ticket API: withdrawals, projects, acceptances, exchange, landings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from api.params import AREA_MAX_M2, AreaM2, AreaMu, IdField, Money
from landmarket.codes import PARCEL_CODE_PATTERN
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.tickets import Consent, Evidence
from landmarket.tickets.quantities import mu_to_m2

PARCEL_CODE = PARCEL_CODE_PATTERN
CERT = "证书编号 渝地票〔2026〕第000123号 或 / certificate number or YDP-2026-000123"
Use = Literal["operational", "industrial", "allocated", "quota_purchase", "linkage"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceIn(_Body):
    """稳定住所证明 / evidence of stable housing elsewhere."""

    kind: str = Field(
        max_length=40,
        description="urban_housing_title | purchase_contract | resettlement_housing | "
        "rental_contract | other",
    )
    reference: str = Field(max_length=200, description="证书或合同编号 / title or contract no.")

    def domain(self) -> Evidence:
        """The domain evidence."""
        return Evidence(self.kind, self.reference)


class ConsentIn(_Body):
    """集体经济组织同意决议 / the collective's consent."""

    resolution: str = Field(max_length=200, description="决议或会议纪要 / resolution reference")
    decided_on: date
    approved: bool = True

    def domain(self) -> Consent:
        """The domain consent."""
        return Consent(self.resolution, self.decided_on, self.approved)


class WithdrawalIn(_Body):
    """宅基地有偿退出申请 / a household's homestead withdrawal, filed by its collective."""

    household_id: str = Field(min_length=1, max_length=64, description="农户编号 / household id")
    homestead_parcel_code: str = Field(pattern=PARCEL_CODE)
    ancillary_parcel_codes: list[str] = Field(default_factory=list, max_length=20)
    evidence: EvidenceIn | None = None
    consent: ConsentIn | None = None
    on: date | None = Field(None, description="审查日期(政策版本) / date of the checks")

    @field_validator("ancillary_parcel_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if not re.match(PARCEL_CODE, c)]
        if bad:
            raise ValueError(f"宗地代码无效 / invalid parcel codes {bad}")
        return codes


class ProjectIn(_Body):
    """复垦项目 / a reclamation project of eligible withdrawals and idle collective plots."""

    code: str = Field(min_length=1, max_length=40, description="项目编号 / project code")
    name: str = Field(min_length=1, max_length=200)
    withdrawal_ids: list[IdField] = Field(default_factory=list, max_length=500)
    collective_parcels: list[str] = Field(default_factory=list, max_length=500)
    on: date | None = None


class PlotInspectionIn(_Body):
    """一个地块的验收结果 / the inspection of one plot."""

    parcel_code: str = Field(pattern=PARCEL_CODE)
    accepted_m2: Decimal = Field(
        ge=0,
        le=AREA_MAX_M2,
        allow_inf_nan=False,
        description="验收新增耕地面积 / accepted arable m²",
    )
    slope_grade: int = Field(ge=1, le=5, description="坡度级别 1–5 / slope grade")
    geometry: dict[str, Any] | None = Field(
        None, description="验收图形 GeoJSON(EPSG:4490) / accepted arable land"
    )
    note: str | None = Field(None, max_length=500)

    def shapely(self) -> BaseGeometry | None:
        """The geometry as shapely; InvalidInput naming the plot when it is not GeoJSON."""
        if self.geometry is None:
            return None
        try:
            return shape(self.geometry)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                [RecordProblem(f"plot {self.parcel_code}", f"GeoJSON 无效 / {exc}", "geometry")]
            ) from exc


class AcceptanceIn(_Body):
    """项目验收(签发地票) / a project's acceptance, which issues its ticket."""

    project_id: IdField
    accepted_on: date
    cost_per_mu: Money = Field(description="复垦成本(元/亩) / reclamation cost per mu")
    holder_id: IdField | None = Field(None, description="地票持有人 / holder (default: collective)")
    plots: list[PlotInspectionIn] = Field(min_length=1, max_length=500)


class _Area(_Body):
    area_m2: AreaM2 | None = Field(None, description="面积(平方米) / m²")
    area_mu: AreaMu | None = Field(None, description="面积(亩) / mu")

    @model_validator(mode="after")
    def _one_area(self):
        if (self.area_m2 is None) == (self.area_mu is None):
            raise ValueError(
                "须给出 area_m2 或 area_mu 之一 / give exactly one of area_m2, area_mu"
            )
        return self

    @property
    def m2(self) -> Decimal:
        """The area in m² (mu converted, to 0.01 m²)."""
        return self.area_m2 if self.area_m2 is not None else mu_to_m2(self.area_mu)


class SplitIn(_Area):
    """拆分地票 / split area off a ticket into a new certificate."""

    on: date | None = None


class MergeIn(_Body):
    """合并地票 / merge whole tickets of one holder."""

    certs: list[str] = Field(min_length=2, max_length=50, description=CERT)
    on: date | None = None


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class AuctionIn(_Body):
    """挂牌竞价 / list ticket area at the exchange."""

    cert: str = Field(description=CERT)
    area_m2: AreaM2 | None = Field(None, description="挂牌面积, 默认全部 / default: all")
    reserve_per_mu: Money = Field(gt=0, description="底价(元/亩) ≥ 保护价 / reserve per mu")
    mode: Literal["sealed", "ascending"] = "sealed"
    opens_at: datetime | None = Field(None, description="默认现在 / default: now")
    closes_at: datetime
    min_increment: Money | None = Field(None, gt=0)

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class BidIn(_Body):
    """出价 / a bid in yuan per mu (timed by the server)."""

    price_per_mu: Money = Field(gt=0)


class LandingIn(_Area):
    """落地申请审批 / approve a holder's landing application."""

    cert: str = Field(description=CERT)
    parcel_code: str = Field(pattern=PARCEL_CODE, description="落地宗地 / destination parcel")
    use: Use = "operational"
    applicant_id: IdField | None = Field(None, description="申请人(须为持有人) / the applicant")
    on: date | None = None
