"""An .xlsx of ledger sheets, streamed, every text a string cell (handlers.spreadsheets' rule: text is
never a formula).

XlsxWriter in constant_memory mode writes each row to its sheet's temporary file once the next row is
begun, so a county's ledger never sits in memory; sheets may be appended to in any order (Book), which
lets a multi-branch export write every sheet branch by branch. Every value is written by its type
(write_string for text, which stores it as text whatever it starts with; numbers, booleans and dates
typed), never through write(), which would take "=..." for a formula. A text that would be a formula
when edited in Excel also gets the quote prefix, as handlers.spreadsheets.set_cell gives it. XlsxWriter
replaced openpyxl's write-only workbook here: it wrote the county's 740k rows three times as fast.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO

import xlsxwriter

from handlers.spreadsheets import looks_like_formula

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]] = ()
    widths: Sequence[int] = ()
    caption: str = ""  # a first line above the headers (unit, period)


class Book:
    """A streamed workbook written into `out`, whose sheets (caption and headers written when added)
    take rows in any order; close() once at the end."""

    def __init__(self, out: IO[bytes]) -> None:
        self.wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
        self.bold = self.wb.add_format({"bold": True})
        self.quoted = self.wb.add_format({"quote_prefix": True})
        self.bold_quoted = self.wb.add_format({"bold": True, "quote_prefix": True})
        self.day = self.wb.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = self.wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.sheets: dict[str, list] = {}  # title → [worksheet, next row]
        self.rows = 0

    def add(self, sheet: Sheet) -> None:
        ws = self.wb.add_worksheet(sheet.title[:31])
        for i, w in enumerate(sheet.widths):
            ws.set_column(i, i, w)
        state = [ws, 0]
        self.sheets[sheet.title] = state
        if sheet.caption:
            self._head(state, [sheet.caption])
        self._head(state, sheet.headers)

    def append(self, title: str, values: Sequence[object]) -> None:
        state = self.sheets[title]
        ws, r = state
        for c, v in enumerate(values):
            if isinstance(v, str):
                if v:
                    ws.write_string(r, c, v, self.quoted if looks_like_formula(v) else None)
            elif v is None:
                continue
            elif isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, int | float | Decimal):
                ws.write_number(r, c, v)
            elif isinstance(v, datetime):
                ws.write_datetime(r, c, v, self.moment)
            elif isinstance(v, date):
                ws.write_datetime(r, c, v, self.day)
            else:
                ws.write_string(r, c, str(v))
        state[1] = r + 1
        self.rows += 1

    def close(self) -> None:
        self.wb.close()

    def _head(self, state: list, values: Sequence[str]) -> None:
        ws, r = state
        for c, v in enumerate(values):
            ws.write_string(r, c, v, self.bold_quoted if looks_like_formula(v) else self.bold)
        state[1] = r + 1


def write_xlsx(out: IO[bytes], sheets: Iterable[Sheet]) -> int:
    """Each sheet in turn, its rows streamed into `out`; the number of rows written."""
    book = Book(out)
    for sheet in sheets:
        book.add(sheet)
        for row in sheet.rows:
            book.append(sheet.title, row)
    book.close()
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
