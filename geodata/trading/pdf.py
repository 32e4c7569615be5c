"""Trade documents as PDF — the transaction confirmation (成交确认书) and the verification
certificate (交易鉴证书) — through one renderer: fpdf2 with an embedded CJK font."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from landmarket.errors import LandmarketError

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

    path, index = cjk_font()
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
        pdf.cell(62, 8, str(label), border=1)
        pdf.multi_cell(0, 8, str(value), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 6, kind.note)
    return bytes(pdf.output())


def render_certificate(facts: dict[str, Any]) -> bytes:
    """The certificate PDF from its facts (cert_no, issued_on, label → value lines)."""
    return render_document(CERTIFICATE, facts["cert_no"], facts["issued_on"], facts["lines"])
