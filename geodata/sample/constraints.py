"""Three zones and three lines (PBF, red line, UDB) and the village plan of the sample township."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features as rfeatures
from shapely.geometry import Polygon

from geodata.sample.placing import polygonal
from geodata.sample.spec import Grid

# GB/T 21010 land use → 用地用海分类 zone of the village plan where the plan keeps today's use.
PLAN_OF_USE = {
    "0101": "0101",
    "0103": "0103",
    "0201": "0103",
    "0301": "0301",
    "0302": "0301",
    "0305": "0301",
    "1104": "0101",
    "1101": "1701",
    "1006": "060101",  # 农村道路 → 村道用地 (1202 is 公路用地)
    "1003": "1202",
    "0702": "0703",
    "0601": "1001",
    "0604": "1101",
    "0501": "09",
    "1201": "0103",  # idle construction land is planned for reclamation
}


def pbf_patches(parcels: pd.DataFrame, udb: Polygon, rng: np.random.Generator) -> list[Polygon]:
    """Permanent basic farmland: most valley-floor paddy (and some dry land) outside the UDB."""
    use, slope = parcels["land_use_code"].to_numpy(), parcels["slope_mean"].to_numpy()
    u = rng.random(len(parcels))
    chosen = ((use == "0101") & (slope < 8) & (u < 0.92)) | (
        (use == "0103") & (slope < 6) & (u < 0.5)
    )
    # Parcels share exact edges, so the fast coverage union applies.
    merged = shapely.difference(
        shapely.coverage_union_all(parcels["geometry"].to_numpy()[chosen]), udb
    )
    patches = [shapely.normalize(p) for p in shapely.get_parts(merged) if p.area >= 200.0]
    # Reading order (north to south, west to east), whatever order the union produced.
    key = shapely.get_coordinates(shapely.point_on_surface(np.asarray(patches, dtype=object)))
    return [patches[i] for i in np.lexsort((key[:, 0], -key[:, 1]))]


def redline_polygons(
    dem: np.ndarray, grid: Grid, township: Polygon, threshold: float, keep_clear: list
) -> list[Polygon]:
    """Ecological red line: the forested crest of the high ridge above `threshold` metres."""
    transform = Affine(grid.cell, 0.0, grid.x0, 0.0, -grid.cell, grid.y0)
    mask = (dem >= threshold).astype("uint8")
    shapes = [
        shapely.geometry.shape(g)
        for g, v in rfeatures.shapes(mask, mask=mask == 1, transform=transform)
        if v == 1
    ]
    area = max(shapes, key=lambda s: s.area)  # the high ridge only
    area = area.buffer(40.0, join_style="round").buffer(-40.0).simplify(4.0)
    area = shapely.intersection(area, township.buffer(-1.0))
    if keep_clear:
        area = shapely.difference(
            area, shapely.union_all(shapely.buffer(np.asarray(keep_clear), 20.0))
        )
    return [p for p in shapely.get_parts(area) if p.area > 10_000.0]


def village_plan(
    villages: list[Polygon],
    parcels: pd.DataFrame,
    udb: Polygon,
    designated: list[tuple[Polygon, str]],
) -> pd.DataFrame:
    """Plan zones (用地用海分类) tiling each village outside the UDB.

    Designated zones (industrial park, M0, homestead areas, zones around operational plots) take
    precedence; elsewhere the plan keeps today's use. Inside the UDB the town's detailed plan rules,
    so the village plan does not cover it.
    """
    geoms = parcels["geometry"].to_numpy()
    codes = parcels["land_use_code"].map(PLAN_OF_USE).fillna("0103").to_numpy()
    vidx = parcels["village_index"].to_numpy()
    resolved, done = [], Polygon()
    for geom, code in designated:  # earlier zones win where zones overlap
        resolved.append((polygonal(shapely.difference(geom, done)), code))
        done = polygonal(shapely.union(done, geom))
    rows = []
    for k, village in enumerate(villages):
        area = shapely.difference(village, udb)
        for geom, code in resolved:
            zone = polygonal(shapely.intersection(geom, area))
            if zone.area > 1.0:
                rows.append((k, code, zone))
        taken = polygonal(shapely.intersection(done, area))
        for code in sorted(set(codes[vidx == k])):
            sel = (vidx == k) & (codes == code)
            zone = polygonal(
                shapely.difference(
                    shapely.intersection(shapely.coverage_union_all(geoms[sel]), area), taken
                )
            )
            if zone.area > 1.0:
                rows.append((k, code, zone))
                taken = polygonal(shapely.union(taken, zone))
        rest = shapely.difference(area, taken)
        if rest.area > 0.01:  # unparcelled slivers between features go to the forest/other zone
            rows.append((k, "0301", rest))
    frame = pd.DataFrame(rows, columns=["village_index", "plan_code", "geometry"])
    frame["geometry"] = [polygonal(g) for g in frame["geometry"]]
    frame = frame.groupby(["village_index", "plan_code"], as_index=False, sort=True).agg(
        geometry=("geometry", lambda s: shapely.union_all(s.to_numpy()))
    )
    return frame
