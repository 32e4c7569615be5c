"""The one settings object: every configurable value, read from LANDMARKET_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "LANDMARKET_"


class Settings(BaseModel):
    """Platform settings; each field is LANDMARKET_<NAME> in the environment.

    Read as pydantic-settings did (prefix, names case-insensitive, keyword arguments first, values
    validated by the field types) but with pydantic alone: pydantic-settings costs every command
    about 0.25 s of imports (asyncio, its dotenv and cloud sources) for what is a dozen variables.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_environment(), **values})

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL the application connects with (the application role, no "
        "owner, no superuser); unset means the embedded cluster under var/.",
    )
    owner_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the role that owns the schema and runs migrations; unset "
        "means database_url when that is set (one role for both), else the embedded cluster's owner.",
    )
    test_database_url: str | None = Field(
        default=None,
        description="Server on which tests create their throwaway database; unset means the embedded one.",
    )
    var_dir: Path = Field(default=REPO_ROOT / "var", description="Runtime state: cluster, reports.")
    db_port: int = Field(
        default=55432,
        description="Preferred loopback port of the embedded cluster; when another program holds it, "
        "`db up` takes the next free one and records it in var/pg.port.",
    )
    db_name: str = "landmarket"
    db_user: str = Field(
        default="landmarket", description="Owner (and superuser) of the embedded cluster."
    )
    db_app_user: str = Field(
        default="landmarket_app",
        description="Application role of the embedded cluster (login, no superuser, owns nothing).",
    )
    sample_dir: Path = REPO_ROOT / "sample_parcels"
    policy_dir: Path | None = Field(
        default=None, description="Extra policy files that override the packaged ones."
    )
    basemap: str = Field(
        default="none",
        description="'none', 'osm', 'tianditu' (needs tianditu_token) or a local XYZ tile URL template.",
    )
    tianditu_token: str | None = None
    dask_scheduler: str | None = Field(
        default=None,
        description="dask.distributed scheduler (tcp://HOST:PORT) that screenings run on; "
        "unset: local worker processes.",
    )
    screen_workers: int | None = Field(
        default=None, ge=1, description="Local worker processes of a screening (default: cores)."
    )
    max_features: int = Field(
        default=5000, description="Largest FeatureCollection a request may post."
    )
    max_vertices: int = Field(
        default=100_000, description="Most vertices one imported geometry may have."
    )
    sliver_tolerance_m2: float | None = Field(
        default=None, description="Overrides the policy's sliver overlap tolerance when set."
    )
    attachment_max_bytes: int = Field(default=10_000_000, description="Largest listing attachment.")
    export_max_rows: int = Field(
        default=200_000, description="Most parcels one export may hold (narrow larger selections)."
    )
    max_request_bytes: int = Field(
        default=512 * 1024 * 1024,
        description="Largest request body; a bigger Content-Length (or stream) gets 413 unread.",
    )
    upload_dir: Path | None = Field(
        default=None,
        description="Root of the per-upload folders (default var/uploads); start-up removes "
        "folders that no live process holds, so point it at a directory used for nothing else.",
    )
    upload_max_unpacked_bytes: int = Field(
        default=1024 * 1024 * 1024,
        description="Most bytes the members of an uploaded zip unpack to.",
    )
    upload_max_ratio: float = Field(
        default=200.0,
        description="Highest compression ratio of a zip member of 1 MiB or more (zip bombs).",
    )
    upload_max_members: int = Field(default=1000, description="Most files in an uploaded zip.")
    token_ttl_days: int = Field(
        default=90, ge=1, description="Days a new API bearer token stays valid (`users token`)."
    )
    session_idle_minutes: int = Field(
        default=120, ge=1, description="A browser session ends after this long without a request."
    )
    session_max_hours: int = Field(
        default=12,
        ge=1,
        description="A browser session ends this long after sign-in, however busy.",
    )
    sign_in_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per username and address before a pause."
    )
    sign_in_window_minutes: int = Field(
        default=15, ge=1, description="Window over which failed sign-ins count, and the pause."
    )
    tile_max_features: int = Field(
        default=4000, description="Most features a vector tile draws before it aggregates honestly."
    )
    tile_max_age: int = Field(
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
    found = {}
    for key, value in os.environ.items():
        key = key.lower()
        if key.startswith(prefix) and key[len(prefix) :] in Settings.model_fields:
            found[key[len(prefix) :]] = value
    return found


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
