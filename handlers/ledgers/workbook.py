"""An .xlsx of ledger sheets: every cell through handlers.spreadsheets (text is never a formula)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from handlers.spreadsheets import set_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BOLD = Font(bold=True)


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]]
    widths: Sequence[int] = ()
    caption: str = ""  # a first line above the headers (unit, period)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """Every value goes through handlers.spreadsheets.set_cell (text is a string cell, never a formula
    or an error code). A regular workbook rather than a write-only one: openpyxl's write-only sheet
    takes a prepared cell only after failing to store it as a value, an exception per text cell that
    cost more than the whole export."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        for i, w in enumerate(sheet.widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = w
        r = 0
        for bold, values in _lines(sheet):
            r += 1
            for c, v in enumerate(values, start=1):
                if v is None:
                    continue
                cell = ws.cell(row=r, column=c)
                set_cell(cell, v)
                if bold:
                    cell.font = BOLD
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _lines(sheet: Sheet) -> Iterator[tuple[bool, Sequence[object]]]:
    if sheet.caption:
        yield True, [sheet.caption]
    yield True, sheet.headers
    for row in sheet.rows:
        yield False, row


def download_name(*parts: str, ext: str) -> str:
    """A file name for Content-Disposition: the parts joined, no path or quote characters."""
    name = "-".join(p for p in parts if p)
    for ch in '/\\:*?"<>|\r\n':
        name = name.replace(ch, "_")
    return f"{name}.{ext}"
