"""Tables on paper (cityeye.documents): the embedded font and the shared table layout."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

from cityeye.documents import Sheet, cell_text, pdf_font, write_pdf, write_xlsx
from cityeye.documents.font import slices_for
from pdfcheck import unembedded_fonts


def pdf_text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def test_documents_with_different_characters_each_draw_their_own(tmp_path: Path) -> None:
    """Each document's font covers its own characters: a second document in the same
    process with other characters must not be drawn with the first one's glyphs (two
    merged fonts under one PostScript name did exactly that: boxes)."""
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_pdf(Sheet("甲乙丙", ["工单"], [["丁"]]), first)
    words = ["智慧消防", "烟感报警", "长征桥社区", "已派遣", "严重程度", "牵头处置"]
    write_pdf(Sheet("导出 · 工单", ["区域", "状态"], [[w, w[::-1]] for w in words]), second)
    for path, needed in ((first, ["甲乙丙", "丁"]), (second, words)):
        text = pdf_text(path)
        for word in needed:
            assert word in text, (path.name, word, text)
        assert "\x00" not in text  # no character fell to the missing glyph
        assert unembedded_fonts(path) == []


def test_a_character_the_font_lacks_is_drawn_as_a_box_and_nothing_fails(tmp_path: Path) -> None:
    rare = "\U0010fffd"  # a private-use character: no slice has it
    assert slices_for(rare) == slices_for("")
    out = tmp_path / "r.pdf"
    write_pdf(Sheet(f"名称{rare}", ["列"], [[f"值{rare}"]]), out)
    text = pdf_text(out)
    assert "名称" in text
    assert "值" in text
    assert unembedded_fonts(out) == []


def test_the_font_is_built_once_per_set_of_slices() -> None:
    assert pdf_font(["小河街道"]) == pdf_font(["街道小河"])
    assert pdf_font(["小河街道"]).startswith("cityeye-sans-")


def test_rates_read_as_percentages_and_hours_as_hours(tmp_path: Path) -> None:
    assert cell_text(0.5) == "50.0%"
    assert cell_text(3208.0, "hours") == "3,208.0"
    assert cell_text(None) == "—"
    # a score: at most two decimals, never a percentage, no "59.0" nor "-0"
    assert [cell_text(v, "points") for v in (35.56, 59.0, 100, -0.5, -0.0)] == [
        "35.56",
        "59",
        "100",
        "-0.5",
        "0",
    ]
    sheet = Sheet("标题", ["率", "小时"], [[0.25, 3208.0]], notes=["条件"], kinds={1: "hours"})
    buffer = io.BytesIO()
    write_xlsx(sheet, buffer)
    rows = list(load_workbook(buffer).active.iter_rows(values_only=True))
    assert rows[0][0] == "标题"
    assert rows[1][0] == "条件"
    assert rows[3] == ("率", "小时")
    cells = next(load_workbook(buffer).active.iter_rows(min_row=5, max_row=5))
    assert (cells[0].value, cells[0].number_format) == (0.25, "0.0%")
    assert (cells[1].value, cells[1].number_format) == (3208.0, "#,##0.0")
