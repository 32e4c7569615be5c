"""Farm and forest parcels tiling the land left between built features; land use from terrain."""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from rasterio import features as rfeatures
from shapely import STRtree
from shapely.geometry import Polygon

from geodata.sample.spec import Grid

MIN_PIECE_M2 = 30.0  # smaller leftovers between features stay unparcelled


def zonal_means(geoms: np.ndarray, grid: Grid, *arrays: np.ndarray) -> list[np.ndarray]:
    """Mean of each array under each (non-overlapping) polygon; point sample where no cell centre falls inside."""
    transform = Affine(grid.cell, 0.0, grid.x0, 0.0, -grid.cell, grid.y0)
    ids = rfeatures.rasterize(
        ((g, i + 1) for i, g in enumerate(geoms)),
        out_shape=(grid.rows, grid.cols),
        transform=transform,
        fill=0,
        dtype="int32",
    ).ravel()
    counts = np.bincount(ids, minlength=len(geoms) + 1)[1:]
    pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
    r, c = grid.index(pts[:, 0], pts[:, 1])
    out = []
    for arr in arrays:
        sums = np.bincount(ids, weights=arr.ravel().astype(np.float64), minlength=len(geoms) + 1)[
            1:
        ]
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), arr[r, c])
        out.append(mean)
    return out


def seed_points(
    township: Polygon, grid: Grid, slope: np.ndarray, relief: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Voronoi seeds: dense on valley floors (small paddies), sparse on steep ridges (big forest lots)."""
    step = 35.0
    xmin, ymin, xmax, ymax = township.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, step), np.arange(ymin, ymax, step))
    pts = np.column_stack((gx.ravel(), gy.ravel())) + rng.uniform(-0.45, 0.45, (gx.size, 2)) * step
    pts = pts[shapely.contains_xy(township, pts[:, 0], pts[:, 1])]
    r, c = grid.index(pts[:, 0], pts[:, 1])
    s, h = slope[r, c], relief[r, c]
    target = np.select(
        [(s < 6) & (h < 20), s < 15, s < 25],
        [8000.0, 12000.0, 22000.0],
        default=60000.0,
    )
    keep = rng.random(len(pts)) < step * step / target
    return pts[keep]


def partition(
    township: Polygon,
    villages: list[Polygon],
    built: np.ndarray,
    seeds: np.ndarray,
    grid_size: float = 0.001,
) -> tuple[list, np.ndarray, np.ndarray, list]:
    """An exact planar partition of the township into built features and farm pieces.

    Every boundary (township, villages, built features, Voronoi cells of the seeds) is noded on a
    1 mm grid and polygonised, and each face goes to the built feature or the (cell, village)
    holding it. Neighbours therefore share identical edges: no overlaps and no slivers between them.
    Returns (built geometries, farm pieces, farm village index, village geometries).
    """
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(seeds), extend_to=township.envelope.buffer(100.0), ordered=True
        )
    )
    cells = shapely.intersection(cells, township)
    lines = np.concatenate(
        [
            shapely.boundary(np.asarray([township, *villages], dtype=object)),
            shapely.boundary(built),
            shapely.boundary(cells),
        ]
    )
    noded = shapely.union_all(lines[~shapely.is_empty(lines)], grid_size=grid_size)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    pts = shapely.point_on_surface(faces)
    inside = shapely.contains_xy(township, *shapely.get_coordinates(pts).T)
    faces, pts = faces[inside], pts[inside]

    def owner_of(polys: np.ndarray) -> np.ndarray:
        fi, pi = STRtree(polys).query(pts, predicate="within")
        out = np.full(len(faces), -1, dtype=np.int64)
        out[fi] = pi
        return out

    b_owner = owner_of(np.asarray(built, dtype=object))
    v_owner = owner_of(np.asarray(villages, dtype=object))
    c_owner = owner_of(cells)
    v_owner[v_owner < 0] = 0  # hair-thin faces on a border: any side will do

    def dissolve(mask: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, list]:
        order = np.flatnonzero(mask)[np.argsort(keys[mask], kind="stable")]
        k = keys[order]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        groups = np.split(order, starts[1:])
        return k[starts], [shapely.coverage_union_all(faces[g]) for g in groups]

    bk, bgeoms = dissolve(b_owner >= 0, b_owner)
    built_out = list(np.asarray(built, dtype=object))
    for key, geom in zip(bk, bgeoms, strict=True):
        built_out[key] = geom
    farm = (b_owner < 0) & (c_owner >= 0)
    fk, fgeoms = dissolve(farm, c_owner * len(villages) + v_owner)
    parts, idx = shapely.get_parts(np.asarray(fgeoms, dtype=object), return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= MIN_PIECE_M2)
    vk, vgeoms = dissolve(np.ones(len(faces), dtype=bool), v_owner)
    return built_out, parts[keep], (fk % len(villages))[idx[keep]], vgeoms


def classify(
    slope: np.ndarray,
    relief: np.ndarray,
    elevation: np.ndarray,
    forest_above: float,
    u: np.ndarray,
    v: np.ndarray,
) -> np.ndarray:
    """GB/T 21010 code per parcel from mean slope (°), height above the valley floor and elevation.

    u and v are uniform in [0, 1) but spatially correlated, so uses come in patches like real farms.
    """
    code = np.full(len(slope), "0301", dtype=object)
    floor = (slope < 6) & (relief < 20)
    gentle = ~floor & (slope < 8)
    low_mid = (slope >= 8) & (slope < 15)
    mid = (slope >= 15) & (slope < 25)
    code[floor] = np.where(u[floor] < 0.86, "0101", np.where(u[floor] < 0.98, "0103", "0201"))
    code[gentle] = np.where(u[gentle] < 0.45, "0101", np.where(u[gentle] < 0.92, "0103", "0201"))
    code[low_mid] = np.select(
        [u[low_mid] < 0.15, u[low_mid] < 0.70, u[low_mid] < 0.82], ["0101", "0103", "0201"], "0301"
    )
    code[mid] = np.select([u[mid] < 0.22, u[mid] < 0.45], ["0201", "0103"], "0301")
    steep = slope >= 25
    code[steep] = np.where(v[steep] < 0.04, "0305", "0301")
    code[(elevation >= forest_above)] = "0301"
    code[(code == "0301") & (slope < 20) & (v < 0.12)] = "0302"  # bamboo groves on the lower slopes
    return code


def correlated_uniform(geoms: np.ndarray, grid: Grid, field: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) scores by rank of a smooth noise field under each parcel."""
    pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
    r, c = grid.index(pts[:, 0], pts[:, 1])
    ranks = np.argsort(np.argsort(field[r, c], kind="stable"), kind="stable")
    return (ranks + 0.5) / len(ranks)
