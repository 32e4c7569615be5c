"""first load of parcels: the unique parcel code is rebuilt after the rows as well

0016 left the unique constraint on parcel_code live during a large first load, as the import's
duplicate check. Kept live, it costs each COPYed row a b-tree insertion, logged on its own: at
1,000,000 parcels ~2.2-2.7 s of server CPU, against ~0.6 s to build it once after the rows
(C collation). A first load does not need it to find duplicates: the table was empty when the
import locked it, so only the import's own rows can collide, and those it checks in memory
(geodata/store/parcel_stream.py). The rebuilt constraint still guards: a duplicate that got past
the import fails the rebuild and the whole import rolls back.

parcels_defer_indexes() now also drops the table's unique constraints that no foreign key
depends on (uq_parcels_parcel_code), recording the ALTER TABLE that adds each back;
parcels_restore_indexes() and the rebuild at commit run whatever is recorded, unchanged. The
primary key stays (the foreign keys of land_rights, listings and others point at it).

Revision ID: 0019_parcels_first_load_unique
Revises: 0018_parcel_cells_once
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019_parcels_first_load_unique"
down_revision: str | None = "0018_parcel_cells_once"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp"
# Frozen here so this revision never changes; 0016's body, for the downgrade, is kept below.
LOCKED_AND_EMPTY = """
    BEGIN
        LOCK TABLE parcels IN ACCESS EXCLUSIVE MODE NOWAIT;
    EXCEPTION WHEN lock_not_available THEN
        RETURN false;
    END;
    IF EXISTS (SELECT 1 FROM parcels) OR EXISTS (SELECT 1 FROM parcel_deferred_indexes) THEN
        RETURN false;
    END IF;
"""
SECONDARY = """
    FOR r IN
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'parcels'::regclass AND NOT i.indisunique AND NOT i.indisprimary
        ORDER BY c.relname
    LOOP
        INSERT INTO parcel_deferred_indexes (name, definition) VALUES (r.name, r.definition);
        EXECUTE format('DROP INDEX %I', r.name);
    END LOOP;
"""
UNIQUE = """
    FOR r IN
        SELECT u.conname AS name, pg_get_constraintdef(u.oid) AS definition
        FROM pg_constraint u
        WHERE u.conrelid = 'parcels'::regclass AND u.contype = 'u'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                          WHERE f.contype = 'f' AND f.conindid = u.conindid)
        ORDER BY u.conname
    LOOP
        INSERT INTO parcel_deferred_indexes (name, definition)
        VALUES (r.name, format('ALTER TABLE parcels ADD CONSTRAINT %I %s', r.name, r.definition));
        EXECUTE format('ALTER TABLE parcels DROP CONSTRAINT %I', r.name);
    END LOOP;
"""


def _defer(body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION parcels_defer_indexes() RETURNS boolean {DEFINER} AS $$\n"
        f"DECLARE\n    r record;\nBEGIN\n{LOCKED_AND_EMPTY}{body}    RETURN true;\nEND\n$$"
    )


def upgrade() -> None:
    """parcels_defer_indexes() drops the unique constraints no foreign key needs, too."""
    op.execute(_defer(SECONDARY + UNIQUE))


def downgrade() -> None:
    """Back to 0016's: secondary indexes only."""
    op.execute(_defer(SECONDARY))
