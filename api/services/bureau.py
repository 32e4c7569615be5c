"""The bureau map page and its slope overlay: verdicts of stored parcels, layers, DEM slope."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
from sqlalchemy.orm import Session

from geodata.context import context_for, dem_path, dem_window, search_box
from geodata.screening import needs_of, stored_parcels
from geodata.screening.details import verdict_details
from geodata.services.parcels import ParcelFilter, count_parcels, parse_bbox
from geodata.settings import Settings
from landmarket.eligibility.measure import LANDUSE, SLOPE
from landmarket.errors import InvalidInput, NotFound, RecordProblem
from landmarket.policy import policy_from_settings
from maps.bureau import LAYER_STYLES, render_bureau_page
from maps.slope_overlay import grade_labels, slope_png

SLOPE_URL = "/api/v1/dem/slope.png"
MAX_SLOPE_EXTENT_DEG = 0.5


def bureau_page(
    session: Session,
    settings: Settings,
    check: str,
    village_code: str | None,
    on: date | None,
    site_only: bool,
) -> str:
    """HTML of /maps/bureau: the first map_max_parcels parcels (public facts only)."""
    policy = policy_from_settings(settings, on)
    frame = stored_parcels(
        session, village_code=village_code, personal=False, limit=settings.map_max_parcels
    )
    total = count_parcels(session, ParcelFilter(village_code=village_code))[0]
    layers: dict[str, gpd.GeoDataFrame | None] = {}
    slope = None
    if len(frame):
        box = tuple(float(v) for v in frame.total_bounds)
        needs = needs_of([check])
        context = context_for(session, box, parcels=LANDUSE in needs, dem=SLOPE in needs)
        frame = verdict_details(frame, context, check, policy, site_only=site_only)
        for kind in LAYER_STYLES:
            layer = context.layer(kind)
            layers[kind] = layer.frame if layer is not None else None
        view = tuple(round(v, 6) for v in search_box(box))
        if dem_path(session, view) is not None:
            url = f"{SLOPE_URL}?bbox={','.join(f'{v:.6f}' for v in view)}"
            slope = (url, [[view[1], view[0]], [view[3], view[2]]])
    else:
        frame = frame.assign(verdict=[], reasons=[], area_m2=[], land_use=[])
    return render_bureau_page(
        frame,
        check,
        layers,
        slope,
        grade_labels(policy.value("reclamation.slope_grades")),
        basemap=settings.basemap,
        tianditu_token=settings.tianditu_token,
        total=total,
        policy_version=policy.version,
    )


def slope_image(session: Session, settings: Settings, bbox: str) -> bytes:
    """PNG of the slope grades of the stored DEM over a bbox (EPSG:4490)."""
    b = parse_bbox(bbox)
    box = (b.minx, b.miny, b.maxx, b.maxy)
    if max(b.maxx - b.minx, b.maxy - b.miny) > MAX_SLOPE_EXTENT_DEG:
        raise InvalidInput(
            [RecordProblem("query", f"范围超过 {MAX_SLOPE_EXTENT_DEG}° / bbox too large", "bbox")]
        )
    dem = dem_window(session, box)
    if dem is None:
        raise NotFound(f"该范围没有数字高程模型 / no DEM stored over {bbox}")
    grades = policy_from_settings(settings).value("reclamation.slope_grades")
    return slope_png(dem, box, grades)
