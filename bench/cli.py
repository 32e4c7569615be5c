"""Start-up time of the `landmarket` command: --help and the light commands (issue 15).

Each command runs as the console script in a fresh interpreter, several times in turn (round
robin, so a burst of load hits every command alike); the median wall time and the median CPU
time (user + system of the child, which the machine's load disturbs less) are printed next to
`python -c pass` in the same interpreter, the floor no command can go under. Commands that need
the database (db status, users list) report their exit code; start the cluster with `make db`.
`--bytecode` lets Python cache the project's compiled modules (.pyc, under var/bench/pycache)
as an installed package has them; without it the environment's PYTHONDONTWRITEBYTECODE holds.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import bench_dir, load_average, machine, table, write_json

GOAL_SECONDS = 0.5  # issue 15: --help and the light commands in under half a second
ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
SCRIPT = PYTHON.parent / "landmarket"

# Label → argv after the interpreter. The first is the floor; none of the others writes anything.
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass (floor)", ["-c", "pass"]),
    ("python -c 'import typer' (typer's own cost)", ["-c", "import typer"]),
    (
        "typer + its help renderer + pydantic",
        ["-c", "import typer, typer.rich_utils, typer._adapters"],
    ),
    ("landmarket --help", [str(SCRIPT), "--help"]),
    ("landmarket db --help", [str(SCRIPT), "db", "--help"]),
    ("landmarket db url", [str(SCRIPT), "db", "url"]),
    ("landmarket db status", [str(SCRIPT), "db", "status"]),
    ("landmarket users --help", [str(SCRIPT), "users", "--help"]),
    ("landmarket users add --help", [str(SCRIPT), "users", "add", "--help"]),
    ("landmarket users list", [str(SCRIPT), "users", "list"]),
    ("landmarket policy show", [str(SCRIPT), "policy", "show"]),
    ("landmarket policy show --json", [str(SCRIPT), "policy", "show", "--json"]),
]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child_env(bytecode: Path | None, tree: Path | None = None) -> dict[str, str]:
    """The environment of a run; with bytecode, .pyc files are written (and read) there.

    With tree (another checkout, e.g. `git archive REV | tar -x -C DIR`), its packages come
    first on the path, while the state (cluster, database) stays this checkout's var/.
    """
    env = {**os.environ, "COLUMNS": "100"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
        env.setdefault("LANDMARKET_VAR_DIR", str(ROOT / "var"))
    if bytecode is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and exit code of one run of the interpreter with argv."""
    cpu0, wall0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [str(PYTHON), *argv], cwd=ROOT, capture_output=True, env=env, timeout=120, check=False
    )
    return time.perf_counter() - wall0, _children_cpu() - cpu0, done.returncode


def measure(commands: list[tuple[str, list[str]]], repeat: int, env: dict[str, str]) -> list[dict]:
    """Run every command `repeat` times round robin; medians per command."""
    for _, argv in commands:  # one warm-up each: page cache (and .pyc files with --bytecode)
        run_once(argv, env)
    runs: dict[str, list[tuple[float, float, int]]] = {label: [] for label, _ in commands}
    for _ in range(repeat):
        for label, argv in commands:
            runs[label].append(run_once(argv, env))
    return [
        {
            "command": label,
            "wall_s": statistics.median(r[0] for r in runs[label]),
            "cpu_s": statistics.median(r[1] for r in runs[label]),
            "every_wall_s": [round(r[0], 3) for r in runs[label]],
            "exit_codes": sorted({r[2] for r in runs[label]}),
        }
        for label, _ in commands
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure and print start-up times; write var/bench/cli-*.json."""
    parser = argparse.ArgumentParser(prog="python -m bench cli", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (median)")
    parser.add_argument("--only", help="comma-separated substrings of the labels to run")
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="let Python write .pyc files (under var/bench/pycache), as an installed package has",
    )
    parser.add_argument("--tree", type=Path, help="run another checkout's code (before/after)")
    args = parser.parse_args(argv)
    bytecode = bench_dir() / "pycache" if args.bytecode else None
    env = child_env(bytecode, args.tree)
    commands = COMMANDS[:1] + [
        c for c in COMMANDS[1:] if not args.only or any(s in c[0] for s in args.only.split(","))
    ]
    load_before = load_average()
    results = measure(commands, max(1, args.repeat), env)
    load_after = load_average()
    floor = results[0]
    rows = [
        [
            r["command"], r["wall_s"], r["cpu_s"], r["wall_s"] - floor["wall_s"],
            ",".join(map(str, r["exit_codes"])),
            "" if r is floor else ("yes" if r["wall_s"] < GOAL_SECONDS else "NO"),
        ]
        for r in results
    ]  # fmt: skip
    table(
        f"Start-up of {args.tree or ROOT}, median of {args.repeat} (load {load_before} → "
        f"{load_after}, "
        f"{machine()['cores']} cores)",
        ["command", "wall s", "CPU s", "above floor s", "exit", f"< {GOAL_SECONDS} s"],
        rows,
    )
    cached = "off" if env.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(
        f"project bytecode (.pyc) cache: {cached} (--bytecode turns it on); goal < {GOAL_SECONDS} s"
    )
    path = write_json(
        "cli",
        {
            "machine": machine(),
            "load_before": load_before,
            "load_after": load_after,
            "repeat": args.repeat,
            "tree": str(args.tree or ROOT),
            "bytecode_cache": cached,
            "results": results,
        },
    )
    print(f"written {path}")
    return 0
