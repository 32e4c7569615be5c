"""The sample-township world of the ticket API, CLI and map tests: users, households, helpers.

The fixtures that build it live in tests/tickets_sample_world.py (a plugin: ``pytest_plugins``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import shapely
from sqlalchemy import text

from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.sample.load import load_sample
from geodata.settings import REPO_ROOT
from geodata.tickets import Actor, PlotInspection, accept, create_project
from geodata.tickets.checks import check_stored, file_checked_withdrawal, reclamation_verdicts
from geodata.tickets.sample_history import HistorySummary
from geodata.users import create_user
from landmarket.eligibility.verdict import ELIGIBLE
from landmarket.policy import load_policy
from landmarket.tickets import Consent, Evidence

SAMPLE_DIR = REPO_ROOT / "sample_parcels"
VILLAGES = [f"500111108{n}" for n in range(201, 206)]
OWN, OTHER = "500111108204", "500111108203"  # the matrix's "own" and "other" village
TODAY = date.today()
EVIDENCE = {"kind": "urban_housing_title", "reference": "渝(2025)大足区不动产权第0001234号"}
CONSENT = {"resolution": "村民代表会议决议〔2026〕1号", "decided_on": "2026-01-15"}
SETTLED = """
SELECT h.attrs->>'household_id' AS household, h.village_code, h.parcel_code AS homestead,
       coalesce(array_agg(a.parcel_code ORDER BY a.parcel_code)
                FILTER (WHERE a.parcel_code IS NOT NULL), '{}') AS ancillary,
       count(*) OVER (PARTITION BY h.attrs->>'household_id') AS homesteads
FROM parcels h LEFT JOIN parcels a ON a.attrs->>'attached_to' = h.parcel_code
WHERE substr(h.parcel_code, 13, 2) = 'JC' AND h.attrs->>'settled_in_town' = 'true'
  AND h.attrs->>'ancillary' = 'false'
GROUP BY 1, 2, 3 ORDER BY 1
"""
UDB_ARABLE = """
SELECT p.parcel_code FROM parcels p WHERE p.land_use_code IN ('0101', '0102', '0103')
  AND EXISTS (SELECT 1 FROM constraint_features f WHERE f.kind = 'udb' AND ST_Covers(f.geom, p.geom))
ORDER BY p.area_m2
"""


@dataclass(frozen=True)
class Household:
    """A settled household whose homestead and ancillary plots pass the reclamation check."""

    household_id: str
    village: str
    homestead: str
    ancillary: list[str]

    def body(self) -> dict:
        """The POST /withdrawals body of this household."""
        return {
            "household_id": self.household_id,
            "homestead_parcel_code": self.homestead,
            "ancillary_parcel_codes": self.ancillary,
            "evidence": EVIDENCE,
            "consent": CONSENT,
        }


@dataclass
class SampleWorld:
    """What a sample-township test database holds."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    households: dict[str, list[Household]] = field(default_factory=dict)
    destinations: list[tuple[str, Decimal]] = field(default_factory=list)  # (code, farmland m²)
    _used: set[str] = field(default_factory=set)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header: public, bureau, investor, investor2, investor3, collective:V."""
        who = {
            "collective_own": f"collective:{OWN}",
            "collective_other": f"collective:{OTHER}",
        }.get(who, who)
        return {} if who == "public" else {"Authorization": f"Bearer {self.tokens[who]}"}

    def user_id(self, who: str) -> int:
        """The user id of a fixture user."""
        return self.actors[who].user_id

    def household(self, village: str | None = None) -> Household:
        """An eligible household not used before (of the village, else any but OWN)."""
        villages = [village] if village else [v for v in VILLAGES if v != OWN] + [OWN]
        for v in villages:
            for h in self.households.get(v, []):
                if h.household_id not in self._used:
                    self._used.add(h.household_id)
                    return h
        raise AssertionError(f"the sample ran out of eligible households in {villages}")

    def serial(self) -> int:
        """A fresh number for project codes."""
        return next(self._serial)

    def destination(self, at_most: Decimal) -> tuple[str, Decimal]:
        """The largest UDB arable parcel (code, farmland m²) whose farmland fits at_most."""
        fits = [d for d in self.destinations if d[1] <= at_most]
        assert fits, f"no UDB arable parcel of at most {at_most} m²"
        return fits[-1]

    def withdrawal(self, household: Household) -> int:
        """File a household's withdrawal through the ledger (checks run); its id."""
        collective = self.actors[f"collective:{household.village}"]
        filed = file_checked_withdrawal(
            self.url, collective, household.household_id, household.homestead,
            household.ancillary, Evidence(**EVIDENCE), Consent("决议", date(2026, 1, 15)),
            load_policy(TODAY),
        )  # fmt: skip
        assert filed.decision.verdict.verdict == ELIGIBLE, filed.decision.verdict.to_dict()
        return filed.id

    def project(self, households: int = 1, village: str | None = None) -> int:
        """A reclamation project of fresh withdrawals, through the ledger; its id."""
        ids = [self.withdrawal(self.household(village)) for _ in range(households)]
        code = f"T-XM-{self.serial():04d}"
        return create_project(self.url, self.actors["bureau"], code, "测试项目", ids, on=TODAY)

    def ticket(self, holder: str = f"collective:{OWN}", households: int = 1, village=None) -> str:
        """A ticket issued to holder from fresh households' plots; its ASCII certificate."""
        project = self.project(households, village)
        outcome = accept(
            self.url, self.actors["bureau"], project, self.inspections(project), 20_000, TODAY,
            holder_id=self.user_id(holder),
        )  # fmt: skip
        with session_scope(self.url) as s:
            return s.scalar(
                text("SELECT cert_code FROM tickets WHERE cert_no = :c"), {"c": outcome.cert_no}
            )

    def inspections(self, project_id: int, short_m2: Decimal = Decimal(0)) -> list[PlotInspection]:
        """Accept every plot in full (the first short_m2 less), slope grade 2, plot geometry."""
        with session_scope(self.url) as s:
            rows = s.execute(
                text(
                    "SELECT parcel_code, homestead_m2 + ancillary_m2 AS planned, "
                    "ST_AsBinary(geom) AS g FROM project_plots WHERE project_id = :p "
                    "ORDER BY parcel_code"
                ),
                {"p": project_id},
            ).all()
        return [
            PlotInspection(
                r.parcel_code,
                r.planned - (short_m2 if i == 0 else 0),
                2,
                shapely.from_wkb(bytes(r.g)),
            )
            for i, r in enumerate(rows)
        ]


def load_world(url: str, raster_dir: Path) -> SampleWorld:
    """Migrate, load the sample, make users, find eligible households and landing parcels."""
    upgrade(url)
    load_sample(url, SAMPLE_DIR, raster_dir=raster_dir)
    world = SampleWorld(url)
    with session_scope(url) as s:
        people = [("bureau", "bureau", None)] + [
            (key, "investor", None) for key in ("investor", "investor2", "investor3")
        ]
        people += [(f"collective:{v}", "collective", v) for v in VILLAGES]
        for key, role, village in people:
            user, token = create_user(s, role, village, name=f"test {key}")
            world.tokens[key], world.actors[key] = token, Actor(user.id, role, village)
        rows = [r for r in s.execute(text(SETTLED)) if r.homesteads == 1]
        policy = load_policy(TODAY)
        codes = [c for r in rows for c in (r.homestead, *r.ancillary)]
        verdicts = reclamation_verdicts(s, codes, policy)
        for r in rows:
            if all(verdicts[c].verdict == ELIGIBLE for c in (r.homestead, *r.ancillary)):
                h = Household(r.household, r.village_code, r.homestead, list(r.ancillary))
                world.households.setdefault(r.village_code, []).append(h)
        arable = s.scalars(text(UDB_ARABLE)).all()
        checked = check_stored(s, "ticket_landing", arable, policy, ticket_m2=1e9)
        for code, v in checked.items():
            if v.verdict == ELIGIBLE and v.extra["farmland"]["m2"] > 20:
                world.destinations.append((code, Decimal(str(v.extra["farmland"]["m2"]))))
        world.destinations.sort(key=lambda d: d[1])
    return world


@dataclass
class HistoryWorld:
    """The sample with its seeded ticket history."""

    url: str
    summary: HistorySummary
