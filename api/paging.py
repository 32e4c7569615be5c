"""Query-parameter dependencies shared by list endpoints: pagination, bbox, parcel filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from api.params import Offset
from geodata.db.tables import OWNERSHIPS
from geodata.services.parcels import ParcelFilter, parse_bbox
from landmarket.codes import VILLAGE_CODE_PATTERN


@dataclass(frozen=True)
class Page:
    """limit/offset of one page."""

    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="每页条数 / page size")] = 100,
    offset: Offset = 0,
) -> Page:
    """Pagination parameters."""
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(page_params)]


def parcel_filter_params(
    bbox: Annotated[
        str | None,
        Query(
            description="minx,miny,maxx,maxy（EPSG:4490 经纬度）/ lon-lat box in EPSG:4490",
            examples=["105.70,29.69,105.74,29.72"],
        ),
    ] = None,
    land_use_code: Annotated[
        str | None, Query(pattern=r"^\d{2,8}$", description="地类编码 / GB/T 21010 code")
    ] = None,
    village_code: Annotated[
        str | None, Query(pattern=VILLAGE_CODE_PATTERN, description="村代码 / village code")
    ] = None,
    ownership: Annotated[
        str | None,
        Query(pattern="^(" + "|".join(OWNERSHIPS) + ")$", description="权属 / ownership"),
    ] = None,
    min_area_mu: Annotated[float | None, Query(ge=0, description="最小面积（亩）/ min mu")] = None,
    max_area_mu: Annotated[float | None, Query(ge=0, description="最大面积（亩）/ max mu")] = None,
) -> ParcelFilter:
    """Parcel search criteria; a malformed bbox is a 422 naming the bbox field."""
    return ParcelFilter(
        bbox=parse_bbox(bbox) if bbox else None,
        land_use_code=land_use_code,
        village_code=village_code,
        ownership=ownership,
        min_area_mu=min_area_mu,
        max_area_mu=max_area_mu,
    )


ParcelFilterDep = Annotated[ParcelFilter, Depends(parcel_filter_params)]


def feature_collection(
    request: Request,
    features: list[dict[str, Any]],
    total: int,
    estimated: bool,
    page: Page,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection page with total, next link and OGC-style links."""
    more = page.offset + len(features) < total or (estimated and len(features) == page.limit)
    next_url = (
        str(request.url.include_query_params(offset=page.offset + page.limit, limit=page.limit))
        if more and features
        else None
    )
    links = [{"rel": "self", "type": "application/geo+json", "href": str(request.url)}]
    if next_url:
        links.append({"rel": "next", "type": "application/geo+json", "href": next_url})
    return {
        "type": "FeatureCollection",
        "numberMatched": total,
        "numberReturned": len(features),
        "total": total,
        "total_is_estimate": estimated,
        "limit": page.limit,
        "offset": page.offset,
        "next": next_url,
        "links": links,
        "features": features,
    }
