"""parcel_cells stays exact: triggers follow imports, updates and deletes of parcels."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import text

from geodata.store import import_frame
from landmarket.codes import make_parcel_code

CELLS = text("SELECT cx, cy, n, round(area_mu, 4)::float8 FROM parcel_cells ORDER BY cx, cy")
RECOUNT = text(
    """
    SELECT floor(u * 262144)::int AS cx, floor(w * 262144)::int AS cy, count(*)::int,
           round(sum(area_mu), 4)::float8
    FROM (SELECT ((ST_XMin(b) + ST_XMax(b)) / 2 + 180) / 360 AS u,
                 (1 - ln(tan(radians((ST_YMin(b) + ST_YMax(b)) / 2))
                         + 1 / cos(radians((ST_YMin(b) + ST_YMax(b)) / 2))) / pi()) / 2 AS w,
                 area_mu
          FROM (SELECT Box2D(geom) AS b, area_mu FROM parcels) AS boxes) AS uw
    GROUP BY 1, 2 ORDER BY 1, 2
    """
)


def plots(n: int) -> gpd.GeoDataFrame:
    i = np.arange(n)
    x, y = 590_000 + (i % 40) * 60.0, 3_270_000 + (i // 40) * 55.0
    codes = [make_parcel_code("500111", 990, 1, "JD", k + 1) for k in i]
    frame = gpd.GeoDataFrame({"parcel_code": codes, "land_use_code": "0103"},
                             geometry=shapely.box(x, y, x + 50, y + 45), crs=4544)  # fmt: skip
    return frame.to_crs(4490)


def test_cells_follow_insert_update_delete(session):
    def same() -> None:
        assert session.execute(CELLS).all() == session.execute(RECOUNT).all()

    import_frame(session, plots(400), "parcels", source_name="cells_test.gpkg")
    same()
    assert (
        session.execute(text("SELECT sum(n) FROM parcel_cells")).scalar()
        == session.execute(text("SELECT count(*) FROM parcels")).scalar()
    )
    code = make_parcel_code("500111", 990, 1, "JD", 7)
    session.execute(
        text("UPDATE parcels SET geom = ST_Translate(geom, 0.05, 0.02), area_mu = area_mu + 1 "
             "WHERE parcel_code = :c"), {"c": code},
    )  # fmt: skip
    same()
    session.execute(text("DELETE FROM parcels WHERE parcel_code LIKE '500111990001JD001%'"))
    same()
