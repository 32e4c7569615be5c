"""screening results: verdicts stored per job in PostGIS

Revision ID: 0011_screening_results
Revises: 0010_accounts
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011_screening_results"
down_revision: str | None = "0010_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved in the chain; filled by the change that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
