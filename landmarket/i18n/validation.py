"""Message ids for pydantic's validation error types, so 422 responses follow the locale."""

from __future__ import annotations

from typing import Any

from landmarket.i18n import gettext
from landmarket.i18n.terms import N_

# error type → message id with %(ctx key)s placeholders (pydantic's own wording, which the
# English catalogue keeps and the Chinese one translates).
MESSAGES = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "finite_number": N_("Input should be a finite number"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, %(error)s"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, %(error)s"),
    "datetime_parsing": N_("Input should be a valid datetime, %(error)s"),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "too_short": N_(
        "List should have at least %(min_length)s items after validation, not %(actual_length)s"
    ),
    "too_long": N_(
        "List should have at most %(max_length)s items after validation, not %(actual_length)s"
    ),
    "json_invalid": N_("Invalid JSON: %(error)s"),
    "union_tag_invalid": N_(
        "Input tag '%(tag)s' found using %(discriminator)s does not match any of the expected tags: %(expected_tags)s"
    ),
    "uuid_parsing": N_("Input should be a valid UUID, %(error)s"),
}


def validation_message(kind: str, ctx: dict[str, Any] | None, fallback: str) -> str:
    """The locale's wording of one validation error (pydantic's own message when unknown)."""
    message = MESSAGES.get(kind)
    if message is None:
        return fallback
    try:
        return gettext(message, **(ctx or {}))
    except (KeyError, TypeError, ValueError):
        return fallback
