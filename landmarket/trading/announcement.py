"""Announcements (公告) and bidder registrations (竞买申请): the rules of opening a trade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from landmarket.auction import AMOUNT_LIMIT
from landmarket.errors import Conflict, InvalidInput, RecordProblem
from landmarket.tickets.quantities import CENT, money, mu_exact
from landmarket.trading.model import TradeMethod, TradingTerms


@dataclass(frozen=True)
class AnnouncementDraft:
    """What the exchange announces for a published listing."""

    listing: str  # how errors name it
    trade_method: TradeMethod
    use: str
    term_years: int
    area_m2: Decimal
    announced_on: date
    starts_at: datetime
    ends_at: datetime
    start_per_mu: Decimal
    reserve_per_mu: Decimal
    reserve_secret: bool
    min_increment: Decimal
    deposit: Decimal


def required_deposit(start_per_mu: Decimal, area_m2: Decimal, terms: TradingTerms) -> Decimal:
    """The smallest deposit: the policy's share of the starting price × area."""
    total = start_per_mu * mu_exact(area_m2)
    return (total * terms.deposit_min_share).quantize(CENT, rounding=ROUND_HALF_UP)


def check_announcement(draft: AnnouncementDraft, terms: TradingTerms) -> None:
    """InvalidInput naming every field that breaks the periods, prices or the method's limits."""
    record = f"announcement of {draft.listing}"
    problems: list[RecordProblem] = []
    ahead = (draft.starts_at.date() - draft.announced_on).days
    if ahead < terms.announcement_days:
        problems.append(
            RecordProblem(
                record,
                f"公告期 {ahead} 日, 少于 {terms.announcement_days} 日 / the announcement precedes "
                f"the start by {ahead} days, at least {terms.announcement_days} are required "
                f"({terms.sources['announcement_days']}; policy {terms.policy_version})",
                "starts_at",
            )
        )
    if draft.ends_at <= draft.starts_at:
        problems.append(
            RecordProblem(record, "截止须晚于开始 / ends_at must follow starts_at", "ends_at")
        )
    elif draft.trade_method is TradeMethod.listing:
        days = (draft.ends_at.date() - draft.starts_at.date()).days
        if days < terms.listing_days:
            problems.append(
                RecordProblem(
                    record,
                    f"挂牌期 {days} 日, 少于 {terms.listing_days} 日 / the listing period is {days} "
                    f"days, at least {terms.listing_days} are required "
                    f"({terms.sources['listing_days']}; policy {terms.policy_version})",
                    "ends_at",
                )
            )
    if draft.trade_method is TradeMethod.agreement and draft.use not in terms.agreement_uses:
        problems.append(
            RecordProblem(
                record,
                f"{draft.use} 用地须招拍挂, 不得协议 / {draft.use} land must be listed or "
                f"auctioned; agreement is allowed for {', '.join(terms.agreement_uses)}",
                "trade_method",
            )
        )
    if draft.start_per_mu <= 0:
        problems.append(RecordProblem(record, "起始价须大于零 / must be > 0", "start_per_mu"))
    if draft.reserve_per_mu < draft.start_per_mu:
        problems.append(
            RecordProblem(
                record, "保留价不得低于起始价 / reserve below the starting price", "reserve_per_mu"
            )
        )
    if (draft.reserve_per_mu + draft.min_increment) * mu_exact(draft.area_m2) >= AMOUNT_LIMIT:
        problems.append(
            RecordProblem(record, "总价超出可记录范围 / price × area too large", "reserve_per_mu")
        )
    if draft.min_increment <= 0:
        problems.append(RecordProblem(record, "加价幅度须大于零 / must be > 0", "min_increment"))
    need = required_deposit(draft.start_per_mu, draft.area_m2, terms)
    if draft.deposit < need:
        problems.append(
            RecordProblem(
                record,
                f"保证金 {draft.deposit} 低于 {need} 元 / deposit below "
                f"{terms.deposit_min_share:.0%} of the starting price",
                "deposit",
            )
        )
    limit = terms.max_term.get(draft.use, terms.max_term.get("other"))
    if draft.term_years <= 0 or (limit is not None and draft.term_years > limit):
        problems.append(
            RecordProblem(
                record,
                f"年期 {draft.term_years} 不在 1–{limit} 年 / term outside 1–{limit} years",
                "term_years",
            )
        )
    if problems:
        raise InvalidInput(problems, source="announcement")


@dataclass(frozen=True)
class Qualification:
    """The bureau's decision on one registration, with the reason in words."""

    qualified: bool
    reason: str


def qualify(
    deposit_amount: Decimal | None, required: Decimal, decided: bool, reason: str | None
) -> Qualification:
    """Qualified only with the deposit paid in full; the bureau's refusal needs a reason."""
    if deposit_amount is None:
        return Qualification(False, "未缴纳保证金 / no deposit on record")
    if money(deposit_amount) < required:
        return Qualification(
            False, f"保证金 {deposit_amount} 少于 {required} 元 / deposit below the required amount"
        )
    if not decided:
        if not reason or not reason.strip():
            raise InvalidInput(
                [RecordProblem("decision", "不予资格须说明理由 / give the reason", "reason")]
            )
        return Qualification(False, reason.strip())
    return Qualification(True, (reason or "").strip() or "资格审查通过 / qualified")


def require_registration_open(now: datetime, starts_at: datetime, ends_at: datetime) -> None:
    """Bidders register until the trade closes."""
    if now >= ends_at:
        raise Conflict(f"报名已截止 / registration closed at {ends_at}")


def agreement_outcome(
    qualified_bidders: int, price_per_mu: Decimal, reserve_per_mu: Decimal
) -> tuple[bool, str]:
    """An agreement concludes with exactly one qualified bidder at or above the reserve."""
    if qualified_bidders != 1:
        return False, (
            f"合格竞买人 {qualified_bidders} 名, 协议须恰好一名 / an agreement needs exactly one "
            f"qualified bidder, there are {qualified_bidders}"
        )
    if price_per_mu < reserve_per_mu:
        return False, "协议价低于底价 / the agreed price is below the reserve"
    return True, ""
