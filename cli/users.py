"""`landmarket users ...`: create users, list them, issue and revoke API tokens."""

from __future__ import annotations

import sys

import typer

from cli.common import note, plain_table, warn
from landmarket.i18n import gettext as _

users_app = typer.Typer(help=_("users, passwords and bearer tokens."), no_args_is_help=True)


def _fail(exc: Exception) -> typer.Exit:
    warn(str(exc))
    return typer.Exit(1)


def _read_password() -> str:
    """The first line of standard input, without its line ending."""
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        warn(_("no password on standard input"))
        raise typer.Exit(1)
    return password


@users_app.command(
    "add", help=_("create a user; with no --username (or with --token) prints its API token.")
)
def add(
    role: str = typer.Option(..., "--role", help="bureau | collective | investor"),
    village: str | None = typer.Option(
        None, "--village", help=_("village code (required for collective users)")
    ),
    name: str | None = typer.Option(None, "--name", help=_("display name")),
    username: str | None = typer.Option(None, "--username", help=_("sign-in name for the browser")),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help=_("read the password from stdin")
    ),
    token: bool = typer.Option(False, "--token", help=_("also print an API bearer token")),
) -> None:
    """Create a user; with no --username (or with --token) prints its API token."""
    from geodata.accounts.directory import connect, create_user
    from landmarket.errors import LandmarketError

    if password_stdin and not username:
        warn(_("--password-stdin needs --username"))
        raise typer.Exit(1)
    password = _read_password() if password_stdin else None
    want_token = token or username is None
    try:  # plain SQL: the ORM and the geometry tables would cost ~1.3 s of start-up
        with connect() as conn:
            user_id, secret = create_user(
                conn, role, village, name, actor="cli",
                username=username, password=password, token=want_token,
            )  # fmt: skip
    except LandmarketError as exc:
        raise _fail(exc) from exc
    note(_("created user %(id)s (%(role)s)", id=user_id, role=role))
    if secret is not None:
        note(_("the token is shown once"))
        typer.echo(secret)


@users_app.command("token", help=_("issue a new API token for a user; prints it alone on stdout."))
def token_(
    user_id: int = typer.Argument(..., help=_("user id")),
    days: int | None = typer.Option(
        None, "--days", min=1, help=_("days valid (default: the token_ttl_days setting)")
    ),
) -> None:
    """Issue a new API token for a user; prints it alone on stdout."""
    from geodata.accounts.directory import connect, issue_token
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError

    try:  # plain SQL, as `users add`
        with connect() as conn:
            token_id, expires, secret = issue_token(
                conn, user_id, days or get_settings().token_ttl_days, actor="cli"
            )
    except LandmarketError as exc:
        raise _fail(exc) from exc
    until = expires.isoformat(timespec="seconds")
    note(_("token %(id)s valid until %(until)s", id=token_id, until=until))
    typer.echo(secret)


@users_app.command(
    "revoke", help=_("revoke an API token (--token-id) or all of a user's (--user).")
)
def revoke(
    token_id: int | None = typer.Option(None, "--token-id", help=_("revoke one token")),
    user_id: int | None = typer.Option(None, "--user", help=_("revoke every token of a user")),
) -> None:
    """Revoke an API token (--token-id) or all of a user's (--user)."""
    from geodata.accounts.directory import connect, revoke_token, revoke_user_tokens
    from landmarket.errors import LandmarketError

    if (token_id is None) == (user_id is None):
        warn(_("give --token-id or --user"))
        raise typer.Exit(2)
    try:
        with connect() as conn:
            if token_id is not None:
                ids = [revoke_token(conn, token_id, actor="cli").id]
            else:
                assert user_id is not None
                ids = revoke_user_tokens(conn, user_id, actor="cli")
    except LandmarketError as exc:
        raise _fail(exc) from exc
    note(_("revoked: %(ids)s", ids=", ".join(map(str, ids)) or "-"))


@users_app.command("list", help=_("list users (never their passwords or tokens)."))
def list_() -> None:
    """List users (never their passwords or tokens)."""
    from geodata.accounts.directory import connect, list_users

    with connect() as conn:  # plain SQL, as `users add`
        users = list_users(conn)
    rows = [
        [str(u.id), u.role, u.village_code or "", u.name or "", u.username or "",
         "yes" if u.active else "no", u.created_at.date().isoformat()]
        for u in users
    ]  # fmt: skip
    headers = ["id", "role", "village", "name", "username", "active", "created"]
    typer.echo(plain_table(headers, rows))


@users_app.command(
    "tokens", help=_("list API tokens: expiry, revocation, last use (never the tokens).")
)
def tokens(
    user_id: int | None = typer.Option(None, "--user", help=_("one user only")),
) -> None:
    """List API tokens: expiry, revocation, last use (never the tokens)."""
    from geodata.accounts.directory import connect, tokens_of

    def when(value) -> str:
        return value.isoformat(timespec="seconds") if value else ""

    with connect() as conn:
        rows = [
            [str(t.id), str(t.user_id), when(t.created_at), when(t.expires_at),
             when(t.revoked_at), when(t.last_used_at)]
            for t in tokens_of(conn, user_id)
        ]  # fmt: skip
    typer.echo(plain_table(["id", "user", "created", "expires", "revoked", "last used"], rows))


def register(app: typer.Typer) -> None:
    """Add the `users` command group."""
    app.add_typer(users_app, name="users")
