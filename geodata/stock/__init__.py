"""Stock land on PostGIS: construction records, idle-land lists, renewals, pre-registrations and
short-term uses over the registered rights of geodata.trading.rights. Every write is the bureau's,
all-or-nothing, audited; the rules are landmarket.stock's."""

from geodata.stock.repository import (
    complete_preregistration,
    idle_rights,
    live_preregistration,
    preregister,
    record_construction,
    record_short_term_use,
    renew_right,
    short_term_uses,
)
from geodata.stock.split import split_right

__all__ = [
    "complete_preregistration",
    "idle_rights",
    "live_preregistration",
    "preregister",
    "record_construction",
    "record_short_term_use",
    "renew_right",
    "short_term_uses",
    "split_right",
]
