"""Transfer (转让) of a registered right to a new holder, all-or-nothing under the parcel lock.

``transfer_right(target, actor, policy, right, buyer_name=…, on=…, buyer_id=…, buyer_username=…,
price=…, contract_signed_on=…, note=…)`` (bureau only) re-reads the right under its parcel's row
lock, runs the stock-land transfer check (landmarket.stock.transfer: at least the policy's share of
the investment done — Urban Real Estate Administration Law art. 39 —, every mortgage creditor's
consent, a live pre-registration held for another buyer — Civil Code art. 221) and refuses with
every failed reason at once (``TransferRefused``, 409, each naming the record and field). A live
pre-registration for this buyer is completed (geodata.stock.complete_preregistration registers the
transfer); otherwise a new right with basis "transfer" is registered: same parcel, use, method,
start and term, so it ends the day the old one ends. The price is not a published deal (deals are
trades at the exchange, tied to an announcement): it is recorded in the right's reason and the
audit, never published.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.stock.repository import complete_preregistration, live_preregistration
from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.mortgages import missing_consents
from geodata.trading.rights import get_right, lock_parcel, register_in_session, right_view
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.policy import Policy
from landmarket.rules import FAIL, REVIEW
from landmarket.stock import PreregistrationFacts, assess_transfer
from landmarket.stock.transfer import InvestmentShare, MortgageConsent, PreregistrationHolds
from landmarket.tickets.quantities import money
from landmarket.trading.rights import occupies

_LATEST_INVESTMENT = (
    "SELECT total_investment, investment_done FROM construction_records "
    "WHERE right_id = :r ORDER BY id DESC LIMIT 1"
)
# The field of the request (or record) each failed rule points at.
_FIELDS = {
    InvestmentShare.id: "investment_done",
    MortgageConsent.id: "mortgage_consent",
    PreregistrationHolds.id: "buyer_name",
}


class TransferRefused(Conflict):
    """A transfer the right's records do not allow (yet): every reason, naming record and field."""

    def __init__(self, problems: list[RecordProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _account(
    session: Session, record: str, buyer_id: int | None, username: str | None
) -> int | None:
    """The buyer's investor account by id or username (InvalidInput naming the field), or None."""
    if buyer_id is None and not (username or "").strip():
        return None
    field = "buyer_id" if buyer_id is not None else "buyer_username"
    row = session.execute(
        text(
            "SELECT id, role FROM users WHERE id = :i OR (CAST(:i AS bigint) IS NULL AND username = :u)"
        ),
        {"i": buyer_id, "u": (username or "").strip()},
    ).first()
    if row is None:
        raise InvalidInput([RecordProblem(record, "账户不存在 / no such account", field)])
    if row.role != "investor":
        raise InvalidInput(
            [RecordProblem(record, "受让人须为投资人账户 / the buyer must be an investor", field)]
        )
    return int(row.id)


def transfer_facts(session: Session, right_id: int) -> dict[str, Any]:
    """What a transfer of a right depends on: the latest investment record and a live
    pre-registration (its buyer), for the bureau's page."""
    invest = session.execute(text(_LATEST_INVESTMENT), {"r": right_id}).first()
    share = None
    if invest is not None and invest.total_investment and invest.investment_done is not None:
        share = (Decimal(invest.investment_done) * 100 / Decimal(invest.total_investment)).quantize(
            Decimal("0.01")
        )
    held = live_preregistration(session, right_id)
    return {
        "total_investment": invest and invest.total_investment,
        "investment_done": invest and invest.investment_done,
        "investment_share_pct": share,
        "preregistered_for": held["buyer_name"] if held else None,
    }


def transfer_check(
    session: Session, policy: Policy, right_id: int, buyer_name: str, on: date
) -> Any:
    """The stock-land transfer verdict of a right for a buyer on a day, from its records."""
    invest = session.execute(text(_LATEST_INVESTMENT), {"r": right_id}).first()
    missing = missing_consents(session, right_id)
    held = live_preregistration(session, right_id)
    facts = PreregistrationFacts(
        float(invest.total_investment or 0) if invest else 0.0,
        float(invest.investment_done or 0) if invest else 0.0,
        on,
        mortgaged=bool(missing),
        creditor_consent=not missing,
        preregistered_for=held["buyer_name"] if held else None,
        buyer=buyer_name.strip(),
    )
    return assess_transfer(facts, policy), missing, held


def refusal_reasons(
    record: str, right_no: str, verdict: Any, missing: list[str]
) -> list[RecordProblem]:
    """Why a transfer is refused: failed rules, and an investment nobody has recorded yet."""
    out = []
    for r in verdict.rules:
        if r.rule_id == InvestmentShare.id and r.status == REVIEW:
            out.append(RecordProblem(record, (
                "未登记开发投资, 无法判断是否已完成投资总额的 "
                f"{r.threshold} % / no investment on record: record the construction and "
                f"investment of {right_no} first ({r.source})"), "investment_done"))  # fmt: skip
        elif r.status == FAIL:
            what = f"{r.title}: {r.value} < {r.threshold} {r.unit}".strip()
            if r.rule_id == MortgageConsent.id:
                what = f"{r.title}: {', '.join(missing)}"
            elif r.rule_id == PreregistrationHolds.id:
                what = f"{r.title}: {r.detail}"
            elif r.detail:
                what = f"{what}; {r.detail}"
            out.append(RecordProblem(record, f"{what} ({r.source})", _FIELDS.get(r.rule_id)))
    return out


def transfer_right(
    target: Target,
    actor: ActorLike,
    policy: Policy,
    right: str | int,
    *,
    buyer_name: str,
    on: date,
    buyer_id: int | None = None,
    buyer_username: str | None = None,
    price: object | None = None,
    contract_signed_on: date | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Register the transfer of a live right to a buyer (bureau), or refuse with every reason."""
    require_role(actor, "bureau")
    record = f"transfer of right {right}"
    problems = []
    if not buyer_name or not buyer_name.strip():
        problems.append(RecordProblem(record, "受让人不能为空 / the buyer is empty", "buyer_name"))
    amount = None
    if price is not None:
        amount = money(price, record, "price")
        if amount <= 0:
            problems.append(RecordProblem(record, "价款须大于零 / price must be > 0", "price"))
    if contract_signed_on is not None and contract_signed_on > on:
        problems.append(RecordProblem(record, f"合同签订日晚于登记日 {on} / signed after the "
                                      "registration day", "contract_signed_on"))  # fmt: skip
    if problems:
        raise InvalidInput(problems, source="transfer")
    name = buyer_name.strip()

    def work(s: Session) -> dict[str, Any]:
        account = _account(s, record, buyer_id, buyer_username)
        old = get_right(s, str(right), on)
        lock_parcel(s, old.parcel_code)
        old = get_right(s, str(old.id), on)  # its status under the lock
        rec = f"right {old.right_no}"
        if on < old.registered_on:
            raise InvalidInput([RecordProblem(rec, f"转让登记日早于原权利登记日 {old.registered_on} "
                                              "/ before the right was registered", "registered_on")])  # fmt: skip
        if not occupies(old.status):
            raise TransferRefused([RecordProblem(rec, f"权利状态为 {old.status}, 不能转让 / the "
                                                 f"right is {old.status}", "status")])  # fmt: skip
        verdict, missing, held = transfer_check(s, policy, old.id, name, on)
        reasons = refusal_reasons(rec, old.right_no, verdict, missing)
        if held is not None and held["buyer_name"] == name and account is not None \
                and held["buyer_id"] not in (None, account):  # fmt: skip
            reasons.append(RecordProblem(rec, f"预告登记的买受人账户为 {held['buyer_id']} / the "
                                         "pre-registration names another account", "buyer_id"))  # fmt: skip
        if reasons:
            raise TransferRefused(reasons)
        facts = {"price": str(amount) if amount is not None else None,
                 "contract_signed_on": contract_signed_on and contract_signed_on.isoformat(),
                 "note": note}  # fmt: skip
        if held is not None:  # the pre-registered buyer: the pre-registration becomes the transfer
            done = complete_preregistration(
                s, actor, policy, held["id"], kind="completed", on=on,
                note=_reason(amount, contract_signed_on, note),
            )  # fmt: skip
            new_view = done["transfer"]
            prereg = held["id"]
        else:
            new = register_in_session(
                s, actor, parcel_code=old.parcel_code, holder_id=account, holder_name=name,
                method=old.method.value, use=old.use, term_years=old.term_years,
                starts_on=old.starts_on, registered_on=on, basis="transfer",
                supersedes=old.right_no, reason=_reason(amount, contract_signed_on, note),
            )  # fmt: skip
            new_view, prereg = right_view(new), None
        if new_view["ends_on"] != old.ends_on.isoformat():  # the remaining term, never more
            raise Conflict(f"新权利终止日 {new_view['ends_on']} ≠ {old.ends_on} / term mismatch")
        write_audit(s, actor.actor, "right.transfer.contract", "land_rights", new_view["id"],
                    {"from": old.right_no, "to": new_view["right_no"], "buyer": name,
                     "preregistration_id": prereg, **facts})  # fmt: skip
        return {
            "right": new_view,
            "transferred": right_view(get_right(s, str(old.id), on)),
            "preregistration_id": prereg,
            "price": facts["price"],
            "check": verdict.to_dict(),
        }

    return run(target, work)


def _reason(amount: Decimal | None, signed: date | None, note: str | None) -> str:
    """The new right's registration reason: the transfer with its contract facts."""
    parts = ["转让 / transfer"]
    if amount is not None:
        parts.append(f"价款 / price {amount} 元")
    if signed is not None:
        parts.append(f"合同 / contract {signed.isoformat()}")
    if note and note.strip():
        parts.append(note.strip())
    return "; ".join(parts)
