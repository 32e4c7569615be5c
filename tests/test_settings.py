"""Settings read LANDMARKET_* in plain Python and agree with pydantic's lax validation."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError, create_model

from geodata.settings import REPO_ROOT, Settings, SettingsError, get_settings

# Values as they come from the environment (text) or from code (keyword arguments).
VALUES: dict[str, list[Any]] = {
    "int": ["5", " 5 ", "+5", "-3", "5_000", "5.0", "007", "5.5", "", "abc", "1e3", "0x10",
            "٣", 5, 5.0, 5.5, True, None, "None"],
    "float": ["1e3", " 2.5 ", "1_000.5", "+1", "1.", ".5", "inf", "-Infinity", "", "x", "١",
              3, 2.5, True, None],
    "str": ["", "postgresql://x", " spaced ", 5, None, Path("a")],
    "Path": ["", "a/b", "/abs/path", Path("p"), 5, None],
}  # fmt: skip
TYPES = {"int": int, "float": float, "str": str, "Path": Path}


def _pydantic_model() -> Any:
    """The same fields as a pydantic model (as Settings was until this reader replaced it)."""
    specs = {}
    for spec in fields(Settings):
        kind, _, optional = spec.type.partition(" | ")
        annotation: Any = TYPES[kind] | None if optional == "None" else TYPES[kind]
        bound = spec.metadata.get("ge")
        if bound is not None:
            annotation = Annotated[annotation, Field(ge=bound)]
        specs[spec.name] = (annotation, spec.default)
    return create_model("PydanticSettings", **specs)


def _outcome(make, name: str, value: Any) -> tuple[str, Any]:
    try:
        return "ok", getattr(make(**{name: value}), name)
    except (SettingsError, ValidationError):
        return "refused", None


@pytest.fixture
def no_landmarket_env(monkeypatch):
    """No LANDMARKET_* variable (the test session sets the database URLs)."""
    for key in [k for k in os.environ if k.upper().startswith("LANDMARKET_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def test_every_field_reads_values_as_pydantic_did(no_landmarket_env):
    model = _pydantic_model()
    compared = 0
    for spec in fields(Settings):
        kind = spec.type.partition(" | ")[0]
        for value in VALUES[kind]:
            ours, theirs = _outcome(Settings, spec.name, value), _outcome(model, spec.name, value)
            assert ours == theirs, (spec.name, value, ours, theirs)
            if ours[0] == "ok":
                assert type(ours[1]) is type(theirs[1]), (spec.name, value)
            compared += 1
    assert compared > 300
    defaults = Settings()
    assert {s.name: getattr(defaults, s.name) for s in fields(Settings)} == model().model_dump()


def test_environment_keywords_and_refusals(no_landmarket_env):
    monkeypatch = no_landmarket_env
    monkeypatch.setenv("LANDMARKET_TOKEN_TTL_DAYS", "7")
    monkeypatch.setenv("landmarket_basemap", "osm")  # names ignore case
    monkeypatch.setenv("LANDMARKET_NOT_A_SETTING", "x")  # ignored, as unknown keywords are
    settings = Settings(basemap="none", no_such_keyword=1)
    assert settings.token_ttl_days == 7 and settings.basemap == "none"
    assert Settings().basemap == "osm"
    monkeypatch.setenv("LANDMARKET_TOKEN_TTL_DAYS", "0")
    with pytest.raises(SettingsError, match="LANDMARKET_TOKEN_TTL_DAYS.*at least 1"):
        Settings()
    with pytest.raises(SettingsError, match="LANDMARKET_DB_PORT.*an integer"):
        Settings(db_port="port")
    monkeypatch.delenv("LANDMARKET_TOKEN_TTL_DAYS")
    embedded = Settings(var_dir=REPO_ROOT / "no-such-var", db_port=6000)
    assert embedded.effective_database_url == (
        "postgresql+psycopg://landmarket_app@127.0.0.1:6000/landmarket"
    )
    assert embedded.effective_owner_database_url.startswith("postgresql+psycopg://landmarket@")
    external = Settings(database_url="postgresql+psycopg://a@h/d")
    assert external.effective_owner_database_url == "postgresql+psycopg://a@h/d"
    assert isinstance(get_settings(), Settings)


def test_reading_settings_imports_no_pydantic():
    code = (
        "import sys; from geodata.settings import get_settings; get_settings().effective_database_url;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
