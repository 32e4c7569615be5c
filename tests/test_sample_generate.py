"""`landmarket generate`: synthetic districts with exactly N parcels, valid codes and every layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from typer.testing import CliRunner

from cli.main import app
from geodata.sample.synthetic import generate_district
from geodata.sample.synthetic_grid import layout_for, quads
from landmarket.areas import areas_m2, gk_zone
from landmarket.codes import parse_parcel_code
from landmarket.landuse import PLANNING_CODES

LAYERS = {"parcels", "villages", "pbf", "redline", "udb", "village_plan", "coverage"}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("district")
    result = generate_district(2000, out, seed=11)
    assert result.parcels == 2000
    return out


def test_exactly_n_parcels_with_valid_unique_codes(district: Path) -> None:
    gpkg = district / "district.gpkg"
    assert {name for name, _ in pyogrio.list_layers(gpkg)} == LAYERS
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels")
    assert len(parcels) == 2000 and parcels.crs.to_epsg() == 4490
    assert parcels["parcel_code"].is_unique
    villages = set(pyogrio.read_dataframe(gpkg, layer="villages")["code"])
    for code, village in zip(parcels["parcel_code"], parcels["village_code"], strict=True):
        parse_parcel_code(code)
        assert code.startswith(village) and village in villages
    assert shapely.is_valid(parcels.geometry.values).all()
    assert np.allclose(parcels["area_m2"], areas_m2(parcels.geometry), atol=0.01)


def test_parcels_do_not_overlap_and_mix_land_uses(district: Path) -> None:
    parcels = pyogrio.read_dataframe(district / "district.gpkg", layer="parcels")
    metric = parcels.to_crs(4544).geometry.values
    a, b = shapely.STRtree(metric).query(metric, predicate="intersects")
    overlap = shapely.area(shapely.intersection(metric[a[a < b]], metric[b[a < b]]))
    assert overlap.max() <= 0.01
    uses = set(parcels["land_use_code"])
    assert {"0101", "0103", "0301", "0702", "1006"} <= uses
    assert uses & {"0601", "0604", "0501"}
    homes = parcels[parcels["land_use_code"] == "0702"]
    assert homes["household_id"].notna().all()
    anc = homes[homes["ancillary"]]
    owners = parcels.set_index("parcel_code").loc[anc["attached_to"]]
    assert (owners["land_use_code"] == "0702").all()


def test_layers_and_dem(district: Path) -> None:
    gpkg = district / "district.gpkg"
    plan = pyogrio.read_dataframe(gpkg, layer="village_plan")
    assert set(plan["plan_code"]) <= set(PLANNING_CODES)
    assert len(pyogrio.read_dataframe(gpkg, layer="pbf")) > 0
    assert len(pyogrio.read_dataframe(gpkg, layer="udb")) > 0
    coverage = pyogrio.read_dataframe(gpkg, layer="coverage")
    assert set(coverage["layer"]) == {"pbf", "redline", "udb", "village_plan"}
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels")
    with rasterio.open(district / "dem.tif") as src:
        assert src.crs.to_epsg() == 4490 and src.nodata is not None
        x0, y0, x1, y1 = parcels.total_bounds
        assert src.bounds.left <= x0 and src.bounds.right >= x1
        assert src.bounds.bottom <= y0 and src.bounds.top >= y1
        dem = src.read(1)
    assert dem.min() > 250 and dem.max() < 1000


def test_same_seed_same_district(district: Path, tmp_path: Path) -> None:
    generate_district(2000, tmp_path, seed=11)
    a = pyogrio.read_dataframe(district / "district.gpkg", layer="parcels")
    b = pyogrio.read_dataframe(tmp_path / "district.gpkg", layer="parcels")
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()


def test_large_layouts_span_two_gk_zones_inside_chongqing() -> None:
    layout = layout_for(1_000_000, seed=1)
    x = np.array([0.0, layout.width_m])
    lon, lat = layout.to_geographic.transform(x, np.array([0.0, layout.height_m]))
    assert list(gk_zone(np.asarray(lon))) == [35, 36]
    assert lon.min() > 105.18 and lon.max() < 110.2 and lat.min() > 28.15 and lat.max() < 32.2


def test_grid_cells_share_edges() -> None:
    layout = layout_for(3000, seed=3)
    x, y = layout.vertices(0, 4)
    rings = quads(x, y, np.array([0, 0, 1]), np.array([0, 1, 0]))
    polys = shapely.polygons(rings)
    assert shapely.intersection(polys[0], polys[1]).length > 0
    assert shapely.area(shapely.intersection(polys[0], polys[1])) == 0.0
    # Vertex rows shared by two chunks jitter identically.
    assert np.array_equal(layout.vertices(3, 4)[0][0], layout.vertices(0, 3)[0][-1])


def test_cli_generate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["generate", "--parcels", "300", "--out", str(tmp_path), "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert pyogrio.read_info(tmp_path / "district.gpkg", layer="parcels")["features"] == 300
