"""accounts: passwords, browser sessions, token expiry and last use

Revision ID: 0010_accounts
Revises: 0009_app_role
Create Date: 2026-12-03

Existing bearer tokens move from users.token_hash to api_tokens and expire 90 days after this
migration (the default of LANDMARKET_TOKEN_TTL_DAYS).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_accounts"
down_revision: str | None = "0009_app_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Usernames and password hashes on users; api_tokens, web_sessions, sign_in_failures."""
    op.add_column("users", sa.Column("username", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", TZ, nullable=True))
    op.create_unique_constraint(op.f("uq_users_username"), "users", ["username"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.execute(
        "INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at) "
        "SELECT id, token_hash, created_at, now() + interval '90 days' FROM users"
    )
    op.drop_constraint(op.f("uq_users_token_hash"), "users", type_="unique")
    op.drop_column("users", "token_hash")
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("ip", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_web_sessions_session_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("ip", sa.Text(), nullable=False),
        sa.Column("at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index(
        "ix_sign_in_failures_username_ip_at",
        "sign_in_failures",
        ["username", "ip", "at"],
        unique=False,
    )


def downgrade() -> None:
    """Back to one token per user in users.token_hash (the newest live one; others are lost)."""
    op.drop_index("ix_sign_in_failures_username_ip_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.add_column("users", sa.Column("token_hash", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE users u SET token_hash = coalesce(("
        "SELECT t.token_hash FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL "
        "ORDER BY t.id DESC LIMIT 1), encode(sha256(('retired:' || u.id)::bytea), 'hex'))"
    )
    op.alter_column("users", "token_hash", nullable=False)
    op.create_unique_constraint(op.f("uq_users_token_hash"), "users", ["token_hash"])
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_constraint(op.f("uq_users_username"), "users", type_="unique")
    op.drop_column("users", "password_changed_at")
    op.drop_column("users", "password_hash")
    op.drop_column("users", "username")
