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
