"""A parcel check's verdict as a PDF (A4 landscape, CJK font): every rule, value, threshold, source.

The caller passes the labels in the reader's language; the verdict is the dict of
`Verdict.to_dict()` (as `geodata.services.checks.run_check` returns it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geodata.trading.pdf import cjk_font

COLUMNS = (  # (key, width in mm) of the rules table; 277 mm fit an A4 landscape page
    ("title", 62), ("status", 22), ("value", 28), ("threshold", 28), ("unit", 18),
    ("source", 72), ("policy_version", 47),
)  # fmt: skip


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def render_verdict_pdf(
    verdict: dict[str, Any],
    parcel_code: str,
    labels: dict[str, str],
    word: Callable[[str], str] = str,
) -> bytes:
    """The PDF bytes; labels name the headings and columns, word() renders titles and statuses."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    path, index = cjk_font()
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(f"{labels['heading']} {parcel_code}")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    if path.endswith(".ttc"):
        pdf.add_font("cjk", fname=path, collection_font_number=index)
    else:
        pdf.add_font("cjk", fname=path)
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, f"{word(verdict['title'])} — {parcel_code}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    areas = " · ".join(f"{v} {k}" for k, v in sorted((verdict.get("areas") or {}).items()))
    for line in (
        f"{labels['verdict']}: {word(verdict['verdict'])}",
        f"{labels['policy_version']}: {verdict['policy_version']}  ·  "
        f"{labels['policy_date']}: {verdict['on']}",
        f"{labels['area']}: {areas}",
    ):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=8)
    with pdf.table(
        col_widths=[w for _k, w in COLUMNS],
        text_align="LEFT",
        line_height=4.5,
        headings_style=FontFace(emphasis="", fill_color=(230, 230, 230)),  # one CJK weight only
    ) as table:
        table.row([labels[key] for key, _w in COLUMNS])
        for rule in verdict.get("rules", []):
            cells = {
                "title": f"{word(rule['title'])}\n{rule['rule_id']}",
                "status": word(rule["status"]),
                "value": _text(rule.get("value")),
                "threshold": _text(rule.get("threshold")),
                "unit": _text(rule.get("unit")),
                "source": _text(rule.get("source")),
                "policy_version": _text(rule.get("policy_version")),
            }
            table.row([cells[key] for key, _w in COLUMNS])
    return bytes(pdf.output())
