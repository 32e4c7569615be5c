"""database roles: only the owner creates objects; the application role's grants follow every run

Revision ID: 0009_app_role
Revises: 0008_plan_parcels
Create Date: 2026-12-03

The application role's privileges are not written here: they are derived from the catalogue
(history tables are those with a ``<table>_append_only`` trigger) and applied after every
migration run by geodata/db/migrations/env.py, so tables added by later revisions are covered.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_app_role"
down_revision: str | None = "0008_plan_parcels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL 15 already refuses CREATE on schema public to PUBLIC; older servers allowed it, which
# would let the application role own tables (and triggers on them). Not fatal when the owner may
# not change the schema (an older server's public schema belongs to the superuser): say so.
REVOKE_CREATE = """
DO $$
BEGIN
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'cannot revoke CREATE on schema public from PUBLIC: ask the DBA to run it';
END
$$
"""


def upgrade() -> None:
    """Nobody but the owner may create objects in the schema."""
    op.execute(REVOKE_CREATE)


def downgrade() -> None:
    """Leave the schema closed: reopening CREATE to every role would only weaken it."""
