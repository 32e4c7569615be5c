"""`landmarket users ...`: create users and list them."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True, soft_wrap=True)
users_app = typer.Typer(help="用户与令牌 / users and bearer tokens.", no_args_is_help=True)


@users_app.command("add")
def add(
    role: str = typer.Option(..., "--role", help="bureau | collective | investor"),
    village: str | None = typer.Option(
        None, "--village", help="村代码（集体用户必填）/ village code"
    ),
    name: str | None = typer.Option(None, "--name", help="名称 / display name"),
) -> None:
    """新建用户并只在标准输出打印令牌 / create a user; prints the new token alone on stdout."""
    from geodata.db.engine import session_scope
    from geodata.users import create_user
    from landmarket.errors import LandmarketError

    try:
        with session_scope() as session:
            user, token = create_user(session, role, village, name, actor="cli")
            user_id = user.id
    except LandmarketError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    err.print(
        f"已创建用户 / created user {user_id} ({role}); 令牌只显示一次 / the token is shown once"
    )
    typer.echo(token)


@users_app.command("list")
def list_() -> None:
    """列出用户 / list users (never their tokens)."""
    from geodata.db.engine import session_scope
    from geodata.users import list_users

    with session_scope() as session:
        users = list_users(session)
        table = Table("id", "role", "village", "name", "active", "created")
        for u in users:
            table.add_row(
                str(u.id), u.role, u.village_code or "", u.name or "", "yes" if u.active else "no",
                u.created_at.isoformat(timespec="seconds"),
            )  # fmt: skip
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the `users` command group."""
    app.add_typer(users_app, name="users")
