"""stock land: pre-registration, split registration, renewal, short-term use, idle land

Revision ID: 0013_stock_land
Revises: 0012_trading
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013_stock_land"
down_revision: str | None = "0012_trading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved in the chain; filled by the change that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
