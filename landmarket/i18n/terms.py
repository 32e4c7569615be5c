"""Message ids that are computed at run time (role names, states, verdicts, problem titles).

Marked with N_ so `make messages` extracts them; templates translate them with `_(value)`.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the gettext convention: mark, do not translate
    """Mark a message id for extraction without translating it here."""
    return message


ROLES = (N_("bureau"), N_("collective"), N_("investor"), N_("public"))
LISTING_STATES = (
    N_("draft"), N_("published"), N_("under_offer"), N_("concluded"), N_("withdrawn"),
)  # fmt: skip
CHECKS = (N_("market_entry"), N_("reclamation"), N_("ticket_landing"), N_("approval_route"))
VERDICTS = (N_("eligible"), N_("ineligible"), N_("needs_review"))
RULE_STATUSES = (N_("pass"), N_("fail"), N_("info"))
AUCTIONS = (N_("sealed"), N_("ascending"), N_("open"), N_("closed"))
LANDING_USES = (
    N_("operational"), N_("industrial"), N_("allocated"), N_("quota_purchase"), N_("linkage"),
)  # fmt: skip
TICKET_STATUSES = (
    N_("held"), N_("listed"), N_("landed"), N_("merged"), N_("split"), N_("retired"), N_("reversed"),
)  # fmt: skip
PLAN_STATUSES = (N_("submitted"), N_("approved"))
JOB_STATES = (N_("queued"), N_("running"), N_("done"), N_("failed"), N_("cancelled"), N_("all"))
# English halves of the problem+json titles ('中文 / English' literals in errors and handlers).
PROBLEM_TITLES = (
    N_("Bad request"), N_("Unauthorized"), N_("Forbidden"), N_("Not found"),
    N_("Method not allowed"), N_("Conflict"), N_("Payload too large"),
    N_("Unsupported media type"), N_("Invalid request parameters"), N_("Internal server error"),
    N_("Invalid request"), N_("Invalid input data"), N_("Database unavailable"),
    N_("Raster file missing"), N_("Too many requests"), N_("Service unavailable"),
)  # fmt: skip
