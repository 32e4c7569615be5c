"""`python -m bench NAME [options]`: run one benchmark (screen, ledger, trading, tiles, checks, imports, cli)."""

from __future__ import annotations

import importlib
import sys

# Benchmark name → module exposing main(argv).
BENCHES = {
    "screen": "bench.screen",
    "ledger": "bench.ledger",
    "trading": "bench.trading",
    "tiles": "bench.tiles",
    "checks": "bench.checks",
    "imports": "bench.imports",
    "cli": "bench.cli",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the named benchmark's main()."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BENCHES:
        names = ", ".join(sorted(BENCHES))
        print(f"usage: python -m bench {{{names}}} [options]  (-h after a name for its options)")
        return 2
    module = importlib.import_module(BENCHES[argv[0]])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
