"""The one settings object: every configurable value, read from LANDMARKET_* environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "LANDMARKET_"


def setting(default: Any, *, description: str = "", ge: int | None = None) -> Any:
    """A setting's default, what it means and its lower bound (if any)."""
    return field(default=default, metadata={"description": description, "ge": ge})


class SettingsError(ValueError):
    """A LANDMARKET_* value (or keyword argument) that its setting cannot take."""


@dataclass(init=False)
class Settings:
    """Platform settings; each field is LANDMARKET_<NAME> in the environment.

    Read as pydantic-settings did (prefix, names case-insensitive, keyword arguments first and
    unknown ones ignored, values converted to and checked against the field types as pydantic's
    lax mode does; tests/test_settings.py compares the two) but in plain Python: pydantic costs
    every command that reads a setting ~0.1 s of imports, pydantic-settings ~0.25 s more.
    """

    def __init__(self, **values: Any) -> None:
        given = {**_environment(), **values}
        for spec in fields(Settings):
            value = given.get(spec.name, spec.default)
            setattr(self, spec.name, _convert(spec, value))

    database_url: str | None = setting(
        default=None,
        description="SQLAlchemy URL the application connects with (the application role, no "
        "owner, no superuser); unset means the embedded cluster under var/.",
    )
    owner_database_url: str | None = setting(
        default=None,
        description="SQLAlchemy URL of the role that owns the schema and runs migrations; unset "
        "means database_url when that is set (one role for both), else the embedded cluster's owner.",
    )
    test_database_url: str | None = setting(
        default=None,
        description="Server on which tests create their throwaway database; unset means the embedded one.",
    )
    var_dir: Path = setting(
        default=REPO_ROOT / "var", description="Runtime state: cluster, reports."
    )
    db_port: int = setting(
        default=55432,
        description="Preferred loopback port of the embedded cluster; when another program holds it, "
        "`db up` takes the next free one and records it in var/pg.port.",
    )
    db_name: str = "landmarket"
    db_user: str = setting(
        default="landmarket", description="Owner (and superuser) of the embedded cluster."
    )
    db_app_user: str = setting(
        default="landmarket_app",
        description="Application role of the embedded cluster (login, no superuser, owns nothing).",
    )
    sample_dir: Path = REPO_ROOT / "sample_parcels"
    policy_dir: Path | None = setting(
        default=None, description="Extra policy files that override the packaged ones."
    )
    basemap: str = setting(
        default="none",
        description="'none', 'osm', 'tianditu' (needs tianditu_token) or a local XYZ tile URL template.",
    )
    tianditu_token: str | None = None
    dask_scheduler: str | None = setting(
        default=None,
        description="dask.distributed scheduler (tcp://HOST:PORT) that screenings run on; "
        "unset: local worker processes.",
    )
    screen_workers: int | None = setting(
        default=None, ge=1, description="Local worker processes of a screening (default: cores)."
    )
    max_features: int = setting(
        default=5000, description="Largest FeatureCollection a request may post."
    )
    max_vertices: int = setting(
        default=100_000, description="Most vertices one imported geometry may have."
    )
    sliver_tolerance_m2: float | None = setting(
        default=None, description="Overrides the policy's sliver overlap tolerance when set."
    )
    attachment_max_bytes: int = setting(
        default=10_000_000, description="Largest listing attachment."
    )
    export_max_rows: int = setting(
        default=200_000, description="Most parcels one export may hold (narrow larger selections)."
    )
    max_request_bytes: int = setting(
        default=512 * 1024 * 1024,
        description="Largest request body; a bigger Content-Length (or stream) gets 413 unread.",
    )
    upload_dir: Path | None = setting(
        default=None,
        description="Root of the per-upload folders (default var/uploads); start-up removes "
        "folders that no live process holds, so point it at a directory used for nothing else.",
    )
    upload_max_unpacked_bytes: int = setting(
        default=1024 * 1024 * 1024,
        description="Most bytes the members of an uploaded zip unpack to.",
    )
    upload_max_ratio: float = setting(
        default=200.0,
        description="Highest compression ratio of a zip member of 1 MiB or more (zip bombs).",
    )
    upload_max_members: int = setting(default=1000, description="Most files in an uploaded zip.")
    token_ttl_days: int = setting(
        default=90, ge=1, description="Days a new API bearer token stays valid (`users token`)."
    )
    session_idle_minutes: int = setting(
        default=120, ge=1, description="A browser session ends after this long without a request."
    )
    session_max_hours: int = setting(
        default=12,
        ge=1,
        description="A browser session ends this long after sign-in, however busy.",
    )
    sign_in_max_failures: int = setting(
        default=5, ge=1, description="Failed sign-ins per username and address before a pause."
    )
    sign_in_window_minutes: int = setting(
        default=15, ge=1, description="Window over which failed sign-ins count, and the pause."
    )
    tile_max_features: int = setting(
        default=4000, description="Most features a vector tile draws before it aggregates honestly."
    )
    tile_max_age: int = setting(
        default=60, description="Cache-Control max-age of static tile layers (s)."
    )

    @property
    def embedded_port(self) -> int:
        """Port the embedded cluster listens on: the one recorded by `db up`, else db_port."""
        recorded = self.var_dir / "pg.port"
        if recorded.is_file():
            return int(recorded.read_text().strip())
        return self.db_port

    @property
    def embedded_database_url(self) -> str:
        """URL of the private cluster that `landmarket db up` runs, as the application role."""
        return (
            f"postgresql+psycopg://{self.db_app_user}@127.0.0.1:{self.embedded_port}/{self.db_name}"
        )

    @property
    def embedded_owner_database_url(self) -> str:
        """URL of the private cluster's database as its owner (migrations)."""
        return f"postgresql+psycopg://{self.db_user}@127.0.0.1:{self.embedded_port}/{self.db_name}"

    @property
    def effective_database_url(self) -> str:
        """The database the platform talks to, as the application role."""
        return self.database_url or self.embedded_database_url

    @property
    def effective_owner_database_url(self) -> str:
        """The same database as its owner, for migrations and grants."""
        if self.owner_database_url:
            return self.owner_database_url
        return self.database_url or self.embedded_owner_database_url


def _environment() -> dict[str, str]:
    """The LANDMARKET_<FIELD> variables set, by field name (the names ignore case)."""
    prefix = ENV_PREFIX.lower()
    names = {spec.name for spec in fields(Settings)}
    found = {}
    for key, value in os.environ.items():
        key = key.lower()
        if key.startswith(prefix) and key[len(prefix) :] in names:
            found[key[len(prefix) :]] = value
    return found


_INTEGER = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0*)?")  # what pydantic reads as an int


def _to_str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError("text")


def _to_int(value: Any) -> int:
    if isinstance(value, int):  # also bool: pydantic's lax mode takes True as 1
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    raise TypeError("an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.isascii():
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise TypeError("a number")


def _to_path(value: Any) -> Path:
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        return Path(value)
    raise TypeError("a path")


_CONVERTERS = {"str": _to_str, "int": _to_int, "float": _to_float, "Path": _to_path}


def _convert(spec: Any, value: Any) -> Any:
    """value as the setting's type (`X` or `X | None`, X in _CONVERTERS), at least its bound."""
    kind, _, optional = spec.type.partition(" | ")
    if value is None and optional == "None":
        return None
    try:
        converted = _CONVERTERS[kind](value)
    except TypeError as exc:
        raise SettingsError(
            f"{ENV_PREFIX}{spec.name.upper()}: 应为 / expected {exc}, not {value!r}"
        ) from None
    bound = spec.metadata.get("ge")
    if bound is not None and converted < bound:
        raise SettingsError(
            f"{ENV_PREFIX}{spec.name.upper()}: 应不小于 / must be at least {bound}, "
            f"not {converted!r}"
        )
    return converted


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
