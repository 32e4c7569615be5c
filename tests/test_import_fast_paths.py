"""The bulk import's shortcuts give what the general paths give: the file's own WKB, the
attributes' JSON from Arrow, labels made on demand, stripping only where needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas import GeoDataFrame

from geodata.formats import iter_layer, same_objects
from geodata.hygiene import FeatureLabels, check_layer
from geodata.store import columns, parcel_stream
from geodata.store.bulk import multipolygon_ewkb_hex, source_wkb_usable
from landmarket.errors import InvalidInput

from .test_import_ring_areas import _shapes


def _exact(text: str) -> dict:
    """JSON as jsonb keeps it: values, and numbers by their text (jsonb stores the decimal)."""
    return json.loads(text, parse_float=str, parse_int=str)


def test_file_wkb_is_the_ewkb_geos_would_write():
    shapes = _shapes(600)
    known = shapely.to_wkb(shapes, byte_order=1)  # what GDAL hands over for 2D polygons
    known[::7] = None  # geometries changed after reading: written by GEOS again
    z = shapely.force_3d(shapes[3])
    big = shapely.to_wkb(shapes[4], byte_order=0)
    known[3] = shapely.to_wkb(z, byte_order=1)  # not plain 2D: GEOS writes it
    known[4] = big  # big-endian: GEOS writes it
    shapes[3] = z
    geoms = shapes.copy()
    geoms[5] = None
    assert not source_wkb_usable(known[[3, 4, 7]]).any()
    assert source_wkb_usable(known[[1, 2]]).all()
    for hexed in (True, False):
        reused = multipolygon_ewkb_hex(geoms, hex=hexed, known=known)
        assert reused.equals(multipolygon_ewkb_hex(geoms, hex=hexed))
    with pytest.raises(ValueError):
        multipolygon_ewkb_hex(np.array([shapely.Point(1, 2)]), known=np.array([None]))


def _gpkg(path: Path, crs: str, shapes: np.ndarray) -> Path:
    frame = GeoDataFrame({"parcel_code": [f"x{i}" for i in range(len(shapes))]}, geometry=shapes)
    pyogrio.write_dataframe(frame.set_crs(crs), path, layer="parcels")
    return path


def test_reader_hands_over_wkb_only_for_geometries_it_kept(tmp_path: Path):
    shapes = np.array(
        [shapely.box(106 + i * 1e-3, 29, 106.0006 + i * 1e-3, 29.0004) for i in range(5)]
    )
    _, batches = iter_layer(_gpkg(tmp_path / "a.gpkg", "EPSG:4490", shapes), batch_size=3)
    results = list(batches)
    assert [len(r.frame) for r in results] == [3, 2]
    for r in results:
        assert r.wkb is not None
        assert list(r.wkb) == list(shapely.to_wkb(r.frame.geometry.values, byte_order=1))
    gk = shapely.transform(shapes, lambda xy: xy * 0 + [[500000.0, 3200000.0]] + xy * 1000)
    _, batches = iter_layer(_gpkg(tmp_path / "b.gpkg", "EPSG:4524", gk), batch_size=10)
    (r,) = list(batches)
    assert r.wkb is not None and all(w is None for w in r.wkb)  # reprojected: none kept


def test_same_objects_as_is_one_by_one():
    shapes = _shapes(50)
    other = shapes.copy()
    other[[3, 7]] = [shapely.Point(0, 0), shapely.box(0, 0, 1, 1)]
    other[9] = shapely.from_wkb(shapely.to_wkb(shapes[9]))  # equal, not the same object
    other[[11, 12]] = None
    shapes[12] = None  # None is None
    want = [a is b for a, b in zip(shapes, other, strict=True)]
    assert same_objects(shapes, other).tolist() == want
    assert same_objects(shapes[::2], other[::2]).tolist() == want[::2]  # strided views
    with pytest.raises(ValueError):
        same_objects(shapes, other[:-1])


def test_prepared_table_is_the_same_with_and_without_the_file_wkb(tmp_path: Path):
    shapes = np.array(
        [shapely.box(106 + i * 1e-3, 29, 106.0006 + i * 1e-3, 29.0004) for i in range(4)]
    )
    x0, y0, d = 106.1, 29.1, 0.001  # a square with a small crossed loop on its top edge
    bow = shapely.Polygon(
        [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0 + 0.52 * d, y0 + d),
         (x0 + 0.48 * d, y0 + 1.01 * d), (x0 + 0.52 * d, y0 + 1.01 * d),
         (x0 + 0.48 * d, y0 + d), (x0, y0 + d)]
    )  # fmt: skip
    shapes = np.append(shapes, bow)  # repaired: its WKB is GEOS's, not the file's
    frame = GeoDataFrame(
        {
            "parcel_code": [f"50011810120{i}JA00001" for i in range(5)],
            "land_use_code": ["0101"] * 5,
            "note": ["a", " b ", None, "", "c"],
        },
        geometry=shapes,
        crs="EPSG:4490",
    )
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(frame, path, layer="parcels")
    _, batches = iter_layer(path)
    (read,) = list(batches)

    tables = []
    for wkb in (read.wkb, None):
        stream = parcel_stream.ParcelStream(None, "p.gpkg", village=None, tolerance_m=1.0)
        prepared = stream.prepare(read.frame, wkb)
        assert not prepared.problems and len(prepared.notes) == 1  # the loop repaired
        tables.append(prepared.table)
    assert tables[0].equals(tables[1])
    assert shapely.from_wkb(tables[0].column("geom")[4].as_py()).is_valid


def test_attribute_json_from_arrow_matches_pandas():
    rng = np.random.default_rng(3)
    n = 2000
    weird = ['', ' ', 'a"b', "back\\slash", "tab\there", "nl\nx", "\x01z", "/s/", "中文", "😀",
             "{,", ',"k":1', "null"]  # fmt: skip
    floats = rng.normal(size=n) * 10.0 ** rng.integers(-20, 20, n)
    floats[::11] = np.nan
    floats[1::13] = np.inf
    floats[2::17] = -0.0
    floats[3::19] = 1e15 + 0.3
    pick = rng.integers(0, len(weird) + 1, n)
    texts = [weird[k] if k < len(weird) else None for k in pick]
    part = pd.DataFrame(
        {
            "f": floats,
            "i": rng.integers(-(2**62), 2**62, n),
            "b": rng.random(n) < 0.5,
            "ob": np.array([[True, False, None][k % 3] for k in range(n)], dtype=object),
            "os": np.array(texts, dtype=object),
            "s": pd.array(texts, dtype="str"),
            "empty": np.array([None] * n, dtype=object),
            'k"ey中': rng.integers(0, 5, n).astype(np.int32),
        }
    )
    part["os"] = columns.stripped(part["os"].to_numpy(dtype=object))
    fast = columns.json_objects(part)
    assert fast is not None
    slow = columns.json_by_pattern(part)
    assert [_exact(t) for t in fast.to_pylist()] == [_exact(t) for t in slow]
    assert fast.to_pylist()[list(part["f"].isna() & part["ob"].isna()).index(True)] != "{,}"
    # A first member never missing: the one-join path, members in column order.
    for names in (["i", "f", "b", "os", "s"], ["b", "empty"], ["i"], ['k"ey中', "s", "i"]):
        fast = columns.json_objects(part[names])
        slow = columns.json_by_pattern(part[names])
        ordered = [list(_exact(t).items()) for t in fast.to_pylist()]
        assert ordered == [list(_exact(t).items()) for t in slow]  # members in column order
    clean = pd.DataFrame({"s": pd.array(["a", "b\\u", None, "中文"], dtype="str")})
    assert columns.json_objects(clean).to_pylist() == [
        '{"s":"a"}', '{"s":"b\\\\u"}', "{}", '{"s":"中文"}'
    ]  # fmt: skip
    only_missing = columns.json_objects(part[["empty"]])
    assert only_missing.to_pylist() == ["{}"] * n
    dates = pd.DataFrame({"d": pd.to_datetime(["2024-01-02"] * 3)})
    assert columns.json_objects(dates) is None  # left to pandas


def test_stripping_as_str_strip():
    values = np.array(["a", " b", "c\u3000", "", None, np.nan, "\x85x", "mid dle", 3], dtype=object)
    want = [(v.strip() or None) if isinstance(v, str) else v for v in values]
    got = columns.stripped(values)
    assert [g if g == g else "nan" for g in got] == [w if w == w else "nan" for w in want]
    flags = np.array([True, None, False], dtype=object)
    assert columns.stripped(flags) is flags  # no text: untouched


def test_the_whitespace_listed_is_what_str_strip_strips():
    every = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(columns.SPACE_CHARS) == every


def test_text_columns_from_arrow_as_the_cell_by_cell_texts():
    cells = ["a", " b", "c\u3000", "", None, "\x85x\x1c", "mid dle", "\u00a0", "村\u2029", "\t\n"]
    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
    cells.append(spaces + "z" + spaces)
    for column in (
        pd.Series(cells, dtype="str"),  # pandas' Arrow-backed strings, as files are read
        pd.Series(cells, dtype=object),
        pd.Series([None, None], dtype=object),
    ):
        got = columns.arrow_texts(column)
        assert got.to_pylist() == list(columns.texts(column))
    assert columns.arrow_texts(pd.Series([1.0, 2.5])) is None  # numbers: _texts' own way
    assert columns.arrow_texts(pd.Series(["a", 3], dtype=object)) is None


def test_labels_on_demand():
    labels = FeatureLabels(40, 3)
    assert list(labels) == ["feature 41", "feature 42", "feature 43"]
    assert labels[np.int64(1)] == "feature 42" and labels[-1] == "feature 43"
    assert labels[1:] == ["feature 42", "feature 43"]
    with pytest.raises(IndexError):
        labels[3]
    names = parcel_stream.RecordNames(labels, np.array(["500", None, ""], dtype=object))
    assert [names[i] for i in range(3)] == ["feature 41 (500)", "feature 42", "feature 43"]


def test_duplicate_codes_still_named():
    shapes = [shapely.box(106 + i * 1e-3, 29, 106.0006 + i * 1e-3, 29.0004) for i in range(3)]
    frame = GeoDataFrame(
        {"parcel_code": ["500118101201JA00001", "500118101201JA00002", "500118101201JA00001"]},
        geometry=shapes,
        crs="EPSG:4490",
    )
    with pytest.raises(InvalidInput) as err:
        check_layer(frame, "parcels", first=10)
    assert [p.record for p in err.value.problems] == ["feature 11", "feature 13"]
    checked, _ = check_layer(frame.iloc[:2], "parcels")
    assert list(checked["parcel_code"]) == ["500118101201JA00001", "500118101201JA00002"]


def test_line_separators_in_text_stay_inside_their_row():
    part = pd.DataFrame({"note": pd.array(["a\u2028b", "c\x85d", None, "e\u2029"], dtype="str")})
    rows = columns.json_objects(part).to_pylist()
    assert [json.loads(r) for r in rows] == [
        {"note": "a\u2028b"}, {"note": "c\x85d"}, {}, {"note": "e\u2029"}
    ]  # fmt: skip


def test_line_separators_stay_inside_their_row_on_pandas_path_too():
    """A date column sends the batch through pandas' writer: its records split at newlines only."""
    part = pd.DataFrame(
        {
            "note": np.array(["a\u2028b", "c\x85d", None, "e\u2029"], dtype=object),
            "surveyed": pd.to_datetime(["2024-01-02", None, "2024-03-04", "2024-05-06"]),
        }
    )
    assert columns.json_objects(part) is None  # left to pandas
    rows = [json.loads(r) for r in columns.json_by_pattern(part)]
    assert [r.get("note") for r in rows] == ["a\u2028b", "c\x85d", None, "e\u2029"]
    assert rows[1] == {"note": "c\x85d"} and rows[2]["surveyed"].startswith("2024-03-04")
