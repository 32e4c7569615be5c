"""`landmarket generate --province`: synthetic parcels in all 38 real districts of Chongqing, loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import shapely
from sqlalchemy import create_engine, text

from geodata.sample.province import chongqing_districts, parcel_targets
from geodata.settings import REPO_ROOT
from landmarket.codes import CHONGQING_COUNTIES, parse_parcel_code

LANDMARKET = Path(sys.executable).with_name("landmarket")
DENSITY = 0.01  # parcels per km²: about 820 in all, at least one per district


@pytest.fixture(scope="module")
def districts():
    return chongqing_districts()


@pytest.fixture(scope="module")
def province(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("province")
    env = {**os.environ, "LANDMARKET_DATABASE_URL": db_url}
    run = subprocess.run(
        [str(LANDMARKET), "generate", "--province", "--density", str(DENSITY), "--out", str(out),
         "--workers", "2"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "38 区县," in run.stderr  # the summary line: every district written
    return db_url


def test_boundaries_are_the_38_districts_with_their_codes(districts) -> None:
    assert sorted(districts.code) == sorted(CHONGQING_COUNTIES)
    assert districts.set_index("code").loc["500111", "name"] == "大足区"
    assert 80_000 < districts.area_km2.sum() < 85_000  # Chongqing: about 82,400 km²
    assert districts.geometry.is_valid.all()
    assert shapely.within(
        shapely.Point(106.55, 29.56), districts.set_index("code").geometry["500103"]
    )


def test_targets_follow_density_or_share_a_total(districts) -> None:
    dense = parcel_targets(districts, density=10.0)
    area = districts.set_index("code").area_km2
    assert dense["500101"] == round(area["500101"] * 10)  # 万州区, about 3,450 km²
    shared = parcel_targets(districts, parcels=100_000)
    assert abs(sum(shared.values()) - 100_000) <= 38
    assert min(parcel_targets(districts, density=0.0001).values()) == 1
    with pytest.raises(ValueError):
        parcel_targets(districts, density=1.0, parcels=10)


def test_every_district_has_parcels_coded_and_inside_it(province: str, districts) -> None:
    engine = create_engine(province)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT p.parcel_code, p.village_code, ST_AsBinary(p.geom) AS geom, v.county_code "
                 "FROM parcels p JOIN villages v ON v.code = p.village_code")
        ).all()  # fmt: skip
    engine.dispose()
    polygons = districts.set_index("code").geometry
    targets = parcel_targets(districts, density=DENSITY)
    seen: dict[str, int] = {}
    for row in rows:
        county = parse_parcel_code(row.parcel_code).county
        assert county == row.village_code[:6] == row.county_code
        geom = shapely.from_wkb(bytes(row.geom))
        assert shapely.within(geom, polygons[county].buffer(1e-6)), row.parcel_code
        seen[county] = seen.get(county, 0) + 1
    assert sorted(seen) == sorted(CHONGQING_COUNTIES)
    assert seen == targets  # every district got the parcels its area asks for
