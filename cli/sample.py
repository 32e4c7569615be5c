"""`landmarket sample build|load` and `landmarket generate`: the sample township and synthetic districts."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
SEED_HELP = "随机种子（默认为示例种子）/ random seed (default: the sample's seed)."
sample_app = typer.Typer(
    help="示例乡镇：生成与入库 / the sample township: build it, load it.",
    no_args_is_help=True,
)


@sample_app.command("build")
def build(
    out: Path = typer.Option(Path("sample_parcels"), "--out", help="输出目录 / output directory."),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
) -> None:
    """生成示例乡镇（确定性）/ generate the sample township deterministically from a seed."""
    from geodata.sample import DEFAULT_SEED, build_sample

    started = time.perf_counter()
    paths = build_sample(out, DEFAULT_SEED if seed is None else seed)
    for key, value in paths.items():
        for path in value if isinstance(value, list) else [value]:
            err.print(f"{key}: {path}")
    err.print(f"完成 / done in {time.perf_counter() - started:.1f} s")


@sample_app.command("load")
def load(
    directory: Path | None = typer.Option(
        None, "--dir", help="示例目录（默认 sample_parcels）/ sample directory (default: settings)."
    ),
    force: bool = typer.Option(
        False, "--force", help="即使未变化也重新载入 / replace the sample even if unchanged."
    ),
    history: bool = typer.Option(
        True,
        "--history/--no-history",
        help="同时生成地票交易与挂牌示例 / also seed the ticket history and market listings.",
    ),
) -> None:
    """把示例乡镇载入数据库（可重复执行）/ load the sample into the database; safe to repeat."""
    from geodata.db.engine import session_scope
    from geodata.listings import seed_sample_listings
    from geodata.sample.load import load_sample
    from geodata.tickets.sample_history import seed_ticket_history
    from landmarket.errors import LandmarketError

    try:
        summary = load_sample(sample_dir=directory, force=force)
        for layer, rows in summary.items():
            err.print(f"{layer}: {rows}")
        if history:
            tickets = seed_ticket_history()
            err.print(
                f"地票示例 / ticket history: {tickets.withdrawals} 宗退出 / withdrawals, "
                f"{tickets.tickets} 张地票 / tickets, {tickets.landings} 次落地 / landings"
            )
            with session_scope() as session:
                listings = seed_sample_listings(session)
            if not listings.unchanged:
                err.print(
                    f"挂牌示例 / listings: {len(listings.published)} 已发布 / published, "
                    f"{len(listings.drafts)} 草稿 / drafts"
                )
    except LandmarketError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def generate(
    parcels: int = typer.Option(..., "--parcels", min=1, help="宗地数 / number of parcels."),
    out: Path = typer.Option(..., "--out", help="输出目录 / output directory."),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
) -> None:
    """生成任意规模的合成区县（基准测试用）/ generate a synthetic district of N parcels for benchmarks."""
    from geodata.sample.spec import DEFAULT_SEED
    from geodata.sample.synthetic import generate_district

    started = time.perf_counter()
    result = generate_district(
        parcels, out, seed=DEFAULT_SEED if seed is None else seed, progress=err
    )
    for key, path in result.paths.items():
        err.print(f"{key}: {path}")
    err.print(
        f"{result.parcels} 宗地 / parcels, {result.villages} 村 / villages, "
        f"{time.perf_counter() - started:.1f} s"
    )


def register(app: typer.Typer) -> None:
    """Attach `sample` and `generate` to the main CLI."""
    app.add_typer(sample_app, name="sample")
    app.command("generate")(generate)
