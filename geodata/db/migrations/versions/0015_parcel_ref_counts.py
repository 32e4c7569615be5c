"""parcel references per statement: the parcels' foreign keys move to a count table

A foreign key on parcels checks every inserted row on its own (one index probe and lock per row
and key: ~1 s of server time per 100,000 parcels for each of the two keys). Here the parcels'
two foreign keys (village_code → villages, batch_id → import_batches) are replaced by
parcel_ref_counts: one row per (batch, village) pair the parcels use, with the number of parcels
using it, kept exact by statement triggers over the transition tables (the cell triggers of 0007
capture the same rows). The count table carries the two real foreign keys, so PostgreSQL's own
checks still guarantee both directions with their usual locking: a parcel naming a village or
batch that does not exist fails its statement (the pair's row is checked when it appears), and a
village or batch still used by a parcel cannot be deleted or re-keyed (its pair's row refers to
it). The check runs once per pair and statement instead of once per row. The triggers are
SECURITY DEFINER with a fixed search_path and the application role may only read the count table
(geodata/db/roles.py), so it cannot loosen the guarantee by writing the counts itself.

Revision ID: 0015_parcel_ref_counts
Revises: 0014_trade_confirmations
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_parcel_ref_counts"
down_revision: str | None = "0014_trade_confirmations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here so this revision never changes. {rows} yields (batch_id, village_code, n), n = ±1.
PAIRS = """
    SELECT batch_id, village_code, sum(n)::int AS n FROM ({rows}) AS changed
    WHERE batch_id IS NOT NULL OR village_code IS NOT NULL
    GROUP BY batch_id, village_code
"""
ADD = """
    INSERT INTO parcel_ref_counts AS r (batch_id, village_code, n)
    SELECT batch_id, village_code, n FROM ({pairs}) AS d WHERE n > 0
    ORDER BY batch_id, village_code
    ON CONFLICT ((coalesce(batch_id, -1)), (coalesce(village_code, '')))
    DO UPDATE SET n = r.n + EXCLUDED.n;
"""
SUBTRACT = """
    UPDATE parcel_ref_counts r SET n = r.n + d.n FROM ({pairs}) AS d
    WHERE d.n < 0 AND coalesce(r.batch_id, -1) = coalesce(d.batch_id, -1)
      AND coalesce(r.village_code, '') = coalesce(d.village_code, '');
    DELETE FROM parcel_ref_counts WHERE n = 0;
"""
NEW = "SELECT batch_id, village_code, 1 AS n FROM new_rows"
OLD = "SELECT batch_id, village_code, -1 AS n FROM old_rows"
BOTH = f"{NEW} UNION ALL {OLD}"
FUNCTIONS = {
    "parcel_refs_insert": ADD.format(pairs=PAIRS.format(rows=NEW)),
    "parcel_refs_delete": SUBTRACT.format(pairs=PAIRS.format(rows=OLD)),
    "parcel_refs_update": ADD.format(pairs=PAIRS.format(rows=BOTH))
    + SUBTRACT.format(pairs=PAIRS.format(rows=BOTH)),
    "parcel_refs_truncate": "DELETE FROM parcel_ref_counts;",
}
TRIGGERS = {
    "parcel_refs_insert": "AFTER INSERT ON parcels REFERENCING NEW TABLE AS new_rows",
    "parcel_refs_delete": "AFTER DELETE ON parcels REFERENCING OLD TABLE AS old_rows",
    "parcel_refs_update": "AFTER UPDATE ON parcels "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "parcel_refs_truncate": "AFTER TRUNCATE ON parcels",
}
PARCEL_FKS = {
    "fk_parcels_village_code_villages": ("village_code", "villages(code)"),
    "fk_parcels_batch_id_import_batches": ("batch_id", "import_batches(id)"),
}


def upgrade() -> None:
    """Count table with the real foreign keys, its triggers, then the row-by-row keys dropped."""
    op.execute(
        """
        CREATE TABLE parcel_ref_counts (
            batch_id integer CONSTRAINT fk_parcel_ref_counts_batch_id_import_batches
                REFERENCES import_batches (id),
            village_code varchar(12) CONSTRAINT fk_parcel_ref_counts_village_code_villages
                REFERENCES villages (code),
            n integer NOT NULL CONSTRAINT ck_parcel_ref_counts_n CHECK (n >= 0)
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_parcel_ref_counts_pair ON parcel_ref_counts "
        "((coalesce(batch_id, -1)), (coalesce(village_code, '')))"
    )
    # The referenced side looks the key up when a village or batch is deleted or re-keyed.
    op.execute("CREATE INDEX ix_parcel_ref_counts_village_code ON parcel_ref_counts (village_code)")
    op.execute("CREATE INDEX ix_parcel_ref_counts_batch_id ON parcel_ref_counts (batch_id)")
    op.execute(ADD.format(pairs=PAIRS.format(rows=NEW.replace("new_rows", "parcels"))))
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
            f"SECURITY DEFINER SET search_path = public, pg_temp AS $$\n"
            f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER {name} {TRIGGERS[name]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    for name in PARCEL_FKS:
        op.execute(f"ALTER TABLE parcels DROP CONSTRAINT {name}")


def downgrade() -> None:
    """Back to row-by-row foreign keys on parcels (the counts kept them true: no violation)."""
    for name, (column, target) in PARCEL_FKS.items():
        op.execute(
            f"ALTER TABLE parcels ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target}"
        )
    for name in FUNCTIONS:
        op.execute(f"DROP TRIGGER {name} ON parcels")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP TABLE parcel_ref_counts")
