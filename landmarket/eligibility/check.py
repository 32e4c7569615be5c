"""A check is an ordered list of rules over measured facts, for one parcel or many."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landmarket.eligibility.columns import Columns, empty_like, record_at, row_at, values
from landmarket.eligibility.context import ConstraintContext
from landmarket.eligibility.inputs import parcels_frame
from landmarket.eligibility.measure import measure
from landmarket.eligibility.rules import Outcome, Rule, rules_for
from landmarket.eligibility.verdict import FAIL, REVIEW, Verdict
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.policy import Policy, load_policy
from landmarket.rules import combine_masks
from landmarket.units import area_summary

Frame = pd.DataFrame | Columns  # facts of many parcels, or plain columns of one project
SITE_ONLY_TITLE = (
    " (仅场地条件, 未含申请事项 / site conditions only, application facts not evaluated)"
)


@dataclass(frozen=True)
class Check:
    """One check: its rules come from the registry; hooks derive facts, extras and the verdict."""

    name: str
    title: str
    needs: frozenset[str]
    derive: Callable[[Frame, Policy], Frame] | None = None  # facts → facts with derived columns
    extras: Callable[[Frame, dict[str, Outcome], Policy], Frame] | None = None  # flat extra columns
    nest: Callable[[Mapping[str, Any], Policy], dict[str, Any]] | None = None  # flat row → extra
    decide: Callable[[Frame, np.ndarray, Frame], np.ndarray] | None = None  # custom verdicts

    @property
    def rules(self) -> list[Rule]:
        """The ordered rules of this check."""
        return rules_for(self.name)

    def run(self, facts: Frame, policy: Policy, *, site_only: bool = False) -> CheckRun:
        """Evaluate every rule over the facts (a frame, or Columns) at once."""
        if self.derive is not None:
            facts = self.derive(facts, policy)
        rules = [r for r in self.rules if not (site_only and r.application)]
        outcomes = {r.id: r.outcome(facts, policy) for r in rules}
        # each status array compared with fail and review once, for the verdicts and the ids
        flags = {rule_id: _flags(o.status) for rule_id, o in outcomes.items()}
        verdict = _verdict(list(flags.values()), len(facts))
        site = [flags[r.id] for r in rules if not r.application]
        site_verdict = verdict if site_only else _verdict(site, len(facts))
        extras = (
            self.extras(facts, outcomes, policy) if self.extras is not None else empty_like(facts)
        )
        if self.decide is not None:
            verdict = self.decide(facts, verdict, extras)
            site_verdict = verdict if site_only else self.decide(facts, site_verdict, extras)
        return CheckRun(
            self, policy, facts, rules, outcomes, verdict, extras, site_only, site_verdict, flags
        )


def _flags(status: Any) -> tuple[np.ndarray, np.ndarray]:
    """Where a rule's status is fail, and where review (as combine compares them)."""
    status = np.asarray(status, dtype=object)
    return status == FAIL, status == REVIEW


def _verdict(flags: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """combine over the rules' (fail, review) masks."""
    fail = np.zeros(n, dtype=bool)
    review = np.zeros(n, dtype=bool)
    for is_fail, is_review in flags:
        fail |= is_fail
        review |= is_review
    return combine_masks(fail, review)


@dataclass
class CheckRun:
    """The vectorised result of one check over n parcels."""

    check: Check
    policy: Policy
    facts: Frame
    rules: list[Rule]
    outcomes: dict[str, Outcome]
    verdict: np.ndarray
    extras: Frame = field(repr=False)
    site_only: bool = False
    site_verdict: np.ndarray | None = None  # the verdict of the site rules alone
    flags: dict[str, tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    @property
    def not_evaluated(self) -> list[str]:
        """Ids of the check's rules left out (the application rules of a site-only screen)."""
        done = {r.id for r in self.rules}
        return [r.id for r in self.check.rules if r.id not in done]

    def scope(self) -> dict[str, Any]:
        """Which rules the verdict rests on: 'site' (site rules only) or 'full'."""
        return {
            "scope": "site" if self.site_only else "full",
            "evaluated": [r.id for r in self.rules],
            "not_evaluated": self.not_evaluated,
        }

    def verdict_at(self, i: int) -> Verdict:
        """The full Verdict of parcel i."""
        row = row_at(self.facts, i)
        results = tuple(r.result_at(self.outcomes[r.id], i, row, self.policy) for r in self.rules)
        flat = record_at(self.extras, i) if len(self.extras.columns) else {}
        extra = self.check.nest(flat, self.policy) if self.check.nest is not None else flat
        site = self.site_verdict[i] if self.site_verdict is not None else self.verdict[i]
        extra = {**extra, **self.scope(), "site_verdict": str(site)}
        title = self.check.title + (SITE_ONLY_TITLE if self.site_only else "")
        return Verdict(
            check=self.check.name,
            title=title,
            verdict=str(self.verdict[i]),
            rules=results,
            areas=area_summary(float(row["area_m2"])),
            policy_version=self.policy.version,
            on=self.policy.on,
            extra=extra,
        )

    def columns(self) -> Frame:
        """Screening columns: verdict, failed and review rule ids, each rule's value, the extras."""
        name = self.check.name
        out = {f"{name}.verdict": self.verdict}
        flags = self.flags or {k: _flags(o.status) for k, o in self.outcomes.items()}
        out[f"{name}.failed"] = _ids({k: f[0] for k, f in flags.items()}, len(self.facts))
        out[f"{name}.needs_review"] = _ids({k: f[1] for k, f in flags.items()}, len(self.facts))
        for rule_id, outcome in self.outcomes.items():
            out[rule_id] = outcome.value
        for col in self.extras.columns:
            out[f"{name}.{col}"] = values(self.extras[col])
        if not self.site_only and self.site_verdict is not None:
            out[f"{name}.site_verdict"] = self.site_verdict  # what a site-only screen would say
        return pd.DataFrame(out, index=self.facts.index)


def _ids(masks: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Semicolon-joined ids of the rules whose mask holds, per parcel, in rule order.

    Each parcel's set of such rules is a bit pattern; the text is joined once per distinct
    pattern (a chunk has few) and handed to every parcel that has it."""
    ids = list(masks)
    if len(ids) > _MAX_BITS:  # (no check has that many rules)
        return _ids_by_rule(masks, n)
    bits = np.zeros(n, dtype=np.int64)
    for t, mask in enumerate(masks.values()):
        bits |= np.asarray(mask, dtype=bool).astype(np.int64) << t
    patterns, back = np.unique(bits, return_inverse=True)
    texts = [";".join(ids[t] for t in range(len(ids)) if int(p) >> t & 1) for p in patterns]
    return np.array(texts, dtype=object)[back.reshape(-1)] if n else np.full(0, "", dtype=object)


_MAX_BITS = 62


def _ids_by_rule(masks: dict[str, np.ndarray], n: int) -> np.ndarray:
    """_ids rule by rule (vectorised per rule)."""
    out = np.full(n, "", dtype=object)
    for rule_id, mask in masks.items():
        if mask.any():
            out[mask] = np.where(out[mask] == "", rule_id, out[mask] + ";" + rule_id)
    return out


CHECKS: dict[str, Check] = {}


def register_check(check: Check) -> Check:
    """Add a check to the registry."""
    if check.name in CHECKS:
        raise ValueError(f"check {check.name} registered twice")
    CHECKS[check.name] = check
    return check


def get_check(name: str) -> Check:
    """A registered check by name (market_entry, reclamation, ticket_landing, approval_route)."""
    try:
        return CHECKS[name.replace("-", "_")]
    except KeyError:
        raise InvalidInput(
            [RecordProblem("check", f"未知检查 / unknown check {name!r}; known: {sorted(CHECKS)}")]
        ) from None


def resolve_policy(on: date | None, policy: Policy | None) -> Policy:
    """The policy given, or the packaged policy in force on the date."""
    if policy is not None:
        if on is not None and policy.on != on:
            raise ValueError("give either a policy or a date, not a policy for another date")
        return policy
    return load_policy(on)


def check_parcel(
    name: str,
    parcel: Any,
    context: ConstraintContext,
    *,
    on: date | None = None,
    policy: Policy | None = None,
    site_only: bool = False,
) -> Verdict:
    """Run one check on one parcel (one-row GeoDataFrame, GeoJSON Feature or geometry)."""
    frame = parcels_frame(parcel)
    if len(frame) != 1:
        raise InvalidInput(
            [RecordProblem("parcels", f"应为单个地块, 收到 {len(frame)} / expected one parcel")]
        )
    return run_frame(name, frame, context, resolve_policy(on, policy), site_only).verdict_at(0)


def run_frame(
    name: str, frame: gpd.GeoDataFrame, context: ConstraintContext, policy: Policy, site_only: bool
) -> CheckRun:
    """Measure and evaluate a check over a normalised parcels frame."""
    check = get_check(name)
    facts = measure(frame, context, set(check.needs), policy)
    return check.run(attach(facts, frame), policy, site_only=site_only)


def attach(facts: Frame, frame: gpd.GeoDataFrame) -> Frame:
    """Facts plus the parcels' attribute columns (measured columns win a name clash)."""
    attrs = frame.drop(columns=[frame.geometry.name, *[c for c in frame if c in facts]])
    return pd.concat([facts, pd.DataFrame(attrs)], axis=1)
