"""Reading bureau data: File Geodatabases, zips, multi-layer GeoPackages, 6-degree zones, .prj names."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyogrio
import pytest
from geopandas import GeoDataFrame, GeoSeries
from pyproj import CRS

from geodata.crs import esri_gk_epsg, zone_epsg, zone_of_epsg
from geodata.datum_shift import parse_shift
from geodata.formats import format_of, iter_layer, read_layer, write_layer
from landmarket.areas import areas_m2
from landmarket.errors import InvalidInput
from tests.formats_helpers import E0, N0, frame_from_gk, gk_rect, max_shift_m

CODES = ["500111001002JC00012", "500111001002JB00013"]


def sample() -> GeoDataFrame:
    """Two parcels near Dazu (zone 35) with survey-style upper-case fields."""
    return frame_from_gk(
        [gk_rect(E0, N0, 100.0, 66.667), gk_rect(E0 + 150, N0, 60.0, 40.0)],
        ZDDM=CODES,
        DLBM=["0702", "0601"],
        DLMC=["农村宅基地", "工业用地"],
    )


def in_crs(frame: GeoDataFrame, epsg: int) -> GeoDataFrame:
    return frame.to_crs(epsg)


def test_file_geodatabase_folder_and_zip(tmp_path: Path) -> None:
    assert pyogrio.list_drivers()["OpenFileGDB"] in ("rw", "raw")  # GDAL ≥ 3.6 writes FileGDB
    gdb = tmp_path / "survey.gdb"
    pyogrio.write_dataframe(in_crs(sample(), 4523), gdb, driver="OpenFileGDB", layer="ZD")
    pyogrio.write_dataframe(
        in_crs(sample(), 4523).iloc[:1], gdb, driver="OpenFileGDB", layer="DLTB", append=False
    )
    assert format_of(gdb) == "gdb"
    with pytest.raises(InvalidInput, match="ZD, DLTB|DLTB, ZD|no layer 'nope'"):
        read_layer(gdb, source_layer="nope")
    result = read_layer(gdb, source_layer="zd")  # layer names match in any case
    assert list(result.frame["ZDDM"]) == CODES
    assert max_shift_m(sample().geometry, result.frame.geometry) < 0.001
    first = read_layer(gdb)
    assert any("--source-layer" in w for w in first.warnings)
    archive = tmp_path / "survey.gdb.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in gdb.iterdir():
            z.write(f, f"survey.gdb/{f.name}")
    assert format_of(archive) == "zip"
    zipped = read_layer(archive, source_layer="ZD")
    assert list(zipped.frame["DLBM"]) == ["0702", "0601"]
    assert max_shift_m(sample().geometry, zipped.frame.geometry) < 0.001


def test_gdb_written_by_convert_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "out.gdb"
    write_layer(sample(), out)
    assert out.is_dir() and pyogrio.list_layers(out)[0][0] == "out"
    assert list(read_layer(out).frame["ZDDM"]) == CODES


def test_zipped_shapefile_without_cpg_decodes_gbk(tmp_path: Path) -> None:
    shp = tmp_path / "zd.shp"
    pyogrio.write_dataframe(in_crs(sample(), 4544), shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    archive = tmp_path / "zd.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            z.write(shp.with_suffix(ext), f"data/zd{ext}")
    result = read_layer(archive)
    assert list(result.frame["DLMC"]) == ["农村宅基地", "工业用地"]
    assert any("GB18030" in w for w in result.warnings)
    assert max_shift_m(sample().geometry, result.frame.geometry) < 0.001


def test_zip_with_two_datasets_or_none_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "nothing here")
    with pytest.raises(InvalidInput, match="no dataset"):
        read_layer(empty)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.geojson", "{}")
        z.writestr("b.geojson", "{}")
    with pytest.raises(InvalidInput, match="several"):
        read_layer(two)


def test_multi_layer_geopackage_by_source_layer(tmp_path: Path) -> None:
    path = tmp_path / "county.gpkg"
    pyogrio.write_dataframe(sample().iloc[:1], path, layer="DLTB")
    pyogrio.write_dataframe(sample(), path, layer="ZD")
    assert len(read_layer(path, source_layer="ZD").frame) == 2
    assert len(read_layer(path, source_layer="DLTB").frame) == 1
    src, batches = iter_layer(path, source_layer="ZD", batch_size=1)
    frames = [b.frame for b in batches]
    assert src is not None and src.features == 2
    assert [list(f.index) for f in frames] == [[0], [1]]  # global positions carry across batches


@pytest.mark.parametrize(
    ("epsg", "zone", "prefixed"),
    [(4496, 18, True), (4497, 19, True), (4507, 18, False), (4508, 19, False)],
)
def test_six_degree_zones_of_chongqing(
    tmp_path: Path, epsg: int, zone: int, prefixed: bool
) -> None:
    crs = CRS.from_epsg(epsg)
    assert ("zone" in crs.name) == prefixed and crs.datum.name.startswith("China 2000")
    assert zone_of_epsg(epsg) == (zone, prefixed) and zone_epsg(zone, prefixed) == epsg
    # 105°E (zone 18) and 111°E (zone 19) are the central meridians over Chongqing.
    assert f"{6 * zone - 3}" in crs.to_proj4() or f"lon_0={6 * zone - 3}" in crs.to_proj4()
    frame = sample() if zone == 18 else frame_from_gk([gk_rect(E0 + 300_000, N0, 50, 40)])
    path = tmp_path / f"z{epsg}.gpkg"
    pyogrio.write_dataframe(frame.to_crs(epsg), path)
    back = read_layer(path).frame
    assert max_shift_m(frame.geometry, back.geometry) < 0.001
    nocrs = tmp_path / f"z{epsg}_nocrs.geojson"
    stripped = frame.to_crs(epsg).set_crs(None, allow_override=True)
    stripped.to_file(nocrs, driver="GeoJSON")
    doc = json.loads(nocrs.read_text())
    doc.pop("crs", None)
    nocrs.write_text(json.dumps(doc))
    if prefixed:  # the zone prefix alone tells the zone
        assert max_shift_m(frame.geometry, read_layer(nocrs).frame.geometry) < 0.001


ESRI_108E = (
    'PROJCS["CGCS2000_3_Degree_GK_CM_108E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",'
    '500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",108.0],'
    'PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def test_arcgis_prj_names(tmp_path: Path) -> None:
    assert esri_gk_epsg("CGCS2000_GK_Zone_18") == 4496
    assert esri_gk_epsg("CGCS2000_GK_CM_105E") == 4507
    assert esri_gk_epsg("CGCS2000_3_Degree_GK_CM_108E") == 4545
    assert esri_gk_epsg("CGCS2000_3_Degree_GK_Zone_36") == 4524
    assert esri_gk_epsg("Xian_1980_3_Degree_GK_CM_108E") is None
    frame = frame_from_gk([gk_rect(450_000, 3_300_000, 80, 50)], epsg=4545, ZDDM=[CODES[0]])
    shp = tmp_path / "arcgis.shp"
    pyogrio.write_dataframe(frame.to_crs(4545), shp)
    shp.with_suffix(".prj").write_text(ESRI_108E)  # as ArcGIS writes it
    back = read_layer(shp)
    assert max_shift_m(frame.geometry, back.frame.geometry, epsg=4545) < 0.001
    assert areas_m2(back.frame.geometry)[0] == pytest.approx(4000.0, abs=0.01)


def test_unknown_declared_crs_is_refused_naming_file_and_crs(tmp_path: Path) -> None:
    doc = json.loads(sample().to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "EPSG:999999"}}
    path = tmp_path / "mystery.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput) as caught:
        read_layer(path)
    text = str(caught.value)
    assert "mystery.geojson" in text and "EPSG:999999" in text
    shp = tmp_path / "mystery.shp"
    pyogrio.write_dataframe(sample(), shp)
    shp.with_suffix(".prj").write_text('PROJCS["Nonsense",FOO[1]]')
    with pytest.raises(InvalidInput, match="mystery.shp.*Nonsense"):
        read_layer(shp)


def test_xian_1980_refused_unless_the_transformation_is_given(tmp_path: Path) -> None:
    frame = frame_from_gk([gk_rect(450_000, 3_300_000, 80, 50)], epsg=4545, ZDDM=[CODES[0]])
    path = tmp_path / "xian80.gpkg"
    old = GeoDataFrame(frame.drop(columns="geometry"), geometry=frame.to_crs(4545).geometry.values)
    pyogrio.write_dataframe(
        old.set_crs(2381, allow_override=True), path
    )  # same numbers, declared Xi'an 1980 CM 108E
    with pytest.raises(InvalidInput) as caught:
        read_layer(path)
    msg = str(caught.value)
    assert "Xian 1980" in msg and "--towgs84" in msg and "--transform" in msg
    shift = parse_shift("0,0,0")
    moved = read_layer(path, shift=shift)
    assert moved.frame.crs.to_epsg() == 4490 and "towgs84=0,0,0" in moved.warnings[0]
    # Xi'an 80 and CGCS2000 grids differ by tens of metres, not kilometres.
    assert 1.0 < max_shift_m(frame.geometry, moved.frame.geometry, epsg=4545) < 200.0
    pipeline = (
        "+proj=pipeline +step +inv +proj=tmerc +lon_0=108 +x_0=500000 +ellps=IAU76 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )
    piped = read_layer(path, shift=parse_shift(None, pipeline))
    # same grid, ellipsoid swap alone: centimetres apart
    assert max_shift_m(moved.frame.geometry, piped.frame.geometry, epsg=4545) < 0.1
    with pytest.raises(InvalidInput, match="3 or 7"):
        parse_shift("1,2")
    with pytest.raises(InvalidInput, match="pipeline"):
        parse_shift(None, "+proj=nonsense")


def test_beijing_1954_refused() -> None:
    from geodata.crs import to_cgcs2000

    geoms = GeoSeries([gk_rect(450_000, 3_300_000, 10, 10)], crs=2433)
    with pytest.raises(InvalidInput, match="Beijing 1954.*--towgs84"):
        to_cgcs2000(geoms)


def _six_degree_txt(tmp_path: Path, prefix: bool, zone_line: str) -> tuple[GeoDataFrame, Path]:
    geo = frame_from_gk([gk_rect(E0, N0, 100.0, 66.667)])
    ring = list(geo.to_crs(4507).geometry.iloc[0].exterior.coords)[:-1]  # zone 18, CM 105°E
    offset = 18e6 if prefix else 0.0
    points = "\n".join(
        f"J{i + 1},1,{y:.3f},{x + offset:.3f}" for i, (x, y) in enumerate([*ring, ring[0]])
    )
    body = (
        "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=6\n投影类型=高斯克吕格\n计量单位=米\n"
        f"{zone_line}\n[地块坐标]\n{len(ring) + 1},0.6667,1,宅基地,面,,,0702,@\n{points}\n"
    )
    path = tmp_path / f"six_{prefix}_{zone_line[-2:]}.txt"
    path.write_text(body, encoding="utf-8")
    return geo, path


@pytest.mark.parametrize("prefix", [True, False])
def test_baopan_txt_six_degree_zone(tmp_path: Path, prefix: bool) -> None:
    geo, path = _six_degree_txt(tmp_path, prefix, "带号=18")
    back = read_layer(path).frame
    assert max_shift_m(geo.geometry, back.geometry) < 0.001
    assert areas_m2(back.geometry)[0] == pytest.approx(6666.7, abs=0.01)


def test_baopan_txt_six_degree_with_a_three_degree_zone_is_refused(tmp_path: Path) -> None:
    _, path = _six_degree_txt(tmp_path, False, "带号=36")
    with pytest.raises(InvalidInput, match="几度分带"):
        read_layer(path)


def test_cli_convert_reads_a_zipped_gdb_layer_and_writes_a_gdb(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    gdb = tmp_path / "survey.gdb"
    pyogrio.write_dataframe(in_crs(sample(), 4496), gdb, driver="OpenFileGDB", layer="ZD")
    pyogrio.write_dataframe(in_crs(sample(), 4496).iloc[:1], gdb, driver="OpenFileGDB", layer="X")
    archive = tmp_path / "survey.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in gdb.iterdir():
            z.write(f, f"survey.gdb/{f.name}")
    out = tmp_path / "out.gdb"
    runner = CliRunner()
    done = runner.invoke(app, ["convert", str(archive), str(out), "--source-layer", "ZD"])
    assert done.exit_code == 0, done.stderr
    back = read_layer(out)
    assert list(back.frame["ZDDM"]) == CODES
    assert max_shift_m(sample().geometry, back.frame.geometry) < 0.001
    missing = runner.invoke(app, ["convert", str(archive), str(tmp_path / "x.gpkg"), "--source-layer", "Q"])  # fmt: skip
    assert missing.exit_code == 1 and "ZD" in missing.stderr


def test_geopackage_declaring_an_unknown_srs_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "odd.gpkg"
    pyogrio.write_dataframe(sample(), path, layer="zd")
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
            "organization_coordsys_id, definition) VALUES ('mystery', 999999, 'EPSG', 999999, "
            "'undefined')"
        )
        con.execute("UPDATE gpkg_geometry_columns SET srs_id = 999999")
        con.execute("UPDATE gpkg_contents SET srs_id = 999999")
    with pytest.warns(RuntimeWarning), pytest.raises(InvalidInput) as caught:
        read_layer(path)
    assert "odd.gpkg" in str(caught.value) and "EPSG:999999" in str(caught.value)
    undefined = tmp_path / "nocrs.gpkg"  # srs_id -1 ('undefined Cartesian'): detected, not refused
    pyogrio.write_dataframe(sample().set_crs(None, allow_override=True), undefined)
    assert read_layer(undefined).frame.crs.to_epsg() == 4490
