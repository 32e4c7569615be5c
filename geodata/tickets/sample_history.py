"""A realistic land ticket history for the sample township, seeded once (idempotent, atomic).

Households settled in town withdraw their homesteads (2025), the checks running on the stored
layers; each village's eligible withdrawals (and, in two villages, an idle collective plot planned
back to farmland) form a reclamation project; four projects are accepted in autumn 2025 — steep
parts and a field-road strip here and there are not accepted — and issue tickets to the village
collectives; the largest ticket is sold at a sealed auction with four investor bids (December
2025); the winner splits off the area of an arable parcel inside the urban development boundary
and lands it there (March 2026). The fifth project is still awaiting acceptance.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID, User
from geodata.tickets.checks import check_stored, land_checked, reclamation_verdicts
from geodata.tickets.core import Actor, Target, run
from geodata.tickets.exchange import close_auction, list_auction, place_bid
from geodata.tickets.projects import PlotInspection, accept, create_project
from geodata.tickets.queries import showcase_ticket
from geodata.tickets.repository import split, terms_on
from geodata.tickets.withdrawals import file_withdrawal
from geodata.users import create_user
from landmarket.areas import gk_epsg, gk_zone, to_gk
from landmarket.eligibility.verdict import ELIGIBLE, Verdict
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import load_policy
from landmarket.tickets import Consent, Evidence, slope_grade

PROJECT_PREFIX = "SAMPLE-XM-"
PER_VILLAGE = 9  # withdrawals filed per village
FILED, CONSENTED, PLANNED = date(2025, 3, 3), date(2025, 2, 20), date(2025, 6, 16)
ACCEPTED, SPLIT_ON, LANDED = date(2025, 10, 20), date(2026, 1, 12), date(2026, 3, 2)
CST = UTC  # stored as instants; 01:00 UTC = 09:00 Beijing time
OPENS = datetime(2025, 12, 1, 1, 0, tzinfo=CST)
CLOSES = datetime(2025, 12, 5, 8, 0, tzinfo=CST)
BIDS = (186_000, 201_500, 178_000, 195_000)  # per mu, investors 1–4; investor 2 wins
RESERVE = 150_000
ROAD_STRIP_EVERY = 7  # every 7th plot keeps a strip as a field road
ROAD_STRIP_M2 = Decimal("12.00")
STEEP_GRADE, RISER_SHARE = 4, Decimal("0.15")  # on 15–25° plots a riser > 25° is found on site
COSTS = (Decimal(18_500), Decimal(21_000), Decimal(19_800), Decimal(23_400))

_SETTLED = """
SELECT h.attrs->>'household_id' AS household, h.village_code, h.parcel_code AS homestead,
       coalesce(array_agg(a.parcel_code ORDER BY a.parcel_code)
                FILTER (WHERE a.parcel_code IS NOT NULL), '{}') AS ancillary
FROM parcels h
LEFT JOIN parcels a ON a.attrs->>'attached_to' = h.parcel_code
     AND a.attrs->>'household_id' = h.attrs->>'household_id'
WHERE substr(h.parcel_code, 13, 2) = 'JC' AND h.attrs->>'settled_in_town' IN ('1', '1.0', 'true')
  AND coalesce(h.attrs->>'ancillary', 'false') = 'false'
GROUP BY 1, 2, 3 ORDER BY 1, 3
"""
_IDLE = """
SELECT p.parcel_code FROM parcels p
WHERE p.village_code = :v AND substr(p.parcel_code, 13, 2) = 'JB' AND p.registered
  AND p.land_use_code = ANY(:uses) AND EXISTS (
    SELECT 1 FROM constraint_features f WHERE f.kind = 'village_plan' AND f.plan_code = '0103'
      AND ST_Intersects(f.geom, ST_PointOnSurface(p.geom)))
  AND NOT EXISTS (SELECT 1 FROM constraint_features f WHERE f.kind = 'pbf'
      AND ST_Intersects(f.geom, p.geom))
ORDER BY p.parcel_code LIMIT 1
"""
_DESTINATIONS = """
SELECT p.parcel_code FROM parcels p
WHERE p.land_use_code IN ('0101', '0102', '0103') AND p.area_m2 BETWEEN 300 AND :most
  AND EXISTS (SELECT 1 FROM constraint_features f WHERE f.kind = 'udb'
              AND ST_Covers(f.geom, p.geom))
ORDER BY p.area_m2 DESC, p.parcel_code LIMIT 12
"""


@dataclass
class HistorySummary:
    """What the sample's ticket history holds (counted from the database)."""

    withdrawals: int = 0
    eligible: int = 0
    projects: int = 0
    accepted: int = 0
    tickets: int = 0
    auctions_sold: int = 0
    bids: int = 0
    landings: int = 0
    showcase: str | None = None  # the landed lineage's issued certificate
    unchanged: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def items(self) -> list[tuple[str, object]]:
        """(label, value) lines for the CLI."""
        state = "unchanged" if self.unchanged else "seeded"
        keys = ("withdrawals", "eligible", "projects", "accepted", "tickets", "auctions_sold")
        return [("state", state), *((k, getattr(self, k)) for k in keys),
                ("bids", self.bids), ("landings", self.landings), ("showcase", self.showcase)]  # fmt: skip


def seed_ticket_history(target: Target = None) -> HistorySummary:
    """Seed the sample township's ticket history once; a repeat changes nothing."""

    def work(s: Session) -> HistorySummary:
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext('landmarket.sample_history'))"))
        done = s.scalar(
            text("SELECT count(*) FROM reclamation_projects WHERE code LIKE :p"),
            {"p": PROJECT_PREFIX + "%"},
        )
        if done:
            return _summary(s, unchanged=True)
        _seed(s)
        return _summary(s, unchanged=False)

    return run(target, work)


def _summary(s: Session, unchanged: bool) -> HistorySummary:
    def count(sql: str) -> int:
        return int(s.scalar(text(sql)) or 0)

    return HistorySummary(
        withdrawals=count("SELECT count(*) FROM withdrawals"),
        eligible=count("SELECT count(*) FROM withdrawals WHERE verdict = 'eligible'"),
        projects=count("SELECT count(*) FROM reclamation_projects"),
        accepted=count("SELECT count(*) FROM acceptances"),
        tickets=count("SELECT count(*) FROM tickets"),
        auctions_sold=count("SELECT count(*) FROM auction_results WHERE sold"),
        bids=count("SELECT count(*) FROM bids"),
        landings=count("SELECT count(*) FROM landings"),
        showcase=showcase_ticket(s),
        unchanged=unchanged,
    )


def _user(s: Session, role: str, name: str, village: str | None = None) -> Actor:
    """The sample's user of a role and name, created on first use."""
    user = s.scalar(select(User).where(User.role == role, User.name == name))
    if user is None:
        user = create_user(s, role, village, name=name, actor="sample")[0]
    return Actor(user.id, role, village)


def _seed(s: Session) -> None:
    by_village: dict[str, list[Any]] = defaultdict(list)
    seen: set[str] = set()
    for h in s.execute(text(_SETTLED)):
        if h.household not in seen and len(by_village[h.village_code]) < PER_VILLAGE:
            seen.add(h.household)  # a household's first homestead (一户多宅 is then refused)
            by_village[h.village_code].append(h)
    if not by_village:
        raise InvalidInput(
            [RecordProblem("parcels", "没有进城落户农户的宅基地, 请先载入示例 / no homesteads of "
                           "settled households: run `landmarket sample load` first")]
        )  # fmt: skip
    names = dict(s.execute(text("SELECT code, name FROM villages")).all())
    bureau = _user(s, "bureau", "示例区规划和自然资源局 / sample district bureau")
    investors = [_user(s, "investor", f"示例投资者{i} / sample investor {i}") for i in range(1, 5)]
    uses = list(load_policy(PLANNED).value("reclamation.land_use"))
    verdicts: dict[str, Verdict] = {}
    projects: list[tuple[int, Actor]] = []
    for village, chosen in sorted(by_village.items()):
        name = names.get(village, village)
        collective = _user(s, "collective", f"{name}集体经济组织 / {village} collective", village)
        idle = s.scalars(text(_IDLE), {"v": village, "uses": uses}).all()
        codes = [c for h in chosen for c in (h.homestead, *h.ancillary)] + list(idle)
        verdicts |= reclamation_verdicts(s, codes, load_policy(FILED))
        eligible = _file(s, collective, chosen, verdicts, name)
        idle = [c for c in idle if verdicts[c].verdict == ELIGIBLE]
        if eligible or idle:
            code = f"{PROJECT_PREFIX}{village[-3:]}"
            title = f"{name}宅基地复垦项目 / homestead reclamation, {name}"
            project = create_project(s, bureau, code, title, eligible, idle, PLANNED)
            projects.append((project, collective))
    tickets: list[tuple[Decimal, str]] = []
    for n, (project, collective) in enumerate(projects[:4]):  # the last one awaits acceptance
        found = _inspections(s, project, verdicts)
        on = ACCEPTED + timedelta(days=n)
        outcome = accept(s, bureau, project, found, COSTS[n], on, holder_id=collective.user_id)
        if outcome.cert_no:
            tickets.append((outcome.ticket_m2, outcome.cert_no))
    if not tickets:
        raise InvalidInput([RecordProblem("projects", "没有验收出地票 / no ticket was issued")])
    area, cert = max(tickets)
    _auction_split_land(s, bureau, investors, cert, area)


def _file(s: Session, collective: Actor, chosen: list[Any], verdicts: dict[str, Verdict], village_name: str) -> list[int]:  # fmt: skip
    """File each chosen household's withdrawal; the ids of the eligible ones."""
    eligible = []
    for i, h in enumerate(chosen):
        kind = "urban_housing_title" if i % 3 else "purchase_contract"
        evidence = Evidence(
            kind, f"渝(2024)大足区不动产权第{zlib.crc32(h.household.encode()) % 10**7:07d}号"
        )
        consent = Consent(f"{village_name}村民代表会议决议〔2025〕{i + 1}号", CONSENTED)
        filed = file_withdrawal(
            s, collective, h.household, h.homestead, list(h.ancillary), evidence, consent,
            FILED + timedelta(days=3 * i), [verdicts[c] for c in (h.homestead, *h.ancillary)],
        )  # fmt: skip
        if filed.decision.verdict.verdict == ELIGIBLE:
            eligible.append(filed.id)
    return eligible


def _inspections(s: Session, project_id: int, verdicts: dict[str, Verdict]) -> list[PlotInspection]:
    """The bureau's findings: steep parts and every 7th plot's road strip are not accepted.

    Steep parts come from the reclamation check; on a plot of slope grade 4 (15–25° on average)
    the inspection also finds a terrace riser steeper than 25° (15 % of the plot), which a 10 m
    DEM averages away.
    """
    rows = s.execute(
        text(
            "SELECT pp.parcel_code, pp.withdrawal_id, pp.homestead_m2 + pp.ancillary_m2 AS planned, "
            "coalesce(w.ancillary_parcel_codes, '{}') AS ancillary, ST_AsBinary(pp.geom) AS geom "
            "FROM project_plots pp LEFT JOIN withdrawals w ON w.id = pp.withdrawal_id "
            "WHERE pp.project_id = :p ORDER BY pp.parcel_code"
        ),
        {"p": project_id},
    ).all()
    terms = terms_on(ACCEPTED)
    out = []
    for i, r in enumerate(rows):
        mine = [verdicts[c] for c in (r.parcel_code, *r.ancillary)]
        steep = sum(
            (Decimal(str(part["m2"])) for v in mine for part in v.extra["non_reclaimable"]),
            Decimal(0),
        )
        grade = slope_grade(mine[0].extra["slope"]["mean"] or 0.0, terms)
        if not steep and grade == STEEP_GRADE:
            steep = r.planned * RISER_SHARE
        accepted = max(r.planned - steep.quantize(Decimal("0.01")), Decimal(0))
        note = (
            "坡度大于25°的陡坎未验收 / a strip steeper than 25° is not accepted" if steep else None
        )
        if i % ROAD_STRIP_EVERY == ROAD_STRIP_EVERY - 1 and accepted > ROAD_STRIP_M2:
            accepted -= ROAD_STRIP_M2
            note = "保留田间道路 12 m² / a 12 m² strip kept as a field road"
        geom = shapely.from_wkb(bytes(r.geom))
        shape = trim(geom, float(accepted / r.planned)) if accepted < r.planned else geom
        out.append(PlotInspection(r.parcel_code, accepted, grade, shape, note))
    return out


def trim(geom: BaseGeometry, fraction: float) -> BaseGeometry:
    """The western part of a geometry holding `fraction` of its area (EPSG:4490 in and out)."""
    if fraction <= 0:
        return geom
    zone = int(gk_zone(geom.representative_point().x))
    local = to_gk(gpd.GeoSeries([geom], crs=SRID), zone).iloc[0]
    minx, miny, maxx, maxy = local.bounds
    lo, hi = minx, maxx
    for _ in range(40):  # bisection on the cut's easting
        mid = (lo + hi) / 2
        if local.intersection(box(minx, miny, mid, maxy)).area < fraction * local.area:
            lo = mid
        else:
            hi = mid
    part = local.intersection(box(minx, miny, hi, maxy))
    return gpd.GeoSeries([part], crs=gk_epsg(zone)).to_crs(SRID).iloc[0]


def _auction_split_land(
    s: Session, bureau: Actor, investors: list[Actor], cert: str, area: Decimal
) -> None:
    """Sell the ticket at a sealed auction, split off a landing's area and land it in the UDB."""
    auction = list_auction(s, bureau, cert, area, RESERVE, "sealed", OPENS, CLOSES)
    for i, (investor, price) in enumerate(zip(investors, BIDS, strict=True)):
        place_bid(s, investor, auction, price, OPENS + timedelta(hours=5 + 20 * i))
    closed = close_auction(s, bureau, auction, CLOSES)
    winner = next(a for a in investors if a.user_id == closed.winner_id)
    policy = load_policy(LANDED)
    candidates = s.scalars(text(_DESTINATIONS), {"most": float(area) * 0.6}).all()
    for code in candidates:
        probe = check_stored(
            s, "ticket_landing", [code], policy, ticket_m2=float(area), landing_use="operational"
        )[code]
        if probe.verdict != ELIGIBLE or not probe.extra.get("farmland"):
            continue
        need = Decimal(str(probe.extra["farmland"]["m2"])).quantize(Decimal("0.01"))
        child = split(s, winner, closed.cert_no, need, SPLIT_ON)
        land_checked(s, bureau, child, need, code, "operational", policy, winner.user_id)
        return
    raise InvalidInput(
        [RecordProblem("udb", "城镇开发边界内无可落地耕地 / no arable parcel in the UDB fits")]
    )
