"""GeoPackage, GeoJSON and Shapefile: CRS, encodings, column names and Chinese values."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
import shapely
from geopandas import GeoDataFrame

from geodata.formats import format_of, read_layer, write_layer
from landmarket.areas import areas_m2
from landmarket.errors import InvalidInput
from tests.formats_helpers import DATA, E0, N0, frame_from_gk, gk_rect, max_shift_m

NAMES = ["宝兴村1组宅基地", "中敖镇集体经营性建设用地"]


def sample() -> GeoDataFrame:
    """Two parcels with Chinese attributes and the long column names our frames carry."""
    return frame_from_gk(
        [gk_rect(E0, N0, 100.0, 66.667), gk_rect(E0 + 150, N0, 60.0, 40.0)],
        parcel_code=["500111001002JC00012", "500111001002JB00013"],
        name=NAMES,
        land_use_code=["0702", "0601"],
        declared_area_ha=[0.6667, 0.24],
    )


def gbk_shapefile(tmp_path: Path, with_cpg: bool) -> Path:
    """A shapefile whose DBF holds GBK bytes, as Chinese desktop GIS software writes them."""
    path = tmp_path / "gbk.shp"
    frame = sample()[["name", "geometry"]]
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    dbf = path.with_suffix(".dbf").read_bytes()
    assert NAMES[0].encode("gbk") in dbf and NAMES[0].encode("utf-8") not in dbf
    cpg = path.with_suffix(".cpg")
    if with_cpg:
        assert cpg.read_text() == "GBK"
    else:
        cpg.unlink()
    return path


def test_format_from_extension_or_option() -> None:
    assert [format_of(f"a{ext}") for ext in (".gpkg", ".GeoJSON", ".json", ".SHP", ".txt")] == [
        "gpkg",
        "geojson",
        "geojson",
        "shp",
        "txt",
    ]
    assert format_of("a.dat", "GeoPackage") == "gpkg"
    with pytest.raises(InvalidInput, match="--to"):
        format_of("a.dat")
    with pytest.raises(InvalidInput, match="unsupported format"):
        format_of("a.gpkg", "kml")


def test_read_geojson_keeps_attributes_and_coordinates() -> None:
    result = read_layer(DATA / "parcels_4490.geojson")
    f = result.frame
    assert f.crs.to_epsg() == 4490
    assert list(f.columns) == ["parcel_code", "name", "land_use_code", "geometry"]
    assert list(f["name"]) == ["宝兴村1组宅基地", "宝兴村集体土地"]
    assert list(f["land_use_code"]) == ["0702", "0103"]  # leading zero kept: text, not a number
    raw = json.loads((DATA / "parcels_4490.geojson").read_text(encoding="utf-8"))
    first = raw["features"][0]["geometry"]["coordinates"][0][0]
    assert f.geometry[0].exterior.coords[0] == pytest.approx(tuple(first), abs=0)
    assert list(areas_m2(f.geometry)) == [6666.70, 2400.00]


def test_write_geojson_is_rfc7946(tmp_path: Path) -> None:
    path = tmp_path / "out.geojson"
    write_layer(sample(), path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc
    assert [ft["properties"]["name"] for ft in doc["features"]] == NAMES
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    assert 105 < ring[0][0] < 106 and 29 < ring[0][1] < 30  # lon, lat order
    assert shapely.LinearRing(ring).is_ccw  # RFC 7946 winding: exterior counter-clockwise
    # 12 decimals: GDAL's noise trimming at fewer digits moved vertices by 0.2 mm.
    assert max_shift_m(sample().geometry, read_layer(path).frame.geometry) < 1e-5


def test_geopackage_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.gpkg"
    write_layer(sample(), path)
    write_layer(sample(), path)  # replaces, never appends a second layer
    assert len(pyogrio.list_layers(path)) == 1
    back = read_layer(path)
    assert back.warnings == []
    assert pyogrio.read_info(path)["crs"] == "EPSG:4490"
    assert list(back.frame["name"]) == NAMES
    assert list(back.frame["declared_area_ha"]) == [0.6667, 0.24]
    assert back.frame.geometry.equals(sample().geometry)  # stored in 4490 as is


def test_shapefile_writes_utf8_with_cpg_and_restores_long_names(tmp_path: Path) -> None:
    path = tmp_path / "out.shp"
    write_layer(sample(), path)
    assert path.with_suffix(".cpg").read_text() == "UTF-8"
    assert NAMES[1].encode("utf-8") in path.with_suffix(".dbf").read_bytes()
    fields = list(pyogrio.read_info(path)["fields"])
    assert fields == ["ZDDM", "name", "lu_code", "decl_ha"]
    back = read_layer(path).frame
    assert list(back.columns) == [
        "parcel_code",
        "name",
        "land_use_code",
        "declared_area_ha",
        "geometry",
    ]
    assert list(back["name"]) == NAMES
    assert max_shift_m(sample().geometry, back.geometry) < 0.001


def test_gbk_shapefile_with_cpg(tmp_path: Path) -> None:
    result = read_layer(gbk_shapefile(tmp_path, with_cpg=True))
    assert list(result.frame["name"]) == NAMES
    assert result.warnings == []


def test_gbk_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    result = read_layer(gbk_shapefile(tmp_path, with_cpg=False))
    assert list(result.frame["name"]) == NAMES
    assert any("GB18030" in w for w in result.warnings)


def test_gbk_shapefile_without_cpg_with_explicit_encoding(tmp_path: Path) -> None:
    result = read_layer(gbk_shapefile(tmp_path, with_cpg=False), encoding="GBK")
    assert list(result.frame["name"]) == NAMES
    assert result.warnings == []


def test_utf8_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "u.shp"
    write_layer(sample(), path)
    path.with_suffix(".cpg").unlink()
    assert list(read_layer(path).frame["name"]) == NAMES


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_in_gk_metres(tmp_path: Path) -> None:
    path = tmp_path / "gk.shp"
    gk = sample()[["name", "geometry"]].to_crs(4523).set_crs(None, allow_override=True)
    pyogrio.write_dataframe(gk, path)
    assert not path.with_suffix(".prj").exists()
    result = read_layer(path)
    assert any("EPSG:4523" in w for w in result.warnings)
    assert max_shift_m(sample().geometry, result.frame.geometry) < 0.001


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_plain_gk_shapefile_without_prj_needs_a_zone(tmp_path: Path) -> None:
    path = tmp_path / "plain.shp"
    plain = sample()[["name", "geometry"]].to_crs(4544).set_crs(None, allow_override=True)
    pyogrio.write_dataframe(plain, path)
    with pytest.raises(InvalidInput, match="--zone"):
        read_layer(path)
    assert max_shift_m(sample().geometry, read_layer(path, zone=35).frame.geometry) < 0.001


def test_geojson_holding_gk_metres_without_crs_member() -> None:
    result = read_layer(DATA / "gk35_prefixed_nocrs.geojson")
    assert float(areas_m2(result.frame.geometry)[0]) == 6666.70
    assert result.frame.geometry[0].bounds[0] == pytest.approx(105.72, abs=1e-6)


def test_geojson_with_swapped_lat_lon_rejected() -> None:
    with pytest.raises(InvalidInput) as exc:
        read_layer(DATA / "swapped_latlon.geojson")
    assert [p.record for p in exc.value.problems] == ["feature 2"]
    assert "swapped" in exc.value.problems[0].problem


def test_geopackage_in_a_gk_crs_is_transformed(tmp_path: Path) -> None:
    path = tmp_path / "gk.gpkg"
    pyogrio.write_dataframe(sample().to_crs(4523), path)
    assert max_shift_m(sample().geometry, read_layer(path).frame.geometry) < 0.001


def test_several_layers_read_the_first_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(sample(), path, layer="parcels")
    pyogrio.write_dataframe(sample().iloc[:1], path, layer="other")
    result = read_layer(path)
    assert len(result.frame) == 2
    assert any("'parcels'" in w for w in result.warnings)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        read_layer(tmp_path / "none.gpkg")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot read"):
        read_layer(bad)


@pytest.mark.parametrize("epsg", [4523, 4544, 4496, 4507])  # 3° and 6° zones, with/without prefix
def test_shapefile_with_an_esri_prj_for_a_gk_zone(tmp_path: Path, epsg: int) -> None:
    path = tmp_path / f"e{epsg}.shp"
    pyogrio.write_dataframe(sample()[["name", "geometry"]].to_crs(epsg), path)
    assert "GK" in path.with_suffix(".prj").read_text()  # ESRI WKT, no EPSG code in it
    result = read_layer(path)
    assert result.warnings == []
    assert max_shift_m(sample().geometry, result.frame.geometry) < 0.001
