"""Start-up time of the `landmarket` command: --help and the light commands (issue 15).

Each command runs as the console script in a fresh interpreter, several times in turn (round
robin, so a burst of load hits every command alike); the median wall time and the median CPU
time (user + system of the child, which the machine's load disturbs less) are printed next to
`python -c pass` in the same interpreter, the floor no command can go under. Commands that need
the database (db status, users list) report their exit code; start the cluster with `make db`.
`--bytecode` lets Python cache the project's compiled modules (.pyc, under var/bench/pycache)
as an installed package has them; without it the environment's PYTHONDONTWRITEBYTECODE holds.
`--imports` also runs each command under `python -X importtime` and reports the median of its
import time (the top-level imports' cumulative microseconds summed), steadier than wall time on a
loaded machine. `--against DIR` runs another checkout (e.g. `git archive REV | tar -x -C DIR`) in
the same rounds, command by command, so a before/after pair meets the same load.
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
    ("typer + its help renderer", ["-c", "import typer, typer.rich_utils"]),
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
    ("landmarket users tokens", [str(SCRIPT), "users", "tokens"]),
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


def import_seconds(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Seconds one run spends importing (`-X importtime`'s top-level cumulative times summed)
    and how many modules it imports (the same for every run of a command: the steady figure)."""
    done = subprocess.run(
        [str(PYTHON), "-X", "importtime", *argv],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    total = modules = 0
    for line in done.stderr.splitlines():
        if line.startswith("import time:"):
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                modules += 1
                total += 0 if name.startswith("  ") else int(cumulative)
    return total / 1e6, modules


def measure(
    commands: list[tuple[str, list[str]]],
    repeat: int,
    envs: dict[str, dict[str, str]],
    imports: bool = False,
) -> dict[str, list[dict]]:
    """Every command in every tree `repeat` times round robin (trees alternate per command)."""
    for _, argv in commands:  # one warm-up each: page cache (and .pyc files with --bytecode)
        for env in envs.values():
            run_once(argv, env)
    runs = {(tree, label): [] for tree in envs for label, _ in commands}
    import_runs: dict[tuple[str, str], list[tuple[float, int]]] = {key: [] for key in runs}
    for round_ in range(repeat):
        for label, argv in commands:
            order = list(envs) if round_ % 2 == 0 else list(reversed(envs))
            for tree in order:
                runs[tree, label].append(run_once(argv, envs[tree]))
                if imports:
                    import_runs[tree, label].append(import_seconds(argv, envs[tree]))
    return {
        tree: [
            {
                "command": label,
                "wall_s": statistics.median(r[0] for r in runs[tree, label]),
                "cpu_s": statistics.median(r[1] for r in runs[tree, label]),
                "import_s": (
                    statistics.median(r[0] for r in import_runs[tree, label]) if imports else None
                ),
                "modules": (
                    statistics.median(r[1] for r in import_runs[tree, label]) if imports else None
                ),
                "every_wall_s": [round(r[0], 3) for r in runs[tree, label]],
                "exit_codes": sorted({r[2] for r in runs[tree, label]}),
            }
            for label, _ in commands
        ]
        for tree in envs
    }


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
    parser.add_argument(
        "--against", type=Path, help="also run this checkout's code in the same rounds (before)"
    )
    parser.add_argument(
        "--imports", action="store_true", help="also the median import time (-X importtime)"
    )
    args = parser.parse_args(argv)
    bytecode = bench_dir() / "pycache" if args.bytecode else None
    trees = {str(args.tree or ROOT): child_env(bytecode, args.tree)}
    if args.against is not None:
        trees[str(args.against)] = child_env(bytecode, args.against)
    commands = COMMANDS[:1] + [
        c for c in COMMANDS[1:] if not args.only or any(s in c[0] for s in args.only.split(","))
    ]
    load_before = load_average()
    results = measure(commands, max(1, args.repeat), trees, args.imports)
    load_after = load_average()
    columns = ["command"]
    for n in range(len(trees)):
        tag = "" if len(trees) == 1 else ("after " if n == 0 else "before ")
        columns += [f"{tag}wall s", f"{tag}CPU s"]
        columns += [f"{tag}imports s", f"{tag}modules"] if args.imports else []
    columns.append(f"< {GOAL_SECONDS} s")
    rows = []
    for i, (label, _) in enumerate(commands):
        row: list[object] = [label]
        for tree in trees:
            r = results[tree][i]
            row += [r["wall_s"], r["cpu_s"]]
            row += [r["import_s"], int(r["modules"])] if args.imports else []
            if r["exit_codes"] != [0]:
                row[0] = f"{label} (exit {','.join(map(str, r['exit_codes']))})"
        first = results[next(iter(trees))][i]
        row.append("" if i == 0 else ("yes" if first["wall_s"] < GOAL_SECONDS else "NO"))
        rows.append(row)
    names = " vs ".join(trees)
    table(
        f"Start-up of {names}, median of {args.repeat} (load {load_before} → {load_after}, "
        f"{machine()['cores']} cores)",
        columns,
        rows,
    )
    env = next(iter(trees.values()))
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
            "against": str(args.against) if args.against else None,
            "bytecode_cache": cached,
            "results": results[next(iter(trees))],
            "against_results": results[str(args.against)] if args.against else None,
        },
    )
    print(f"written {path}")
    return 0
