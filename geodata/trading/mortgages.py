"""Mortgages on registered rights (抵押, Land Administration Law art. 63): register, consent, release.

A mortgage names the right, the creditor, the amount and the term; it is visible to the bureau,
the right's holder and the creditor. Releasing it and the creditor's consent to a transfer of the
mortgaged right are events (append-only); a transfer registration (geodata.trading.rights with
basis "transfer") is refused while an unreleased mortgage lacks the creditor's consent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.common import next_number, one
from geodata.trading.rights import get_right, lock_parcel, preregistered_buyer
from landmarket.errors import Conflict, Forbidden, InvalidInput, RecordProblem
from landmarket.tickets.quantities import money
from landmarket.trading.rights import occupies

_MORTGAGES = (
    "SELECT m.*, r.right_no, r.holder_id, r.parcel_code, "
    "(SELECT effective_on FROM mortgage_events e WHERE e.mortgage_id = m.id "
    " AND e.kind = 'released') AS released_on, "
    "(SELECT max(effective_on) FROM mortgage_events e WHERE e.mortgage_id = m.id "
    " AND e.kind = 'consent') AS consent_on "
    "FROM mortgages m JOIN land_rights r ON r.id = m.right_id"
)


_KEY = " WHERE (m.mortgage_no = :no OR m.id = :id)"


def _key(mortgage: str | int) -> dict[str, Any]:
    """Parameters finding a mortgage by number or by id."""
    text_key = str(mortgage)
    return {"no": text_key, "id": int(text_key) if text_key.isdigit() else None}


def missing_consents(session: Session, right_id: int) -> list[str]:
    """Numbers of unreleased mortgages on a right whose creditor has not consented to a transfer."""
    rows = session.execute(
        text(
            "SELECT m.mortgage_no FROM mortgages m WHERE m.right_id = :r "
            "AND NOT EXISTS (SELECT 1 FROM mortgage_events e WHERE e.mortgage_id = m.id "
            "AND e.kind IN ('released', 'consent')) ORDER BY m.id"
        ),
        {"r": right_id},
    ).scalars()
    return list(rows)


def view(row: Any) -> dict[str, Any]:
    """JSON-ready form of a mortgage."""
    return {
        "id": row.id,
        "mortgage_no": row.mortgage_no,
        "right_id": row.right_id,
        "right_no": row.right_no,
        "parcel_code": row.parcel_code,
        "creditor_name": row.creditor_name,
        "creditor_id": row.creditor_id,
        "amount": str(row.amount),
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "registered_on": row.registered_on.isoformat(),
        "status": "released" if row.released_on else "live",
        "released_on": row.released_on.isoformat() if row.released_on else None,
        "transfer_consent_on": row.consent_on.isoformat() if row.consent_on else None,
    }


def may_see(actor: ActorLike, row: Any) -> bool:
    """The bureau, the right's holder and the creditor see a mortgage."""
    if str(actor.role) == "bureau":
        return True
    return actor.user_id is not None and actor.user_id in (row.holder_id, row.creditor_id)


def get_mortgage(session: Session, actor: ActorLike, mortgage_no: str) -> dict[str, Any]:
    """One mortgage the actor may see (else Forbidden)."""
    row = one(session, _MORTGAGES + _KEY, _key(mortgage_no),
              f"抵押 {mortgage_no} / mortgage")  # fmt: skip
    if not may_see(actor, row):
        raise Forbidden("抵押仅对登记机构、权利人和抵押权人可见 / bureau, holder and creditor only")
    return view(row)


def mortgages_of(
    session: Session, actor: ActorLike, right_no: str | None = None
) -> list[dict[str, Any]]:
    """Mortgages the actor may see (optionally of one right), oldest first."""
    where, params = "", {}
    if right_no is not None:
        where, params = " WHERE r.right_no = :no", {"no": right_no}
    rows = session.execute(text(_MORTGAGES + where + " ORDER BY m.id"), params).all()
    return [view(r) for r in rows if may_see(actor, r)]


def mortgage_marks(session: Session, right_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per right: its mortgages' existence (number, registration and release dates, state), with
    no creditor, amount or term: what anyone who may read the right (its village's collective too)
    may know of the burden on it."""
    if not right_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT m.right_id, m.mortgage_no, m.registered_on, (SELECT e.effective_on FROM "
            "mortgage_events e WHERE e.mortgage_id = m.id AND e.kind = 'released' LIMIT 1) "
            "AS released_on FROM mortgages m WHERE m.right_id = ANY(:ids) ORDER BY m.id"
        ),
        {"ids": right_ids},
    ).all()
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.right_id, []).append(
            {
                "mortgage_no": r.mortgage_no,
                "registered_on": r.registered_on.isoformat(),
                "status": "released" if r.released_on else "live",
                "released_on": r.released_on.isoformat() if r.released_on else None,
            }
        )
    return out


def register_mortgage(
    target: Target,
    actor: ActorLike,
    right_no: str,
    *,
    creditor_name: str,
    amount: object,
    starts_on: date,
    ends_on: date,
    registered_on: date,
    creditor_id: int | None = None,
) -> dict[str, Any]:
    """Register a creditor's mortgage on a live (or pending) right (bureau)."""
    require_role(actor, "bureau")
    record = f"mortgage on {right_no}"
    value = money(amount, record, "amount")
    problems = []
    if not creditor_name or not creditor_name.strip():
        problems.append(
            RecordProblem(record, "抵押权人不能为空 / creditor is empty", "creditor_name")
        )
    if value <= 0:
        problems.append(RecordProblem(record, "金额须大于零 / amount must be > 0", "amount"))
    if ends_on <= starts_on:
        problems.append(
            RecordProblem(record, "期限终止须晚于起始 / ends_on must follow starts_on", "ends_on")
        )
    if problems:
        raise InvalidInput(problems, source="mortgage")

    def work(s: Session) -> dict[str, Any]:
        if creditor_id is not None and not s.scalar(
            text("SELECT 1 FROM users WHERE id = :u"), {"u": creditor_id}
        ):
            raise InvalidInput([RecordProblem(record, f"用户 {creditor_id} 不存在 / no such "
                                              "user", "creditor_id")])  # fmt: skip
        right = get_right(s, right_no, registered_on)
        lock_parcel(s, right.parcel_code)
        right = get_right(s, str(right.id), registered_on)
        if not occupies(right.status):
            raise Conflict(
                f"权利 {right.right_no} 为 {right.status}, 不能抵押 / right is {right.status}"
            )
        buyer = preregistered_buyer(s, right.id)
        if buyer is not None:
            raise Conflict(
                f"权利 {right.right_no} 已为 {buyer} 办理转移预告登记, 抵押须先经其同意并解除 / "
                f"the right is pre-registered for {buyer}: release it with their consent first"
            )
        if ends_on > right.ends_on:
            raise InvalidInput([RecordProblem(record, f"抵押期限超过权利终止日 {right.ends_on} / "
                                              "beyond the right's term", "ends_on")])  # fmt: skip
        number = next_number(
            s, "mortgage", "渝农抵", registered_on.year, "mortgages", "mortgage_no"
        )
        new_id = s.execute(
            text(
                "INSERT INTO mortgages (mortgage_no, right_id, creditor_name, creditor_id, amount, "
                "starts_on, ends_on, registered_on, registered_by) VALUES (:no, :r, :name, :cid, "
                ":amount, :starts, :ends, :on, :by) RETURNING id"
            ),
            {"no": number, "r": right.id, "name": creditor_name.strip(), "cid": creditor_id,
             "amount": Decimal(value), "starts": starts_on, "ends": ends_on, "on": registered_on,
             "by": actor.user_id},
        ).scalar_one()  # fmt: skip
        write_audit(s, actor.actor, "mortgage.register", "mortgages", new_id,
                    {"mortgage_no": number, "right_no": right.right_no, "amount": str(value)})  # fmt: skip
        return get_mortgage(s, actor, number)

    return run(target, work)


def account_id(session: Session, username: str, record: str) -> int:
    """The id of the platform account a creditor signs in with (InvalidInput naming the field)."""
    found = session.scalar(
        text("SELECT id FROM users WHERE username = :u"), {"u": username.strip()}
    )
    if found is None:
        raise InvalidInput([RecordProblem(record, f"账户 {username.strip()!r} 不存在 / no such "
                                          "account", "creditor_username")])  # fmt: skip
    return int(found)


def as_creditor(session: Session, actor: ActorLike) -> list[dict[str, Any]]:
    """Mortgages whose creditor is the actor's account, oldest first."""
    rows = session.execute(
        text(_MORTGAGES + " WHERE m.creditor_id = :me ORDER BY m.id"), {"me": actor.user_id}
    ).all()
    return [view(r) for r in rows]


def _event(
    target: Target, actor: ActorLike, mortgage_no: str, kind: str, on: date, note: str | None
) -> dict[str, Any]:
    def work(s: Session) -> dict[str, Any]:
        row = one(s, _MORTGAGES + _KEY, _key(mortgage_no),
                  f"抵押 {mortgage_no} / mortgage")  # fmt: skip
        creditor = actor.user_id is not None and actor.user_id == row.creditor_id
        if str(actor.role) != "bureau" and not (kind == "consent" and creditor):
            raise Forbidden("仅登记机构或抵押权人 / only the bureau or the creditor may do this")
        if row.released_on is not None:
            raise Conflict(f"抵押 {mortgage_no} 已注销 / the mortgage is released")
        try:
            with s.begin_nested():
                s.execute(
                    text(
                        "INSERT INTO mortgage_events (mortgage_id, kind, effective_on, note, "
                        "recorded_by) VALUES (:m, :k, :on, :note, :by)"
                    ),
                    {"m": row.id, "k": kind, "on": on, "note": note, "by": actor.user_id},
                )
        except IntegrityError as exc:
            raise Conflict(f"抵押 {mortgage_no} 已注销 / the mortgage is released") from exc
        write_audit(s, actor.actor, f"mortgage.{kind}", "mortgages", row.id, {"note": note})
        return get_mortgage(s, actor, row.mortgage_no)

    return run(target, work)


def release_mortgage(
    target: Target, actor: ActorLike, mortgage_no: str, on: date, note: str | None = None
) -> dict[str, Any]:
    """Release a mortgage (bureau, e.g. on the creditor's discharge)."""
    require_role(actor, "bureau")
    return _event(target, actor, mortgage_no, "released", on, note)


def consent_to_transfer(
    target: Target, actor: ActorLike, mortgage_no: str, on: date, note: str | None = None
) -> dict[str, Any]:
    """Record the creditor's consent to a transfer of the mortgaged right (bureau or creditor)."""
    return _event(target, actor, mortgage_no, "consent", on, note)
