"""The trading forms the bureau's and the collective's pages share: announce a listing and record a
deal's contract — fields read into the geodata.trading services' arguments, or the problems that
name the field, plus the parsing of dates, datetime-local fields, payment and condition lines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form

from landmarket.errors import LandmarketError, RecordProblem
from landmarket.i18n import gettext as _
from landmarket.trading.model import TradingTerms

TZ = datetime.now().astimezone().tzinfo  # a datetime-local field is the server's local time


Short = Annotated[str, Form(max_length=32)]
Long = Annotated[str, Form(max_length=4000)]


def announce_fields(
    listing_id: Short = "", trade_method: Short = "listing", announced_on: Short = "",
    starts_at: Short = "", ends_at: Short = "", reserve_per_mu: Short = "",
    start_per_mu: Short = "", min_increment: Short = "", deposit: Short = "",
    cost_base: Short = "", reserve_secret: Short = "",
) -> dict[str, str]:  # fmt: skip
    """The announce form as sent, field by field (a dependency of both pages' announce route)."""
    return {"listing_id": listing_id, "trade_method": trade_method, "announced_on": announced_on,
            "starts_at": starts_at, "ends_at": ends_at, "reserve_per_mu": reserve_per_mu,
            "start_per_mu": start_per_mu, "min_increment": min_increment, "deposit": deposit,
            "cost_base": cost_base, "reserve_secret": reserve_secret}  # fmt: skip


def contract_fields(
    signed_on: Short = "", term_starts_on: Short = "", payment_schedule: Long = "",
    planning_conditions: Long = "", investment_conditions: Long = "",
) -> dict[str, str]:  # fmt: skip
    """The contract form as sent (a dependency of both pages' contract route)."""
    return {"signed_on": signed_on, "term_starts_on": term_starts_on,
            "payment_schedule": payment_schedule, "planning_conditions": planning_conditions,
            "investment_conditions": investment_conditions}  # fmt: skip


AnnounceForm = Annotated[dict[str, str], Depends(announce_fields)]
ContractForm = Annotated[dict[str, str], Depends(contract_fields)]


class FormProblems(Exception):
    """A form that cannot reach the service: the problems, each naming its field."""

    status = 422

    def __init__(self, problems: list[RecordProblem]) -> None:
        super().__init__(problems)
        self.problems = problems


def problems_of(exc: LandmarketError) -> list[RecordProblem]:
    """A service error's problems (its message as one problem when it lists none)."""
    return list(getattr(exc, "problems", None) or [RecordProblem("form", str(exc))])


def bad(record: str, field: str, message: str) -> list[RecordProblem]:
    """One problem of one field."""
    return [RecordProblem(record, message, field)]


def day(value: str, field: str) -> date:
    """A date field (today when empty); ValueError names the field."""
    if not value.strip():
        return date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(field) from None


def local(value: str, field: str) -> datetime:
    """A datetime-local field (the server's zone) as an aware datetime; ValueError names it."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)


def field_local(moment: datetime) -> str:
    """A moment as a datetime-local field's value."""
    return moment.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def pairs(lines: str) -> dict[str, str]:
    """'key: value' lines as a dict (empty lines skipped); ValueError on a line without a colon."""
    out: dict[str, str] = {}
    for line in lines.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            key, sep, value = line.partition("：")
        if not sep or not key.strip():
            raise ValueError(line.strip())
        out[key.strip()] = value.strip()
    return out


def schedule(lines: str) -> list[dict[str, str]]:
    """'YYYY-MM-DD amount' lines as payments; the service checks dates, amounts and the sum."""
    out = []
    for line in lines.splitlines():
        parts = line.replace(",", " ").replace("，", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ValueError(line.strip())
        out.append({"due_on": parts[0], "amount": parts[1]})
    return out


def announce_defaults(today: date, terms: TradingTerms) -> dict[str, str]:
    """The announce form's dates: today, trading from the policy's first day, the shortest period."""
    starts = datetime.combine(today + timedelta(days=terms.announcement_days), time(9), TZ)
    return {
        "announced_on": today.isoformat(),
        "starts_at": field_local(starts),
        "ends_at": field_local(starts + timedelta(days=terms.listing_days)),
    }


def announcement_args(form: dict[str, str]) -> tuple[int, date, dict[str, Any]]:
    """The listing, the announcement day and market.announce's keyword arguments (FormProblems)."""
    record = "announcement"
    try:
        listing = int(form["listing_id"])
    except ValueError:
        raise FormProblems(bad(record, "listing_id", _("Choose a published listing."))) from None
    try:
        on = day(form["announced_on"], "announced_on")
        starts, ends = local(form["starts_at"], "starts_at"), local(form["ends_at"], "ends_at")
    except ValueError as exc:
        raise FormProblems(bad(record, str(exc), _("Enter a date and time."))) from None
    return listing, on, {
        "trade_method": form["trade_method"], "announced_on": on, "starts_at": starts,
        "ends_at": ends, "reserve_per_mu": form["reserve_per_mu"].strip() or None,
        "start_per_mu": form["start_per_mu"].strip() or None,
        "min_increment": form["min_increment"].strip() or None,
        "deposit": form["deposit"].strip() or None, "cost_base": form["cost_base"].strip() or 0,
        "reserve_secret": bool(form["reserve_secret"]),
    }  # fmt: skip


def contract_args(form: dict[str, str], deal_id: int) -> dict[str, Any]:
    """contracts.sign_contract's keyword arguments from the contract form (FormProblems)."""
    record = f"contract of deal {deal_id}"
    try:
        signed = day(form["signed_on"], "signed_on")
        starts = day(form["term_starts_on"], "term_starts_on")
    except ValueError as exc:
        raise FormProblems(bad(record, str(exc), _("Enter a date."))) from None
    try:
        payments = schedule(form["payment_schedule"])
    except ValueError as exc:
        message = _(
            "Write one payment a line: the due date and the amount (%(line)s).", line=str(exc)
        )
        raise FormProblems(bad(record, "payment_schedule", message)) from None
    try:
        planning = pairs(form["planning_conditions"])
        invest = pairs(form["investment_conditions"]) or None
    except ValueError as exc:
        message = _("Write one condition a line as 'name: value' (%(line)s).", line=str(exc))
        raise FormProblems(bad(record, "conditions", message)) from None
    return {"signed_on": signed, "term_starts_on": starts, "payment_schedule": payments,
            "planning_conditions": planning, "investment_conditions": invest}  # fmt: skip


def contract_defaults(today: date, price_total: object) -> dict[str, str]:
    """The contract form's defaults: signed and starting today, the whole price paid today."""
    return {"signed_on": today.isoformat(), "term_starts_on": today.isoformat(),
            "payment_schedule": f"{today.isoformat()} {price_total}"}  # fmt: skip
