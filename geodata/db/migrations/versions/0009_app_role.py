"""database roles: privileges of the application role (owner runs migrations)

Revision ID: 0009_app_role
Revises: 0008_plan_parcels
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_app_role"
down_revision: str | None = "0008_plan_parcels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved in the chain; filled by the change that needs it."""


def downgrade() -> None:
    """Nothing to undo yet."""
