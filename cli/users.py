"""`landmarket users ...`: create users, list them, issue and revoke API tokens."""

from __future__ import annotations

import sys

import typer

from cli.common import note, plain_table, warn

users_app = typer.Typer(
    help="用户、密码与令牌 / users, passwords and bearer tokens.", no_args_is_help=True
)


def _fail(exc: Exception) -> typer.Exit:
    warn(str(exc))
    return typer.Exit(1)


def _read_password() -> str:
    """The first line of standard input, without its line ending."""
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        warn("标准输入中没有密码 / no password on standard input")
        raise typer.Exit(1)
    return password


@users_app.command("add")
def add(
    role: str = typer.Option(..., "--role", help="bureau | collective | investor"),
    village: str | None = typer.Option(
        None, "--village", help="村代码（集体用户必填）/ village code"
    ),
    name: str | None = typer.Option(None, "--name", help="名称 / display name"),
    username: str | None = typer.Option(
        None, "--username", help="登录名（浏览器登录）/ sign-in name for the browser"
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="从标准输入第一行读取密码 / read the password from stdin"
    ),
    token: bool = typer.Option(
        False, "--token", help="同时打印 API 令牌 / also print an API bearer token"
    ),
) -> None:
    """新建用户 / create a user; with no --username (or with --token) prints its API token."""
    from geodata.accounts.directory import connect, create_user
    from landmarket.errors import LandmarketError

    if password_stdin and not username:
        warn("--password-stdin 需要 --username / needs --username")
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
    note(f"已创建用户 / created user {user_id} ({role})")
    if secret is not None:
        note("令牌只显示一次 / the token is shown once")
        typer.echo(secret)


@users_app.command("token")
def token_(
    user_id: int = typer.Argument(..., help="用户编号 / user id"),
    days: int | None = typer.Option(
        None, "--days", min=1, help="有效天数（默认设置 token_ttl_days）/ days valid"
    ),
) -> None:
    """为用户签发新令牌 / issue a new API token for a user; prints it alone on stdout."""
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
    note(f"令牌 / token {token_id} 有效至 / valid until {expires.isoformat(timespec='seconds')}")
    typer.echo(secret)


@users_app.command("revoke")
def revoke(
    token_id: int | None = typer.Option(None, "--token-id", help="撤销一个令牌 / one token"),
    user_id: int | None = typer.Option(
        None, "--user", help="撤销该用户全部令牌 / every token of a user"
    ),
) -> None:
    """撤销 API 令牌 / revoke an API token (--token-id) or all of a user's (--user)."""
    from geodata.accounts.directory import connect, revoke_token, revoke_user_tokens
    from landmarket.errors import LandmarketError

    if (token_id is None) == (user_id is None):
        warn("请指定 --token-id 或 --user 之一 / give --token-id or --user")
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
    note(f"已撤销 / revoked: {', '.join(map(str, ids)) or '-'}")


@users_app.command("list")
def list_() -> None:
    """列出用户 / list users (never their passwords or tokens)."""
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


@users_app.command("tokens")
def tokens(
    user_id: int | None = typer.Option(None, "--user", help="只列该用户 / one user only"),
) -> None:
    """列出令牌 / list API tokens: expiry, revocation, last use (never the tokens)."""
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
