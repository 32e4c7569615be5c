"""The transaction confirmation (成交确认书): the first document of a deal, issued by its close.

The close of a sold trade commits the deal; its confirmation is rendered after that commit, from
the stored deal record alone, and recorded in a short transaction of its own (no listing or parcel
lock is held while fpdf2 lays out the PDF): the deal's number, the facts as the deal records them
(parties, parcel, area in m² and 亩, use, term, price in total and per 亩, method, date, the
deposit credited, the adjustment fee and the collective's net proceeds), the PDF
(geodata.trading.pdf, the certificate's renderer) and its SHA-256, by which anyone holding the
file can verify it. Append-only: never re-issued.

The document is a function of the deal row and its issue date (the concluded date for a close), so
a process that dies between the two commits leaves a deal whose confirmation, issued later by the
bureau for that date (``issue_missing``), is the same file byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.store.audit import write_audit
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.common import one
from geodata.trading.pdf import CONFIRMATION, render_document
from landmarket.errors import Conflict
from landmarket.tickets.quantities import m2_to_mu
from landmarket.trading.model import METHOD_NAMES, TradeMethod
from landmarket.trading.rights import RightMethod

RIGHT_METHOD_NAMES = {
    RightMethod.transfer: "出让 / transfer",
    RightMethod.lease: "出租 / lease",
    RightMethod.equity: "作价出资入股 / equity",
}
_DEAL = (
    "SELECT d.*, a.announcement_no, v.name AS village_name FROM deals d "
    "JOIN trade_announcements a ON a.id = d.announcement_id "
    "JOIN villages v ON v.code = d.village_code WHERE d.id = :id"
)


def confirmation_lines(deal: Any, issued_on: date) -> list[tuple[str, str]]:
    """The confirmation's label → value lines from a deal row (with announcement and village)."""
    area = Decimal(deal.area_m2)
    total, credited = Decimal(deal.price_total), Decimal(deal.deposit_credited)
    method = METHOD_NAMES.get(TradeMethod(deal.trade_method), deal.trade_method)
    right = RIGHT_METHOD_NAMES.get(RightMethod(deal.right_method), deal.right_method)
    return [
        ("确认书编号 / confirmation", deal.deal_no),
        ("交易公告 / announcement", deal.announcement_no),
        ("出让方 / transferor", f"{deal.village_name}集体经济组织 ({deal.village_code})"),
        ("受让方(竞得人) / transferee", deal.buyer_name),
        ("宗地代码 / parcel", deal.parcel_code),
        ("面积 / area", f"{area} m² ({m2_to_mu(area)} 亩 / mu)"),
        ("用途 / use", deal.use),
        ("年期 / term", f"{deal.term_years} 年 / years"),
        ("交易方式 / method", f"{method} · {right}"),
        ("成交价 / price", f"{total} 元 ({deal.price_per_mu} 元/亩 per mu)"),
        ("成交日期 / concluded", deal.concluded_on.isoformat()),
        ("保证金转作价款 / deposit credited", f"{credited} 元"),
        ("尚需支付 / balance of the price", f"{total - credited} 元"),
        (
            "土地增值收益调节金 / adjustment fee",
            f"{deal.fee_amount} 元 ({Decimal(deal.fee_rate) * 100:.0f}% × {deal.fee_base} 元, "
            "财税〔2016〕41号)",
        ),
        ("集体净收益 / collective net proceeds", f"{deal.net_proceeds} 元"),
        ("出具日期 / issued", issued_on.isoformat()),
    ]


def confirmation_facts(s: Session, deal_id: int, issued_on: date | None) -> dict[str, Any]:
    """The confirmation's facts from the stored deal (issued on the concluded day if None)."""
    deal = one(s, _DEAL, {"id": deal_id}, f"成交 {deal_id} / deal")
    on = issued_on or deal.concluded_on
    lines = confirmation_lines(deal, on)
    return {"confirmation_no": deal.deal_no, "issued_on": on.isoformat(), "lines": lines}


def render_confirmation(facts: dict[str, Any]) -> bytes:
    """The confirmation PDF from its facts: the same facts give the same bytes."""
    return render_document(
        CONFIRMATION, facts["confirmation_no"], facts["issued_on"], facts["lines"]
    )


def record_confirmation(
    s: Session, actor: ActorLike, deal_id: int, facts: dict[str, Any], pdf: bytes
) -> dict[str, Any]:  # fmt: skip
    """Insert a rendered confirmation (Conflict when the deal already has one)."""
    number = facts["confirmation_no"]
    digest = hashlib.sha256(pdf).hexdigest()
    inserted = s.execute(
        text(
            "INSERT INTO trade_confirmations (confirmation_no, deal_id, issued_on, facts, sha256, "
            "pdf, issued_by) VALUES (:no, :d, :on, CAST(:facts AS jsonb), :h, :pdf, :by) "
            "ON CONFLICT (deal_id) DO NOTHING RETURNING id"
        ),
        {"no": number, "d": deal_id, "on": date.fromisoformat(facts["issued_on"]),
         "facts": json.dumps(facts, ensure_ascii=False), "h": digest, "pdf": pdf,
         "by": actor.user_id},
    ).scalar()  # fmt: skip
    if inserted is None:
        raise Conflict(f"成交 {number} 已出具成交确认书 / the confirmation is issued")
    write_audit(s, actor.actor, "confirmation.issue", "deals", deal_id,
                {"confirmation_no": number, "sha256": digest})  # fmt: skip
    return {"confirmation_no": number, "issued_on": facts["issued_on"], "sha256": digest}


def _issued(s: Session, deal_id: int) -> bool:
    return bool(
        s.scalar(text("SELECT 1 FROM trade_confirmations WHERE deal_id = :d"), {"d": deal_id})
    )


def issue_in_session(
    s: Session, actor: ActorLike, deal_id: int, issued_on: date | None = None
) -> dict[str, Any]:
    """Render and record a deal's confirmation in the caller's transaction."""
    deal = one(s, "SELECT deal_no FROM deals WHERE id = :id", {"id": deal_id},
               f"成交 {deal_id} / deal")  # fmt: skip
    if _issued(s, deal_id):
        raise Conflict(f"成交 {deal.deal_no} 已出具成交确认书 / the confirmation is issued")
    facts = confirmation_facts(s, deal_id, issued_on)
    return record_confirmation(s, actor, deal_id, facts, render_confirmation(facts))


def issue_after_close(target: Target, actor: ActorLike, deal_id: int) -> dict[str, Any]:
    """Issue a just-closed deal's confirmation outside the close's transaction.

    Reads the committed deal, renders the PDF with no transaction of ``target``'s own open, then
    records it in a short one. With a caller's session the caller owns the transaction: commit
    the close first, or the rendering runs while the close's row locks are still held.
    """
    facts = run(target, lambda s: confirmation_facts(s, deal_id, None))
    pdf = render_confirmation(facts)
    return run(target, lambda s: record_confirmation(s, actor, deal_id, facts, pdf))


def issue_missing(
    target: Target, actor: ActorLike, deal_id: int, issued_on: date | None = None
) -> dict[str, Any]:
    """Issue the confirmation of a deal that has none (bureau): closed before confirmations
    existed, or whose process stopped between the close and the confirmation (issued_on None:
    the concluded day, the file the close would have issued)."""
    require_role(actor, "bureau")
    return run(
        target, lambda s: {"deal_id": deal_id} | issue_in_session(s, actor, deal_id, issued_on)
    )


def confirmation(s: Session, deal_id: int) -> dict[str, Any] | None:
    """A deal's confirmation (number, date, SHA-256) or None when none was issued."""
    row = s.execute(
        text(
            "SELECT confirmation_no, issued_on, sha256 FROM trade_confirmations WHERE deal_id = :d"
        ),
        {"d": deal_id},
    ).one_or_none()
    if row is None:
        return None
    return {"confirmation_no": row.confirmation_no, "issued_on": row.issued_on.isoformat(),
            "sha256": row.sha256}  # fmt: skip


def confirmation_pdf(s: Session, deal_id: int) -> tuple[str, bytes]:
    """The confirmation's number and PDF bytes (NotFound when the deal has none)."""
    row = one(s, "SELECT confirmation_no, pdf FROM trade_confirmations WHERE deal_id = :d",
              {"d": deal_id}, f"成交 {deal_id} 的成交确认书 / confirmation of deal {deal_id}")  # fmt: skip
    return row.confirmation_no, bytes(row.pdf)


def verify_confirmation(s: Session, confirmation_no: str, sha256: str) -> dict[str, Any]:
    """Whether a confirmation number and a file's SHA-256 match what the exchange issued."""
    row = s.execute(
        text(
            "SELECT c.confirmation_no, c.sha256, c.issued_on, d.parcel_code FROM "
            "trade_confirmations c JOIN deals d ON d.id = c.deal_id WHERE c.confirmation_no = :no"
        ),
        {"no": confirmation_no.strip()},
    ).one_or_none()
    if row is None:
        return {"confirmation_no": confirmation_no, "valid": False,
                "reason": "编号不存在 / no such confirmation"}  # fmt: skip
    valid = row.sha256 == sha256.strip().lower()
    return {
        "confirmation_no": row.confirmation_no,
        "valid": valid,
        "reason": "一致 / matches" if valid else "摘要不符 / the digest does not match",
        "parcel_code": row.parcel_code if valid else None,
        "issued_on": row.issued_on.isoformat() if valid else None,
    }
