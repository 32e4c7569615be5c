"""Collective construction land use rights (集体建设用地使用权) as registered: pure model and rules.

API for other domains: a right is a frozen ``LandRight`` (holder, parcel, use, method, term, start and
end dates, 28-character unit code per GB/T 37346, registration date). Rights are history: a row is
never changed; a correction, transfer, renewal or split registers a NEW right whose ``supersedes``
names the old one with a ``basis`` (correction/transfer/renewal/split), and an ending (surrender,
recovery, cancellation) is an event. ``status_on(right, on, successor_basis, ended_on)`` derives the
status (pending, live, expired, ended, corrected, transferred, renewed, split); ``occupies`` says
whether a right still blocks its parcel (live or pending). ``term_end`` computes the end date of a
term; ``check_new_right`` validates the fields before registration. Storage: geodata.trading.rights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from landmarket.codes import CodeError, parse_parcel_code, parse_unit_code
from landmarket.errors import InvalidInput, RecordProblem


class RightMethod(StrEnum):
    """How the right was obtained (art. 63 market-entry methods)."""

    transfer = "transfer"  # 出让
    lease = "lease"  # 出租
    equity = "equity"  # 作价出资入股


class Basis(StrEnum):
    """Why a right was registered."""

    deal = "deal"  # a concluded trade at the exchange
    initial = "initial"  # first registration of a right that existed before the platform
    correction = "correction"  # 更正登记: replaces a wrong entry
    transfer = "transfer"  # 转让: the right passes to a new holder
    renewal = "renewal"  # 续期
    split = "split"  # 分割登记: the right is split onto new parcels


class EndKind(StrEnum):
    """Events that end a right before its term."""

    surrendered = "surrendered"  # 注销 on the holder's application
    recovered = "recovered"  # 收回 (e.g. idle land, breach)
    cancelled = "cancelled"  # 撤销 (registration annulled)


class RightStatus(StrEnum):
    """Where a right is on a given day."""

    pending = "pending"  # registered, term starts later
    live = "live"
    expired = "expired"  # term over (lease rights end at their term)
    ended = "ended"  # surrendered, recovered or cancelled
    corrected = "corrected"
    transferred = "transferred"
    renewed = "renewed"
    split = "split"


SUCCESSOR_STATUS = {
    Basis.correction: RightStatus.corrected,
    Basis.transfer: RightStatus.transferred,
    Basis.renewal: RightStatus.renewed,
    Basis.split: RightStatus.split,
}
OCCUPYING = frozenset({RightStatus.pending, RightStatus.live})
STATUS_NAMES = {
    RightStatus.pending: "待生效 / pending",
    RightStatus.live: "有效 / live",
    RightStatus.expired: "期满 / expired",
    RightStatus.ended: "已注销 / ended",
    RightStatus.corrected: "已更正 / corrected",
    RightStatus.transferred: "已转让 / transferred",
    RightStatus.renewed: "已续期 / renewed",
    RightStatus.split: "已分割 / split",
}


@dataclass(frozen=True)
class LandRight:
    """One registered right as stored (never edited); status comes from later entries."""

    id: int
    right_no: str
    parcel_code: str
    unit_code: str
    village_code: str | None
    holder_id: int | None
    holder_name: str
    method: RightMethod
    use: str
    term_years: int
    starts_on: date
    ends_on: date
    area_m2: Decimal
    registered_on: date
    basis: Basis
    deal_id: int | None = None
    supersedes: int | None = None
    status: RightStatus = RightStatus.live


def term_end(starts_on: date, years: int) -> date:
    """The day a term of whole years ends (29 February rolls to 28 February)."""
    if starts_on.year + years > 9999:
        raise InvalidInput(
            [
                RecordProblem(
                    "term", f"终止年份超出范围 / the term ends after 9999: {starts_on}", "starts_on"
                )
            ]
        )
    try:
        return starts_on.replace(year=starts_on.year + years)
    except ValueError:
        return starts_on.replace(year=starts_on.year + years, day=28)


def status_on(
    right: LandRight,
    on: date,
    successor_basis: Basis | str | None = None,
    ended_on: date | None = None,
) -> RightStatus:
    """The right's status on a day, from its successor (if any) and its ending event (if any)."""
    if successor_basis is not None:
        return SUCCESSOR_STATUS[Basis(successor_basis)]
    if ended_on is not None and ended_on <= on:
        return RightStatus.ended
    if on >= right.ends_on:
        return RightStatus.expired
    if on < right.starts_on:
        return RightStatus.pending
    return RightStatus.live


def occupies(status: RightStatus | str) -> bool:
    """True while the right blocks its parcel from being listed or sold again."""
    return RightStatus(status) in OCCUPYING


def check_new_right(
    parcel_code: str,
    unit_code: str,
    holder_name: str,
    method: str,
    use: str,
    term_years: int,
    max_term_years: int | None = None,
) -> None:
    """InvalidInput naming every bad field of a right about to be registered."""
    record = f"right on {parcel_code}"
    problems: list[RecordProblem] = []
    try:
        parse_parcel_code(parcel_code)
    except CodeError as exc:
        problems.append(RecordProblem(record, f"宗地代码无效 / {exc}", "parcel_code"))
    try:
        parcel, _, _ = parse_unit_code(unit_code)
        if parcel.code != parcel_code:
            problems.append(
                RecordProblem(
                    record,
                    f"不动产单元代码 {unit_code} 不属于该宗地 / unit code is not on this parcel",
                    "unit_code",
                )
            )
    except CodeError as exc:
        problems.append(RecordProblem(record, f"不动产单元代码无效 / {exc}", "unit_code"))
    if not holder_name or not holder_name.strip():
        problems.append(RecordProblem(record, "权利人不能为空 / holder name is empty", "holder"))
    if method not in {m.value for m in RightMethod}:
        problems.append(
            RecordProblem(record, f"取得方式未知 / unknown method {method!r}", "method")
        )
    if not use:
        problems.append(RecordProblem(record, "用途不能为空 / use is empty", "use"))
    if term_years <= 0:
        problems.append(RecordProblem(record, "年期须大于零 / term must be > 0", "term_years"))
    elif max_term_years is not None and term_years > max_term_years:
        problems.append(
            RecordProblem(
                record,
                f"年期 {term_years} 超过该用途最高年限 {max_term_years} / term above the maximum",
                "term_years",
            )
        )
    if problems:
        raise InvalidInput(problems, source="right")
