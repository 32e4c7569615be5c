"""`landmarket serve`: the platform (API, docs, map pages) with uvicorn on the configured database."""

from __future__ import annotations

import os

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
APP_FACTORY = "api.app:create_app"  # each uvicorn worker builds its own app (and engine) from it
# A worker imports geopandas, numba and the rest before it answers the supervisor's ping; on a
# busy machine that takes longer than uvicorn's 5 s, and the supervisor would kill it in a loop.
WORKER_HEALTHCHECK_S = 60


def page_urls(base: str, pages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(title, URL) lines the command prints: API docs, health, then every map page."""
    lines = [("接口文档 / API docs", f"{base}/docs"), ("健康检查 / Health", f"{base}/health")]
    return lines + [(title, f"{base}{path}") for path, title in pages]


def default_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址 / address to listen on"),
    port: int = typer.Option(8000, "--port", help="端口 / TCP port"),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="工作进程数（默认每核一个）/ worker processes (default: one per core)",
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level"),
) -> None:
    """启动平台（接口、文档、地图）/ serve the API, its docs and the map pages."""
    import uvicorn
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from api.app import create_app, map_pages
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError
    from maps.basemap import tile_sources

    settings = get_settings()
    try:
        tile_sources(settings.basemap, settings.tianditu_token)
    except LandmarketError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    app = create_app(settings)
    try:
        with app.state.engine.connect() as conn:
            conn.execute(text("SELECT postgis_full_version()"))
    except SQLAlchemyError as exc:
        err.print(
            f"[yellow]数据库不可用 / database not reachable at {app.state.engine.url!r}: "
            f"{str(exc.__cause__ or exc).splitlines()[0]}\n"
            "先运行 / run first: landmarket db up[/yellow]"
        )
    app.state.engine.dispose()  # the workers open their own connections
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    for title, url in page_urls(base, map_pages(app)):
        typer.echo(f"{title}: {url}")
    count = workers or default_workers()
    err.print(f"工作进程 / workers: {count}")
    if count == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    else:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            workers=count,
            host=host,
            port=port,
            log_level=log_level,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )


def register(app: typer.Typer) -> None:
    """Add `serve` to the landmarket command."""
    app.command("serve")(serve)
