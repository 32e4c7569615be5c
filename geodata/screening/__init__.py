"""Batch screening of stored or file parcels: the orchestrator, report files, stored results, jobs.

Names are loaded on first use: geodata.db.tables imports geodata.screening.tables to register
the job table, and an eager import of the runner here would import geodata.context back.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_inputs": "inputs",
    "stored_parcels": "inputs",
    "MEDIA_TYPES": "reports",
    "REPORT_FILES": "reports",
    "ScreenResult": "runner",
    "parse_checks": "runner",
    "run_screen": "runner",
    "orchestrate": "orchestrate",
    "screen_partitioned": "orchestrate",
    "DbSource": "sources",
    "db_source": "sources",
    "file_context": "sources",
    "file_source": "sources",
    "needs_of": "sources",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
