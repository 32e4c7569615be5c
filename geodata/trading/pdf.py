"""Trade documents as PDF — the transaction confirmation (成交确认书) and the verification
certificate (交易鉴证书) — through one renderer: fpdf2 with an embedded CJK font.

fpdf2 parses the whole font it is given for every document and subsets it on output: for the
65,535 glyphs of a Noto CJK face that is ~0.8 s of CPU a document. So the renderer draws with a
prepared face — the system font cut once to GB 2312 (its 6,763 hanzi and symbols) plus Latin and
CJK punctuation, without the layout tables fpdf2 does not use — cached under var/fonts/ and keyed
by the source font and fontTools' version (~0.2 s a document). A document with a character outside
it (a rare character in a name) is drawn with the whole system font, so the choice, and the bytes,
depend only on the document's text and the machine's font files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from landmarket.errors import LandmarketError

log = logging.getLogger(__name__)
PREPARED_VERSION = 1  # bump when the prepared face's characters or options change

# Debian's fonts-noto-cjk and fonts-wqy-zenhei (scripts/install-system-deps.sh installs one).
KNOWN_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)


class FontMissing(LandmarketError):
    """No CJK font to render Chinese in a PDF."""

    status = 500
    title = "缺少中文字体 / No CJK font"


@cache
def cjk_font() -> tuple[str, int]:
    """The path and collection index of a CJK font (fc-match first, then known paths)."""
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}", "sans-serif:lang=zh-cn"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        path, _, index = out.partition("|")
        if path and Path(path).exists() and ("CJK" in path or "wqy" in path.lower()):
            return path, int(index or 0)
    for path, index in KNOWN_FONTS:
        if Path(path).exists():
            return path, index
    raise FontMissing(
        "未找到中文字体, 请安装 fonts-noto-cjk 或 fonts-wqy-zenhei / no CJK font found: install "
        "fonts-noto-cjk or fonts-wqy-zenhei (scripts/install-system-deps.sh)"
    )


def _prepared_chars() -> set[int]:
    """GB 2312 (every character it encodes), Latin, general and CJK punctuation, full-width forms."""
    chars = {*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x2000, 0x2070),
             *range(0x2100, 0x2200), *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0)}  # fmt: skip
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


def _prepare(source: str, index: int, target: Path) -> None:
    """Cut the source face to the prepared characters and write it atomically to target."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    target.parent.mkdir(parents=True, exist_ok=True)  # fail before the long cut, not after
    font = TTFont(source, fontNumber=index, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []  # fpdf2 draws without shaping: no GSUB/GPOS lookups needed
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_prepared_chars())
    subsetter.subset(font)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(partial)
    os.replace(partial, target)  # another process preparing the same face writes the same file


@cache
def prepared_font() -> tuple[str, frozenset[int]] | None:
    """The prepared face's path and the characters it draws (built once per machine), or None
    when it cannot be written (then documents use the whole system font)."""
    from fontTools import version as fonttools_version
    from fontTools.ttLib import TTFont

    from geodata.settings import get_settings

    source, index = cjk_font()
    stat = Path(source).stat()
    key = f"{source}|{index}|{stat.st_size}|{stat.st_mtime_ns}|{fonttools_version}|"
    key += str(PREPARED_VERSION)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    target = get_settings().var_dir / "fonts" / f"cjk-{digest}.otf"
    try:
        if not target.exists():
            log.info("preparing the documents' CJK face %s from %s", target, source)
            _prepare(source, index, target)
        chars = frozenset(TTFont(target, lazy=True).getBestCmap())
    except OSError as exc:
        log.warning("no prepared CJK face (%s): documents use %s", exc, source)
        return None
    return str(target), chars


def document_font(texts: list[str]) -> tuple[str, int]:
    """The font (path, collection index) to draw these texts: the prepared face when it has
    every character, else the whole system font."""
    prepared = prepared_font()
    needed = {ord(c) for t in texts for c in t if not c.isspace()}
    if prepared is not None and needed <= prepared[1]:
        return prepared[0], 0
    return cjk_font()


@dataclass(frozen=True)
class DocumentKind:
    """What a trade document is called and where its number and SHA-256 are verified."""

    title: str  # in the PDF's metadata, before the number
    heading: str
    heading_en: str
    note: str  # the verification line under the table


CERTIFICATE = DocumentKind(
    "交易鉴证书",
    "农村产权交易鉴证书",
    "Verification certificate of a rural property rights transaction",
    "本证书可凭编号与 SHA-256 摘要在平台核验 / verify this certificate on the platform with "
    "its number and the SHA-256 digest of this file: GET /api/v1/certificates/verify",
)
CONFIRMATION = DocumentKind(
    "成交确认书",
    "成交确认书",
    "Transaction confirmation",
    "本确认书可凭编号与 SHA-256 摘要在平台核验 / verify this confirmation on the platform with "
    "its number and the SHA-256 digest of this file: GET /api/v1/confirmations/verify",
)


def render_document(kind: DocumentKind, number: str, issued_on: str, lines: Any) -> bytes:
    """A trade document's PDF (A4, embedded CJK font): heading, a label → value table, the note.

    Same kind, number, date and lines → the same layout; the creation date is the issue date.
    """
    from fpdf import FPDF

    lines = [(str(label), str(value)) for label, value in lines]
    texts = [kind.heading, kind.heading_en, kind.note, *(t for line in lines for t in line)]
    path, index = document_font(texts)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.fromisoformat(issued_on).replace(tzinfo=UTC))
    pdf.set_title(f"{kind.title} {number}")
    pdf.add_page()
    if path.endswith(".ttc"):
        pdf.add_font("cjk", fname=path, collection_font_number=index)
    else:
        pdf.add_font("cjk", fname=path)
    pdf.set_font("cjk", size=20)
    pdf.cell(0, 14, kind.heading, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, kind.heading_en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for label, value in lines:
        pdf.set_font("cjk", size=10)
        pdf.cell(62, 8, label, border=1)
        pdf.multi_cell(0, 8, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 6, kind.note)
    return bytes(pdf.output())


def render_certificate(facts: dict[str, Any]) -> bytes:
    """The certificate PDF from its facts (cert_no, issued_on, label → value lines)."""
    return render_document(CERTIFICATE, facts["cert_no"], facts["issued_on"], facts["lines"])
