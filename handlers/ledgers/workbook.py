"""An .xlsx of ledger sheets: every cell through handlers.spreadsheets (text is never a formula), written
in openpyxl's write-only mode so rows go out as they come instead of being held as a sheet."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

from handlers.spreadsheets import set_cell, text_cells

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
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        for i, w in enumerate(sheet.widths):
            ws.column_dimensions[_letter(i)].width = w
        if sheet.caption:
            ws.append(_placed(_bold(ws, [sheet.caption])))
        ws.append(_placed(_bold(ws, sheet.headers)))
        for row in sheet.rows:
            ws.append(_placed(text_cells(ws, row)))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _placed(row: list) -> list:
    """Give each Cell its column: the write-only sheet first tries a Cell as a plain value, and the
    error it then formats needs the cell's coordinate."""
    for i, value in enumerate(row, start=1):
        if isinstance(value, Cell):
            value.column = i
    return row


def _bold(ws, values: Sequence[object]) -> list[Cell]:
    cells = []
    for v in values:
        cell = Cell(ws)
        set_cell(cell, v)
        cell.font = BOLD
        cells.append(cell)
    return cells


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def download_name(*parts: str, ext: str) -> str:
    """A file name for Content-Disposition: the parts joined, no path or quote characters."""
    name = "-".join(p for p in parts if p)
    for ch in '/\\:*?"<>|\r\n':
        name = name.replace(ch, "_")
    return f"{name}.{ext}"
