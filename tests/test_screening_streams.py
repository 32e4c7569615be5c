"""Report rows formatted where they were screened (streams.report_part) give the bytes pandas'
to_csv of `writable` gives, and a ReportStream fed chunks in any order writes the CSV and the
GeoPackage write_reports writes from the whole frame — also when an object column holds numbers
in one chunk and text in another."""

from __future__ import annotations

import time
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geodata.screening.reports import writable, write_reports
from geodata.screening.streams import ReportStream, csv_lines, report_part


def _pandas_lines(frame: pd.DataFrame) -> bytes:
    text = writable(frame).to_csv(index=False, header=False, lineterminator="\n")
    return text.encode("utf-8")


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.random(n) * 10.0 ** rng.integers(-8, 18, n)
    floats[::7] = 0.0
    floats[1::11] = -0.0
    floats[2::13] = np.nan
    floats[3::17] = np.inf
    floats[4::19] = 1e16
    floats[5::23] = 1e-5
    text = np.array(["a", "b,c", 'say "x"', "line\nbreak", "", "中文", "tab\tx", "cr\rx"])
    strs = pd.array(text[rng.integers(0, len(text), n)], dtype="str")
    strs[::9] = None
    bools = rng.random(n) < 0.5
    mixed = np.empty(n, dtype=object)
    choices = [None, True, False, 3, 2.5, np.float64(0.1), np.int64(7), "t", Fraction(1, 3),
               ["a", 1], {"k": 1.5}, float("nan")]  # fmt: skip
    for i in range(n):
        mixed[i] = choices[int(rng.integers(0, len(choices)))]
    only_none = np.full(n, None, dtype=object)
    only_bool = np.array([bool(b) if i % 5 else None for i, b in enumerate(bools)], dtype=object)
    only_text = np.array([None if i % 4 == 0 else f"v{i}" for i in range(n)], dtype=object)
    numbers = np.array([None if i % 3 == 0 else (i if i % 2 else i / 7) for i in range(n)], object)
    return pd.DataFrame(
        {
            "code": [f"P{i:05d}" for i in range(n)],
            "x": floats,
            "x32": floats.astype(np.float32),
            "n": rng.integers(-(2**40), 2**40, n),
            "b": bools,
            "s": strs,
            "mixed": mixed,
            "none": only_none,
            "yes": only_bool,
            "text": only_text,
            "numbers": numbers,
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lines_equal_pandas_to_csv(seed):
    frame = _frame(600, seed)
    part = report_part(frame)
    lines = part.table.column("__line").combine_chunks()
    assert "".join(lines.to_pylist()).encode("utf-8") == _pandas_lines(frame)
    kinds = {"mixed": False, "none": None, "yes": False, "numbers": True}
    assert {col: part.numeric[col] for col in kinds} == kinds


def test_a_single_column_row_with_an_empty_field_is_quoted():
    frame = pd.DataFrame({"s": pd.array(["a", "", None, "b,c"], dtype="str")})
    lines = csv_lines(report_part(frame).table.drop_columns(["__line"]), {})
    assert "".join(lines.to_pylist()).encode() == _pandas_lines(frame)


def _parcels(n: int) -> gpd.GeoDataFrame:
    x = np.arange(n) % 40 * 0.001 + 106.0
    y = np.arange(n) // 40 * 0.001 + 29.0
    polys = shapely.box(x, y, x + 0.0008, y + 0.0008)
    geoms = np.array(polys, dtype=object)
    if n > 5:
        geoms[5] = shapely.MultiPolygon(
            [polys[5], shapely.box(x[5] + 0.0009, y[5], x[5] + 0.00095, y[5] + 0.0001)]
        )
    return gpd.GeoDataFrame({"parcel_code": [f"P{i}" for i in range(n)]}, geometry=geoms,
                            crs=4490)  # fmt: skip


def _report(n: int) -> pd.DataFrame:
    frame = _frame(n, 5).drop(columns=["code"])
    frame.insert(0, "parcel_code", [f"P{i}" for i in range(n)])
    frame.insert(1, "area_mu", np.arange(n) / 3)
    frame["market_entry.verdict"] = np.where(np.arange(n) % 3, "eligible", "ineligible")
    frame["market_entry.failed"] = np.where(np.arange(n) % 3, "", "market_entry.a;market_entry.b")
    # numbers only in the first chunk's rows, text in one row of a later chunk
    late = np.full(n, None, dtype=object)
    late[:50] = np.arange(min(n, 50))
    late[n - 3 :] = "late text"
    frame["late"] = late
    return frame


def _assert_same_layer(a_path, b_path):
    a = pyogrio.read_dataframe(a_path, fid_as_index=True)
    b = pyogrio.read_dataframe(b_path, fid_as_index=True)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()
    info_a, info_b = pyogrio.read_info(a_path), pyogrio.read_info(b_path)
    assert list(info_a["fields"]) == list(info_b["fields"])
    assert list(info_a["dtypes"]) == list(info_b["dtypes"])
    for key in ("geometry_type", "geometry_name", "crs", "features", "fid_column"):
        assert info_a[key] == info_b[key], key


@pytest.mark.parametrize(
    "kind", ["rows", "parts", "parts, text late"]
)  # rows: made here, GeoPackage merged at the end; parts: made by workers with geometry,
#  GeoPackage written from their geometries (also when a later chunk's text makes a column text)
def test_stream_equals_write_reports_in_any_chunk_order(tmp_path, kind):
    n = 3200  # above summary.MAX_PATHS: maps of points (the parts' own, when they have them)
    parcels, report = _parcels(n), _report(n)
    if kind != "parts, text late":
        report = report.drop(columns=["late"])
    summary = {"checks": ["market_entry"], "parcels": n}
    whole = write_reports(parcels, report, tmp_path / "whole", summary)
    rng = np.random.default_rng(3)
    order = rng.permutation(n)
    chunks = [np.sort(order[i : i + 500]) for i in range(0, n, 500)]
    stream = ReportStream(parcels, tmp_path / "streamed")
    geoms = np.asarray(parcels.geometry.values)
    for k in rng.permutation(len(chunks)):  # chunks arrive in any order
        rows = report.iloc[chunks[k]]
        given = rows if kind == "rows" else report_part(rows, geoms[chunks[k]])
        stream(int(k), chunks[k], given)
    assert stream._from_parts() == (kind != "rows")  # the geometries the workers sent
    slim, _reasons = stream.summary_frames()
    paths = stream.finish(summary, slim)
    assert paths["csv"].read_bytes() == whole["csv"].read_bytes()
    assert paths["html"].read_bytes() == whole["html"].read_bytes()
    _assert_same_layer(whole["gpkg"], paths["gpkg"])
    if kind == "parts, text late":
        info = pyogrio.read_info(paths["gpkg"])
        assert info["dtypes"][list(info["fields"]).index("late")] == "object"  # text wins


def test_empty_stream_writes_the_empty_report(tmp_path):
    parcels = _parcels(0)
    report = _report(3).iloc[:0]
    whole = write_reports(parcels, report, tmp_path / "whole", {"checks": []})
    stream = ReportStream(parcels, tmp_path / "streamed")
    stream(0, np.zeros(0, dtype=np.int64), report)
    slim, _ = stream.summary_frames()
    paths = stream.finish({"checks": []}, slim)
    assert paths["csv"].read_bytes() == whole["csv"].read_bytes()
    assert pyogrio.read_info(paths["gpkg"])["features"] == 0


def _in_fresh_process(call: str) -> None:
    """Run `call` (a helper of this module) in a fresh interpreter, whose only thread is its
    main one, so the writer may fork there (a pytest process may hold other tests' threads, and
    then the stream rightly refuses to fork)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = f"import tests.test_screening_streams as t; t.{call}"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kind", ["parts", "parts, text late", "rows"])
def test_forked_writer_equals_write_reports(tmp_path, kind):
    """The GeoPackage written by the forked child and the CSV written here as chunks arrive
    (windows of 500 rows, so most are written before the last chunk) are the files
    write_reports writes; where a later chunk turns a column to text, or a chunk comes without
    geometries, finish writes them."""
    _in_fresh_process(f"_forked_writer_case({str(tmp_path)!r}, {kind!r})")


def _forked_writer_case(root: str, kind: str) -> None:
    from pathlib import Path

    tmp_path = Path(root)
    n = 3200
    parcels, report = _parcels(n), _report(n)
    if kind != "parts, text late":
        report = report.drop(columns=["late"])
    summary = {"checks": ["market_entry"], "parcels": n}
    whole = write_reports(parcels, report, tmp_path / "whole", summary)
    chunks = [np.arange(i, min(i + 400, n)) for i in range(0, n, 400)]
    stream = ReportStream(parcels, tmp_path / "streamed")
    stream.window = 500
    assert stream.start_writer()
    writer = stream._writer
    geoms = np.asarray(parcels.geometry.values)
    rng = np.random.default_rng(5)
    # the text comes in the last chunk, after the child made its first windows with numbers
    late = kind == "parts, text late"
    for k in range(len(chunks)) if late else rng.permutation(len(chunks)):
        rows = report.iloc[chunks[k]]
        given = rows if kind == "rows" else report_part(rows, geoms[chunks[k]])
        stream(int(k), chunks[k], given)
    # CSV windows were written as they completed; the late text made them void (redone)
    assert stream._early_next > 0
    assert stream._early_off == late
    slim, _reasons = stream.summary_frames()
    paths = stream.finish(summary, slim)
    assert not writer.process.is_alive()
    # the child's GeoPackage is kept unless a late chunk's text changed a column's type
    assert stream.gpkg_by == ("child" if kind == "parts" else "this process")
    assert paths["csv"].read_bytes() == whole["csv"].read_bytes()
    assert paths["html"].read_bytes() == whole["html"].read_bytes()
    _assert_same_layer(whole["gpkg"], paths["gpkg"])
    assert sorted(p.name for p in paths["gpkg"].parent.iterdir()) == [
        "screening.csv", "screening.gpkg", "summary.html"
    ]  # fmt: skip


def test_forked_writer_wrote_before_finish_and_stops(tmp_path):
    """With every chunk in, the child has written its windows before finish is called; a
    closed stream leaves no child and no file behind."""
    _in_fresh_process(f"_forked_writer_stops_case({str(tmp_path)!r})")


def _forked_writer_stops_case(root: str) -> None:
    from pathlib import Path

    tmp_path = Path(root)
    n = 1200
    parcels, report = _parcels(n), _report(n).drop(columns=["late"])
    geoms = np.asarray(parcels.geometry.values)
    stream = ReportStream(parcels, tmp_path / "streamed")
    stream.window = 300
    assert stream.start_writer()
    writer = stream._writer
    for k, start in enumerate(range(0, 900, 300)):
        rows = np.arange(start, start + 300)
        stream(k, rows, report_part(report.iloc[rows], geoms[rows]))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not writer.path.exists():
        time.sleep(0.05)
    assert writer.path.exists()  # written while the run goes on
    stream.close()
    assert not writer.process.is_alive()
    assert not writer.path.exists()


def test_wkb_promotes_single_parts_as_geos_does():
    """Polygons promoted on their bytes give the WKB of GEOS's multipolygon of one part; empty,
    missing, 3D, point, line and multi geometries as before."""
    from geodata.screening.streams import _wkb

    box = shapely.box(106.0, 29.0, 106.001, 29.001)
    holed = box.difference(shapely.box(106.0002, 29.0002, 106.0004, 29.0004))
    geoms = np.array(
        [box, holed, shapely.Polygon(), None, shapely.Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3)]),
         shapely.Point(1, 2), shapely.LineString([(0, 0), (1, 1)]),
         shapely.MultiPolygon([box, shapely.box(0, 0, 1, 1)]), box],
        dtype=object,
    )  # fmt: skip
    expected = geoms.copy()
    kinds = shapely.get_type_id(geoms)
    for single, multi in ((0, shapely.multipoints), (1, shapely.multilinestrings),
                          (3, shapely.multipolygons)):  # fmt: skip
        mask = kinds == single
        expected[mask] = multi(np.atleast_2d(geoms[mask]), axis=0)
    assert _wkb(geoms).to_pylist() == list(shapely.to_wkb(expected))
    assert shapely.get_type_id(geoms[0]) == 3  # the input is left as it was
