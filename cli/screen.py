"""`landmarket screen`: screen a file or the stored parcels (local processes or dask); reports;
`landmarket screen diff JOB_A JOB_B` lists the parcels whose verdict changed between two jobs."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cli.common import err, fail, parse_date
from landmarket.i18n import gettext as _
from landmarket.i18n import localize

out = Console(soft_wrap=True)
CHECKS_HELP = "market_entry,reclamation,ticket_landing,approval_route"
screen_app = typer.Typer(
    help=_("screen many parcels (and compare two stored screenings)."),
    invoke_without_command=True,
    no_args_is_help=False,
)


@screen_app.callback(invoke_without_command=True)
def screen_command(
    ctx: typer.Context,
    parcels: str | None = typer.Option(
        None, "--parcels", help=_("parcel file, or 'db' for the database")
    ),
    out_dir: Path | None = typer.Option(None, "--out", file_okay=False, help=_("report directory")),
    checks: str | None = typer.Option(
        None,
        "--checks",
        help=_("comma-separated: %(checks)s", checks=CHECKS_HELP),
    ),
    on: str | None = typer.Option(None, "--on", help=_("policy date YYYY-MM-DD")),
    site_only: bool = typer.Option(
        True,
        "--site-only/--full",
        help=_("site conditions only, or also application facts"),
    ),
    layer: str | None = typer.Option(None, "--layer", help=_("GeoPackage layer name")),
    village: str | None = typer.Option(None, "--village", help=_("village code (db)")),
    bbox: str | None = typer.Option(None, "--bbox", help="minx,miny,maxx,maxy (db, EPSG:4490)"),
    constraints: Path | None = typer.Option(
        None,
        "--constraints",
        exists=True,
        dir_okay=False,
        help=_(
            "GeoPackage of constraint layers (pbf/redline/udb/village_plan + coverage) "
            "instead of the database"
        ),
    ),
    dem: Path | None = typer.Option(
        None, "--dem", exists=True, dir_okay=False, help=_("DEM GeoTIFF instead of the database")
    ),
    chunk: int | None = typer.Option(
        None, "--chunk", min=1, help=_("parcels per chunk (default: n/16, 5k–40k)")
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help=_("local worker processes (default: cores)")
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help=_("dask scheduler tcp://HOST:PORT (or LANDMARKET_DASK_SCHEDULER)"),
    ),
) -> None:
    """Screen many parcels and write GeoPackage, CSV and an HTML summary.

    With --parcels db the run is recorded as a screening job and its verdicts are stored, so a
    later run can be compared with `landmarket screen diff`. Ctrl-C cancels the run.
    """
    if ctx.invoked_subcommand is not None:
        return
    if parcels is None or out_dir is None:
        err.print(_("--parcels and --out are required"))
        raise typer.Exit(2)
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError

    settings = get_settings()
    try:
        with _progress() as bar:
            task = bar.add_task(_("screening"), total=None, rate="")
            start = time.monotonic()

            def progress(done: int, total: int) -> None:
                rate = done / max(time.monotonic() - start, 1e-6)
                bar.update(
                    task,
                    completed=done,
                    total=total,
                    rate=_("%(rate)s parcels/s", rate=f"{rate:,.0f}"),
                    refresh=True,
                )

            options = {
                "checks": checks, "on": parse_date(on), "site_only": site_only,
                "chunk": chunk, "workers": workers or settings.screen_workers,
                "scheduler": scheduler or settings.dask_scheduler, "progress": progress,
            }  # fmt: skip
            if parcels.strip().lower() == "db" and constraints is None:
                summary, paths, job_id = _from_db(settings, village, bbox, dem, out_dir, options)
            else:
                summary, paths = _from_file(
                    settings, parcels, layer, constraints, dem, out_dir, options
                )
                job_id = None
    except KeyboardInterrupt:
        err.print(_("cancelled"))
        raise typer.Exit(130) from None
    except LandmarketError as exc:
        raise fail(exc) from exc
    _print_summary(summary, paths, job_id)


def _from_db(settings, village, bbox, dem, out_dir, options):
    """Stored parcels as a recorded job: verdicts stored, reports in out_dir."""
    from geodata.db.engine import get_engine
    from geodata.screening.jobs import record_job, run_job, scope_of
    from geodata.screening.runner import parse_checks
    from geodata.services.parcels import parse_bbox

    box = list(vars(parse_bbox(bbox, "--bbox")).values()) if bbox else None
    scope = scope_of(village, box, not village and not box)
    engine = get_engine()
    job = record_job(
        engine, settings, checks=parse_checks(options["checks"]), on=options["on"], scope=scope,
        site_only=options["site_only"], actor="cli",
    )  # fmt: skip
    err.print(_("job %(id)s", id=job.id))
    done = run_job(
        engine, settings, job.id, out_dir=out_dir, chunk_size=options["chunk"],
        workers=options["workers"], scheduler=options["scheduler"], dem_file=dem,
        progress=options["progress"],
    )  # fmt: skip
    paths = {key: Path(done.report_dir) / name for key, name in _report_files().items()}
    return done.summary, paths, job.id


def _from_file(settings, parcels, layer, constraints, dem, out_dir, options):
    """A parcel file against a constraints GeoPackage (or the stored layers)."""
    from geodata.db.engine import get_engine
    from geodata.screening import db_source, file_source, parse_checks, run_screen
    from geodata.screening.inputs import read_parcels
    from geodata.screening.partitions import ParcelFile
    from landmarket.policy import policy_from_settings

    policy = policy_from_settings(settings, options["on"])
    names = parse_checks(options["checks"])
    streamed = ParcelFile.of(Path(parcels), layer)  # workers read it chunk by chunk
    frame = streamed if streamed is not None else read_parcels(Path(parcels), layer)
    if constraints is not None:
        source = file_source(constraints, dem, frame, names)
    else:
        url = get_engine().url.render_as_string(hide_password=False)
        source = db_source(url, names, dem)
    result = run_screen(
        frame, source, out_dir, policy, checks=names, site_only=options["site_only"],
        chunk_size=options["chunk"], workers=options["workers"],
        scheduler=options["scheduler"], source=str(parcels), progress=options["progress"],
    )  # fmt: skip
    return result.summary, result.paths


def _report_files() -> dict[str, str]:
    from geodata.screening.reports import REPORT_FILES

    return REPORT_FILES


def _progress():
    """The progress bar, redrawn on each finished chunk: no refresh thread, so the process
    stays single-threaded and its local workers are forked (they inherit the parcels' plan and
    the constraint layers instead of being sent a cut of them per chunk)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(_("parcels")),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        auto_refresh=False,
    )


@screen_app.command(
    "diff", help=_("list the parcels whose verdict changed between two stored jobs.")
)
def diff_command(
    job_a: str = typer.Argument(..., help=_("earlier job id")),
    job_b: str = typer.Argument(..., help=_("later job id")),
    check: str = typer.Option("reclamation", "--check", help=_("check")),
    limit: int = typer.Option(10_000, "--limit", min=1, help=_("most rows listed")),
) -> None:
    """List the parcels whose verdict changed between two stored jobs."""
    from geodata.db.engine import SessionLocal, get_engine
    from geodata.screening.results import diff_jobs
    from landmarket.errors import LandmarketError

    try:
        with SessionLocal(bind=get_engine()) as session:
            diff = diff_jobs(session, job_a, job_b, check.replace("-", "_"), limit)
    except LandmarketError as exc:
        raise fail(exc) from exc
    title = _("%(check)s: %(count)s parcels changed", check=check, count=diff["changed"])
    table = Table(title=title)
    for head in (_("parcel code"), _("before"), _("after"), _("failed after")):
        table.add_column(head)
    for row in diff["changes"]:
        table.add_row(
            row["parcel_code"], str(row["before"]), str(row["after"]), ";".join(row["failed_after"])
        )
    out.print(table)
    if diff["truncated"]:
        out.print(_("first %(limit)s listed", limit=limit))


def _print_summary(summary: dict, paths: dict[str, Path], job_id: str | None) -> None:
    from geodata.screening.summary import VERDICT_LABELS

    table = Table(
        title=_(
            "%(parcels)s parcels, %(mu)s mu — policy %(version)s (%(on)s)",
            parcels=summary["parcels"],
            mu=f"{summary['area_mu']:,.4f}",
            version=summary["policy_version"],
            on=summary["on"],
        )
    )
    for head in (_("check"), _("verdict"), _("parcels"), _("mu")):
        table.add_column(head)
    for row in summary["verdicts"]:
        label = localize(VERDICT_LABELS.get(row["verdict"], row["verdict"]))
        table.add_row(row["check"], label, str(row["parcels"]), f"{row['mu']:,.4f}")
    out.print(table)
    if job_id:
        out.print(f"job: {job_id}")
    for key, path in paths.items():
        out.print(f"{key}: {path}")


def register(app: typer.Typer) -> None:
    """Add the `screen` command (and `screen diff`)."""
    app.add_typer(screen_app, name="screen")
