"""An .xlsx of ledger sheets, streamed: every cell through handlers.spreadsheets (text is never a formula).

openpyxl's write-only workbook writes each row to its sheet's temporary file as it is appended, so a
county's ledger never sits in memory; sheets may be appended to in any order (Book), which lets a
multi-branch export write every sheet branch by branch. A write-only sheet takes a prepared cell only
after failing to store it as a value (an exception per cell, which once cost more than the whole
export), so a row's values go in as they are and a prepared cell is made only where the value itself
would not be a plain text cell: a text that starts like a formula or reads as an error code (rare).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from handlers.spreadsheets import looks_like_formula, set_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BOLD = Font(bold=True)


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]] = ()
    widths: Sequence[int] = ()
    caption: str = ""  # a first line above the headers (unit, period)


class Book:
    """A write-only workbook whose sheets (caption and headers written when added) take rows in any
    order; save() once at the end."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.sheets: dict[str, object] = {}
        self.rows = 0

    def add(self, sheet: Sheet) -> None:
        ws = self.wb.create_sheet(sheet.title[:31])
        for i, w in enumerate(sheet.widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = w
        self.sheets[sheet.title] = ws
        if sheet.caption:
            ws.append([self._bold(ws, sheet.caption)])
        ws.append([self._bold(ws, h) for h in sheet.headers])

    def append(self, title: str, values: Sequence[object]) -> None:
        ws = self.sheets[title]
        ws.append([self._text(ws, v) if isinstance(v, str) else v for v in values])
        self.rows += 1

    def save(self, out: IO[bytes]) -> None:
        self.wb.save(out)

    @staticmethod
    def _text(ws, value: str) -> object:
        if not (looks_like_formula(value) or value in ERROR_CODES):
            return value  # stored as a string cell as it is
        cell = WriteOnlyCell(ws)
        set_cell(cell, value)
        return cell

    @staticmethod
    def _bold(ws, value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws)
        set_cell(cell, value)
        cell.font = BOLD
        return cell


def write_xlsx(out: IO[bytes], sheets: Iterable[Sheet]) -> int:
    """Each sheet in turn, its rows streamed into `out`; the number of rows written."""
    book = Book()
    for sheet in sheets:
        book.add(sheet)
        for row in sheet.rows:
            book.append(sheet.title, row)
    book.save(out)
    return book.rows


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, sheets)
    return out.getvalue()


def download_name(*parts: str, ext: str) -> str:
    """A file name for Content-Disposition: the parts joined, no path or quote characters."""
    name = "-".join(p for p in parts if p)
    for ch in '/\\:*?"<>|\r\n':
        name = name.replace(ch, "_")
    return f"{name}.{ext}"
