"""The trade documents' renderer: a prepared CJK face cut once under var/fonts/ draws documents
whose characters it has; any other character sends the document to the whole system font; the same
facts give the same bytes either way; no writable var/ means the system font, not a failure."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from geodata.trading import pdf
from tests.trading_support import embeds_cjk_font

LINES = [
    ("确认书编号 / confirmation", "渝农交成〔2026〕第000001号"),
    ("出让方 / transferor", "交易村集体经济组织 (500111980001)"),
    ("受让方(竞得人) / transferee", "冯投资有限公司"),
    ("面积 / area", "10000.00 m² (15.0000 亩 / mu)"),
    ("土地增值收益调节金 / adjustment fee", "360000.00 元 (20% × 1800000.00 元, 财税〔2016〕41号)"),
]


def test_common_documents_use_the_prepared_face_and_render_the_same_bytes():
    prepared = pdf.prepared_font()
    assert prepared is not None
    path, chars = prepared
    assert Path(path).parent.name == "fonts" and Path(path).stat().st_size < 4_000_000
    assert {ord(c) for c in "渝农交成确认书集体经济组织竞得人调节金²×〔〕"} <= chars
    texts = [t for line in LINES for t in line]
    assert pdf.document_font(texts) == (path, 0)
    first = pdf.render_document(pdf.CONFIRMATION, "X-1", "2026-06-01", LINES)
    started = time.process_time()
    again = pdf.render_document(pdf.CONFIRMATION, "X-1", "2026-06-01", LINES)
    cpu = time.process_time() - started
    assert first == again and embeds_cjk_font(first)
    assert cpu < 0.6, f"{cpu:.2f} s of CPU for one document with the prepared face"


def test_a_character_outside_the_prepared_face_uses_the_whole_system_font():
    rare = "堃"  # in GBK and in Noto CJK, not in GB 2312
    prepared = pdf.prepared_font()
    assert prepared is not None and ord(rare) not in prepared[1]
    lines = [*LINES, ("受让方 / transferee", f"王{rare}投资有限公司")]
    assert pdf.document_font([t for line in lines for t in line]) == pdf.cjk_font()
    drawn = pdf.render_document(pdf.CONFIRMATION, "X-2", "2026-06-01", lines)
    assert embeds_cjk_font(drawn)
    assert drawn == pdf.render_document(pdf.CONFIRMATION, "X-2", "2026-06-01", lines)


def test_no_writable_var_means_the_system_font(monkeypatch, tmp_path):
    from geodata.settings import Settings

    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where var/ should be")
    monkeypatch.setattr("geodata.settings.get_settings", lambda: Settings(var_dir=blocked))
    pdf.prepared_font.cache_clear()
    try:
        assert pdf.prepared_font() is None
        assert pdf.document_font(["成交确认书"]) == pdf.cjk_font()
        assert embeds_cjk_font(pdf.render_document(pdf.CONFIRMATION, "X-3", "2026-06-01", LINES))
    finally:
        pdf.prepared_font.cache_clear()


@pytest.mark.parametrize("kind", [pdf.CONFIRMATION, pdf.CERTIFICATE])
def test_both_documents_draw_their_fixed_text_with_the_prepared_face(kind):
    prepared = pdf.prepared_font()
    assert prepared is not None
    assert pdf.document_font([kind.heading, kind.heading_en, kind.note]) == (prepared[0], 0)
