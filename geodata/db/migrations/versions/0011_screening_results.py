"""screening results: verdicts stored per job in PostGIS; job progress and cancellation

Revision ID: 0011_screening_results
Revises: 0010_accounts
Create Date: 2026-12-03

screening_results holds one row per (job, parcel): the verdict of each check, the failed and
review rule ids, and the parcel's geometry as screened (GiST-indexed, for the verdict tiles).
screenings gains parcels_done, parcels_per_second, cancel_requested and the state 'cancelled'.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0011_screening_results"
down_revision: str | None = "0010_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The verdict tile collections (geodata/tiles/collections.py) fed by this table.
TILE_COLLECTIONS = ", ".join(
    f"'screening_{c}'" for c in ("market_entry", "reclamation", "ticket_landing", "approval_route")
)
OLD_STATES = "state IN ('queued', 'running', 'done', 'failed')"
NEW_STATES = "state IN ('queued', 'running', 'done', 'failed', 'cancelled')"


def upgrade() -> None:
    """The results table, its indexes and tile trigger; progress and cancel columns on jobs."""
    op.add_column(
        "screenings", sa.Column("parcels_done", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("screenings", sa.Column("parcels_per_second", sa.Float(), nullable=True))
    op.add_column(
        "screenings",
        sa.Column("cancel_requested", sa.Boolean(), server_default="false", nullable=False),
    )
    op.drop_constraint(op.f("ck_screenings_state"), "screenings", type_="check")
    op.create_check_constraint(op.f("ck_screenings_state"), "screenings", NEW_STATES)
    op.create_table(
        "screening_results",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("parcel_code", sa.Text(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("area_mu", sa.Float(), nullable=True),
        sa.Column("market_entry", sa.String(length=16), nullable=True),
        sa.Column("reclamation", sa.String(length=16), nullable=True),
        sa.Column("ticket_landing", sa.String(length=16), nullable=True),
        sa.Column("approval_route", sa.String(length=16), nullable=True),
        sa.Column("failed", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("needs_review", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "geom",
            Geometry(geometry_type="GEOMETRY", srid=4490, spatial_index=False),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["screenings.id"],
            name=op.f("fk_screening_results_job_id_screenings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "parcel_code", name=op.f("pk_screening_results")),
    )
    op.create_index(
        "ix_screening_results_geom", "screening_results", ["geom"], postgresql_using="gist"
    )
    op.execute(
        "CREATE TRIGGER screening_results_tile_versions AFTER INSERT OR UPDATE OR DELETE OR "
        "TRUNCATE ON screening_results FOR EACH STATEMENT "
        f"EXECUTE FUNCTION tile_versions_bump({TILE_COLLECTIONS})"
    )


def downgrade() -> None:
    """Drop the results; jobs lose the new columns (cancelled jobs become failed)."""
    op.execute("DROP TRIGGER screening_results_tile_versions ON screening_results")
    op.drop_index("ix_screening_results_geom", table_name="screening_results")
    op.drop_table("screening_results")
    op.execute("UPDATE screenings SET state = 'failed' WHERE state = 'cancelled'")
    op.drop_constraint(op.f("ck_screenings_state"), "screenings", type_="check")
    op.create_check_constraint(op.f("ck_screenings_state"), "screenings", OLD_STATES)
    op.drop_column("screenings", "cancel_requested")
    op.drop_column("screenings", "parcels_per_second")
    op.drop_column("screenings", "parcels_done")
