"""Uploaded files on disk: one folder per upload under one root, streamed in chunks, with limits.

Every upload folder lives directly under the upload root and holds a ``.lock`` file that its
process keeps locked (flock) while the folder is in use. A folder whose lock nobody holds belongs
to a process that has ended, so start-up may remove it without asking which process made it.
Zip archives are checked against the limits from their directory before anything is extracted,
and members are then streamed to disk in chunks, counting the bytes actually written.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from geodata.settings import Settings
from landmarket.errors import InvalidInput, LandmarketError, RecordProblem

CHUNK = 1 << 20
LOCK_NAME = ".lock"
# A small member can have a huge ratio honestly (10 kB of blanks deflates to 30 bytes); the
# ratio limit only matters for members big enough to hurt.
RATIO_MIN_BYTES = 1 << 20
# A folder younger than this may be between its mkdir and its lock: never clean it.
STALE_AFTER_S = 60.0


class UploadTooLarge(LandmarketError):
    """An upload, or what it unpacks to, over a configured limit."""

    status = 413
    title = "文件过大 / Payload too large"

    def __init__(self, record: str, field: str, problem: str) -> None:
        super().__init__(f"{record}: {problem}")
        self.problems = [RecordProblem(record=record, problem=problem, field=field)]


@dataclass(frozen=True)
class UploadLimits:
    """How much an upload may hold: bytes sent, bytes unpacked, compression ratio, zip members."""

    max_bytes: int
    max_unpacked_bytes: int
    max_ratio: float
    max_members: int

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        """The limits configured in settings."""
        return cls(
            max_bytes=settings.max_request_bytes,
            max_unpacked_bytes=settings.upload_max_unpacked_bytes,
            max_ratio=settings.upload_max_ratio,
            max_members=settings.upload_max_members,
        )


def upload_root(settings: Settings) -> Path:
    """The one directory under which every upload folder is made."""
    return Path(settings.upload_dir or Path(settings.var_dir) / "uploads")


@contextlib.contextmanager
def upload_folder(root: Path) -> Iterator[Path]:
    """A fresh folder under root, locked while the block runs and removed afterwards."""
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    try:
        with open(folder / LOCK_NAME, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_uploads(root: Path, min_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove upload folders under root that no live process holds; returns what was removed."""
    if not root.is_dir():
        return []
    removed = []
    now = time.time()
    for entry in root.iterdir():
        try:
            if now - entry.lstat().st_mtime < min_age_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                if _held(entry / LOCK_NAME):
                    continue
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:  # another process (a second worker starting) cleaned it first
            continue
        removed.append(entry)
    return removed


def _held(lock_path: Path) -> bool:
    """Whether some process holds the folder's lock."""
    try:
        with open(lock_path, "r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except FileNotFoundError:
        return False


def save_stream(source: BinaryIO, target: Path, name: str, limit: int, already: int = 0) -> int:
    """Copy source to target in chunks; UploadTooLarge as soon as already + bytes > limit."""
    total = already
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise UploadTooLarge(name, "file", _over(total, limit, "上传 / upload"))
            out.write(chunk)
    return total - already


def extract_zip(archive_path: Path, folder: Path, limits: UploadLimits, name: str) -> list[Path]:
    """Members of a zip flattened into folder, refused before extraction when over the limits."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [m for m in archive.infolist() if _is_data(m)]
            check_zip_directory(members, limits, name)
            written, paths = 0, []
            for member in members:
                target = folder / _base(member)
                if target.exists():
                    raise _bad(f"{name}/{member.filename}", "zip 内文件重名 / duplicate file name")
                written = _extract_member(archive, member, target, limits, name, written)
                paths.append(target)
            return paths
    except zipfile.BadZipFile as exc:
        raise _bad(name, f"zip 文件损坏 / not a valid zip archive: {exc}") from exc
    except NotImplementedError as exc:  # compression method zipfile cannot read
        raise _bad(name, f"不支持的 zip 压缩方式 / unsupported zip compression: {exc}") from exc


def _base(member: zipfile.ZipInfo) -> str:
    return PurePath(member.filename.replace("\\", "/")).name


def _is_data(member: zipfile.ZipInfo) -> bool:
    """Files, not folders, hidden files or macOS resource forks (__MACOSX/, ._x, .DS_Store)."""
    if member.is_dir() or member.filename.startswith("__MACOSX/"):
        return False
    base = _base(member)
    return bool(base) and not base.startswith(".")


def check_zip_directory(members: list[zipfile.ZipInfo], limits: UploadLimits, name: str) -> None:
    """Refuse an archive from its directory alone: too many members, too big, too compressed."""
    if len(members) > limits.max_members:
        raise UploadTooLarge(
            name,
            "file",
            f"{len(members)} 个文件超过上限 {limits.max_members} / "
            f"{len(members)} members, over the limit of {limits.max_members}",
        )
    declared = 0
    for member in members:
        declared += member.file_size
        if declared > limits.max_unpacked_bytes:
            raise UploadTooLarge(
                f"{name}/{member.filename}",
                "file",
                _over(declared, limits.max_unpacked_bytes, "解压后 / unpacked"),
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_MIN_BYTES and ratio > limits.max_ratio:
            raise _bad(
                f"{name}/{member.filename}",
                f"压缩比 {ratio:.0f}:1 超过上限 {limits.max_ratio:g}:1，疑为压缩炸弹 / "
                f"compression ratio {ratio:.0f}:1 over the limit of {limits.max_ratio:g}:1 "
                "(a zip bomb?)",
            )


def _extract_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limits: UploadLimits,
    name: str, written: int,
) -> int:  # fmt: skip
    """Stream one member to target; the running total of bytes really unpacked so far."""
    record = f"{name}/{member.filename}"
    try:
        with archive.open(member) as src, open(target, "wb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > limits.max_unpacked_bytes:
                    raise UploadTooLarge(
                        record,
                        "file",
                        _over(written, limits.max_unpacked_bytes, "解压后 / unpacked"),
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _bad(record, f"zip 成员损坏 / corrupt member: {exc}") from exc
    return written


def _over(size: int, limit: int, what: str) -> str:
    return f"{what} 超过 {limit} 字节上限 / over the limit of {limit} bytes (at {size})"


def _bad(record: str, problem: str) -> InvalidInput:
    return InvalidInput([RecordProblem(record=record, problem=problem, field="file")])
