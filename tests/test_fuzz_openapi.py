"""Schemathesis over every operation of /openapi.json, once per role, against `landmarket serve`.

The server is a real subprocess on a free 127.0.0.1 port over a throwaway database holding the
sample township, its ticket history and one user per role. For each role (and without a token)
`st run` tests every operation the OpenAPI lists at run time (no per-operation list to keep) with
a fixed seed and a few examples each (valid requests for every role, invalid ones too with the
bureau's token): no 5xx, responses match their declared status codes, media types and schemas. A skipped or errored operation fails the test, and the server must still be
running at the end (one process: a crash of any request is a failure).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.sample.load import load_sample
from geodata.settings import REPO_ROOT
from geodata.tickets.sample_history import seed_ticket_history
from geodata.users import create_user
from tests.browser import free_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ROLES = ["public", "bureau", "collective", "investor"]
# Valid requests for every role; invalid ones too for the bureau, whose token reaches every
# operation (validation does not depend on the role, and all four in both modes take too long).
MODES = {"bureau": "all"}
COLLECTIVE_VILLAGE = "500111108204"  # a sample village with withdrawals and a ticket
SEED = 20261203
MAX_EXAMPLES = 4  # per operation in the fuzzing phase (the coverage phase enumerates boundaries)
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@dataclass
class Served:
    """A running `landmarket serve` and the tokens of its users."""

    base: str
    proc: subprocess.Popen
    tokens: dict[str, str]
    log: Path

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self.proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        """The end of the server's stderr (tracebacks of 5xx, a crash's last words)."""
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def build_world(url: str, raster_dir: Path) -> dict[str, str]:
    """Sample township, its ticket history and one user per role; the tokens by role."""
    upgrade(url)
    load_sample(url, REPO_ROOT / "sample_parcels", raster_dir=raster_dir)
    seed_ticket_history(url)
    with session_scope(url) as s:
        return {
            "bureau": create_user(s, "bureau", name="fuzz bureau")[1],
            "collective": create_user(s, "collective", COLLECTIVE_VILLAGE, name="fuzz coll")[1],
            "investor": create_user(s, "investor", name="fuzz investor")[1],
        }


@pytest.fixture(scope="module")
def served(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`landmarket serve` over a fuzz world of its own (fuzzed writes stay there)."""
    url = make_database()
    tmp = tmp_path_factory.mktemp("fuzz")
    tokens = build_world(url, tmp / "rasters")
    port = free_port()
    env = {
        **os.environ,
        "LANDMARKET_DATABASE_URL": url,
        "LANDMARKET_BASEMAP": "none",
        "LANDMARKET_UPLOAD_DIR": str(tmp / "uploads"),
    }
    log = tmp / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [str(BIN / "landmarket"), "serve", "--port", str(port), "--log-level", "warning",
             "--workers", "1"],  # one process: a crash of any request ends it
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", proc, tokens, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{served.base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert served.alive(), f"serve exited {proc.returncode}:\n{served.log_tail()}"
            assert time.monotonic() < deadline, "serve did not come up in 120 s"
            time.sleep(0.3)
        # The first /openapi.json is generated on request (slow on a loaded machine); st reads
        # it with a 10 s timeout, so it is generated here once and served from the cache after.
        httpx.get(f"{served.base}/openapi.json", timeout=120).raise_for_status()
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _sections(output: str, *names: str) -> str:
    """The named sections (FAILURES, ERRORS) of st's console report."""
    found = []
    for name in names:
        m = re.search(rf"^=+ {name} =+$(.*?)(?=^=+ [A-Z]+ =+$)", output, re.M | re.S)
        if m:
            found.append(f"== {name} ==" + m.group(1))
    return "\n".join(found) or output[-6000:]


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_survives_schemathesis(served: Served, role: str, tmp_path: Path) -> None:
    """No operation skipped or errored, no 5xx, statuses/media types/schemas as declared."""
    report = tmp_path / "report.json"
    token = served.tokens.get(role)
    cmd = [
        str(BIN / "st"), "run", f"{served.base}/openapi.json",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--mode", MODES.get(role, "positive"),
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--suppress-health-check", "all",
        "--no-shrink",
        "--workers", "1",
        "--request-timeout", "60",
        "--output-sanitize", "false",
        "--no-color",
        "--report", "json",
        "--report-json-path", str(report),
    ]  # fmt: skip
    if token:
        cmd += ["--header", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    took = time.monotonic() - started
    alive = served.alive()
    assert report.exists(), f"[{role}] st run wrote no report:\n{out.stdout[-4000:]}{out.stderr}"
    result = json.loads(report.read_text())
    ops, cases = result["operations"], result["test_cases"]
    print(
        f"\n[{role}] schemathesis ({MODES.get(role, 'positive')}): "
        f"{ops['tested']}/{ops['total']} operations, "
        f"{cases['generated']} requests, {len(result['failures'])} failure kinds, {took:.0f} s"
    )
    assert alive, (
        f"[{role}] landmarket serve died (exit {served.proc.returncode}) during the run:\n"
        f"{served.log_tail()}\n{_sections(out.stdout, 'FAILURES', 'ERRORS')}"
    )
    problems = []
    if ops["tested"] != ops["total"] or ops["errored"] or ops["skipped"]:
        problems.append(f"operations: {ops} (every one must be tested)")
    if result["errors"] or cases["errored"]:
        problems.append(f"errors: {result['errors']}")
    for f in result["failures"]:
        problems.append(f"{f['code']} {f['title']} ×{f['count']}: {', '.join(f['operations'])}")
    assert not problems and out.returncode == 0, (
        f"[{role}] "
        + "\n".join(problems)
        + "\n\n"
        + _sections(out.stdout, "FAILURES", "ERRORS")
        + f"\n\nserver log (end):\n{served.log_tail()}"
    )
