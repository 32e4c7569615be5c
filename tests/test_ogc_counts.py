"""numberMatched over a big parcels table: exact up to 10,000, the planner's estimate beyond."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.ogc.core import COUNT_CAP
from geodata.db.engine import get_engine
from geodata.db.migrate import upgrade
from geodata.settings import Settings
from geodata.store import import_frame
from tests.test_tiles_dense import district

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(make_database, as_owner) -> Iterator[TestClient]:
    url = make_database()
    upgrade(url)
    import_frame(url, district(), "parcels", source_name="dense_district.gpkg")
    with get_engine(as_owner(url)).connect() as conn:  # only the owner may ANALYZE
        conn.execute(text("ANALYZE parcels"))
        conn.commit()
    with TestClient(create_app(Settings(basemap="none"), database_url=url)) as c:
        yield c


def test_number_matched_is_an_estimate_only_for_the_huge_case(client):
    whole = client.get("/ogc/collections/parcels/items", params={"limit": 2}).json()
    assert whole["numberMatched"] > COUNT_CAP  # 19,601 rows: the planner's figure
    assert abs(whole["numberMatched"] - 19_601) < 19_601 * 0.2
    assert [link["rel"] for link in whole["links"]].count("next") == 1
    bounds = client.get("/ogc/collections/parcels").json()["extent"]["spatial"]["bbox"][0]
    west, south = bounds[0], bounds[1]
    corner = f"{west},{south},{west + 0.002},{south + 0.002}"  # ~190 m × 220 m: exact count
    part = client.get(
        "/ogc/collections/parcels/items", params={"bbox": corner, "limit": 1000}
    ).json()
    assert part["numberMatched"] == part["numberReturned"] < COUNT_CAP
    assert not [link for link in part["links"] if link["rel"] == "next"]
