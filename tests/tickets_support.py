"""The ticket ledger tests' world: villages, homesteads, idle plots, destinations, users, helpers.

The fixtures that build it live in tests/tickets_world.py (a plugin: ``pytest_plugins``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import geopandas as gpd
import shapely.wkb
from shapely.geometry import box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geodata.db.engine import session_scope
from geodata.tickets import Actor, PlotInspection, accept, create_project, file_withdrawal
from landmarket.codes import make_parcel_code
from landmarket.eligibility.verdict import ELIGIBLE, Verdict
from landmarket.tickets import Consent, Evidence

GK35 = 4544
E0, N0 = 571_000.0, 3_290_000.0
VILLAGES = {"500111970001": 0, "500111970002": 1}
A, B = VILLAGES
HOUSEHOLDS = 40  # per village A; B has 5
IDLE_PLOTS = 24  # 100 m × 100 m collective industrial plots in A (two rows): exactly 15 mu each
DESTINATIONS = 10  # 100 m × 100 m parcels in B where tickets land
ON = date(2026, 4, 1)


def gk_box(x: float, y: float, w: float, h: float):
    """A w × h metre rectangle at GK offsets from the world's origin."""
    return box(E0 + x, N0 + y, E0 + x + w, N0 + y + h)


def pcode(village: str, feature: str, seq: int) -> str:
    """A valid parcel code in one of the world's villages."""
    return make_parcel_code("500111", 970, VILLAGES[village] + 1, feature, seq)


def homestead(village: str, n: int) -> str:
    """Parcel code of household n's homestead (ancillary yard is n + 500)."""
    return pcode(village, "JC", n)


def yard(village: str, n: int) -> str:
    """Parcel code of household n's ancillary yard: 400 m² (odd n, within the cap) or 500 m²."""
    return pcode(village, "JC", 500 + n)


def household(village: str, n: int) -> str:
    """The household id the register gives household n."""
    return f"hh-{village[-1]}-{n:03d}"


def idle_plot(n: int) -> str:
    """Parcel code of idle collective plot n (0601, 10000 m²) in village A."""
    return pcode(A, "JB", 800 + n)


def destination(n: int) -> str:
    """Parcel code of destination parcel n in village B (where landing checks passed)."""
    return pcode(B, "GB", 900 + n)


def frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The villages and parcels frames (EPSG:4490) of the world."""
    villages = gpd.GeoDataFrame(
        [
            {
                "code": c,
                "name": f"台账村{i}",
                "township": "台账镇",
                "geometry": gk_box(i * 2000, 0, 2000, 2000),
            }
            for c, i in VILLAGES.items()
        ],
        geometry="geometry",
        crs=GK35,
    ).to_crs(4490)
    rows = []
    for village, count in ((A, HOUSEHOLDS), (B, 5)):
        x0 = VILLAGES[village] * 2000
        for n in range(1, count + 1):
            x, y = x0 + 10 + (n % 20) * 60, 10 + (n // 20) * 80
            hh = household(village, n)
            rows.append((homestead(village, n), "0702", gk_box(x, y, 20, 15), hh))
            rows.append((yard(village, n), "0702", gk_box(x, y + 20, 20, 20 if n % 2 else 25), hh))
    # a household with a second homestead (一户多宅)
    rows.append((pcode(A, "JC", 400), "0702", gk_box(1500, 1500, 20, 15), household(A, 2)))
    for n in range(IDLE_PLOTS):
        x, y = 10 + (n % 12) * 110, 600 + (n // 12) * 120
        rows.append((idle_plot(n), "0601", gk_box(x, y, 100, 100), None))
    for n in range(DESTINATIONS):
        rows.append((destination(n), "0101", gk_box(2010 + n * 110, 1200, 100, 100), None))
    parcels = gpd.GeoDataFrame(
        [
            {
                "parcel_code": c,
                "land_use_code": u,
                "household_id": h,
                "geometry": g,
                "village_code": next(v for v in VILLAGES if c.startswith(v)),
            }
            for c, u, g, h in rows
        ],
        geometry="geometry",
        crs=GK35,
    ).to_crs(4490)
    return villages, parcels


@dataclass
class World:
    """What the ledger test database holds."""

    url: str
    bureau: Actor
    collectives: dict[str, Actor]
    investors: list[Actor]
    engine: Engine
    _households: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _idle: Iterator[int] = field(default_factory=lambda: itertools.count(0))
    _projects: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_household(self) -> int:
        """A household of village A not used by an earlier test."""
        n = next(self._households)
        if n == 2:  # household 2 holds two homesteads (一户多宅): only for the negative test
            n = next(self._households)
        assert n <= HOUSEHOLDS, "the ticket world ran out of households"
        return n

    def file(self, target, n: int, **kw):
        """File household n's withdrawal (homestead + yard) as village A's collective."""
        return file_withdrawal(
            target,
            self.collectives[A],
            household(A, n),
            homestead(A, n),
            [yard(A, n)],
            Evidence("urban_housing_title", f"渝(2025)大足区不动产权第{n:07d}号"),
            Consent(f"村民小组会议纪要 {n}", date(2026, 2, 1)),
            on=ON,
            reclamation=verdict(),
            **kw,
        )

    def idle_ticket(self, target, holder: Actor | None = None, cost: int = 20_000) -> str:
        """Issue a 10000 m² (15 mu) ticket from one idle collective plot; its certificate."""
        n = next(self._idle)
        assert n < IDLE_PLOTS, "the ticket world ran out of idle plots"
        project = create_project(
            target, self.bureau, f"XM-IDLE-{n:03d}", f"闲置地复垦 {n}", [], [idle_plot(n)], on=ON
        )
        geom = parcels_geometry(target, idle_plot(n))
        outcome = accept(
            target,
            self.bureau,
            project,
            [PlotInspection(idle_plot(n), Decimal("10000"), 1, geom)],
            cost,
            ON,
            holder_id=None if holder is None else holder.user_id,
        )
        return outcome.cert_no

    def project_code(self) -> str:
        """A fresh project code."""
        return f"XM-{next(self._projects):04d}"


def parcels_geometry(target, code: str):
    """The parcel's shapely geometry (to use as an acceptance geometry)."""

    def read(s: Session):
        sql = text("SELECT ST_AsBinary(geom) FROM parcels WHERE parcel_code = :c")
        return shapely.wkb.loads(bytes(s.execute(sql, {"c": code}).scalar()))

    if isinstance(target, Session):
        return read(target)
    with session_scope(target) as s:
        return read(s)


def verdict(kind: str = "reclamation", outcome: str = ELIGIBLE) -> Verdict:
    """A check verdict as the eligibility engine would return it."""
    return Verdict(kind, kind, outcome, (), {}, "test", ON)
