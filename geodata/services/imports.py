"""Uploaded parcel files into the store: save, import all-or-nothing, enforce the village rule.

Shared by the API's upload endpoint and the workbench's import page; an upload is anything with
a `filename` and a binary `file` (FastAPI's and Starlette's UploadFile both are).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import IO, Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.formats import EXTENSIONS
from geodata.formats.sources import gather_filegdb
from geodata.settings import Settings, get_settings
from geodata.store import import_layer
from geodata.store.importer import ReadOptions
from geodata.uploads import UploadLimits, extract_zip, save_stream, upload_folder, upload_root
from landmarket.access import Principal, Role
from landmarket.errors import Forbidden, InvalidInput, RecordProblem

# Shapefile first: its .dbf/.shx/.prj/.cpg siblings are uploaded alongside it.
MAIN_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".txt")
OFFENDERS_SHOWN = 20

# Parcels of this batch that are not the collective's: coded for another village, or lying
# outside its boundary (point on surface, so shared edges do not count).
OUTSIDE_VILLAGE_SQL = text(
    """
    SELECT p.parcel_code, p.village_code
    FROM parcels p LEFT JOIN villages v ON v.code = :village
    WHERE p.batch_id = :batch
      AND (p.village_code IS DISTINCT FROM :village
           OR v.boundary IS NULL
           OR NOT ST_Intersects(v.boundary, ST_PointOnSurface(p.geom)))
    ORDER BY p.parcel_code
    """
)


class UploadFile(Protocol):
    """One uploaded file: its client-side name and its binary stream."""

    filename: str | None
    file: IO[bytes]


def _bad(record: str, problem: str, field: str = "file") -> InvalidInput:
    return InvalidInput([RecordProblem(record=record, problem=problem, field=field)])


def save_uploads(files: list[UploadFile], folder: Path, limits: UploadLimits) -> Path:
    """Stream the uploaded files (or the members of .zip files) to folder; return the main file."""
    total = 0
    for i, upload in enumerate(files):
        name = PurePath((upload.filename or "").replace("\\", "/")).name
        if not name or name.startswith("."):
            raise _bad("upload", "文件名为空或无效 / a file has no usable name")
        is_zip = name.lower().endswith(".zip")
        target = folder / (f".zip-{i}" if is_zip else name)  # members never start with "."
        if target.exists():
            raise _bad(name, "文件重名 / two files have the same name")
        size = save_stream(upload.file, target, name, limits.max_bytes, total)
        total += size
        if size == 0:
            raise _bad(name, "文件为空 / the file is empty")
        if is_zip:
            extract_zip(target, folder, limits, name)
            target.unlink()
    gdb = gather_filegdb(folder)  # a zipped .gdb arrives flattened: give it its folder back
    if gdb is not None:
        return gdb
    candidates = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    for suffix in MAIN_SUFFIXES:
        found = [p for p in candidates if p.suffix.lower() == suffix]
        if len(found) > 1:
            raise _bad(found[1].name, f"一次只能导入一个{suffix}文件 / one {suffix} file at a time")
        if found:
            return found[0]
    exts = ", ".join(sorted(EXTENSIONS))
    raise _bad("upload", f"未找到可导入的文件 / no importable file ({exts}, or a .zip of them)")


def check_own_village(session: Session, batch_id: int, village: str) -> None:
    """Forbidden (listing the parcels) unless every parcel of the batch is the collective's."""
    rows = session.execute(OUTSIDE_VILLAGE_SQL, {"batch": batch_id, "village": village}).all()
    if not rows:
        return
    exc = Forbidden(
        f"村集体只能导入本村宗地 / a collective may only import parcels of its own village "
        f"{village}: {len(rows)} parcel(s) are not"
    )
    exc.problems = [
        RecordProblem(
            record=f"parcel {code}",
            field="village_code",
            problem=f"属于 {other or '—'} 或位于本村界外 / coded for {other or 'no village'} "
            f"or outside village {village}",
        )
        for code, other in rows[:OFFENDERS_SHOWN]
    ]
    raise exc


def import_parcels_upload(
    session: Session,
    files: list[UploadFile],
    user: Principal,
    village: str | None = None,
    zone: int | None = None,
    settings: Settings | None = None,
    options: ReadOptions | None = None,
) -> dict[str, Any]:
    """Import uploaded parcels for a bureau (any village) or a collective (its own only)."""
    settings = settings or get_settings()
    if user.role is Role.collective:
        village = village or user.village_code
        user.require_village(village)
    with upload_folder(upload_root(settings)) as folder:
        try:
            path = save_uploads(files, folder, UploadLimits.of(settings))
            try:
                report = import_layer(
                    session, path, "parcels", village=village, zone=zone, actor=user.actor,
                    options=options,
                )  # fmt: skip
            except InvalidInput as exc:  # name the upload, never our temporary folder
                exc.source = path.name
                for p in exc.problems:
                    p.record = p.record.replace(f"{folder}/", "")
                    p.problem = p.problem.replace(f"{folder}/", "")
                raise
            if user.role is Role.collective:
                check_own_village(session, report.batch_id, village)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return report.as_dict()
