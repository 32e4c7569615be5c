"""Entry point of the `landmarket` console script; each module registers its own commands.

The command modules load lazily: `landmarket --help` lists every command from the table below
without importing any of them, and `landmarket db status` imports cli.db alone. A module is
imported when one of its commands runs, when its own help is asked for, or when the shell
completes below it.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from difflib import get_close_matches
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

from cli.params import install as plain_values_first

plain_values_first()  # typer coerces None, text and integers without pydantic (cli/params.py)

try:  # typer vendors click since 0.2x; before, click is its own package
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError

# Every top-level command: name → (module whose register(app) adds it, its help as listed by
# `landmarket --help`). Keep in the order of the help screen. tests/test_cli_startup.py checks
# this table against what the modules really register (names and help screen alike).
COMMANDS: dict[str, tuple[str, str]] = {
    "convert": (
        "cli.convert",
        "格式转换（坐标保留到毫米）/ convert a parcel file between formats, keeping millimetres.",
    ),
    "import": (
        "cli.imports",
        "导入图层（全部成功或全部不写入）/ import a layer into PostGIS (all-or-nothing).",
    ),
    "generate": (
        "cli.sample",
        "生成任意规模的合成区县（基准测试用）/ generate a synthetic district of N parcels for "
        "benchmarks.",
    ),
    "serve": (
        "cli.serve",
        "启动平台（接口、文档、地图）/ serve the API, its docs and the map pages.",
    ),
    "consolidation": ("cli.consolidation", "零星插花地块整治 / consolidating scattered plots."),
    "check": (
        "cli.check",
        "宗地核查 / eligibility checks of one parcel, a file, or a project.",
    ),
    "db": (
        "cli.db",
        "数据库：内置 PostGIS 集群与迁移 / database: embedded PostGIS cluster and migrations.",
    ),
    "export": ("cli.export", "导出数据 / export data from the database."),
    "listings": ("cli.listings", "土地挂牌 / land listings."),
    "policy": ("cli.policy", "政策参数 / policy parameters in force."),
    "sample": ("cli.sample", "示例乡镇：生成与入库 / the sample township: build it, load it."),
    "stock": ("cli.stock", "存量土地(措施10) / stock land (measure 10)."),
    "screen": (
        "cli.screen",
        "批量筛查宗地 / screen many parcels (and compare two stored screenings).",
    ),
    "tickets": ("cli.tickets", "地票台账 / the land ticket register."),
    "trading": ("cli.trading", "集体经营性建设用地交易 / trading collective operational land."),
    "users": ("cli.users", "用户、密码与令牌 / users, passwords and bearer tokens."),
    "zoning": (
        "cli.zoning",
        "混合产业用地与M0: 合规审查、出让底价 / mixed industrial and M0 land: checks, prices.",
    ),
    "standard-land": ("cli.zoning", "标准地 / standard land."),
}
# Each module exposes register(app: typer.Typer) -> None. Registered in this order (commands
# first, then groups) they give the table's order above.
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


class LazyGroup(TyperGroup):
    """The root group: lists COMMANDS from the table, imports a module only to run its command."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False  # while True, unloaded commands are stand-ins carrying their help

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        if self._listing:
            help_text = COMMANDS[cmd_name][1]
            return TyperCommand(cmd_name, help=help_text, add_help_option=False)
        return self.load(cmd_name)

    def load(self, cmd_name: str) -> Any:
        """Import the module that registers cmd_name; keep every command it adds."""
        module = importlib.import_module(COMMANDS[cmd_name][0])
        scratch = typer.Typer()
        module.register(scratch)
        for name, command in get_group(scratch).commands.items():
            self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    @contextmanager
    def _stand_ins(self):
        listing, self._listing = self._listing, True
        try:
            yield
        finally:
            self._listing = listing

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._stand_ins():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        with self._stand_ins():
            return super().shell_complete(ctx, incomplete)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[Any, ...]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:  # typer suggests loaded commands only; suggest from the table
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "Did you mean" not in exc.message:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    name="landmarket",
    cls=LazyGroup,
    help="重庆农村土地市场平台 / Chongqing rural land market platform.",
    no_args_is_help=True,
)


@app.callback()
def root() -> None:
    """The commands come from COMMANDS; a callback makes typer build a group even with none."""


if __name__ == "__main__":
    app()
