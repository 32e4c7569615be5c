"""ticket children index: ticket_parents by (parent_id, ticket_id), the newest child in one probe

A trade that splits area off a ticket numbers the new certificate after the tickets already split
off it (第000123-N号). geodata.tickets.sales reads that count as the index of the newest split-off
child (numbers are given count + 1 under the ticket's lock and never reused), found by a backward
scan of this index that stops at the first split child — instead of counting every child, which
grew with each sale of a much-traded ticket (0.6 ms of server time at 400 children). The index
also serves every lookup by parent the single-column index it replaces did.

Revision ID: 0017_ticket_children_index
Revises: 0016_parcels_first_load
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017_ticket_children_index"
down_revision: str | None = "0016_parcels_first_load"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index lineage edges by parent then child; drop the parent-only index it covers."""
    op.create_index(
        "ix_ticket_parents_parent_id_ticket_id", "ticket_parents", ["parent_id", "ticket_id"]
    )
    op.drop_index("ix_ticket_parents_parent_id", table_name="ticket_parents")


def downgrade() -> None:
    """Back to the parent-only index."""
    op.create_index("ix_ticket_parents_parent_id", "ticket_parents", ["parent_id"])
    op.drop_index("ix_ticket_parents_parent_id_ticket_id", table_name="ticket_parents")
