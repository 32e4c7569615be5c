"""parcel cells: parcel counts and areas per level-18 quadtree cell, kept exact by triggers

Revision ID: 0007_parcel_cells
Revises: 0006_ticket_geometry_indexes
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_parcel_cells"
down_revision: str | None = "0006_ticket_geometry_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here so this revision never changes. The cell of a parcel is the level-18 web-mercator
# quadtree cell holding the centre of its bounding box; geodata/tiles/sql/tile.sql computes the
# same u, w for the per-row aggregate, so both paths put every parcel in the same cell.
CELLS_OF = """
    SELECT floor(u * 262144)::int AS cx, floor(w * 262144)::int AS cy,
           count(*)::int AS n, sum(area_mu) AS area_mu
    FROM (
        SELECT ((ST_XMin(b) + ST_XMax(b)) / 2 + 180) / 360 AS u,
               (1 - ln(tan(radians((ST_YMin(b) + ST_YMax(b)) / 2))
                       + 1 / cos(radians((ST_YMin(b) + ST_YMax(b)) / 2))) / pi()) / 2 AS w,
               area_mu
        FROM (SELECT Box2D(geom) AS b, area_mu FROM {rows}) AS boxes
    ) AS uw
    GROUP BY 1, 2
"""
ADD = """
    INSERT INTO parcel_cells (cx, cy, n, area_mu) {cells}
    ON CONFLICT (cx, cy) DO UPDATE
    SET n = parcel_cells.n + EXCLUDED.n, area_mu = parcel_cells.area_mu + EXCLUDED.area_mu;
"""
SUBTRACT = """
    UPDATE parcel_cells c SET n = c.n - d.n, area_mu = c.area_mu - d.area_mu
    FROM ({cells}) AS d WHERE c.cx = d.cx AND c.cy = d.cy;
    DELETE FROM parcel_cells WHERE n <= 0;
"""
FUNCTIONS = {
    "parcel_cells_insert": ADD.format(cells=CELLS_OF.format(rows="new_rows")),
    "parcel_cells_delete": SUBTRACT.format(cells=CELLS_OF.format(rows="old_rows")),
    "parcel_cells_update": SUBTRACT.format(cells=CELLS_OF.format(rows="old_rows"))
    + ADD.format(cells=CELLS_OF.format(rows="new_rows")),
    "parcel_cells_truncate": "TRUNCATE parcel_cells;",
}
TRIGGERS = {
    "parcel_cells_insert": "AFTER INSERT ON parcels REFERENCING NEW TABLE AS new_rows",
    "parcel_cells_delete": "AFTER DELETE ON parcels REFERENCING OLD TABLE AS old_rows",
    "parcel_cells_update": "AFTER UPDATE ON parcels "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "parcel_cells_truncate": "AFTER TRUNCATE ON parcels",
}


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "parcel_cells",
        sa.Column("cx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("area_mu", sa.Numeric(precision=18, scale=4, asdecimal=False), nullable=False),
        sa.PrimaryKeyConstraint("cx", "cy", name=op.f("pk_parcel_cells")),
    )
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER {name} {TRIGGERS[name]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    op.execute(ADD.format(cells=CELLS_OF.format(rows="parcels")))


def downgrade() -> None:
    """Revert this revision."""
    for name in FUNCTIONS:
        op.execute(f"DROP TRIGGER {name} ON parcels")
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("parcel_cells")
