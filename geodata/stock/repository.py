"""Stock-land records: write them all-or-nothing under the right's parcel lock, read the lists."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.rights import get_right, lock_parcel, register_in_session, right_view
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem
from landmarket.policy import Policy
from landmarket.stock import (
    IdleFacts,
    PreregistrationFacts,
    RenewalFacts,
    ShortTermFacts,
    assess_idle,
    assess_renewal,
    assess_short_term,
    assess_transfer,
    lapse_date,
)
from landmarket.trading.rights import occupies


def refusal(record: str, verdict: Any) -> InvalidInput:
    """The failed rules of a verdict as one InvalidInput naming the record."""
    problems = [
        RecordProblem(record, f"{r.title}: {r.value} ({r.source})", r.rule_id)
        for r in verdict.rules
        if r.status == "fail"
    ]
    return InvalidInput(problems or [RecordProblem(record, verdict.verdict)], source=verdict.check)


def record_construction(
    target: Target,
    actor: ActorLike,
    right_no: str,
    *,
    agreed_start_on: date,
    started_on: date | None = None,
    total_investment: Decimal | None = None,
    investment_done: Decimal | None = None,
    land_price: Decimal | None = None,
) -> dict[str, Any]:
    """Record the agreed and actual start of construction and the investment of a right."""
    require_role(actor, "bureau")
    if (
        total_investment is not None
        and investment_done is not None
        and investment_done > total_investment
    ):
        raise InvalidInput(
            [RecordProblem(f"right {right_no}", "已完成投资超过总投资 / done exceeds the total",
                           "investment_done")]
        )  # fmt: skip

    def work(s: Session) -> dict[str, Any]:
        right = get_right(s, right_no)
        lock_parcel(s, right.parcel_code)
        row_id = s.scalar(
            text(
                "INSERT INTO construction_records (right_id, agreed_start_on, started_on, "
                "total_investment, investment_done, land_price, recorded_by) "
                "VALUES (:r, :agreed, :started, :total, :done, :price, :by) RETURNING id"
            ),
            {"r": right.id, "agreed": agreed_start_on, "started": started_on,
             "total": total_investment, "done": investment_done, "price": land_price,
             "by": actor.user_id},
        )  # fmt: skip
        write_audit(s, actor.actor, "stock.construction", "construction_records", row_id,
                    {"right_no": right.right_no})  # fmt: skip
        return {"id": row_id, "right_no": right.right_no}

    return run(target, work)


# The newest construction record of each right that occupies its parcel, with its geometry.
_LATEST = """
SELECT r.right_no, r.parcel_code, r.holder_name, r.use, r.village_code, r.area_m2,
       c.agreed_start_on, c.started_on, c.land_price, c.total_investment, c.investment_done,
       ST_AsGeoJSON(r.geom, 7) AS geometry
FROM land_rights r
JOIN LATERAL (SELECT * FROM construction_records c WHERE c.right_id = r.id
              ORDER BY c.id DESC LIMIT 1) c ON true
WHERE NOT EXISTS (SELECT 1 FROM land_rights s WHERE s.supersedes_id = r.id)
  AND NOT EXISTS (SELECT 1 FROM land_right_events e WHERE e.right_id = r.id)
  AND r.ends_on > :on
  AND (CAST(:county AS text) IS NULL OR r.parcel_code LIKE CAST(:county AS text) || '%')
ORDER BY r.right_no
"""


def idle_rights(
    session: Session, policy: Policy, on: date, county: str | None = None, only_idle: bool = True
) -> list[dict[str, Any]]:
    """Live rights with a construction record and their idle stage on a day (idle ones only)."""
    out = []
    for row in session.execute(text(_LATEST), {"on": on, "county": county}).mappings():
        facts = IdleFacts(
            row["agreed_start_on"], row["started_on"], on,
            float(row["land_price"]) if row["land_price"] is not None else None,
        )  # fmt: skip
        verdict = assess_idle(facts, policy)
        if only_idle and verdict.extra["stage"] == "not_idle":
            continue
        out.append(
            {
                "right_no": row["right_no"],
                "parcel_code": row["parcel_code"],
                "holder_name": row["holder_name"],
                "use": row["use"],
                "village_code": row["village_code"],
                "area_m2": str(row["area_m2"]),
                "agreed_start_on": row["agreed_start_on"].isoformat(),
                "started_on": row["started_on"] and row["started_on"].isoformat(),
                "geometry": json.loads(row["geometry"]),
                **verdict.to_dict(),
            }
        )
    return out


def renew_right(
    target: Target,
    actor: ActorLike,
    policy: Policy,
    right_no: str,
    *,
    years: int,
    applied_on: date,
    floor_area_m2: float,
    district: str | None = None,
) -> dict[str, Any]:
    """Register a renewal (a new right from the old end date) when the renewal check allows it."""
    require_role(actor, "bureau")

    def work(s: Session) -> dict[str, Any]:
        old = get_right(s, right_no, applied_on)
        facts = RenewalFacts(old.use, old.ends_on, applied_on, years, floor_area_m2, district)
        verdict = assess_renewal(facts, policy)
        if verdict.verdict == "ineligible":
            raise refusal(f"right {old.right_no}", verdict)
        new = register_in_session(
            s, actor, parcel_code=old.parcel_code, holder_id=old.holder_id,
            holder_name=old.holder_name, method=old.method.value, use=old.use, term_years=years,
            starts_on=old.ends_on, registered_on=applied_on, basis="renewal",
            supersedes=old.right_no, reason=f"续期 / renewal: {verdict.extra.get('price_yuan')} 元",
        )  # fmt: skip
        return {"right": right_view(new), "check": verdict.to_dict()}

    return run(target, work)


_LIVE_PREREG = """
SELECT p.id, p.buyer_name, p.buyer_id, p.contract_signed_on, p.registered_on
FROM preregistrations p
WHERE p.right_id = :r
  AND NOT EXISTS (SELECT 1 FROM preregistration_events e WHERE e.preregistration_id = p.id)
ORDER BY p.id DESC LIMIT 1
"""


def live_preregistration(session: Session, right_id: int) -> dict[str, Any] | None:
    """The pre-registration holding a right (no ending event yet), or None."""
    row = session.execute(text(_LIVE_PREREG), {"r": right_id}).mappings().first()
    return dict(row) if row else None


def preregister(
    target: Target,
    actor: ActorLike,
    policy: Policy,
    right_no: str,
    *,
    buyer_name: str,
    contract_signed_on: date,
    on: date,
    buyer_id: int | None = None,
) -> dict[str, Any]:
    """Pre-register a transfer contract signed before the investment condition is met."""
    require_role(actor, "bureau")
    if not buyer_name.strip():
        raise InvalidInput([RecordProblem(f"right {right_no}", "须填写买受人", "buyer_name")])

    def work(s: Session) -> dict[str, Any]:
        right = get_right(s, right_no, on)
        lock_parcel(s, right.parcel_code)
        right = get_right(s, str(right.id), on)
        if not occupies(right.status):
            raise Conflict(f"权利 {right.right_no} 状态为 {right.status} / right is {right.status}")
        held = live_preregistration(s, right.id)
        if held is not None:
            facts = PreregistrationFacts(1, 1, on, preregistered_for=held["buyer_name"],
                                         buyer=buyer_name)  # fmt: skip
            verdict = assess_transfer(facts, policy)
            if verdict.failed:
                raise Conflict(
                    f"权利 {right.right_no} 已为 {held['buyer_name']} 办理预告登记 / the right is "
                    f"pre-registered for {held['buyer_name']} (Civil Code art. 221)"
                )
        row_id = s.scalar(
            text(
                "INSERT INTO preregistrations (right_id, buyer_name, buyer_id, contract_signed_on, "
                "registered_on, recorded_by) VALUES (:r, :name, :bid, :signed, :on, :by) "
                "RETURNING id"
            ),
            {"r": right.id, "name": buyer_name.strip(), "bid": buyer_id,
             "signed": contract_signed_on, "on": on, "by": actor.user_id},
        )  # fmt: skip
        write_audit(s, actor.actor, "stock.preregistration", "preregistrations", row_id,
                    {"right_no": right.right_no, "buyer": buyer_name})  # fmt: skip
        return {"id": row_id, "right_no": right.right_no, "buyer_name": buyer_name.strip()}

    return run(target, work)


def complete_preregistration(
    target: Target,
    actor: ActorLike,
    policy: Policy,
    preregistration_id: int,
    *,
    kind: str,
    on: date,
    registrable_since: date | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """End a pre-registration: completed (the transfer), lapsed (after 90 days) or released."""
    require_role(actor, "bureau")
    if kind not in ("completed", "lapsed", "released"):
        raise InvalidInput([RecordProblem(f"preregistration {preregistration_id}",
                                          f"未知结果 / unknown ending {kind!r}", "kind")])  # fmt: skip
    if kind == "lapsed":
        last = lapse_date(registrable_since, policy)
        if last is None or on <= last:
            raise Conflict(
                f"预告登记未满失效期 / the pre-registration holds until {last} "
                f"({policy['stock.preregistration.lapse_days'].source})"
            )

    def work(s: Session) -> dict[str, Any]:
        held = s.execute(
            text(
                "SELECT r.parcel_code, r.id AS right_id, p.buyer_name, p.buyer_id "
                "FROM preregistrations p JOIN land_rights r ON r.id = p.right_id WHERE p.id = :i"
            ),
            {"i": preregistration_id},
        ).first()
        if held is None:
            raise NotFound(f"没有预告登记 / no pre-registration {preregistration_id}")
        lock_parcel(s, held.parcel_code)  # history rows are never locked FOR UPDATE
        done = s.scalar(
            text("SELECT kind FROM preregistration_events WHERE preregistration_id = :i"),
            {"i": preregistration_id},
        )
        if done is not None:
            raise Conflict(f"预告登记已{done} / the pre-registration is already {done}")
        out: dict[str, Any] = {
            "id": preregistration_id,
            "ended": kind,
            "effective_on": on.isoformat(),
        }
        if kind == "completed":  # the condition is met: the pre-registration becomes the transfer
            out["transfer"] = _transfer_to_buyer(s, actor, policy, held, on)
        s.execute(
            text(
                "INSERT INTO preregistration_events (preregistration_id, kind, effective_on, "
                "note, recorded_by) VALUES (:i, :k, :on, :note, :by)"
            ),
            {"i": preregistration_id, "k": kind, "on": on, "note": note, "by": actor.user_id},
        )
        write_audit(s, actor.actor, f"stock.preregistration.{kind}", "preregistrations",
                    preregistration_id, {"note": note})  # fmt: skip
        return out

    return run(target, work)


def _transfer_to_buyer(s: Session, actor: ActorLike, policy: Policy, held: Any, on: date) -> dict:
    """Register the transfer to the pre-registered buyer once a quarter of the investment is done.

    The same reading of the right's records, and the same reasons, as a transfer the bureau
    registers directly (geodata.trading.transfers): an investment nobody recorded is refused."""
    from geodata.trading.transfers import TransferRefused, refusal_reasons, transfer_check

    old = get_right(s, str(held.right_id), on)
    verdict, missing, _ = transfer_check(s, policy, old.id, held.buyer_name, on)
    reasons = refusal_reasons(f"right {old.right_no}", old.right_no, verdict, missing)
    if reasons:
        raise TransferRefused(reasons)
    new = register_in_session(
        s, actor, parcel_code=old.parcel_code, holder_id=held.buyer_id,
        holder_name=held.buyer_name, method=old.method.value, use=old.use,
        term_years=old.term_years, starts_on=old.starts_on, registered_on=on, basis="transfer",
        supersedes=old.right_no, reason="预告登记转为转移登记 / pre-registration completed",
    )  # fmt: skip
    return right_view(new)


def record_short_term_use(
    target: Target,
    actor: ActorLike,
    policy: Policy,
    parcel_code: str,
    facts: ShortTermFacts,
    user_name: str,
) -> dict[str, Any]:
    """Record a temporary use the short-term check allows (no overlapping use of the parcel)."""
    require_role(actor, "bureau")
    verdict = assess_short_term(facts, policy)
    if verdict.verdict == "ineligible":
        raise refusal(f"parcel {parcel_code}", verdict)

    def work(s: Session) -> dict[str, Any]:
        parcel = lock_parcel(s, parcel_code)
        clash = s.scalar(
            text(
                "SELECT id FROM short_term_uses WHERE parcel_id = :p AND starts_on <= :end "
                "AND ends_on >= :start LIMIT 1"
            ),
            {"p": parcel.id, "start": facts.starts_on, "end": facts.ends_on},
        )
        if clash is not None:
            raise Conflict(f"宗地 {parcel_code} 该期间已有临时利用 / overlaps use {clash}")
        row_id = s.scalar(
            text(
                "INSERT INTO short_term_uses (parcel_id, parcel_code, land_kind, use, user_name, "
                "starts_on, ends_on, permanent_buildings, recorded_by) VALUES (:p, :code, :kind, "
                ":use, :user, :start, :end, :perm, :by) RETURNING id"
            ),
            {"p": parcel.id, "code": parcel_code, "kind": facts.land_kind, "use": facts.use,
             "user": user_name, "start": facts.starts_on, "end": facts.ends_on,
             "perm": facts.permanent_buildings, "by": actor.user_id},
        )  # fmt: skip
        write_audit(s, actor.actor, "stock.short_term", "short_term_uses", row_id,
                    {"parcel_code": parcel_code, "use": facts.use})  # fmt: skip
        return {"id": row_id, "parcel_code": parcel_code, **verdict.to_dict()}

    return run(target, work)


def short_term_uses(session: Session, on: date) -> list[dict[str, Any]]:
    """Every recorded short-term use with its status on a day (active, planned, expired)."""
    rows = session.execute(
        text(
            "SELECT u.id, u.parcel_code, u.land_kind, u.use, u.user_name, u.starts_on, u.ends_on, "
            "ST_AsGeoJSON(p.geom, 7) AS geometry FROM short_term_uses u "
            "JOIN parcels p ON p.id = u.parcel_id ORDER BY u.id"
        )
    ).mappings()
    return [
        {
            "id": r["id"],
            "parcel_code": r["parcel_code"],
            "land_kind": r["land_kind"],
            "use": r["use"],
            "user_name": r["user_name"],
            "starts_on": r["starts_on"].isoformat(),
            "ends_on": r["ends_on"].isoformat(),
            "status": "expired"
            if on > r["ends_on"]
            else "active"
            if on >= r["starts_on"]
            else "planned",
            "geometry": json.loads(r["geometry"]),
        }
        for r in rows
    ]
