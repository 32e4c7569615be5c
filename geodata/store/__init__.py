"""The PostGIS store: importing layers all-or-nothing, bulk COPY, the audit log."""

from geodata.store.audit import write_audit
from geodata.store.importer import ImportReport, import_frame, import_layer, transaction

__all__ = ["ImportReport", "import_frame", "import_layer", "transaction", "write_audit"]
