"""After the deal: the contract, the exchange's verification certificate, the right's registration."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.common import next_number, one, require_bureau_or_village, terms_on
from geodata.trading.pdf import render_certificate
from geodata.trading.rights import register_in_session, right_view
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.trading.deal import check_schedule
from landmarket.trading.rights import term_end

DEAL = (
    "SELECT d.*, a.conditions, a.listing_id, a.announcement_no, v.name AS village_name "
    "FROM deals d JOIN trade_announcements a ON a.id = d.announcement_id "
    "JOIN villages v ON v.code = d.village_code WHERE d.id = :id"
)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def _insert_once(s: Session, conflict: str, statement: Any, params: dict[str, Any]) -> None:
    """Insert a row unique per deal; a concurrent duplicate becomes a Conflict."""
    try:
        with s.begin_nested():
            s.execute(statement, params)
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def sign_contract(
    target: Target,
    actor: ActorLike,
    deal_id: int,
    *,
    signed_on: date,
    term_starts_on: date,
    payment_schedule: list[dict[str, Any]],
    planning_conditions: dict[str, Any] | None = None,
    investment_conditions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record the contract of a deal (bureau or the seller's collective); one per deal."""

    def work(s: Session) -> dict[str, Any]:
        deal = one(s, DEAL, {"id": deal_id}, f"成交 {deal_id} / deal")
        require_bureau_or_village(actor, deal.village_code)
        if s.scalar(text("SELECT 1 FROM contracts WHERE deal_id = :d"), {"d": deal_id}):
            raise Conflict(f"成交 {deal.deal_no} 已签合同 / the deal already has a contract")
        record = f"contract of {deal.deal_no}"
        if signed_on < deal.concluded_on or term_starts_on < signed_on:
            raise InvalidInput(
                [RecordProblem(record, "签约不早于成交, 起始不早于签约 / signed on or after the deal, "
                               "term starting on or after signing", "term_starts_on")]
            )  # fmt: skip
        schedule = check_schedule(payment_schedule, Decimal(deal.price_total), signed_on)
        conditions = deal.conditions or {}
        standard = conditions.get("standard_land")
        invest = investment_conditions if investment_conditions is not None else standard
        if standard and not invest:
            raise InvalidInput(
                [RecordProblem(record, "标准地须约定投资与产出条件 / standard land needs investment "
                               "and output conditions", "investment_conditions")]
            )  # fmt: skip
        listing = s.execute(
            text(
                "SELECT consent_meeting_date, consent_ratio, consent_votes_for, "
                "consent_votes_total FROM listings WHERE id = :id"
            ),
            {"id": deal.listing_id},
        ).one()
        consent = {
            "meeting_date": listing.consent_meeting_date,
            "ratio": listing.consent_ratio,
            "votes_for": listing.consent_votes_for,
            "votes_total": listing.consent_votes_total,
        }
        parties = {
            "transferor": {
                "role": "collective",
                "village_code": deal.village_code,
                "name": f"{deal.village_name}集体经济组织",
            },
            "transferee": {"role": "investor", "user_id": deal.buyer_id, "name": deal.buyer_name},
        }
        planning = dict(conditions.get("planning") or {}) | dict(planning_conditions or {})
        ends = term_end(term_starts_on, deal.term_years)
        number = next_number(s, "contract", "渝农交合", signed_on.year, "contracts", "contract_no")
        _insert_once(
            s,
            f"成交 {deal.deal_no} 已签合同 / the deal already has a contract",
            text(
                "INSERT INTO contracts (contract_no, deal_id, parties, term_starts_on, "
                "term_ends_on, payment_schedule, planning_conditions, consent, "
                "investment_conditions, signed_on, created_by) VALUES (:no, :d, "
                "CAST(:parties AS jsonb), :starts, :ends, CAST(:schedule AS jsonb), "
                "CAST(:planning AS jsonb), CAST(:consent AS jsonb), CAST(:invest AS jsonb), :on, :by)"
            ),
            {"no": number, "d": deal_id, "parties": _json(parties), "starts": term_starts_on,
             "ends": ends, "schedule": _json(schedule), "planning": _json(planning),
             "consent": _json(consent), "invest": None if invest is None else _json(invest),
             "on": signed_on, "by": actor.user_id},
        )  # fmt: skip
        write_audit(s, actor.actor, "contract.sign", "deals", deal_id, {"contract_no": number})
        return contract(s, deal_id)

    return run(target, work)


def contract(s: Session, deal_id: int) -> dict[str, Any]:
    """The contract of a deal as stored."""
    row = one(
        s, "SELECT * FROM contracts WHERE deal_id = :d", {"d": deal_id}, f"合同 of deal {deal_id}"
    )
    return {
        "contract_no": row.contract_no,
        "deal_id": row.deal_id,
        "parties": row.parties,
        "term_starts_on": row.term_starts_on.isoformat(),
        "term_ends_on": row.term_ends_on.isoformat(),
        "payment_schedule": row.payment_schedule,
        "planning_conditions": row.planning_conditions,
        "consent": row.consent,
        "investment_conditions": row.investment_conditions,
        "signed_on": row.signed_on.isoformat(),
    }


def issue_certificate(
    target: Target, actor: ActorLike, deal_id: int, issued_on: date
) -> dict[str, Any]:
    """The exchange's verification certificate of a contracted deal: number, PDF, SHA-256."""
    require_role(actor, "bureau")

    def work(s: Session) -> dict[str, Any]:
        deal = one(s, DEAL, {"id": deal_id}, f"成交 {deal_id} / deal")
        con = one(s, "SELECT * FROM contracts WHERE deal_id = :d", {"d": deal_id},
                  f"成交 {deal.deal_no} 的合同 / the contract of the deal")  # fmt: skip
        if s.scalar(text("SELECT 1 FROM trade_certificates WHERE deal_id = :d"), {"d": deal_id}):
            raise Conflict(f"成交 {deal.deal_no} 已出具鉴证书 / certificate already issued")
        number = next_number(
            s, "certificate", "渝农交鉴", issued_on.year, "trade_certificates", "cert_no"
        )
        facts = {
            "cert_no": number,
            "issued_on": issued_on.isoformat(),
            "lines": [
                ("鉴证书编号 / certificate", number),
                ("成交确认书 / confirmation", deal.deal_no),
                ("合同编号 / contract", con.contract_no),
                ("公告 / announcement", deal.announcement_no),
                ("出让方 / transferor", con.parties["transferor"]["name"]),
                ("受让方 / transferee", deal.buyer_name),
                ("宗地代码 / parcel", deal.parcel_code),
                ("面积 / area", f"{deal.area_m2} m²"),
                ("用途 / use", deal.use),
                ("方式 / method", f"{deal.trade_method} · {deal.right_method}"),
                (
                    "年期 / term",
                    f"{con.term_starts_on} – {con.term_ends_on} ({deal.term_years} 年)",
                ),
                ("成交价 / price", f"{deal.price_total} 元 ({deal.price_per_mu} 元/亩)"),
                ("调节金 / adjustment fee", f"{deal.fee_amount} 元 ({deal.fee_rate * 100:.0f}%)"),
                ("集体净收益 / collective net", f"{deal.net_proceeds} 元"),
                ("出具日期 / issued", issued_on.isoformat()),
            ],
        }
        pdf = render_certificate(facts)
        digest = hashlib.sha256(pdf).hexdigest()
        _insert_once(
            s,
            f"成交 {deal.deal_no} 已出具鉴证书 / certificate already issued",
            text(
                "INSERT INTO trade_certificates (cert_no, deal_id, contract_id, issued_on, facts, "
                "sha256, pdf, issued_by) VALUES (:no, :d, :c, :on, CAST(:facts AS jsonb), :h, "
                ":pdf, :by)"
            ),
            {"no": number, "d": deal_id, "c": con.id, "on": issued_on, "facts": _json(facts),
             "h": digest, "pdf": pdf, "by": actor.user_id},
        )  # fmt: skip
        write_audit(
            s,
            actor.actor,
            "certificate.issue",
            "deals",
            deal_id,
            {"cert_no": number, "sha256": digest},
        )
        return {
            "cert_no": number,
            "deal_id": deal_id,
            "issued_on": issued_on.isoformat(),
            "sha256": digest,
        }

    return run(target, work)


def certificate_pdf(s: Session, deal_id: int) -> tuple[str, bytes]:
    """The certificate's number and PDF bytes."""
    row = one(s, "SELECT cert_no, pdf FROM trade_certificates WHERE deal_id = :d", {"d": deal_id},
              f"成交 {deal_id} 的鉴证书 / certificate of deal {deal_id}")  # fmt: skip
    return row.cert_no, bytes(row.pdf)


def verify_certificate(s: Session, cert_no: str, sha256: str) -> dict[str, Any]:
    """Whether a certificate number and a file's SHA-256 match what the exchange issued."""
    row = s.execute(
        text(
            "SELECT c.cert_no, c.sha256, c.issued_on, d.deal_no, d.parcel_code FROM "
            "trade_certificates c JOIN deals d ON d.id = c.deal_id WHERE c.cert_no = :no"
        ),
        {"no": cert_no.strip()},
    ).one_or_none()
    if row is None:
        return {"cert_no": cert_no, "valid": False, "reason": "编号不存在 / no such certificate"}
    valid = row.sha256 == sha256.strip().lower()
    return {
        "cert_no": row.cert_no,
        "valid": valid,
        "reason": "一致 / matches" if valid else "摘要不符 / the digest does not match",
        "deal_no": row.deal_no if valid else None,
        "parcel_code": row.parcel_code if valid else None,
        "issued_on": row.issued_on.isoformat() if valid else None,
    }


def register_deal(
    target: Target, actor: ActorLike, deal_id: int, registered_on: date
) -> dict[str, Any]:
    """Register the right a certified deal creates (bureau), under the parcel row lock."""
    require_role(actor, "bureau")

    def work(s: Session) -> dict[str, Any]:
        deal = one(s, DEAL, {"id": deal_id}, f"成交 {deal_id} / deal")
        con = s.execute(
            text("SELECT c.term_starts_on FROM contracts c JOIN trade_certificates t "
                 "ON t.deal_id = c.deal_id WHERE c.deal_id = :d"), {"d": deal_id}
        ).one_or_none()  # fmt: skip
        if con is None:
            raise Conflict(
                f"成交 {deal.deal_no} 须先签合同并经鉴证 / sign the contract and certify the deal "
                "before registration"
            )
        if s.scalar(text("SELECT 1 FROM land_rights WHERE deal_id = :d"), {"d": deal_id}):
            raise Conflict(f"成交 {deal.deal_no} 已登记 / the deal's right is registered")
        terms = terms_on(registered_on)
        right = register_in_session(
            s,
            actor,
            parcel_code=deal.parcel_code,
            holder_id=deal.buyer_id,
            holder_name=deal.buyer_name,
            method=deal.right_method,
            use=deal.use,
            term_years=deal.term_years,
            starts_on=con.term_starts_on,
            registered_on=registered_on,
            basis="deal",
            deal_id=deal_id,
            max_term_years=terms.max_term.get(deal.use),
        )
        return right_view(right)

    return run(target, work)
