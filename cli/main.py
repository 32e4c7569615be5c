"""Entry point of the `landmarket` console script; each module registers its own commands."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="landmarket",
    help="重庆农村土地市场平台 / Chongqing rural land market platform.",
    no_args_is_help=True,
    add_completion=False,
)

# Each module exposes register(app: typer.Typer) -> None.
COMMAND_MODULES = [
    "cli.consolidation",
    "cli.check",
    "cli.convert",
    "cli.db",
    "cli.export",
    "cli.imports",
    "cli.listings",
    "cli.policy",
    "cli.sample",
    "cli.stock",
    "cli.screen",
    "cli.serve",
    "cli.tickets",
    "cli.trading",
    "cli.users",
    "cli.zoning",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


if __name__ == "__main__":
    app()
