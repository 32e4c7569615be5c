"""The bulk import's vectorised pieces give exactly what the general paths give."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely
from geopandas import GeoSeries

from geodata.store import import_layer, parcel_stream, ring_areas
from geodata.store.bulk import ewkb_column, multipolygon_ewkb_hex
from geodata.store.importer import ReadOptions
from landmarket.areas import areas_m2
from landmarket.codes import make_parcel_code
from landmarket.errors import InvalidInput


def _shapes(n: int, seed: int = 7) -> np.ndarray:
    """Star-shaped polygons around Chongqing (5-300 vertices), some with holes, some multipart,
    across GK zones 35-37."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        cx, cy = 104.0 + rng.random() * 6, 28.5 + rng.random() * 3
        m = int(rng.integers(3, 300))
        angles = np.sort(rng.random(m)) * 2 * np.pi
        radius = 0.001 * (0.5 + rng.random(m))
        shell = np.c_[cx + radius * np.cos(angles), cy + radius * np.sin(angles)]
        holes = []
        if k % 3 == 0:
            ring = angles[::-1]
            holes.append(np.c_[cx + 2e-4 * np.cos(ring), cy + 2e-4 * np.sin(ring)])
            if k % 2 == 0:
                holes.append(np.c_[cx + 4e-4 + 1e-4 * np.cos(ring), cy + 1e-4 * np.sin(ring)])
        shape = shapely.Polygon(shell, holes)
        if k % 5 == 0:
            extra = shapely.box(cx + 0.01, cy + 0.01, cx + 0.011, cy + 0.0125)
            shape = shapely.MultiPolygon([shape, extra])
        out.append(shape)
    return np.array(out, dtype=object)


def _raw(geoms: np.ndarray) -> np.ndarray:
    zones = ring_areas.zones_of_values(geoms)
    out = np.zeros(len(geoms))
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    for zone in np.unique(zones):
        for part in (simple, ~simple):
            mask = (zones == zone) & part
            if mask.any():
                out[mask] = ring_areas._zone_areas(geoms[mask], int(zone), part is simple)
    return out


def test_areas_are_the_floats_geos_gives():
    shapes = _shapes(3000)
    rects = np.array(
        [shapely.box(106 + i * 1e-3, 29, 106.0006 + i * 1e-3, 29.0004) for i in range(500)]
    )
    for geoms in (shapes, rects, shapely.multipolygons(rects[:, None])):
        unrounded = np.array(
            [shapely.area(GeoSeries([g], crs=4490).to_crs(ring_areas.gk_epsg(z)).iloc[0])
             for g, z in zip(geoms, ring_areas.zones_of_values(geoms), strict=True)]
        )  # fmt: skip
        assert np.array_equal(_raw(geoms), unrounded)  # bit for bit, not within a tolerance
        assert np.array_equal(
            ring_areas.polygon_areas_m2(geoms), areas_m2(GeoSeries(geoms, crs=4490))
        )


def test_in_order_sums_add_left_to_right():
    values = np.array([1e16, 1.0, -1e16, 1.0, 3.0, 0.1, 0.2, 0.3])
    sums = ring_areas.in_order_sums(values, np.array([0, 4, 4, 5, 8]))
    # ((1e16 + 1) - 1e16) + 1 = 1 (1e16 + 1 rounds to 1e16); a pairwise sum gives 2
    assert sums.tolist() == [1.0, 0.0, 3.0, (0.1 + 0.2) + 0.3]


def test_other_geometries_take_the_general_path():
    long_ring = shapely.Point(106.5, 29.5).buffer(0.01, quad_segs=ring_areas.LONG_RING)
    odd = np.array([long_ring, shapely.force_3d(shapely.box(106, 29, 106.001, 29.001))])
    assert np.array_equal(ring_areas.polygon_areas_m2(odd), areas_m2(GeoSeries(odd, crs=4490)))


def test_multipolygon_ewkb_is_ewkb_column_of_st_multi():
    shapes = _shapes(200)
    shapes[3] = None
    shapes[4] = shapely.force_3d(shapely.box(106, 29, 106.001, 29.001))
    multi = np.array(
        [
            g if g is None or g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
            for g in shapes
        ],
        dtype=object,
    )
    assert multipolygon_ewkb_hex(shapes).to_pylist() == list(ewkb_column(multi))
    with pytest.raises(ValueError, match="polygons"):
        multipolygon_ewkb_hex(np.array([shapely.Point(1, 2)]))


@pytest.mark.parametrize("deferred_from", [3, 10**9])
def test_a_code_repeated_in_a_later_batch_is_named(
    make_database, tmp_path, make_frame, gk_rect, unique_village_code, monkeypatch, deferred_from
):
    """Across batches, with the indexes deferred (codes kept in memory) or not (asked of the
    table): the later record is named, nothing is written."""
    from geodata.db.migrate import upgrade

    monkeypatch.setattr(parcel_stream, "DEFER_INDEXES_FROM", deferred_from)
    url = make_database()
    upgrade(url)
    village = unique_village_code()
    make_frame([{"code": village, "name": "石桥村",
                 "geometry": gk_rect(500_000, 3_300_000, 1000, 1000)}]).to_file(
        tmp_path / "v.geojson")  # fmt: skip
    import_layer(url, tmp_path / "v.geojson", "villages")

    def code(i: int) -> str:
        return make_parcel_code(village[:6], int(village[6:9]), int(village[9:]), "JC", i)

    rows = [{"parcel_code": code(i + 1), "land_use_code": "0702",
             "geometry": gk_rect(500_010 + 60 * i, 3_300_010, 50, 50)} for i in range(10)]  # fmt: skip
    rows[8]["parcel_code"] = code(2)  # third batch of 4 repeats the first batch's second
    make_frame(rows).to_file(tmp_path / "p.gpkg", driver="GPKG")
    with pytest.raises(InvalidInput) as caught:
        import_layer(url, tmp_path / "p.gpkg", "parcels", options=ReadOptions(batch_size=4))
    assert [(p.record, p.field) for p in caught.value.problems] == [
        (f"feature 9 ({code(2)})", "parcel_code")
    ]
    assert "earlier record in this file" in caught.value.problems[0].problem
    rows[8]["parcel_code"] = code(9)
    make_frame(rows).to_file(tmp_path / "q.gpkg", driver="GPKG")
    report = import_layer(url, tmp_path / "q.gpkg", "parcels", options=ReadOptions(batch_size=4))
    assert report.rows == 10
    assert report.area_m2 == pytest.approx(10 * 2500, rel=1e-3)


def test_binary_copy_stores_what_csv_stores(session):
    """Every kind of column the parcels COPY uses, through binary and CSV COPY, reads back the
    same (text with quotes, commas, newlines and CJK; numerics at rounding edges; NULLs)."""
    from sqlalchemy import text

    from geodata.store import copy_binary
    from geodata.store.bulk import copy_table as copy_csv

    session.execute(
        text(
            "CREATE TEMP TABLE bin_copy (t text, b boolean, n2 numeric(14, 2), n4 numeric(14, 4), "
            "s smallint, i integer, g geometry(MultiPolygon, 4490), j jsonb)"
        )
    )
    session.execute(text("CREATE TEMP TABLE csv_copy (LIKE bin_copy)"))
    shapes = _shapes(6)
    shapes[2] = None
    geoms = multipolygon_ewkb_hex(shapes, hex=False)
    n2 = [0.0, -0.01, 1234567890.99, 0.07, None, 2798.19]
    n4 = [0.0001, -3.5, 99999999.9999, 4.1973, None, 1.2]
    data = pa.table(
        {
            "t": ['a "quoted", value', None, "line\nbreak", "", "宗地 村", "\\back"],
            "b": [True, False, None, True, False, True],
            "n2": pa.array([round(v, 2) if v is not None else None for v in n2], pa.float64()),
            "n4": pa.array(n4, pa.float64()),
            "s": pa.array([36, -1, None, 0, 35, 32767], pa.int64()),
            "i": pa.array([1, None, 2147483647, -5, 0, 7], pa.int64()),
            "g": geoms,
            "j": ['{"a": 1}', '{"键": "值"}', "{}", None, '{"x": [1, 2]}', '{"q": "\\"x\\""}'],
        }
    )
    kinds = {"t": "text", "b": "bool", "n2": "numeric:2", "n4": "numeric:4", "s": "int2",
             "i": "int4", "g": "geometry", "j": "jsonb"}  # fmt: skip
    assert copy_binary.copy_table(session, "bin_copy", data, kinds) == 6
    hexed = data.set_column(6, "g", multipolygon_ewkb_hex(shapes))
    copy_csv(session, "csv_copy", hexed)
    read = (
        "SELECT t, b, n2::text, n4::text, s, i, encode(ST_AsEWKB(g), 'hex'), j::text "
        "FROM {} ORDER BY i NULLS FIRST, t"
    )
    got = session.execute(text(read.format("bin_copy"))).all()
    assert got == session.execute(text(read.format("csv_copy"))).all()
    assert [r[2] for r in got if r[2] is not None and r[2].startswith("-")] == ["-0.01"]
    with pytest.raises(ValueError, match="finite"):
        copy_binary.numeric(pa.array([float("nan")]), 2)
