"""The approval route on plain arrays (the API's path) gives what the frame path gives, bit for bit."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from landmarket.areas import gk_values, to_cgcs2000, to_gk, zones_of, zones_of_values
from landmarket.eligibility import approval_route
from landmarket.eligibility.approval_route import route_of_plots
from landmarket.eligibility.columns import Columns
from landmarket.eligibility.context import ArrayLayer, ConstraintContext, ConstraintLayer
from landmarket.policy import load_policy
from tests.eligibility_helpers import AFTER_PLAN, frame, rect

POLICY = load_policy(AFTER_PLAN)


def _coords(geoms: np.ndarray) -> np.ndarray:
    return shapely.get_coordinates(geoms, include_z=True)


def _shapes(seed: int, n: int = 120) -> np.ndarray:
    """Polygons, multipolygons and 3D polygons around Chongqing (EPSG:4490)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        x, y = 105.0 + rng.random() * 4, 28.5 + rng.random() * 3
        p = shapely.Point(x, y).buffer(
            0.001 + rng.random() * 0.01, quad_segs=int(rng.integers(1, 6))
        )
        if k % 5 == 0:
            p = shapely.MultiPolygon([p, shapely.Point(x + 0.05, y).buffer(0.002)])
        if k % 7 == 0:
            p = shapely.force_3d(p, 12.5)
        out.append(p)
    return np.array(out, dtype=object)


def test_projection_of_arrays_is_geopandas_to_crs_bit_for_bit():
    geoms = _shapes(3)
    series = gpd.GeoSeries(geoms, crs=4490)
    assert (zones_of_values(geoms) == zones_of(series)).all()
    for zone in (34, 35, 36, 37):
        expected = np.asarray(to_gk(series, zone).values)
        got = gk_values(geoms, zone)
        assert np.array_equal(_coords(got), _coords(expected), equal_nan=True)
        assert (shapely.get_type_id(got) == shapely.get_type_id(expected)).all()
    wgs84 = np.asarray(series.to_crs(4326).values)
    expected = np.asarray(gpd.GeoSeries(wgs84, crs=4326).to_crs(4490).values)
    got = to_cgcs2000(wgs84, CRS.from_epsg(4326))
    assert np.array_equal(_coords(got), _coords(expected), equal_nan=True)


def test_array_layer_keeps_near_features_exactly_as_the_frame_layer_resolves_them():
    # Overlapping squares (first wins), one invalid bow-tie, one empty; two boxes to measure in.
    rng = np.random.default_rng(5)
    squares = [
        rect(rng.random() * 900, rng.random() * 900, 60 + rng.random() * 80, 70) for _ in range(80)
    ]
    bowtie = shapely.Polygon(
        [(560100, 3290100), (560200, 3290200), (560200, 3290100), (560100, 3290200)]
    )
    gk = [*squares, bowtie, shapely.Polygon()]
    layer = frame(gk, fid=list(range(len(gk))))
    whole = ConstraintLayer(layer, None, "parcels")
    near = np.array([[105.62, 29.73, 105.624, 29.733], [105.626, 29.736, 105.628, 29.737]])
    plain = ArrayLayer(np.asarray(layer.geometry.values), None, "parcels",
                       {"fid": layer["fid"].to_numpy(dtype=object)}, near=near)  # fmt: skip
    boxes = shapely.box(near[:, 0], near[:, 1], near[:, 2], near[:, 3])
    expected_fids = [
        f for f, g in zip(whole.frame["fid"], whole.frame.geometry, strict=True)
        if shapely.intersects(shapely.envelope(g), boxes).any()
    ]  # fmt: skip
    assert 5 < len(expected_fids) < len(whole.frame)  # the test leaves some features out
    assert list(plain.columns["fid"]) == expected_fids
    by_fid = dict(zip(whole.frame["fid"], whole.frame.geometry, strict=True))
    for fid, geom in zip(plain.columns["fid"], plain.geoms, strict=True):
        assert shapely.equals_exact(geom, by_fid[fid], tolerance=0), fid
    zone = 35
    assert np.array_equal(
        _coords(plain.in_zone(zone).geoms),
        _coords(whole.in_zone(zone).geoms[np.isin(whole.frame["fid"], expected_fids)]),
        equal_nan=True,
    )


def test_route_of_plots_on_arrays_equals_the_frame_route_for_every_project():
    pbf = [rect(600, 0, 200, 200), rect(650, 150, 100, 100)]  # overlapping: first wins
    landuse = [(rect(-500, -500, 1000, 2500), "0103"), (rect(500, -500, 1000, 2500), "0301"),
               (rect(480, 300, 60, 60), "0702")]  # fmt: skip
    cover = rect(-300, -300, 1400, 1400)
    gdf = frame([g for g, _ in landuse], land_use=[c for _, c in landuse])
    cov = frame([cover]).geometry.iloc[0]
    pbf_frame = frame(pbf)
    frames = ConstraintContext.build(pbf=(pbf_frame, cov), parcels=gdf)
    projects = [
        ([rect(100, 100, 100, 100)], {"level": "village"}),
        ([rect(590, 10, 50, 50), rect(100, 700, 100, 100.01)], {"level": "township", "category": "energy"}),
        ([rect(450, 280, 120, 90)], {"level": "other", "expropriation": True}),
        ([rect(1200, 1200, 300, 300)], {"level": "village", "category": "water"}),  # outside coverage
    ]  # fmt: skip
    for plots, project in projects:
        posted = frame(plots)
        geoms = np.asarray(posted.geometry.values)
        near = shapely.bounds(geoms) + np.array([-1e-5, -1e-5, 1e-5, 1e-5])
        arrays = ConstraintContext(
            pbf=ArrayLayer(np.asarray(pbf_frame.geometry.values), cov, "pbf", near=near),
            parcels=ArrayLayer(np.asarray(gdf.geometry.values), None, "parcels",
                               {"land_use": gdf["land_use"].to_numpy(dtype=object)}, near=near),
        )  # fmt: skip
        expected = approval_route(project, posted, frames, policy=POLICY).to_dict()
        assert route_of_plots(project, geoms, arrays, policy=POLICY).to_dict() == expected


def test_columns_behave_as_the_frame_columns_the_rules_read():
    row = {"area_m2": 12.5, "plot_count": 2, "project_level": "village", "expropriation": False}
    cols = Columns.one(row)
    frame_row = pd.DataFrame([row])
    assert len(cols) == 1 and cols.columns == list(frame_row.columns)
    for name in row:
        assert cols[name].dtype == (
            object if frame_row[name].dtype == "str" else frame_row[name].dtype
        )
    copy = cols.copy()
    copy["extra"] = 3.0
    assert "extra" in copy and "extra" not in cols
    assert copy.row(0)["extra"] == 3.0
    with pytest.raises(ValueError, match="2 values for 1 rows"):
        copy["bad"] = np.array([1.0, 2.0])


def test_posted_plots_are_made_once_from_the_request_model(monkeypatch):
    """The request model makes each plot's geometry while checking it; the service takes those,
    and gives what making them again gives (and, in another CRS, what reprojecting gives)."""
    from geodata.services import checks
    from geodata.services.check_models import ApprovalRouteRequest
    from geodata.settings import get_settings

    plots = [
        shapely.Point(106.5 + k * 0.002, 29.5).buffer(0.0008, quad_segs=k + 1) for k in range(5)
    ]
    plots.append(
        shapely.MultiPolygon(
            [
                shapely.box(106.52, 29.5, 106.521, 29.501),
                shapely.box(106.523, 29.5, 106.524, 29.501),
            ]
        )
    )
    features = [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)}
        for g in plots
    ]
    body = ApprovalRouteRequest.model_validate(
        {"project": {"level": "village", "category": "other"},
         "plots": {"type": "FeatureCollection", "features": features}}
    )  # fmt: skip
    made = [f.geometry.shape for f in body.plots.features]
    assert all(a.equals_exact(b, 0) for a, b in zip(made, plots, strict=True))
    calls = []
    monkeypatch.setattr(checks, "shape", lambda g: calls.append(g) or shapely.geometry.shape(g))
    geoms, _ = checks._route_inputs(get_settings(), body, None, None)
    assert calls == [] and all(a is b for a, b in zip(geoms, made, strict=True))
    again = checks.posted_plots([f.model_dump() for f in body.plots.features], None, None)
    assert len(calls) == len(plots)
    assert all(a.equals_exact(b, 0) for a, b in zip(again, geoms, strict=True))
    projected, _ = checks._route_inputs(get_settings(), body, "EPSG:4326", None)
    assert len(calls) == len(plots)  # not made again for another CRS either
    assert not any(a is b for a, b in zip(projected, made, strict=True))
