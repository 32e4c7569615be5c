"""`landmarket listings ...`: seed the sample market, list listings."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True, soft_wrap=True)
listings_app = typer.Typer(help="土地挂牌 / land listings.", no_args_is_help=True)


@listings_app.command("seed")
def seed(
    published: int = typer.Option(12, "--published", min=0, help="发布数 / listings to publish"),
    drafts: int = typer.Option(3, "--drafts", min=0, help="草稿数 / drafts to keep"),
    replace: bool = typer.Option(
        False, "--replace", help="先删除示例挂牌 / drop sample listings first"
    ),
) -> None:
    """在已载入的示例乡镇上挂牌 / list plots of the loaded sample township (repeat: no-op)."""
    from geodata.db.engine import session_scope
    from geodata.listings import remove_sample_listings, seed_sample_listings
    from landmarket.errors import LandmarketError

    try:
        with session_scope() as session:
            if replace:
                err.print(f"removed {remove_sample_listings(session)} sample listings")
            summary = seed_sample_listings(session, published=published, drafts=drafts)
    except LandmarketError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if summary.unchanged:
        err.print("示例挂牌已存在 / sample listings already there (use --replace to redo)")
    else:
        err.print(f"published {len(summary.published)}, drafts {len(summary.drafts)}")


@listings_app.command("list")
def list_(
    state: list[str] = typer.Option(["published", "under_offer"], "--state", help="状态 / states"),
    limit: int = typer.Option(100, "--limit", min=1),
) -> None:
    """列出挂牌 / list listings (public fields only)."""
    from geodata.db.engine import session_scope
    from geodata.listings.search import search_listings
    from landmarket.listings import ListingQuery, State

    bad = [s for s in state if s not in State.__members__]
    if bad:
        err.print(
            f"[red]未知状态 / unknown state(s) {bad}; known: {', '.join(State.__members__)}[/red]"
        )
        raise typer.Exit(2)
    with session_scope() as session:
        features, total = search_listings(session, ListingQuery(), states=state, limit=limit)
    table = Table("id", "state", "parcel", "village", "mu", "use", "years", "mode", "yuan/mu")
    for f in features:
        p = f["properties"]
        table.add_row(
            str(p["id"]), p["state"], p["parcel_code"], p["village_name"] or "",
            f"{p['area_mu']:.4f}", ",".join(p["intended_uses"]), str(p["term_years"]),
            p["supply_mode"], f"{p['price_per_mu']:,.0f}",
        )  # fmt: skip
    Console(width=200).print(table)  # never truncate parcel codes
    err.print(f"{len(features)} of {total}")


def register(app: typer.Typer) -> None:
    """Add the `listings` command group."""
    app.add_typer(listings_app, name="listings")
