"""Listing attachments on disk under var/attachments: photos (public) and PDF documents.

The type is read from the file's own first bytes, not from what the client declares; a file that
is not a JPEG, PNG, WebP or PDF, or is larger than the limit, is refused before it is stored. The
upload is streamed in chunks to a staging folder, never held whole in memory.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.listings.repository import ENTITY, load
from geodata.listings.tables import ListingAttachment
from geodata.listings.views import Viewer, attachment_view, role_of
from geodata.store import write_audit
from landmarket.errors import InvalidInput, LandmarketError, NotFound, RecordProblem
from landmarket.listings import Action, State
from landmarket.listings import permissions as perm

# content type → (file suffix, kind)
TYPES = {
    "image/jpeg": (".jpg", "photo"),
    "image/png": (".png", "photo"),
    "image/webp": (".webp", "photo"),
    "application/pdf": (".pdf", "document"),
}


class UnsupportedMedia(LandmarketError):
    """An attachment that is not one of the accepted file types."""

    status = 415
    title = "不支持的文件类型 / Unsupported media type"


class TooLarge(LandmarketError):
    """An attachment over the size limit."""

    status = 413
    title = "文件过大 / Payload too large"


def sniff(head: bytes) -> str | None:
    """The content type a file's first bytes prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def add_attachment(
    session: Session,
    root: Path,
    listing_id: int,
    filename: str,
    source: BinaryIO,
    viewer: Viewer,
    max_bytes: int,
    declared_type: str | None = None,
    staging: Path | None = None,
) -> dict:
    """Store a file for a live listing of the collective's own village; returns its metadata."""
    row = load(session, listing_id, lock=True)
    role = role_of(viewer)
    perm.require_visible(role, viewer.village_code, row.village_code, row.state, str(listing_id))
    perm.require_action(role, viewer.village_code, row.village_code, Action.edit)
    if row.state not in (State.draft, State.published, State.under_offer):
        raise InvalidInput([RecordProblem(f"listing {listing_id}", "挂牌已关闭 / closed", "state")])
    staging = staging or root
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=staging, suffix=".part", delete=False) as tmp:
        part = Path(tmp.name)
    try:
        return _store(session, root, listing_id, filename, source, part, viewer, max_bytes,
                      declared_type)  # fmt: skip
    finally:
        part.unlink(missing_ok=True)


def _store(
    session: Session, root: Path, listing_id: int, filename: str, source: BinaryIO, part: Path,
    viewer: Viewer, max_bytes: int, declared_type: str | None,
) -> dict:  # fmt: skip
    """Stream source to part (size limit, digest), check its type, move it into place, record it."""
    digest_of = hashlib.sha256()
    size, head = 0, b""
    with open(part, "wb") as out:
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(
                    f"{filename}: 超过 {max_bytes} 字节上限 / over the limit of {max_bytes} bytes"
                )
            head += chunk[: 16 - len(head)]
            digest_of.update(chunk)
            out.write(chunk)
    if not size:
        raise InvalidInput([RecordProblem(filename, "空文件 / empty file", "file")])
    content_type = sniff(head)
    if content_type is None:
        raise UnsupportedMedia(
            f"{filename}: 只接受 JPEG、PNG、WebP 照片和 PDF 文件 / only JPEG, PNG, WebP or PDF"
        )
    if declared_type and declared_type.split(";")[0].strip() not in (
        content_type,
        "application/octet-stream",
    ):
        raise UnsupportedMedia(
            f"{filename}: 声明为 {declared_type}, 实为 {content_type} / declared {declared_type} "
            f"but the file is {content_type}"
        )
    suffix, kind = TYPES[content_type]
    digest = digest_of.hexdigest()
    relative = Path(str(listing_id)) / f"{digest}{suffix}"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_suffix(target.suffix + ".part")
        shutil.move(part, tmp)  # a rename when staging shares the file system
        tmp.replace(target)  # atomic: a reader never sees half a file
    att = ListingAttachment(
        listing_id=listing_id, kind=kind, filename=Path(filename).name[:200] or "file",
        content_type=content_type, size_bytes=size, sha256=digest, path=str(relative),
        created_by=viewer.actor,
    )  # fmt: skip
    session.add(att)
    session.flush()
    write_audit(session, viewer.actor, "listing.attach", ENTITY, listing_id,
                {"attachment": att.id, "kind": kind, "sha256": digest, "bytes": size})  # fmt: skip
    return attachment_view(att)


def open_attachment(
    session: Session, root: Path, listing_id: int, attachment_id: int, viewer: Viewer
) -> tuple[Path, ListingAttachment]:
    """(file path, metadata) when the viewer may read it: photos with the listing, documents owner-only."""
    row = load(session, listing_id)
    role = role_of(viewer)
    perm.require_visible(role, viewer.village_code, row.village_code, row.state, str(listing_id))
    att = session.execute(
        select(ListingAttachment).where(
            ListingAttachment.id == attachment_id, ListingAttachment.listing_id == listing_id
        )
    ).scalar_one_or_none()
    owner = role == perm.BUREAU or perm.is_owner(role, viewer.village_code, row.village_code)
    if att is None or (att.kind == "document" and not owner):
        raise NotFound(f"附件不存在 / no attachment {attachment_id} on listing {listing_id}")
    return root / att.path, att
