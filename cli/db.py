"""`landmarket db ...`: the embedded PostGIS cluster and schema migrations."""

from __future__ import annotations

import typer

from cli.common import note, warn

db_app = typer.Typer(
    help="数据库：内置 PostGIS 集群与迁移 / database: embedded PostGIS cluster and migrations.",
    no_args_is_help=True,
)


def _fail(exc: Exception) -> None:
    warn(str(exc))
    raise typer.Exit(1)


@db_app.command("up")
def up() -> None:
    """启动数据库并迁移到最新 / start the embedded cluster (or use the configured URL), migrate."""
    from geodata.cluster import ClusterError, create_database, embedded_cluster
    from geodata.db.migrate import prepare_database
    from geodata.db.roles import prepare_app_role
    from geodata.settings import get_settings

    settings = get_settings()
    try:
        if settings.database_url is None:
            cluster = embedded_cluster(settings)
            started = cluster.ensure_running()
            state = "已启动 / started" if started else "已在运行 / already running"
            note(f"内置数据库{state}: 127.0.0.1:{cluster.port}, data {cluster.data_dir}")
            if create_database(cluster.url("postgres"), settings.db_name):
                note(f"已创建数据库 / created database {settings.db_name}")
        note(prepare_app_role(settings)[1])  # an older cluster gets its missing role here
        version, revision = prepare_database(settings.effective_database_url)
    except ClusterError as exc:
        _fail(exc)
        return
    note(f"PostGIS {version}; 迁移版本 / schema revision {revision}")
    note(f"URL: {settings.effective_database_url}")


@db_app.command("migrate")
def migrate() -> None:
    """把迁移应用到配置的数据库 / apply migrations to the configured database."""
    from geodata.cluster import ClusterError
    from geodata.db.migrate import prepare_database
    from geodata.db.roles import prepare_app_role
    from geodata.settings import get_settings

    settings = get_settings()
    try:
        role, report = prepare_app_role(settings)
        if role:
            note(report)
        else:
            warn(report, "yellow")
        _, revision = prepare_database(settings.effective_database_url)
    except ClusterError as exc:
        _fail(exc)
        return
    granted = f"; 已授权 / granted {role}" if role else ""
    note(f"已迁移到 / migrated to {revision} (属主 / as owner{granted})")


@db_app.command("down")
def down() -> None:
    """停止内置集群 / stop the embedded cluster."""
    from geodata.cluster import ClusterError, embedded_cluster
    from geodata.settings import get_settings

    settings = get_settings()
    if settings.database_url is not None:
        note("使用外部数据库，无需停止 / using LANDMARKET_DATABASE_URL; nothing to stop")
        return
    try:
        stopped = embedded_cluster(settings).stop()
    except ClusterError as exc:
        _fail(exc)
        return
    note("已停止 / stopped" if stopped else "未在运行 / not running")


@db_app.command("url")
def url(
    owner: bool = typer.Option(False, "--owner", help="属主 URL（迁移用）/ the owner's URL"),
) -> None:
    """输出数据库 URL / print the application's (or the owner's) database URL alone on stdout."""
    from geodata.settings import get_settings

    settings = get_settings()
    typer.echo(settings.effective_owner_database_url if owner else settings.effective_database_url)


@db_app.command("grants")
def grants(
    role: str = typer.Option(None, help="应用角色 / application role (default: the URL's user)"),
) -> None:
    """输出应用角色的授权语句 / print the GRANTs the application role gets (for a DBA)."""
    from sqlalchemy.engine import make_url

    from geodata.db.roles import grants_for
    from geodata.settings import get_settings

    settings = get_settings()
    name = role or make_url(settings.effective_database_url).username or settings.db_app_user
    for statement in grants_for(settings.effective_owner_database_url, name):
        typer.echo(f"{statement};")


@db_app.command("status")
def status() -> None:
    """数据库状态 / where the database is, whether it runs, its schema revision."""
    from geodata.cluster import embedded_cluster
    from geodata.db.migrate import current_revision, head_revision
    from geodata.settings import get_settings

    settings = get_settings()
    if settings.database_url is None:
        cluster = embedded_cluster(settings)
        running = cluster.is_running()
        note(f"内置集群 / embedded cluster: {cluster.data_dir}")
        note(f"  端口 / port 127.0.0.1:{cluster.port}; 日志 / log {cluster.log_file}")
        note(f"  运行中 / running: {'是 / yes' if running else '否 / no'}")
        if not running:
            raise typer.Exit(1)
    else:
        note("外部数据库 / external database (LANDMARKET_DATABASE_URL)")
    try:
        revision = current_revision(settings.effective_database_url)
    except Exception as exc:  # any connection failure is the answer here
        warn(f"无法连接 / cannot connect: {exc}")
        raise typer.Exit(1) from exc
    head = head_revision()
    mark = "最新 / up to date" if revision == head else f"需迁移 / behind head {head}"
    note(f"  迁移版本 / schema revision: {revision} ({mark})")


def register(app: typer.Typer) -> None:
    """Add the `db` command group."""
    app.add_typer(db_app, name="db")
