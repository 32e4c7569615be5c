"""`landmarket db ...`: the embedded PostGIS cluster and schema migrations."""

from __future__ import annotations

import typer

from cli.common import note, warn
from landmarket.i18n import gettext as _

db_app = typer.Typer(
    help=_("database: embedded PostGIS cluster and migrations."),
    no_args_is_help=True,
)


def _fail(exc: Exception) -> None:
    warn(str(exc))
    raise typer.Exit(1)


@db_app.command("up", help=_("start the embedded cluster (or use the configured URL), migrate."))
def up() -> None:
    """Start the embedded cluster (or use the configured URL), migrate."""
    from geodata.cluster import ClusterError, create_database, embedded_cluster
    from geodata.db.migrate import prepare_database
    from geodata.db.roles import prepare_app_role
    from geodata.settings import get_settings

    settings = get_settings()
    try:
        if settings.database_url is None:
            cluster = embedded_cluster(settings)
            started = cluster.ensure_running()
            state = _("started") if started else _("already running")
            note(
                _(
                    "embedded database %(state)s: 127.0.0.1:%(port)s, data %(data)s",
                    state=state,
                    port=cluster.port,
                    data=cluster.data_dir,
                )
            )
            if create_database(cluster.url("postgres"), settings.db_name):
                note(_("created database %(name)s", name=settings.db_name))
        note(prepare_app_role(settings)[1])  # an older cluster gets its missing role here
        version, revision = prepare_database(settings.effective_database_url)
    except ClusterError as exc:
        _fail(exc)
        return
    note(_("PostGIS %(version)s; schema revision %(revision)s", version=version, revision=revision))
    note(f"URL: {settings.effective_database_url}")


@db_app.command("migrate", help=_("apply migrations to the configured database."))
def migrate() -> None:
    """Apply migrations to the configured database."""
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
        _version, revision = prepare_database(settings.effective_database_url)
    except ClusterError as exc:
        _fail(exc)
        return
    if role:
        note(
            _("migrated to %(revision)s (as owner; granted %(role)s)", revision=revision, role=role)
        )
    else:
        note(_("migrated to %(revision)s (as owner)", revision=revision))


@db_app.command("down", help=_("stop the embedded cluster."))
def down() -> None:
    """Stop the embedded cluster."""
    from geodata.cluster import ClusterError, embedded_cluster
    from geodata.settings import get_settings

    settings = get_settings()
    if settings.database_url is not None:
        note(_("using LANDMARKET_DATABASE_URL; nothing to stop"))
        return
    try:
        stopped = embedded_cluster(settings).stop()
    except ClusterError as exc:
        _fail(exc)
        return
    note(_("stopped") if stopped else _("not running"))


@db_app.command(
    "url", help=_("print the application's (or the owner's) database URL alone on stdout.")
)
def url(
    owner: bool = typer.Option(False, "--owner", help=_("the owner's URL")),
) -> None:
    """Print the application's (or the owner's) database URL alone on stdout."""
    from geodata.settings import get_settings

    settings = get_settings()
    typer.echo(settings.effective_owner_database_url if owner else settings.effective_database_url)


@db_app.command("grants", help=_("print the GRANTs the application role gets (for a DBA)."))
def grants(
    role: str = typer.Option(None, help=_("application role (default: the URL's user)")),
) -> None:
    """Print the GRANTs the application role gets (for a DBA)."""
    from sqlalchemy.engine import make_url

    from geodata.db.roles import grants_for
    from geodata.settings import get_settings

    settings = get_settings()
    name = role or make_url(settings.effective_database_url).username or settings.db_app_user
    for statement in grants_for(settings.effective_owner_database_url, name):
        typer.echo(f"{statement};")


@db_app.command("status", help=_("where the database is, whether it runs, its schema revision."))
def status() -> None:
    """Where the database is, whether it runs, its schema revision."""
    from geodata.cluster import embedded_cluster
    from geodata.db.migrate import current_revision, head_revision
    from geodata.settings import get_settings

    settings = get_settings()
    if settings.database_url is None:
        cluster = embedded_cluster(settings)
        running = cluster.is_running()
        note(_("embedded cluster: %(data)s", data=cluster.data_dir))
        note(_("  port 127.0.0.1:%(port)s; log %(log)s", port=cluster.port, log=cluster.log_file))
        note(_("  running: yes") if running else _("  running: no"))
        if not running:
            raise typer.Exit(1)
    else:
        note(_("external database (LANDMARKET_DATABASE_URL)"))
    try:
        revision = current_revision(settings.effective_database_url)
    except Exception as exc:  # any connection failure is the answer here
        warn(_("cannot connect: %(error)s", error=exc))
        raise typer.Exit(1) from exc
    head = head_revision()
    mark = _("up to date") if revision == head else _("behind head %(head)s", head=head)
    note(_("  schema revision: %(revision)s (%(mark)s)", revision=revision, mark=mark))


def register(app: typer.Typer) -> None:
    """Add the `db` command group."""
    app.add_typer(db_app, name="db")
