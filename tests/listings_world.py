"""A committed market world: the API fixture world plus operational plots, constraints, listings.

Villages A, B, C side by side (1 km each, GK zone 35 around Dazu). Village A gets collective
operational plots inside a village-plan industrial zone, one plot half in permanent basic
farmland, one commercial plot; village B one industrial plot. PBF, red line, UDB and village
plan are loaded with the default coverage (the three villages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd

from geodata.db.engine import session_scope
from geodata.listings import repository
from geodata.store import import_frame
from landmarket.listings import ListingTerms
from landmarket.policy import load_policy
from tests.api_fixtures import (
    GK_ZONE35,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGES,
    World,
    build_world,
    gk_box,
    pcode,
)

# (village, feature, seq, land use, x, y, width, height) — registered, free of dispute
PLOTS = [
    (VILLAGE_A, "JB", 7, "0601", 700, 100, 200.0, 100.0),  # 30 mu industrial
    (VILLAGE_A, "JB", 8, "0501", 700, 300, 100.0, 100.0),  # 15 mu commercial
    (VILLAGE_A, "JB", 9, "0601", 300, 500, 100.0, 100.0),  # 15 mu, half of it PBF
    (VILLAGE_A, "JB", 10, "0601", 700, 500, 100.0, 50.0),  # 7.5 mu
    (VILLAGE_A, "JB", 11, "0601", 700, 600, 150.0, 100.0),  # 22.5 mu
    (VILLAGE_B, "JB", 4, "0601", 1500, 300, 200.0, 200.0),  # 60 mu in village B
    (VILLAGE_A, "JC", 12, "0702", 120, 80, 20.0, 20.0),  # a registered homestead: 王五's
]
HOUSEHOLD = "王五"
INDEX = {code: i for code, (_, i) in VILLAGES.items()}
A7, A8, A9, A10, A11 = (pcode(0, "JB", s) for s in (7, 8, 9, 10, 11))
B4 = pcode(1, "JB", 4)
A_INDUSTRIAL_4 = pcode(0, "JB", 4)  # 7.5 mu industrial from the API world
A_HOMESTEAD = pcode(0, "JC", 2)  # 300 m², unregistered, household head 张三 (personal data)
A_FARMHOUSE = pcode(0, "JC", 12)  # 400 m², registered, household head 王五


def plot_frame() -> gpd.GeoDataFrame:
    """The plots, registered and free of dispute (the homestead with its household head)."""
    rows = [
        {
            "parcel_code": pcode(INDEX[v], feature, seq),
            "land_use_code": use,
            "village_code": v,
            "registered": True,
            "disputed": False,
            "household_head": HOUSEHOLD if feature == "JC" else None,
            "geometry": gk_box(x, y, w, h),
        }
        for v, feature, seq, use, x, y, w, h in PLOTS
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=GK_ZONE35).to_crs(4490)


def _layer(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=GK_ZONE35).to_crs(4490)


def load_constraints(url: str) -> None:
    """PBF over half of A9, a red line in the far corner of B, a UDB strip, the village plan."""
    layers = {
        "pbf": [{"name": "PBF 1", "geometry": gk_box(350, 500, 100, 100)}],
        "redline": [{"name": "红线 1", "geometry": gk_box(1800, 800, 150, 150)}],
        "udb": [{"name": "UDB", "geometry": gk_box(2000, 0, 900, 1000)}],
        "village_plan": [
            {"plan_code": "1001", "geometry": gk_box(400, 0, 600, 900)},  # industrial zone A
            {"plan_code": "1001", "geometry": gk_box(250, 450, 150, 200)},  # around A9
            {"plan_code": "0703", "geometry": gk_box(100, 0, 100, 60)},  # homestead zone A
            {"plan_code": "1001", "geometry": gk_box(1400, 200, 400, 400)},  # industrial zone B
        ],
    }
    for kind, rows in layers.items():
        import_frame(url, _layer(rows), f"constraints:{kind}", source_name=f"test_{kind}.geojson")


def terms(**changes) -> ListingTerms:
    """Valid industrial transfer terms (50 years, 2/3 consent, contact), with changes."""
    base = {
        "method": "transfer",
        "supply_mode": "transfer",
        "intended_uses": ["industrial"],
        "term_years": 50,
        "price_per_mu": 120_000,
        "consent": {"meeting_date": "2025-12-01", "votes_for": 2, "votes_total": 3},
        "contact": {"name": "甲村村委会 / village A committee", "phone": "023-4370-0001"},
        "title": "工业用地 / industrial plot",
    }
    return ListingTerms.from_dict({**base, **changes})


@dataclass
class MarketWorld(World):
    """The API world plus plots, constraints and some listings (ids by name)."""

    listings: dict[str, int] = field(default_factory=dict)


class _Collective:
    def __init__(self, user_id: int, village: str) -> None:
        self.role, self.village_code, self.user_id = "collective", village, user_id

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}:collective"


def build_market(url: str, publish: dict[str, tuple[str, dict]] | None = None) -> MarketWorld:
    """Build the world; publish maps a listing name to (parcel code, term changes)."""
    base = build_world(url)
    import_frame(url, plot_frame(), "parcels", source_name="test_plots.geojson")
    load_constraints(url)
    world = MarketWorld(url, base.tokens, base.parcel_codes)
    policy = load_policy(date(2026, 1, 1))
    with session_scope(url) as session:
        for name, (code, changes) in (publish or {}).items():
            village = VILLAGE_A if code.startswith(pcode(0, "JB", 1)[:12]) else VILLAGE_B
            who = _Collective(1000 + INDEX[village], village)
            made = repository.create_listing(session, code, terms(**changes), who, policy)
            result = repository.publish_listing(session, made["id"], who, policy)
            assert not result.refused, result.publication.problems(code)
            world.listings[name] = made["id"]
    return world
