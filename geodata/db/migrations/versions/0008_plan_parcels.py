"""plan parcels: the parcel code a destination plot became when its plan was approved

Revision ID: 0008_plan_parcels
Revises: 0007_parcel_cells
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_plan_parcels"
down_revision: str | None = "0007_parcel_cells"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add consolidation_plan_plots.parcel_code (NULL until approval; never two plots one code)."""
    op.add_column(
        "consolidation_plan_plots", sa.Column("parcel_code", sa.String(length=19), nullable=True)
    )
    op.create_unique_constraint(
        "uq_consolidation_plan_plots_parcel_code", "consolidation_plan_plots", ["parcel_code"]
    )


def downgrade() -> None:
    """Drop the column again."""
    op.drop_constraint(
        "uq_consolidation_plan_plots_parcel_code", "consolidation_plan_plots", type_="unique"
    )
    op.drop_column("consolidation_plan_plots", "parcel_code")
