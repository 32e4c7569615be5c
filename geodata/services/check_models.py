"""Request models of the eligibility checks, shared by the API and the pages (shown in /docs)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import shapely.geometry
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    model_validator,
)

CrsMember = dict[str, Any] | str
ON_FIELD = Field(
    None, description="按此日期生效的政策审查 / check under the policy in force on this date"
)
CRS_FIELD = Field(
    None,
    description="坐标系: 'EPSG:4490'(默认)、'EPSG:4326' 或 GeoJSON 2008 的 crs 成员 / CRS: "
    "EPSG:4490 (default), EPSG:4326 or a GeoJSON 2008 crs member",
)


GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


class Geometry(BaseModel):
    """A GeoJSON geometry (a Polygon or MultiPolygon for a parcel)."""

    type: GeometryType = Field(..., examples=["Polygon"])
    coordinates: Any
    _shape: Any = PrivateAttr(default=None)  # what _readable made (not part of the JSON)

    @property
    def shape(self) -> Any:
        """The shapely geometry of these coordinates (made once, when the model was checked)."""
        return self._shape

    @model_validator(mode="after")
    def _readable(self) -> Geometry:
        """Coordinates that make a geometry of the type (parsed, not yet checked as a parcel)."""
        try:
            self._shape = shapely.geometry.shape(self.model_dump())
        except Exception as exc:  # shapely raises many kinds on malformed coordinates
            raise ValueError(
                f"坐标无法构成 {self.type} / coordinates do not make a {self.type}: {exc}"
            ) from None
        return self


class CheckProperties(BaseModel):
    """Facts of a parcel or an application the rules read; every one may be left out."""

    model_config = ConfigDict(extra="allow")

    parcel_code: str | None = Field(None, description="宗地代码 (GB/T 37346, 19 位)")
    land_use: str | None = Field(None, description="地类编码 GB/T 21010, e.g. 0601, 0702")
    registered: bool | None = Field(None, description="已登记 / registered")
    disputed: bool | None = Field(None, description="权属争议 / ownership disputed")
    consent_ratio: float | None = Field(None, ge=0, le=1, description="同意比例 / consent share")
    consent_for: int | None = Field(None, ge=0, description="同意票数 / votes in favour")
    consent_total: int | None = Field(None, gt=0, description="应到票数 / votes in total")
    intended_use: str | None = Field(
        None, description="拟用途 / intended use: industrial, commercial, tourism, ..."
    )
    method: str | None = Field(None, description="入市方式 / transfer | lease | equity")
    term_years: float | None = Field(None, gt=0, description="申请年期 / requested term")
    legal_area_m2: float | None = Field(None, ge=0, description="合法宅基地面积 / legal area")
    ticket_mu: float | None = Field(None, ge=0, description="拟用地票面积 (亩) / ticket area")
    ticket_m2: float | None = Field(None, ge=0, description="拟用地票面积 (m²) / ticket area")
    landing_use: str | None = Field(None, description="落地用途 / operational|industrial|allocated")


class ParcelFeature(BaseModel):
    """A parcel drawn by the caller: a GeoJSON Feature with the facts as properties."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    geometry: Geometry
    properties: CheckProperties | None = None
    crs: CrsMember | None = CRS_FIELD
    on: date | None = ON_FIELD


class StoredParcelCheck(BaseModel):
    """A stored parcel by its code, with the application facts the stored data lack."""

    model_config = ConfigDict(extra="forbid")

    parcel_code: str = Field(..., min_length=19, max_length=19, examples=["500111001001JB00001"])
    properties: CheckProperties | None = Field(
        None, description="申请事项 (同意比例、用途、年期…) / application facts"
    )
    on: date | None = ON_FIELD


def _check_kind(body: Any) -> str:
    """Which request a body is: a drawn feature unless it names a stored parcel without one."""
    if isinstance(body, dict):
        stored = "parcel_code" in body and "geometry" not in body and "type" not in body
        return "stored" if stored else "feature"
    return "stored" if isinstance(body, StoredParcelCheck) else "feature"


# Tagged, so a bad body is refused naming the fields of the request it is, not of both.
CheckRequest = Annotated[
    Annotated[ParcelFeature, Tag("feature")] | Annotated[StoredParcelCheck, Tag("stored")],
    Discriminator(_check_kind),
]


class Project(BaseModel):
    """A construction project: its level and category decide delegation and the parallel path."""

    level: Literal["township", "village", "other"] = Field(..., description="乡镇/村/其他")
    category: Literal["energy", "transport", "water", "other"] = "other"
    expropriation: bool = Field(
        False,
        description="是否征收集体土地(否: 集体土地保持集体所有, 只需农用地转用审批) / does the "
        "project expropriate collective land (false: the land stays collective, conversion only)",
    )


class PlotFeature(BaseModel):
    """One plot of a project."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    geometry: Geometry
    properties: dict[str, Any] | None = None


class FeatureCollection(BaseModel):
    """GeoJSON FeatureCollection of a project's plots."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[PlotFeature]
    crs: CrsMember | None = CRS_FIELD


class ApprovalRouteRequest(BaseModel):
    """A project and its plots; the route is decided from stored land use and PBF."""

    project: Project
    plots: FeatureCollection
    on: date | None = ON_FIELD
    crs: CrsMember | None = CRS_FIELD
