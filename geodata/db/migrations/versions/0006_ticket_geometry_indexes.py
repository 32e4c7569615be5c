"""ticket geometry indexes: a GiST index on every geometry of the land ticket tables

Revision ID: 0006_ticket_geometry_indexes
Revises: 0005_screenings
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_ticket_geometry_indexes"
down_revision: str | None = "0005_screenings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("withdrawals", "project_plots", "acceptance_plots", "landings")


def upgrade() -> None:
    """Index the origin plots and landing parcels for map and bbox queries."""
    for table in TABLES:
        op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def downgrade() -> None:
    """Drop the indexes again."""
    for table in TABLES:
        op.drop_index(f"ix_{table}_geom", table_name=table, postgresql_using="gist")
