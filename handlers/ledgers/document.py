"""What the ledgers' Word files share: an A4 page with the Chinese fonts set, headings, tables and
key-value tables, and the time format (the 纪实台账 and the 观察员台账 print alike)."""

from __future__ import annotations

import io
from datetime import datetime, tzinfo

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

FONT = "宋体"
HEADING_FONT = "黑体"


def when(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def a4_document():
    """A new document on A4 with the ledgers' margins and fonts."""
    doc = Document()
    _fonts(doc)
    for section in doc.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin = section.bottom_margin = Cm(2.0)
    return doc


def docx_bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _fonts(doc) -> None:
    for name, font in (("Normal", FONT), ("Title", HEADING_FONT), ("Heading 1", HEADING_FONT),
                       ("Heading 2", HEADING_FONT), ("Heading 3", HEADING_FONT)):  # fmt: skip
        style = doc.styles[name]
        style.font.name = font
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), font)
    doc.styles["Normal"].font.size = Pt(11)


class Styles:
    """The style ids, looked up once and set on the XML: python-docx resolves every style it is given
    (by name or object) by scanning all the styles, which made a branch's year spend half its time there."""

    def __init__(self, doc) -> None:
        self.grid = doc.styles["Table Grid"].style_id
        self.h = {n: doc.styles[f"Heading {n}"].style_id for n in (1, 2, 3)}


def heading(doc, styles: Styles, text: str, level: int) -> None:
    doc.add_paragraph(text)._p.style = styles.h[level]


def _fill(table, rows: list[list[str]], bold_first_row: bool = False, bold_first_col: bool = False) -> None:
    for i, (tr, values) in enumerate(zip(table.rows, rows, strict=True)):
        for j, (cell, v) in enumerate(zip(tr.cells, values, strict=True)):
            run = cell.paragraphs[0].add_run(str(v))
            if (bold_first_row and i == 0) or (bold_first_col and j == 0):
                run.bold = True


def table(doc, styles: Styles, headers: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=len(rows) + 1, cols=len(headers))
    table._tbl.tblStyle_val = styles.grid
    _fill(table, [headers, *rows], bold_first_row=True)


def kv(doc, styles: Styles, pairs: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=len(pairs), cols=2)
    table._tbl.tblStyle_val = styles.grid
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Cm(3.2), Cm(13.4)
    _fill(table, [list(p) for p in pairs], bold_first_col=True)
