"""API tokens expire, can be revoked (also from the CLI) and record their last use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from geodata.accounts.tokens import authenticate_token, issue_token, revoke_token
from geodata.db.accounts_tables import ApiToken
from geodata.db.engine import session_scope
from geodata.db.tables import AuditEntry
from geodata.users import create_user

pytest_plugins = ["tests.api_fixtures"]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _token_row(session, user_id: int) -> ApiToken:
    return session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).one()


def test_token_is_valid_until_just_before_its_expiry(session):
    user, _ = create_user(session, "investor", token=False)
    row, token = issue_token(session, user, ttl_days=90, now=T0)
    assert row.expires_at == T0 + timedelta(days=90)
    last_moment = row.expires_at - timedelta(microseconds=1)
    assert authenticate_token(session, token, now=last_moment) is user
    assert authenticate_token(session, token, now=row.expires_at) is None  # expiry is exclusive
    assert authenticate_token(session, token, now=row.expires_at + timedelta(days=1)) is None


def test_default_expiry_comes_from_the_setting(session):
    user, _ = create_user(session, "investor", ttl_days=7)
    row = _token_row(session, user.id)
    assert timedelta(days=7) - timedelta(minutes=5) < row.expires_at - row.created_at
    assert row.expires_at - row.created_at <= timedelta(days=7)


def test_revoked_token_no_longer_authenticates_and_is_audited(session):
    user, token = create_user(session, "investor")
    row = _token_row(session, user.id)
    assert authenticate_token(session, token) is user
    revoke_token(session, row.id, actor="tester")
    assert authenticate_token(session, token) is None
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(user.id))
    ).all()
    assert "revoke_token" in actions


def test_last_used_is_written_at_most_once_a_minute(session):
    user, _ = create_user(session, "investor", token=False)
    row, token = issue_token(session, user, ttl_days=90, now=T0)
    assert row.last_used_at is None
    authenticate_token(session, token, now=T0 + timedelta(seconds=10))
    assert row.last_used_at == T0 + timedelta(seconds=10)
    authenticate_token(session, token, now=T0 + timedelta(seconds=50))
    assert row.last_used_at == T0 + timedelta(seconds=10)  # within the minute: no write
    authenticate_token(session, token, now=T0 + timedelta(seconds=71))
    assert row.last_used_at == T0 + timedelta(seconds=71)


def test_api_refuses_expired_and_revoked_tokens_and_records_use(api_client, api_world):
    with session_scope(api_world.url) as s:
        user, _ = create_user(s, "investor", name="short-lived", token=False)
        expired_row, expired = issue_token(s, user, 1, now=datetime.now(UTC) - timedelta(days=2))
        live_row, live = issue_token(s, user, 30)
        ids = (expired_row.id, live_row.id)
    url = "/api/v1/parcels"
    gone = api_client.get(url, headers={"Authorization": f"Bearer {expired}"})
    assert gone.status_code == 401
    assert api_client.get(url, headers={"Authorization": f"Bearer {live}"}).status_code == 200
    with session_scope(api_world.url) as s:
        used = s.get(ApiToken, ids[1]).last_used_at
        assert used is not None and datetime.now(UTC) - used < timedelta(minutes=1)
        revoke_token(s, ids[1])
    assert api_client.get(url, headers={"Authorization": f"Bearer {live}"}).status_code == 401


def test_cli_revokes_by_token_id_and_by_user(db_url):
    runner = CliRunner()
    with session_scope(db_url) as s:
        user, first = create_user(s, "investor", name="cli-revoke")
        user_id = user.id
    second = runner.invoke(app, ["users", "token", str(user_id), "--days", "5"])
    assert second.exit_code == 0, second.stderr
    second_token = second.stdout.strip()
    with session_scope(db_url) as s:
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()
        first_id = min(r.id for r in rows)
    one = runner.invoke(app, ["users", "revoke", "--token-id", str(first_id)])
    assert one.exit_code == 0, one.stderr
    with session_scope(db_url) as s:
        assert authenticate_token(s, first) is None
        assert authenticate_token(s, second_token) is not None
    every = runner.invoke(app, ["users", "revoke", "--user", str(user_id)])
    assert every.exit_code == 0, every.stderr
    with session_scope(db_url) as s:
        assert authenticate_token(s, second_token) is None
    listing = runner.invoke(app, ["users", "tokens", "--user", str(user_id)])
    assert listing.exit_code == 0 and second_token not in listing.stdout
    missing = runner.invoke(app, ["users", "revoke", "--token-id", "999999999"])
    assert missing.exit_code == 1 and "999999999" in missing.stderr


def test_cli_adds_a_user_with_a_password_from_stdin(db_url):
    from geodata.accounts.passwords import verify_password
    from geodata.db.tables import User

    result = CliRunner().invoke(
        app,
        ["users", "add", "--role", "investor", "--username", "Wang.Investor",
         "--password-stdin"],
        input="correct horse battery\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # no --token: nothing on stdout
    with session_scope(db_url) as s:
        user = s.scalars(select(User).where(User.username == "wang.investor")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "correct horse battery")
        assert not verify_password(user.password_hash, "wrong horse battery")
    short = CliRunner().invoke(
        app, ["users", "add", "--role", "investor", "--username", "li.si", "--password-stdin"],
        input="short\n",
    )  # fmt: skip
    assert short.exit_code == 1 and "10" in short.stderr
