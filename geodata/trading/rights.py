"""Registered rights on PostGIS: register (under a parcel row lock), read live rights, end them.

API for other domains (all take a SQLAlchemy Session in the caller's transaction, or a Target for
writes as in geodata.tickets.core.run): ``register_right(target, actor, parcel_code=…, holder_id=…,
holder_name=…, method=…, use=…, term_years=…, starts_on=…, basis="deal", supersedes=None,
deal_id=None)`` locks the parcel row (SELECT … FOR NO KEY UPDATE), refuses a second live or pending
right on the parcel, numbers the right per county and year, copies the parcel geometry, and returns a
``landmarket.trading.rights.LandRight``; corrections, transfers, renewals and splits are new rights
with ``supersedes`` = the old right's number. ``live_right_for_parcel(session, code, on)`` returns the
right that occupies a parcel (live or pending) or None; ``rights_of_holder(session, holder_id, on)``
and ``parcel_rights(session, code, on)`` list rights with their derived status; ``get_right`` reads
one by number; ``end_right`` records a surrender/recovery/cancellation; ``lock_parcel`` is the row
lock every writer that needs "no live right on this parcel" must take first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from landmarket.codes import CHONGQING_COUNTIES, make_unit_code
from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem
from landmarket.trading.rights import (
    Basis,
    EndKind,
    LandRight,
    RightMethod,
    RightStatus,
    check_new_right,
    occupies,
    status_on,
    term_end,
)

_RIGHT_COLUMNS = (
    "r.id, r.right_no, r.parcel_code, r.unit_code, r.village_code, r.holder_id, r.holder_name, "
    "r.method, r.use, r.term_years, r.starts_on, r.ends_on, r.area_m2, r.registered_on, r.basis, "
    "r.deal_id, r.supersedes_id"
)
# Status inputs: the first successor's basis and the ending event's date.
_STATUS_JOIN = (
    "LEFT JOIN LATERAL (SELECT s.basis FROM land_rights s WHERE s.supersedes_id = r.id "
    "ORDER BY s.id LIMIT 1) succ ON true "
    "LEFT JOIN land_right_events ev ON ev.right_id = r.id"
)
_SELECT = (
    f"SELECT {_RIGHT_COLUMNS}, succ.basis AS successor_basis, ev.effective_on AS ended_on "
    f"FROM land_rights r {_STATUS_JOIN}"
)


def _right(row: Any, on: date) -> LandRight:
    right = LandRight(
        id=row.id,
        right_no=row.right_no,
        parcel_code=row.parcel_code,
        unit_code=row.unit_code,
        village_code=row.village_code,
        holder_id=row.holder_id,
        holder_name=row.holder_name,
        method=RightMethod(row.method),
        use=row.use,
        term_years=row.term_years,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        area_m2=Decimal(row.area_m2),
        registered_on=row.registered_on,
        basis=Basis(row.basis),
        deal_id=row.deal_id,
        supersedes=row.supersedes_id,
    )
    return replace(right, status=status_on(right, on, row.successor_basis, row.ended_on))


def lock_parcel(session: Session, parcel_code: str) -> Any:
    """Lock a parcel row (FOR NO KEY UPDATE) and return its register facts; NotFound if absent."""
    row = session.execute(
        text(
            "SELECT id, parcel_code, unit_code, village_code, ownership, land_use_code, "
            "coalesce(registered_area_m2, area_m2) AS legal_m2 "
            "FROM parcels WHERE parcel_code = :code FOR NO KEY UPDATE"
        ),
        {"code": parcel_code},
    ).one_or_none()
    if row is None:
        raise NotFound(f"宗地 {parcel_code} 不存在 / parcel {parcel_code} not found")
    return row


def live_right_for_parcel(
    session: Session, parcel_code: str, on: date | None = None
) -> LandRight | None:
    """The right occupying a parcel on a day (live, or registered to start later), else None."""
    on = on or date.today()
    rows = session.execute(
        text(f"{_SELECT} WHERE r.parcel_code = :code ORDER BY r.id"), {"code": parcel_code}
    ).all()
    for row in rows:
        right = _right(row, on)
        if occupies(right.status):
            return right
    return None


def parcel_rights(session: Session, parcel_code: str, on: date | None = None) -> list[LandRight]:
    """Every right ever registered on a parcel, oldest first, with its status on the day."""
    on = on or date.today()
    rows = session.execute(
        text(f"{_SELECT} WHERE r.parcel_code = :code ORDER BY r.id"), {"code": parcel_code}
    ).all()
    return [_right(row, on) for row in rows]


def rights_of_holder(
    session: Session, holder_id: int, on: date | None = None, *, occupying_only: bool = False
) -> list[LandRight]:
    """A holder's rights, oldest first; occupying_only keeps the live and pending ones."""
    on = on or date.today()
    rows = session.execute(
        text(f"{_SELECT} WHERE r.holder_id = :holder ORDER BY r.id"), {"holder": holder_id}
    ).all()
    rights = [_right(row, on) for row in rows]
    return [r for r in rights if occupies(r.status)] if occupying_only else rights


def list_rights(
    session: Session, on: date | None = None, *, village_code: str | None = None, limit: int = 100
) -> list[LandRight]:
    """Rights, newest first (optionally of one village)."""
    on = on or date.today()
    where = "WHERE r.village_code = :village" if village_code else ""
    rows = session.execute(
        text(f"{_SELECT} {where} ORDER BY r.id DESC LIMIT :limit"),
        {"village": village_code, "limit": limit},
    ).all()
    return [_right(row, on) for row in rows]


def get_right(session: Session, right_no: str, on: date | None = None) -> LandRight:
    """One right by its number (or its numeric id); NotFound otherwise."""
    on = on or date.today()
    key = "r.id = :id" if str(right_no).isdigit() else "r.right_no = :no"
    row = session.execute(
        text(f"{_SELECT} WHERE {key}"),
        {"id": int(right_no) if str(right_no).isdigit() else None, "no": right_no},
    ).one_or_none()
    if row is None:
        raise NotFound(f"权利 {right_no} 不存在 / right {right_no} not found")
    return _right(row, on)


def _next_number(session: Session, county: str, year: int) -> tuple[int, str]:
    """The next right number of a county and year (serialised by an advisory lock)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('landmarket.right_no.' || :c), :y)"),
        {"c": county, "y": year},
    )
    last = session.scalar(
        text(
            "SELECT coalesce(max(right_seq), 0) FROM land_rights "
            "WHERE county_code = :c AND right_year = :y"
        ),
        {"c": county, "y": year},
    )
    seq = int(last) + 1
    name = CHONGQING_COUNTIES.get(county, county)
    return seq, f"渝({year}){name}集体建设用地使用权第{seq:06d}号"


def register_in_session(
    session: Session,
    actor: ActorLike,
    *,
    parcel_code: str,
    holder_id: int | None,
    holder_name: str,
    method: str,
    use: str,
    term_years: int,
    starts_on: date,
    registered_on: date | None = None,
    basis: str = "deal",
    supersedes: str | int | None = None,
    deal_id: int | None = None,
    reason: str | None = None,
    max_term_years: int | None = None,
) -> LandRight:
    """register_right's work inside the caller's transaction (the caller holds no parcel lock)."""
    basis = Basis(basis)
    registered_on = registered_on or date.today()
    old = None
    if supersedes is not None:
        old = get_right(session, str(supersedes), registered_on)
    # Lock every parcel involved in id order (a split's old and new parcel), then re-read.
    codes = sorted({parcel_code} | ({old.parcel_code} if old else set()))
    locked = {c: lock_parcel(session, c) for c in codes}
    parcel = locked[parcel_code]
    unit_code = parcel.unit_code or make_unit_code(parcel_code)
    check_new_right(parcel_code, unit_code, holder_name, method, use, term_years, max_term_years)
    record = f"right on {parcel_code}"
    if basis in (Basis.deal, Basis.initial):
        if old is not None:
            raise InvalidInput(
                [RecordProblem(record, "首次登记不能替代旧权利 / cannot supersede", "supersedes")]
            )
    else:
        if old is None:
            raise InvalidInput(
                [RecordProblem(record, f"{basis} 须指明原权利 / name the right", "supersedes")]
            )
        old = get_right(session, str(old.id), registered_on)  # status under the lock
        if basis is Basis.split and old.status is RightStatus.split:
            pass  # further parts of the same split
        elif basis is Basis.correction and old.status in (RightStatus.expired, RightStatus.ended):
            pass  # history may be corrected too
        elif not occupies(old.status):
            raise Conflict(
                f"权利 {old.right_no} 状态为 {old.status}, 不能{basis} / right is {old.status}"
            )
        if basis is Basis.transfer:
            _require_transfer_consent(session, old)
            buyer = preregistered_buyer(session, old.id)
            if buyer is not None and buyer != holder_name.strip():
                raise Conflict(
                    f"权利 {old.right_no} 已为 {buyer} 办理转移预告登记, 转让他人须经其同意 / the "
                    f"right is pre-registered for {buyer} (Civil Code art. 221)"
                )
    current = live_right_for_parcel(session, parcel_code, registered_on)
    if current is not None and (old is None or current.id != old.id):
        raise Conflict(
            f"宗地 {parcel_code} 已有有效权利 {current.right_no} / parcel already carries a "
            f"{current.status} right held by {current.holder_name}"
        )
    county = parcel_code[:6]
    seq, right_no = _next_number(session, county, registered_on.year)
    right_id = session.scalar(
        text(
            "INSERT INTO land_rights (right_no, county_code, right_year, right_seq, parcel_id, "
            "parcel_code, unit_code, village_code, holder_id, holder_name, method, use, "
            "term_years, starts_on, ends_on, area_m2, registered_on, basis, supersedes_id, "
            "deal_id, reason, registered_by, geom) "
            "SELECT :no, :county, :year, :seq, p.id, p.parcel_code, :unit, p.village_code, "
            ":holder, :holder_name, :method, :use, :term, :starts, :ends, :area, :reg, :basis, "
            ":old, :deal, :reason, :by, ST_Multi(p.geom) FROM parcels p WHERE p.id = :pid "
            "RETURNING id"
        ),
        {
            "no": right_no,
            "county": county,
            "year": registered_on.year,
            "seq": seq,
            "unit": unit_code,
            "holder": holder_id,
            "holder_name": holder_name.strip(),
            "method": method,
            "use": use,
            "term": term_years,
            "starts": starts_on,
            "ends": term_end(starts_on, term_years),
            "area": Decimal(str(parcel.legal_m2)),
            "reg": registered_on,
            "basis": basis.value,
            "old": old.id if old else None,
            "deal": deal_id,
            "reason": reason,
            "by": actor.user_id,
            "pid": parcel.id,
        },
    )
    write_audit(
        session,
        actor.actor,
        f"right.{basis.value}",
        "land_rights",
        right_id,
        {"right_no": right_no, "parcel_code": parcel_code, "supersedes": old and old.right_no},
    )
    return get_right(session, str(right_id), registered_on)


def preregistered_buyer(session: Session, right_id: int) -> str | None:
    """The buyer a live transfer pre-registration (Civil Code art. 221) holds a right for."""
    return session.scalar(
        text(
            "SELECT p.buyer_name FROM preregistrations p WHERE p.right_id = :r AND NOT EXISTS "
            "(SELECT 1 FROM preregistration_events e WHERE e.preregistration_id = p.id) "
            "ORDER BY p.id DESC LIMIT 1"
        ),
        {"r": right_id},
    )


def _require_transfer_consent(session: Session, old: LandRight) -> None:
    """A mortgaged right passes to a new holder only with every creditor's consent on record."""
    from geodata.trading.mortgages import missing_consents  # mortgages build on rights

    missing = missing_consents(session, old.id)
    if missing:
        raise Conflict(
            f"权利 {old.right_no} 已抵押, 转让须经抵押权人同意 / the right is mortgaged: the "
            f"transfer needs the consent of mortgage(s) {', '.join(missing)}"
        )


def register_right(target: Target, actor: ActorLike, **fields: Any) -> LandRight:
    """Register a right (bureau only) all-or-nothing; see register_in_session for the fields."""
    require_role(actor, "bureau")
    return run(target, lambda s: register_in_session(s, actor, **fields))


def end_right(
    target: Target,
    actor: ActorLike,
    right_no: str,
    kind: str,
    effective_on: date,
    reason: str,
) -> LandRight:
    """Record that a right ended before its term (surrendered, recovered, cancelled)."""
    require_role(actor, "bureau")
    kind = EndKind(kind)
    if not reason or not reason.strip():
        raise InvalidInput(
            [RecordProblem(f"right {right_no}", "须说明理由 / give a reason", "reason")]
        )

    def work(s: Session) -> LandRight:
        right = get_right(s, right_no, effective_on)
        lock_parcel(s, right.parcel_code)
        right = get_right(s, str(right.id), effective_on)
        if not occupies(right.status):
            raise Conflict(f"权利 {right.right_no} 已是 {right.status} / right is {right.status}")
        s.execute(
            text(
                "INSERT INTO land_right_events (right_id, kind, effective_on, reason, recorded_by) "
                "VALUES (:r, :k, :on, :reason, :by)"
            ),
            {
                "r": right.id,
                "k": kind.value,
                "on": effective_on,
                "reason": reason,
                "by": actor.user_id,
            },
        )
        write_audit(
            s, actor.actor, f"right.{kind.value}", "land_rights", right.id, {"reason": reason}
        )
        return get_right(s, str(right.id), effective_on)

    return run(target, work)


def right_view(right: LandRight) -> dict[str, Any]:
    """JSON-ready form of a right."""
    return {
        "id": right.id,
        "right_no": right.right_no,
        "parcel_code": right.parcel_code,
        "unit_code": right.unit_code,
        "village_code": right.village_code,
        "holder_id": right.holder_id,
        "holder_name": right.holder_name,
        "method": right.method.value,
        "use": right.use,
        "term_years": right.term_years,
        "starts_on": right.starts_on.isoformat(),
        "ends_on": right.ends_on.isoformat(),
        "area_m2": str(right.area_m2),
        "registered_on": right.registered_on.isoformat(),
        "basis": right.basis.value,
        "deal_id": right.deal_id,
        "supersedes": right.supersedes,
        "status": right.status.value,
    }
