"""Request bodies and query parameters of the listings API (validated at the edge, bilingual docs)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from geodata.services.parcels import parse_bbox
from landmarket.codes import PARCEL_CODE_PATTERN, VILLAGE_CODE_PATTERN
from landmarket.listings import AssetKind, ListingQuery, ListingTerms, Method, SupplyMode


class ConsentIn(BaseModel):
    """村民会议表决 / the villagers' vote."""

    model_config = ConfigDict(extra="forbid")
    meeting_date: date | None = Field(None, description="会议日期 / meeting date")
    ratio: float | None = Field(None, ge=0, le=1, description="同意比例 / share in favour")
    votes_for: int | None = Field(None, ge=0, description="同意票数 / votes in favour")
    votes_total: int | None = Field(None, gt=0, description="表决总人数 / votes cast")


class ContactIn(BaseModel):
    """联系人(村集体) / the collective's contact."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)


class TermsIn(BaseModel):
    """挂牌条件 / listing terms (prices: give the total, the price per mu, or both)."""

    model_config = ConfigDict(extra="forbid")
    asset_kind: AssetKind = AssetKind.operational_land
    method: Method
    supply_mode: SupplyMode
    intended_uses: list[str] = Field(min_length=1, description="用途 / uses, e.g. industrial")
    term_years: int = Field(gt=0, description="年期 / term in years")
    lease_years: int | None = Field(
        None, gt=0, description="先租后让的租期 / lease before transfer"
    )
    reserve_price_total: float | None = Field(None, gt=0, description="底价总额(元) / yuan")
    price_per_mu: float | None = Field(None, gt=0, description="每亩底价(元) / yuan per mu")
    consent: ConsentIn = Field(default_factory=ConsentIn)
    contact: ContactIn | None = None
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    dispute_free: bool | None = Field(None, description="无权属争议声明 / no dispute pending")

    def terms(self) -> ListingTerms:
        """The domain terms."""
        return ListingTerms.from_dict(self.model_dump(mode="json"))


class ListingIn(TermsIn):
    """新挂牌 / a new listing of one parcel."""

    parcel_code: str = Field(pattern=PARCEL_CODE_PATTERN, description="宗地代码 / parcel code")


class ListingPatch(BaseModel):
    """修改草稿 / changes to a draft (only the fields given)."""

    model_config = ConfigDict(extra="forbid")
    method: Method | None = None
    supply_mode: SupplyMode | None = None
    intended_uses: list[str] | None = Field(None, min_length=1)
    term_years: int | None = Field(None, gt=0)
    lease_years: int | None = Field(None, gt=0)
    reserve_price_total: float | None = Field(None, gt=0)
    price_per_mu: float | None = Field(None, gt=0)
    consent: ConsentIn | None = None
    contact: ContactIn | None = None
    title: str | None = None
    description: str | None = None
    dispute_free: bool | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller set."""
        return self.model_dump(mode="json", exclude_unset=True)


class InterestIn(BaseModel):
    """投资意向 / an expression of interest."""

    model_config = ConfigDict(extra="forbid")
    message: str | None = Field(None, max_length=5000)
    contact: dict[str, str] = Field(default_factory=dict, description="姓名、电话等 / name, phone…")


class SavedSearchIn(BaseModel):
    """保存的搜索 / a named search."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    criteria: dict[str, Any] = Field(default_factory=dict, description="同搜索参数 / search params")


def listing_query_params(
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (EPSG:4490)")] = None,
    min_area_mu: Annotated[float | None, Query(ge=0, description="最小面积(亩) / min mu")] = None,
    max_area_mu: Annotated[float | None, Query(ge=0, description="最大面积(亩) / max mu")] = None,
    use: Annotated[str | None, Query(description="用途 / intended use")] = None,
    min_term_years: Annotated[float | None, Query(ge=0, description="最短年期 / min term")] = None,
    max_term_years: Annotated[float | None, Query(ge=0, description="最长年期 / max term")] = None,
    min_price_per_mu: Annotated[float | None, Query(ge=0, description="每亩最低价 / yuan")] = None,
    max_price_per_mu: Annotated[float | None, Query(ge=0, description="每亩最高价 / yuan")] = None,
    supply_mode: Annotated[SupplyMode | None, Query(description="供应方式 / supply mode")] = None,
    method: Annotated[Method | None, Query(description="入市方式 / method")] = None,
    asset_kind: Annotated[AssetKind | None, Query(description="类型 / asset kind")] = None,
    district: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="区县代码 / county")
    ] = None,
    village_code: Annotated[str | None, Query(pattern=VILLAGE_CODE_PATTERN)] = None,
    near: Annotated[str | None, Query(description="lon,lat (EPSG:4490)")] = None,
    within_km: Annotated[float | None, Query(gt=0, description="距离(公里) / km from near")] = None,
) -> ListingQuery:
    """Search criteria from the query string (InvalidInput names the bad field)."""
    box = parse_bbox(bbox) if bbox else None
    point = _point(near) if near else None
    return ListingQuery(
        bbox=(box.minx, box.miny, box.maxx, box.maxy) if box else None,
        min_area_mu=min_area_mu, max_area_mu=max_area_mu, use=use,
        min_term_years=min_term_years, max_term_years=max_term_years,
        min_price_per_mu=min_price_per_mu, max_price_per_mu=max_price_per_mu,
        supply_mode=str(supply_mode) if supply_mode else None,
        method=str(method) if method else None,
        asset_kind=str(asset_kind) if asset_kind else None,
        district=district, village_code=village_code, near=point, within_km=within_km,
    )  # fmt: skip


def _point(text: str) -> tuple[float, float]:
    from landmarket.errors import InvalidInput, RecordProblem

    try:
        lon, lat = (float(p) for p in text.split(","))
    except ValueError:
        raise InvalidInput(
            [RecordProblem("query", "须为 lon,lat / must be lon,lat", "near")]
        ) from None
    return lon, lat


ListingQueryDep = Annotated[ListingQuery, Depends(listing_query_params)]
