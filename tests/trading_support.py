"""The trading tests' world: a village with collective operational plots, users, helpers.

The fixtures that build it live in tests/trading_world.py (a plugin: ``pytest_plugins``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import geopandas as gpd
from shapely.geometry import box
from sqlalchemy import Engine

from geodata.tickets import Actor
from landmarket.codes import make_parcel_code
from landmarket.errors import Conflict

GK35 = 4544
E0, N0 = 575_000.0, 3_295_000.0
VILLAGE = "500111980001"
OTHER_VILLAGE = "500111980002"
PLOTS = 160  # 100 m × 100 m collective industrial plots (0601): exactly 15 mu each


def plot(n: int, village: str = VILLAGE) -> str:
    """Parcel code of plot n of a village (JB, collective construction land)."""
    return make_parcel_code("500111", 980, 1 if village == VILLAGE else 2, "JB", 100 + n)


def frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The villages and parcels frames (EPSG:4490) of the world."""
    villages = gpd.GeoDataFrame(
        [
            {
                "code": c,
                "name": f"交易村{i}",
                "township": "交易镇",
                "geometry": _box(i * 3000, 0, 3000, 3000),
            }
            for i, c in enumerate((VILLAGE, OTHER_VILLAGE))
        ],
        geometry="geometry",
        crs=GK35,
    ).to_crs(4490)
    rows = []
    for i, village in enumerate((VILLAGE, OTHER_VILLAGE)):
        for n in range(PLOTS if village == VILLAGE else 4):
            x, y = i * 3000 + 10 + (n % 20) * 110, 10 + (n // 20) * 110
            rows.append(
                {
                    "parcel_code": plot(n, village),
                    "land_use_code": "0601",
                    "village_code": village,
                    "geometry": _box(x, y, 100, 100),
                }
            )
    parcels = gpd.GeoDataFrame(rows, geometry="geometry", crs=GK35).to_crs(4490)
    return villages, parcels


def _box(x: float, y: float, w: float, h: float):
    return box(E0 + x, N0 + y, E0 + x + w, N0 + y + h)


@dataclass
class World:
    """What the trading test database holds."""

    url: str
    bureau: Actor
    collective: Actor
    other_collective: Actor
    investors: list[Actor]
    engine: Engine
    _plots: Iterator[int] = field(default_factory=lambda: itertools.count(0))

    def next_plot(self) -> str:
        """A plot no earlier test used."""
        n = next(self._plots)
        assert n < PLOTS, "the trading world ran out of plots"
        return plot(n)


def race(clients: int, work: Callable[[int], object]) -> list[str]:
    """Run work(i) in threads released together; 'ok', 'conflict' or the error per client."""
    barrier = threading.Barrier(clients)
    results: list[str] = [""] * clients

    def client(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            results[i] = "ok"
        except Conflict:
            results[i] = "conflict"
        except Exception as exc:  # any other failure is a bug the test must show
            results[i] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    return results


def published_listing(db, code: str, use: str = "industrial", price: int = 100_000) -> int:
    """A published transfer listing of a plot, inserted as the listings repository leaves it.

    db is the test's session (listings bump a shared tile counter: a second connection would
    wait for the test's own transaction) or an engine for committed worlds.
    """
    from sqlalchemy import text

    if isinstance(db, Engine):
        with db.begin() as conn:
            return published_listing(conn, code, use, price)
    return db.execute(
        text(
            "INSERT INTO listings (parcel_id, parcel_code, village_code, county_code, "
            "asset_kind, method, supply_mode, intended_uses, primary_use, term_years, area_m2, "
            "area_mu, reserve_price_total, price_per_mu, consent_meeting_date, "
            "consent_votes_for, consent_votes_total, created_by, state, published_at) "
            "SELECT id, parcel_code, village_code, '500111', 'operational_land', 'transfer', "
            "'transfer', ARRAY[:use], :use, 50, area_m2, area_mu, area_mu * :price, :price, "
            "DATE '2026-01-10', 30, 40, 'test', 'published', now() FROM parcels "
            "WHERE parcel_code = :code RETURNING id"
        ),
        {"code": code, "use": use, "price": price},
    ).scalar_one()


def embeds_cjk_font(pdf: bytes) -> bool:
    """Whether a PDF draws its text with an embedded subset of a CJK font and no standard font.

    fpdf2 writes the font dictionaries uncompressed: a Type0 font over a CID font whose
    descriptor carries the font file (FontFile2 for TrueType, FontFile3 for CFF), a subset tag
    (six capitals and '+') before the name, and a ToUnicode map.
    """
    import re

    names = re.findall(rb"/BaseFont\s*/([A-Z]{6}\+[^\s/>]+)", pdf)
    return (
        pdf.startswith(b"%PDF")
        and b"/Type0" in pdf
        and (b"/FontFile2" in pdf or b"/FontFile3" in pdf)
        and b"/ToUnicode" in pdf
        and any(re.search(rb"CJK|wqy|WenQuanYi|Hei|Song", n, re.IGNORECASE) for n in names)
        and not re.search(rb"/BaseFont\s*/(Helvetica|Times|Courier)", pdf)
    )
