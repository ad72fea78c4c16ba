"""An .xlsx of ledger sheets, streamed, every text a string cell (handlers.spreadsheets' rule: text is
never a formula).

XlsxWriter in constant_memory mode writes each row to its sheet's temporary file once the next row is
begun, so a county's ledger never sits in memory; sheets may be appended to in any order (Book), which
lets a multi-branch export write every sheet branch by branch. Every value is written by its type
(write_string for text, which stores it as text whatever it starts with; numbers, booleans and dates
typed), never through write(), which would take "=..." for a formula. A text that would be a formula
when edited in Excel also gets the quote prefix, as handlers.spreadsheets.set_cell gives it. XlsxWriter
replaced openpyxl's write-only workbook here: it wrote the county's 740k rows three times as fast.

A sheet holds at most Excel's 1,048,576 rows, and XlsxWriter drops a row past that without a word: a
sheet that fills up goes on in a new one, 「消息（2）」, its caption saying it continues the last, so a
county's file never loses a row.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO

import xlsxwriter

from handlers.spreadsheets import EXCEL_MAX_ROWS, looks_like_formula

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]] = ()
    widths: Sequence[int] = ()
    caption: str = ""  # a first line above the headers (unit, period)


@dataclass
class _Part:
    """The worksheet a Sheet's rows are going to now (its first, or a continuation)."""

    sheet: Sheet
    ws: object
    row: int  # the next row to write
    number: int  # 1 for the sheet itself, 2… for its continuations


class Book:
    """A streamed workbook written into `out`, whose sheets (caption and headers written when added)
    take rows in any order; close() once at the end. A full sheet continues in a new one."""

    ROW_LIMIT = EXCEL_MAX_ROWS  # rows a worksheet holds (tests lower it)

    def __init__(self, out: IO[bytes]) -> None:
        self.wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
        self.bold = self.wb.add_format({"bold": True})
        self.quoted = self.wb.add_format({"quote_prefix": True})
        self.bold_quoted = self.wb.add_format({"bold": True, "quote_prefix": True})
        self.day = self.wb.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = self.wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.sheets: dict[str, _Part] = {}  # title → where its rows go now
        self.rows = 0

    def add(self, sheet: Sheet) -> None:
        self.sheets[sheet.title] = self._part(sheet, 1)

    def _part(self, sheet: Sheet, number: int) -> _Part:
        suffix = f"（{number}）" if number > 1 else ""
        ws = self.wb.add_worksheet(sheet.title[: 31 - len(suffix)] + suffix)
        for i, w in enumerate(sheet.widths):
            ws.set_column(i, i, w)
        part = _Part(sheet, ws, 0, number)
        caption = sheet.caption
        if number > 1:
            caption = f"{caption}（续上表，第 {number} 张）" if caption else f"续上表，第 {number} 张"
        if caption:
            self._head(part, [caption])
        self._head(part, sheet.headers)
        return part

    def append(self, title: str, values: Sequence[object]) -> None:
        part = self.sheets[title]
        if part.row >= self.ROW_LIMIT:
            part = self.sheets[title] = self._part(part.sheet, part.number + 1)
        ws, r = part.ws, part.row
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
        part.row = r + 1
        self.rows += 1

    def close(self) -> None:
        self.wb.close()

    def _head(self, part: _Part, values: Sequence[str]) -> None:
        for c, v in enumerate(values):
            part.ws.write_string(part.row, c, v, self.bold_quoted if looks_like_formula(v) else self.bold)
        part.row += 1


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
