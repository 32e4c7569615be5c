"""Stock-land requests shared by the edges: request models and the calls behind each endpoint."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.stock import (
    ConversionFacts,
    IdleFacts,
    PreregistrationFacts,
    RenewalFacts,
    ShortTermFacts,
    SplitFacts,
    SplitUnit,
    UrbanRenewalFacts,
    assess_conversion,
    assess_idle,
    assess_renewal,
    assess_short_term,
    assess_split,
    assess_transfer,
    assess_urban_renewal,
)

Money = Annotated[
    float, Field(ge=0, le=99_999_999_999_999.99, allow_inf_nan=False)
]  # numeric(16, 2)
Area = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
Use = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")]
District = Annotated[str | None, Field(pattern=r"^\d{6}$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdleCheck(_Body):
    agreed_start: date
    started_on: date | None = None
    land_price: Money | None = None


class TransferCheck(_Body):
    total_investment: Money
    investment_done: Money
    mortgaged: bool = False
    creditor_consent: bool = False
    preregistered_for: str | None = Field(default=None, max_length=200)
    buyer: str | None = Field(default=None, max_length=200)
    preregistered_consent: bool = False


class RenewalCheck(_Body):
    use: Use
    ends_on: date
    applied_on: date
    years: int = Field(ge=1, le=100)
    floor_area_m2: Area
    district: District = None


class ConversionCheck(_Body):
    from_use: Use
    to_use: Use
    floor_area_m2: Area
    remaining_years: int = Field(ge=1, le=100)
    district: District = None


class ShortTermCheck(_Body):
    use: Use
    starts_on: date
    ends_on: date
    land_kind: Literal["reserve", "supplied_unused"] = "reserve"
    permanent_buildings: bool = False


class UrbanRenewalCheck(_Body):
    base_floor_area_m2: Area
    public_service_floor_area_m2: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


def _polygon(value: dict[str, Any], where: str) -> BaseGeometry:
    try:
        geom = shape(value)
    except Exception:  # shapely raises several kinds for malformed GeoJSON
        geom = None
    if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
        raise InvalidInput(
            [RecordProblem(where, "须为有效的面 (GeoJSON Polygon) / a valid polygon", "geometry")]
        )
    return geom


class SplitUnitBody(_Body):
    geometry: dict[str, Any]
    floor_area_m2: Area


class SplitCheck(_Body):
    use: Use
    m0: bool = False
    geometry: dict[str, Any]
    area_m2: Area
    floor_area_m2: Area
    units: list[SplitUnitBody] = Field(min_length=2, max_length=200)

    @field_validator("geometry")
    @classmethod
    def _has_type(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("type"), str) or not value["type"]:
            raise ValueError("geometry needs a GeoJSON type")
        return value


def cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def check(kind: str, body: _Body, policy: Policy, on: date) -> dict[str, Any]:
    """Run one stock-land check over a request body."""
    if isinstance(body, IdleCheck):
        verdict = assess_idle(
            IdleFacts(body.agreed_start, body.started_on, on, body.land_price), policy
        )
    elif isinstance(body, TransferCheck):
        verdict = assess_transfer(PreregistrationFacts(on=on, **body.model_dump()), policy)
    elif isinstance(body, RenewalCheck):
        verdict = assess_renewal(RenewalFacts(**body.model_dump()), policy)
    elif isinstance(body, ConversionCheck):
        verdict = assess_conversion(ConversionFacts(on=on, **body.model_dump()), policy)
    elif isinstance(body, ShortTermCheck):
        verdict = assess_short_term(ShortTermFacts(**body.model_dump()), policy, on)
    elif isinstance(body, UrbanRenewalCheck):
        verdict = assess_urban_renewal(UrbanRenewalFacts(on=on, **body.model_dump()), policy)
    elif isinstance(body, SplitCheck):
        units = tuple(
            SplitUnit(_polygon(u.geometry, f"unit {i + 1}"), cents(u.floor_area_m2))
            for i, u in enumerate(body.units)
        )
        facts = SplitFacts(body.use, body.m0, _polygon(body.geometry, "parcel"),
                           cents(body.area_m2), cents(body.floor_area_m2), units, on)  # fmt: skip
        verdict = assess_split(facts, policy)
    else:  # pragma: no cover - the router passes only the bodies above
        raise TypeError(kind)
    return verdict.to_dict()


CHECK_BODIES: dict[str, type[_Body]] = {
    "idle": IdleCheck,
    "transfer": TransferCheck,
    "renewal": RenewalCheck,
    "conversion": ConversionCheck,
    "short-term": ShortTermCheck,
    "urban-renewal": UrbanRenewalCheck,
    "split": SplitCheck,
}


class ConstructionBody(_Body):
    agreed_start_on: date
    started_on: date | None = None
    total_investment: Money | None = None
    investment_done: Money | None = None
    land_price: Money | None = None


class RenewalBody(_Body):
    years: int = Field(ge=1, le=100)
    applied_on: date
    floor_area_m2: Area
    district: District = None


class PreregistrationBody(_Body):
    buyer_name: str = Field(min_length=1, max_length=200)
    contract_signed_on: date
    buyer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class PreregistrationEndBody(_Body):
    kind: Literal["completed", "lapsed", "released"]
    registrable_since: date | None = None
    note: str | None = Field(default=None, max_length=2000)


class ShortTermUseBody(ShortTermCheck):
    parcel_code: str = Field(pattern=r"^\d{12}[GJZ][A-Z]\d{5}$")
    user_name: str = Field(min_length=1, max_length=200)

    def facts(self) -> ShortTermFacts:
        """The domain facts of this use."""
        return ShortTermFacts(self.use, self.starts_on, self.ends_on, self.land_kind,
                              self.permanent_buildings)  # fmt: skip


class SplitBody(_Body):
    floor_area_m2: Area
    units: list[SplitUnitBody] = Field(min_length=2, max_length=200)

    def split_units(self) -> list[SplitUnit]:
        """The units as domain objects (geometry checked, floor areas in 0.01 m²)."""
        return [
            SplitUnit(_polygon(u.geometry, f"unit {i + 1}"), cents(u.floor_area_m2))
            for i, u in enumerate(self.units)
        ]
