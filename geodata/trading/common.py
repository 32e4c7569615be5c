"""What the trading repositories share: who may act, numbering, the parcel's occupancy, time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.tickets.core import ActorLike
from geodata.trading.rights import live_right_for_parcel
from landmarket.errors import Conflict, Forbidden, NotFound
from landmarket.policy import load_policy
from landmarket.policy.loader import Policy
from landmarket.trading.model import TradingTerms


def now() -> datetime:
    """The current instant (UTC)."""
    return datetime.now(UTC)


def terms_on(day: date, policy: Policy | None = None) -> TradingTerms:
    """The trading terms in force on a day (the given policy, else the packaged one)."""
    return TradingTerms.from_policy(policy or load_policy(day))


def require_bureau_or_village(actor: ActorLike, village_code: str) -> None:
    """Forbidden unless the actor is the bureau or the collective of this village."""
    role = str(actor.role)
    if role == "bureau" and actor.user_id is not None:
        return
    if role == "collective" and actor.village_code == village_code and actor.user_id is not None:
        return
    raise Forbidden(
        f"村集体只能操作本村数据 / only the bureau or the collective of village {village_code} "
        f"may do this (caller: {role})"
    )


def next_number(session: Session, kind: str, label: str, year: int, table: str, column: str) -> str:
    """The next number of a kind in a year, e.g. 渝农交公〔2026〕第000001号 (advisory lock)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('landmarket.trade.' || :k), :y)"),
        {"k": kind, "y": year},
    )
    prefix = f"{label}〔{year}〕第"
    count = session.scalar(
        text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :p"), {"p": prefix + "%"}
    )
    return f"{prefix}{int(count) + 1:06d}号"


def occupied(session: Session, parcel_code: str, on: date) -> str | None:
    """Why a parcel cannot be offered or sold again (a live right, a deal awaiting registration)."""
    right = live_right_for_parcel(session, parcel_code, on)
    if right is not None:
        return (
            f"宗地 {parcel_code} 已有有效权利 {right.right_no} / the parcel carries a "
            f"{right.status} right until {right.ends_on}"
        )
    deal = session.scalar(
        text(
            "SELECT d.deal_no FROM deals d WHERE d.parcel_code = :c AND NOT EXISTS "
            "(SELECT 1 FROM land_rights r WHERE r.deal_id = d.id) LIMIT 1"
        ),
        {"c": parcel_code},
    )
    if deal is not None:
        return f"宗地 {parcel_code} 已成交 {deal}, 待登记 / the parcel was sold ({deal}), awaiting registration"
    return None


def refuse_if_occupied(session: Session, parcel_code: str, on: date) -> None:
    """Conflict when the parcel is occupied (call with the parcel row locked)."""
    reason = occupied(session, parcel_code, on)
    if reason:
        raise Conflict(reason)


def one(session: Session, sql: str, params: dict[str, Any], what: str) -> Any:
    """One row or NotFound naming what was looked for."""
    row = session.execute(text(sql), params).one_or_none()
    if row is None:
        raise NotFound(f"{what} 不存在 / {what} not found")
    return row
