"""`landmarket listings list|seed` against a market world."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from geodata.settings import get_settings
from tests.listings_world import A7, A10, build_market


@pytest.fixture
def world_env(make_database, monkeypatch):
    world = build_market(make_database(), {"a7": (A7, {}), "a10": (A10, {"price_per_mu": 99_000})})
    monkeypatch.setenv("LANDMARKET_DATABASE_URL", world.url)
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def test_list_and_seed(world_env):
    runner = CliRunner()
    out = runner.invoke(app, ["listings", "list"])
    assert out.exit_code == 0, out.output
    assert A7 in out.output and A10 in out.output and "99,000" in out.output
    drafts = runner.invoke(app, ["listings", "list", "--state", "draft"])
    assert A7 not in drafts.output
    bad = runner.invoke(app, ["listings", "list", "--state", "sold"])
    assert bad.exit_code == 2
    seeded = runner.invoke(app, ["listings", "seed", "--published", "1", "--drafts", "0"])
    assert seeded.exit_code == 0, seeded.output  # no sample loaded: the world's own plots serve
