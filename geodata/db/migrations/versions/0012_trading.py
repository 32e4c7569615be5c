"""trading: announcements, bidder registrations, deals, contracts, certificates, rights, mortgages

Revision ID: 0012_trading
Revises: 0011_screening_results
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_trading"
down_revision: str | None = "0011_screening_results"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved in the chain; filled by the change that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
