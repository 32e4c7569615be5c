"""Batch screening of stored or file parcels: chunked runs, report files, background jobs."""

from geodata.screening.inputs import check_inputs, stored_parcels
from geodata.screening.reports import MEDIA_TYPES, REPORT_FILES
from geodata.screening.runner import (
    DEFAULT_CHUNK,
    ScreenResult,
    parse_checks,
    run_screen,
    screen_chunks,
)
from geodata.screening.sources import db_contexts, file_context, file_contexts, needs_of

__all__ = [
    "DEFAULT_CHUNK",
    "MEDIA_TYPES",
    "REPORT_FILES",
    "ScreenResult",
    "check_inputs",
    "db_contexts",
    "file_context",
    "file_contexts",
    "needs_of",
    "parse_checks",
    "run_screen",
    "screen_chunks",
    "stored_parcels",
]
