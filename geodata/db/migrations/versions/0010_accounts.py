"""accounts: passwords, browser sessions, token expiry and last use

Revision ID: 0010_accounts
Revises: 0009_app_role
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_accounts"
down_revision: str | None = "0009_app_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved in the chain; filled by the change that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
