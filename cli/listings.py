"""`landmarket listings ...`: seed the sample market, list listings."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from landmarket.i18n import gettext as _

err = Console(stderr=True, soft_wrap=True)
listings_app = typer.Typer(help=_("land listings."), no_args_is_help=True)


@listings_app.command("seed", help=_("list plots of the loaded sample township (repeat: no-op)."))
def seed(
    published: int = typer.Option(12, "--published", min=0, help=_("listings to publish")),
    drafts: int = typer.Option(3, "--drafts", min=0, help=_("drafts to keep")),
    replace: bool = typer.Option(False, "--replace", help=_("drop sample listings first")),
) -> None:
    """List plots of the loaded sample township (repeat: no-op)."""
    from geodata.db.engine import session_scope
    from geodata.listings import remove_sample_listings, seed_sample_listings
    from landmarket.errors import LandmarketError

    try:
        with session_scope() as session:
            if replace:
                removed = remove_sample_listings(session)
                err.print(_("removed %(count)s sample listings", count=removed))
            summary = seed_sample_listings(session, published=published, drafts=drafts)
    except LandmarketError as exc:
        err.print(f"[red]{str(exc)}[/red]")
        raise typer.Exit(1) from exc
    if summary.unchanged:
        err.print(_("sample listings already there (use --replace to redo)"))
    else:
        err.print(
            _(
                "published %(published)s, drafts %(drafts)s",
                published=len(summary.published),
                drafts=len(summary.drafts),
            )
        )


@listings_app.command("list", help=_("list listings (public fields only)."))
def list_(
    state: list[str] = typer.Option(["published", "under_offer"], "--state", help=_("states")),
    limit: int = typer.Option(100, "--limit", min=1),
) -> None:
    """List listings (public fields only)."""
    from geodata.db.engine import session_scope
    from geodata.listings.search import search_listings
    from landmarket.listings import ListingQuery, State

    bad = [s for s in state if s not in State.__members__]
    if bad:
        known = ", ".join(State.__members__)
        err.print(
            "[red]"
            + _("unknown state(s) %(bad)s; known: %(known)s", bad=bad, known=known)
            + "[/red]"
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
