"""Users and bearer tokens: only hashes stored, roles checked, `users add` prints the token."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import delete, select, text
from typer.testing import CliRunner

from cli.main import app
from geodata.db.accounts_tables import ApiToken
from geodata.db.engine import session_scope
from geodata.db.tables import AuditEntry, ImportBatch, User, Village
from geodata.store import import_frame
from geodata.users import authenticate, create_user, deactivate_user
from landmarket.errors import InvalidInput, NotFound


@pytest.fixture
def village(session, make_frame, gk_rect, unique_village_code) -> str:
    code = unique_village_code()
    frame = make_frame([{"code": code, "name": "龙水村", "geometry": gk_rect()}])
    import_frame(session, frame, "villages", source_name=f"{code}.geojson")
    return code


def test_token_authenticates_and_only_its_hash_is_stored(session):
    user, token = create_user(session, "bureau", name="大足区规划和自然资源局")
    assert len(token) >= 40
    stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    row = session.execute(text("SELECT * FROM users WHERE id = :i"), {"i": user.id}).one()
    assert token not in [str(v) for v in row]
    assert authenticate(session, token) is user
    assert authenticate(session, token + "x") is None
    assert authenticate(session, "") is None
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "users", AuditEntry.entity_id == str(user.id))
    ).all()
    assert [a.action for a in audit] == ["create", "issue_token"]
    assert token not in str([a.payload for a in audit])


def test_collective_users_are_bound_to_a_loaded_village(session, village):
    user, token = create_user(session, "collective", village_code=village)
    assert authenticate(session, token).village_code == village
    with pytest.raises(InvalidInput, match="needs --village"):
        create_user(session, "collective")
    with pytest.raises(NotFound, match="500111959998"):
        create_user(session, "collective", village_code="500111959998")
    with pytest.raises(InvalidInput, match="unknown role"):
        create_user(session, "public")


def test_deactivated_users_no_longer_authenticate(session):
    user, token = create_user(session, "investor")
    deactivate_user(session, user.id)
    assert authenticate(session, token) is None


def test_cli_users_add_prints_only_the_token(db_url, make_frame, gk_rect, unique_village_code):
    code = unique_village_code()
    runner = CliRunner()
    try:
        import_frame(
            db_url, make_frame([{"code": code, "name": "玉龙村", "geometry": gk_rect()}]),
            "villages", source_name=f"{code}.geojson",
        )  # fmt: skip
        result = runner.invoke(app, ["users", "add", "--role", "collective", "--village", code])
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and " " not in lines[0]
        token = lines[0]
        with session_scope(db_url) as s:
            user = authenticate(s, token)
            assert (user.role, user.village_code) == ("collective", code)

        listing = runner.invoke(app, ["users", "list"])
        assert listing.exit_code == 0 and code in listing.stdout and token not in listing.stdout

        refused = runner.invoke(app, ["users", "add", "--role", "collective"])
        assert refused.exit_code == 1 and refused.stdout == ""
        assert "needs --village" in refused.stderr
    finally:
        with session_scope(db_url) as s:
            s.execute(delete(User).where(User.village_code == code))
            batch = s.scalar(select(Village.batch_id).where(Village.code == code))
            s.execute(delete(Village).where(Village.code == code))
            s.execute(delete(ImportBatch).where(ImportBatch.id == batch))


def _written(db_url: str, user_id: int) -> tuple[dict, list[tuple[str, dict]], list[ApiToken]]:
    """A user's row (without id, times and hash), its audit entries and its tokens."""
    with session_scope(db_url) as s:
        user = s.get(User, user_id)
        row = {c: getattr(user, c) for c in ("role", "village_code", "name", "username", "active")}
        row["has_password"] = user.password_hash is not None
        row["password_changed"] = user.password_changed_at is not None
        audit = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "users", AuditEntry.entity_id == str(user_id))
            .order_by(AuditEntry.id)
        ).all()
        tokens = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()
        return row, [(a.actor, a.action, a.payload) for a in audit], list(tokens)


def test_cli_users_add_writes_what_the_orm_path_writes(db_url):
    """`users add` goes through plain SQL (geodata.accounts.directory); same rows as create_user."""
    from geodata.accounts.passwords import verify_password

    runner = CliRunner()
    added = runner.invoke(
        app, ["users", "add", "--role", "investor", "--name", "渝投", "--username", " Sql.Path ",
              "--password-stdin", "--token"],
        input="a long enough password\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    token = added.stdout.strip()
    with session_scope(db_url) as s:
        cli_user = s.scalars(select(User).where(User.username == "sql.path")).one()
        assert verify_password(cli_user.password_hash, "a long enough password")
        assert authenticate(s, token).id == cli_user.id
        orm_user, _ = create_user(s, "investor", name="渝投", actor="cli", username="orm.path",
                                  password="a long enough password")  # fmt: skip
    cli_row, cli_audit, cli_tokens = _written(db_url, cli_user.id)
    orm_row, orm_audit, orm_tokens = _written(db_url, orm_user.id)
    assert cli_row == {**orm_row, "username": "sql.path"}
    assert [(actor, action, sorted(p)) for actor, action, p in cli_audit] == [
        (actor, action, sorted(p)) for actor, action, p in orm_audit
    ] == [("cli", "create", ["name", "role", "username", "village_code"]),
          ("cli", "issue_token", ["expires_at", "token_id"])]  # fmt: skip
    assert cli_audit[0][2] == {**orm_audit[0][2], "username": "sql.path"}
    (cli_token,) = cli_tokens
    assert cli_audit[1][2] == {"token_id": cli_token.id,
                               "expires_at": cli_token.expires_at.isoformat()}  # fmt: skip
    assert cli_token.token_hash == hashlib.sha256(token.encode()).hexdigest()
    (orm_token,) = orm_tokens
    lifetime = cli_token.expires_at - cli_token.created_at
    assert lifetime == orm_token.expires_at - orm_token.created_at
    assert lifetime.days == 90 and cli_token.revoked_at is None

    listing = runner.invoke(app, ["users", "list"])
    assert listing.exit_code == 0 and "sql.path" in listing.stdout and token not in listing.stdout
    assert "orm.path" in listing.stdout

    for argv, stdin, message in [
        (["--username", "SQL.path", "--password-stdin"], "another long password\n", "is taken"),
        (["--username", "x", "--password-stdin"], "another long password\n", "3–64"),
        (
            ["--username", "new.one.long", "--password-stdin"],
            "New.One.Long\n",
            "may not be the username",
        ),
        (["--username", "new.two", "--password-stdin"], "\n", "标准输入中没有密码"),
        (["--password-stdin"], "another long password\n", "需要 --username"),
    ]:
        refused = runner.invoke(app, ["users", "add", "--role", "investor", *argv], input=stdin)
        assert refused.exit_code == 1 and refused.stdout == "", argv
        assert message in refused.stderr, (argv, refused.stderr)
    for role, village, message in [("public", None, "unknown role"),
                                   ("collective", "500111959998", "is not loaded")]:  # fmt: skip
        argv = ["users", "add", "--role", role] + (["--village", village] if village else [])
        refused = runner.invoke(app, argv)
        assert refused.exit_code == 1 and refused.stdout == "" and message in refused.stderr
    with session_scope(db_url) as s:  # none of the refusals wrote a user
        assert (
            s.scalar(select(User.id).where(User.username.in_(["new.one.long", "new.two"]))) is None
        )


def test_account_rules_roles_are_the_tables():
    from geodata.accounts.rules import ROLES as RULE_ROLES
    from geodata.db.tables import ROLES

    assert RULE_ROLES == ROLES
