"""The listing-terms form of the collective's pages: fields in, terms (or problems naming fields) out."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.datastructures import FormData

from landmarket.errors import RecordProblem
from landmarket.i18n import gettext as _
from landmarket.listings import (
    METHOD_NAMES,
    SUPPLY_MODE_NAMES,
    ListingTerms,
    Method,
    SupplyMode,
)
from maps.investor import USE_NAMES

TEXT_FIELDS = ("title", "description", "contact_name", "contact_phone", "contact_email")
NUMBER_FIELDS = ("term_years", "lease_years", "price_per_mu", "reserve_price_total",
                 "votes_for", "votes_total")  # fmt: skip
INTEGERS = frozenset({"term_years", "lease_years", "votes_for", "votes_total"})


class FormProblems(Exception):
    """The form's fields could not be read; problems name each field."""

    def __init__(self, problems: list[RecordProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def choices() -> dict[str, list[tuple[str, str]]]:
    """Options of the select fields: (value, bilingual name)."""
    return {
        "methods": [(str(m), METHOD_NAMES[m]) for m in Method],
        "modes": [(str(m), SUPPLY_MODE_NAMES[m]) for m in SupplyMode],
        "use_names": USE_NAMES,
    }


def form_values(form: FormData) -> dict[str, Any]:
    """The posted fields as strings (uses as a list), to re-render the form as it was sent."""
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in (
        *TEXT_FIELDS, *NUMBER_FIELDS, "method", "supply_mode", "meeting_date", "parcel_code")}  # fmt: skip
    values["intended_uses"] = [str(u) for u in form.getlist("intended_uses")]
    values["dispute_free"] = form.get("dispute_free") == "yes"
    return values


def _blank(value: Any) -> str:
    """A stored value as a form field shows it (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def values_of(terms: dict[str, Any]) -> dict[str, Any]:
    """Form values from a listing's terms (as the listing view returns them)."""
    consent, contact = terms.get("consent") or {}, terms.get("contact") or {}
    return {
        **{k: _blank(terms.get(k)) for k in ("title", "description", "term_years", "lease_years",
                                             "price_per_mu", "reserve_price_total")},
        "method": terms.get("method") or "", "supply_mode": terms.get("supply_mode") or "",
        "intended_uses": list(terms.get("intended_uses") or []),
        "meeting_date": consent.get("meeting_date") or "",
        "votes_for": _blank(consent.get("votes_for")), "votes_total": _blank(consent.get("votes_total")),
        "contact_name": contact.get("name") or "", "contact_phone": contact.get("phone") or "",
        "contact_email": contact.get("email") or "", "dispute_free": bool(terms.get("dispute_free")),
    }  # fmt: skip


def _number(values: dict[str, Any], name: str, record: str, out: list[RecordProblem]) -> Any:
    text = values.get(name) or ""
    if not text:
        return None
    try:
        number = int(text) if name in INTEGERS else float(text)
    except ValueError:
        out.append(RecordProblem(record, _("Enter a number."), name))
        return None
    if number <= 0 and name not in ("votes_for",):
        out.append(RecordProblem(record, _("Enter a number above zero."), name))
    return number


def terms_dict(values: dict[str, Any], record: str) -> dict[str, Any]:
    """The terms mapping ListingTerms.from_dict reads; FormProblems names every bad field."""
    problems: list[RecordProblem] = []
    nums = {n: _number(values, n, record, problems) for n in NUMBER_FIELDS}
    if values.get("method") not in {str(m) for m in Method}:
        problems.append(RecordProblem(record, _("Choose a method."), "method"))
    if values.get("supply_mode") not in {str(m) for m in SupplyMode}:
        problems.append(RecordProblem(record, _("Choose a supply mode."), "supply_mode"))
    if not values.get("intended_uses"):
        problems.append(RecordProblem(record, _("Choose at least one use."), "intended_uses"))
    if nums["term_years"] is None:
        problems.append(RecordProblem(record, _("Enter the term in years."), "term_years"))
    meeting = None
    if values.get("meeting_date"):
        try:
            meeting = date.fromisoformat(values["meeting_date"])
        except ValueError:
            problems.append(RecordProblem(record, _("Enter a date."), "meeting_date"))
    if problems:
        raise FormProblems(problems)
    contact = None
    if values.get("contact_name"):
        contact = {"name": values["contact_name"], "phone": values.get("contact_phone") or None,
                   "email": values.get("contact_email") or None}  # fmt: skip
    return {
        "method": values["method"], "supply_mode": values["supply_mode"],
        "intended_uses": values["intended_uses"], "term_years": nums["term_years"],
        "lease_years": nums["lease_years"], "price_per_mu": nums["price_per_mu"],
        "reserve_price_total": nums["reserve_price_total"],
        "consent": {"meeting_date": meeting.isoformat() if meeting else None, "votes_for": nums["votes_for"],
                    "votes_total": nums["votes_total"]},
        "contact": contact, "title": values.get("title") or None,
        "description": values.get("description") or None,
        "dispute_free": True if values.get("dispute_free") else None,
    }  # fmt: skip


def terms_of_form(values: dict[str, Any], record: str) -> ListingTerms:
    """Domain terms from the form values."""
    return ListingTerms.from_dict(terms_dict(values, record))
