"""The PostGIS store: importing layers all-or-nothing, bulk COPY, the audit log."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geodata.store.audit import write_audit
    from geodata.store.importer import ImportReport, import_frame, import_layer, transaction

# Loaded on first use, so that `geodata.store.audit` (users, listings) does not pull in the
# importer's geopandas, rasterio and file formats.
_EXPORTS = {
    "write_audit": "geodata.store.audit",
    "ImportReport": "geodata.store.importer",
    "import_frame": "geodata.store.importer",
    "import_layer": "geodata.store.importer",
    "transaction": "geodata.store.importer",
}

__all__ = ["ImportReport", "import_frame", "import_layer", "transaction", "write_audit"]


def __getattr__(name: str) -> Any:
    """The exported name from its module, imported now."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
