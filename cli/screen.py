"""`landmarket screen`: screen a file or the stored parcels; GeoPackage, CSV and HTML reports."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import err, fail, parse_date

out = Console(soft_wrap=True)


def screen_command(
    parcels: str = typer.Option(
        ..., "--parcels", help="宗地文件, 或 db 表示数据库 / parcel file, or 'db' for the database"
    ),
    out_dir: Path = typer.Option(..., "--out", file_okay=False, help="报告目录 / report directory"),
    checks: str | None = typer.Option(
        None,
        "--checks",
        help="逗号分隔 / comma-separated: market_entry,reclamation,ticket_landing,approval_route",
    ),
    on: str | None = typer.Option(None, "--on", help="政策日期 YYYY-MM-DD / policy date"),
    site_only: bool = typer.Option(
        True,
        "--site-only/--full",
        help="仅场地条件(不评申请事项) / site conditions only, or also application facts",
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage 图层 / layer name"),
    village: str | None = typer.Option(None, "--village", help="村代码 (db) / village code"),
    bbox: str | None = typer.Option(None, "--bbox", help="minx,miny,maxx,maxy (db, EPSG:4490)"),
    constraints: Path | None = typer.Option(
        None,
        "--constraints",
        exists=True,
        dir_okay=False,
        help="约束图层 GeoPackage (pbf/redline/udb/village_plan + coverage), 代替数据库 / "
        "constraint layers instead of the database",
    ),
    dem: Path | None = typer.Option(
        None, "--dem", exists=True, dir_okay=False, help="DEM GeoTIFF, 代替数据库 / instead of db"
    ),
    chunk: int | None = typer.Option(
        None, "--chunk", min=1, help="每块宗地数 / parcels per chunk (default: the runner's)"
    ),
) -> None:
    """批量筛查宗地 / screen many parcels and write GeoPackage, CSV and an HTML summary."""
    from geodata.db.engine import SessionLocal, get_engine
    from geodata.rasters import read_dem
    from geodata.screening import (
        DEFAULT_CHUNK,
        db_contexts,
        file_contexts,
        parse_checks,
        run_screen,
        stored_parcels,
    )
    from geodata.screening.inputs import read_parcels
    from geodata.services.parcels import parse_bbox
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError
    from landmarket.policy import policy_from_settings

    settings = get_settings()
    try:
        policy = policy_from_settings(settings, parse_date(on))
        names = parse_checks(checks)
        from_db = parcels.strip().lower() == "db"
        needs_db = from_db or constraints is None
        with SessionLocal(bind=get_engine()) if needs_db else _no_session() as session:
            if from_db:
                box = tuple(vars(parse_bbox(bbox, "--bbox")).values()) if bbox else None
                frame = stored_parcels(session, village_code=village, bbox=box)
                source = "database" + (f" village {village}" if village else "")
            else:
                frame = read_parcels(Path(parcels), layer)
                source = str(parcels)
            if constraints is not None:
                contexts = file_contexts(constraints, dem, frame, names)
            else:
                contexts = db_contexts(session, names)
                if dem is not None:
                    grid = read_dem(dem)
                    contexts = _with_dem(contexts, grid)
            with _progress() as bar:
                task = bar.add_task("筛查 / screening", total=None)
                result = run_screen(
                    frame, contexts, out_dir, policy, checks=names, site_only=site_only,
                    chunk_size=chunk or DEFAULT_CHUNK, source=source,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )  # fmt: skip
    except LandmarketError as exc:
        raise fail(exc) from exc
    _print_summary(result.summary, result.paths)


def _with_dem(contexts, grid):
    return lambda bounds: replace(contexts(bounds), dem=grid)


class _no_session:
    """Stands in for a session when nothing is read from the database."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("块 / chunks"),
        TimeElapsedColumn(),
        console=err,
    )


def _print_summary(summary: dict, paths: dict[str, Path]) -> None:
    from geodata.screening.summary import VERDICT_LABELS

    table = Table(
        title=f"{summary['parcels']} 宗 / parcels, {summary['area_mu']:,.4f} 亩 / mu — "
        f"政策 / policy {summary['policy_version']} ({summary['on']})"
    )
    for head in ("检查 / check", "结论 / verdict", "宗地 / parcels", "亩 / mu"):
        table.add_column(head)
    for row in summary["verdicts"]:
        label = VERDICT_LABELS.get(row["verdict"], row["verdict"])
        table.add_row(row["check"], label, str(row["parcels"]), f"{row['mu']:,.4f}")
    out.print(table)
    for key, path in paths.items():
        out.print(f"{key}: {path}")


def register(app: typer.Typer) -> None:
    """Add the top-level `screen` command."""
    app.command("screen")(screen_command)
