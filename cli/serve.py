"""`landmarket serve`: the platform (API, docs, map pages) with uvicorn on the configured database."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import threading
import traceback
from typing import Any

import typer
from rich.console import Console

from landmarket.i18n import gettext as _
from landmarket.i18n import localize

err = Console(stderr=True, soft_wrap=True)
APP_FACTORY = "api.app:create_app"  # each uvicorn worker builds its own app (and engine) from it
# A worker imports geopandas, numba and the rest before it answers the supervisor's ping; on a
# busy machine that takes longer than uvicorn's 5 s, and the supervisor would kill it in a loop.
WORKER_HEALTHCHECK_S = 60


def frozen(app: Any) -> Any:
    """The app, everything built so far kept out of the collector's full passes (gc.freeze).

    A worker holds a few hundred thousand long-lived objects (modules, routes, models, the
    policy). A full collection walked them all: about 150 ms in a worker under the checks
    bench, every request in flight waiting behind it. Frozen, they are never walked again;
    what requests make is collected as before."""
    gc.collect()
    gc.freeze()
    return app


def page_urls(base: str, pages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(title, URL) lines the command prints: API docs, health, then every map page."""
    lines = [(_("API docs"), f"{base}/docs"), (_("Health"), f"{base}/health")]
    return lines + [(localize(title), f"{base}{path}") for path, title in pages]


def default_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help=_("address to listen on")),
    port: int = typer.Option(8000, "--port", help=_("TCP port")),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help=_("worker processes (default: one per core)"),
    ),
    log_level: str = typer.Option("info", "--log-level", help=_("uvicorn log level")),
) -> None:
    """Serve the API, its docs and the map pages."""
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
        reason = str(exc.__cause__ or exc).splitlines()[0]
        said = _(
            "database not reachable at %(url)s: %(reason)s\nrun first: landmarket db up",
            url=repr(app.state.engine.url),
            reason=reason,
        )
        err.print(f"[yellow]{said}[/yellow]")
    app.state.engine.dispose()  # the workers open their own connections
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    for title, url in page_urls(base, map_pages(app)):
        typer.echo(f"{title}: {url}")
    count = workers or default_workers()
    err.print(_("workers: %(count)s", count=count))
    if count == 1:
        uvicorn.run(frozen(app), host=host, port=port, log_level=log_level)
    elif hasattr(socket, "SO_REUSEPORT"):
        supervise(count, host, port, log_level)
    else:  # no SO_REUSEPORT (not Linux): uvicorn's workers on one shared socket
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            workers=count,
            host=host,
            port=port,
            log_level=log_level,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )


# Workers on one shared listening socket (uvicorn's --workers) do not share the connections:
# whichever worker wakes first accepts every connection waiting, so 50 clients arriving together
# were measured 38/12 and 10 clients 10/0, and the busier worker's clients waited 3x as long.
# With a socket of its own per worker (SO_REUSEPORT), the kernel spreads new connections over
# the workers by a hash of their addresses; a worker that dies takes its socket with it.
def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port that other SO_REUSEPORT sockets of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named, not 0: asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets (else Nagle and
    # delayed ACKs add ~40 ms to every response written in two parts)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_worker(host: str, port: int, log_level: str) -> None:
    """One worker process: the app from its factory on a listening socket of its own."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    parent = os.getppid()

    def orphaned() -> None:  # a supervisor killed outright (SIGKILL) must not leave workers behind
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful shutdown

    threading.Thread(target=orphaned, daemon=True).start()
    sock = reuse_port_socket(host, port)
    try:  # built here, not by uvicorn from APP_FACTORY, so it is frozen before it serves
        from api.app import create_app

        app = frozen(create_app())
    except Exception:  # as uvicorn fails a factory that raises: the supervisor stops
        traceback.print_exc()
        raise SystemExit(STARTUP_FAILURE) from None
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:  # the app or the socket failed: the supervisor stops, not retries
        raise SystemExit(STARTUP_FAILURE)


def supervise(count: int, host: str, port: int, log_level: str) -> None:
    """Run count workers until SIGINT/SIGTERM; a worker that dies is replaced."""
    from uvicorn.config import STARTUP_FAILURE

    try:  # held, never listened on: a port another program holds fails here, once, clearly
        holder = reuse_port_socket(host, port)
    except OSError as exc:
        said = _(
            "cannot listen on %(address)s: %(reason)s",
            address=f"{host}:{port}",
            reason=exc.strerror,
        )
        err.print(f"[red]{said}[/red]")
        raise typer.Exit(1) from exc
    spawn = multiprocessing.get_context("spawn")  # each worker imports the app itself

    def start() -> multiprocessing.process.BaseProcess:
        worker = spawn.Process(target=serve_worker, args=(host, port, log_level))
        worker.start()
        return worker

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    workers = [start() for _ in range(count)]
    try:
        while not stop.wait(0.5):
            for i, worker in enumerate(workers):
                if worker.is_alive():
                    continue
                if worker.exitcode == STARTUP_FAILURE:  # would fail the same way again
                    said = _("worker %(pid)s failed to start", pid=worker.pid)
                    err.print(f"[red]{said}[/red]")
                    stop.set()
                    break
                err.print(
                    _(
                        "worker %(pid)s exited (%(code)s), restarted",
                        pid=worker.pid,
                        code=worker.exitcode,
                    )
                )
                workers[i] = start()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
        holder.close()


def register(app: typer.Typer) -> None:
    """Add `serve` to the landmarket command."""
    app.command("serve", help=_("serve the API, its docs and the map pages."))(serve)
