"""Spreadsheets in and out, for every feature: formula-safe cells in exports, read back unchanged.

Writing. A cell whose text begins with = + - @ (or a tab or carriage return) is a formula to Excel and
LibreOffice when it comes from a .csv, and a formula in an .xlsx when openpyxl stores it as one (it does so
for any string starting with "="). Exports therefore write text as text (OWASP, "CSV Injection"):
- .xlsx: every string is a string cell (data type "s"), never a formula, with the quote-prefix style on the
  risky ones so that editing the cell in Excel keeps it text. The text itself is unchanged.
- .csv: a risky text gets a leading single quote ("'=1+1"). The import takes it off again, so
  export → import changes nothing. The rule is a bijection: a quote is added exactly when the text,
  after any leading quotes, starts with a risky character, and removed exactly when one is found there.
  Numbers are written as numbers ("-2" stays -2): a number is never a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

_RISKY = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(f"'*[{re.escape(_RISKY)}]")
_QUOTED = re.compile(f"'+[{re.escape(_RISKY)}]")


def looks_like_formula(text: str) -> bool:
    return bool(text) and text[0] in _RISKY


def csv_text(text: str) -> str:
    """The text as a .csv field that Excel shows as text: a leading quote where it would start a formula."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def from_csv_text(text: str) -> str:
    """Undo csv_text."""
    return text[1:] if _QUOTED.match(text) else text


def csv_value(value: object) -> str:
    """Any exported value as a .csv field: numbers as written, text through csv_text, None as empty."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return csv_text(str(value))


def set_cell(cell, value: object) -> None:
    """Put a value into an openpyxl cell; text is always a string cell, never a formula or an error code."""
    cell.value = value
    if isinstance(value, str):
        _as_text(cell, value)


def text_cells(ws, values: Iterable[object]) -> list[object]:
    """A row for ws.append() in which every text is a string cell (see set_cell)."""
    from openpyxl.cell.cell import Cell

    row: list[object] = []
    for value in values:
        if isinstance(value, str) and value:
            cell = Cell(ws, value=value)
            _as_text(cell, value)
            row.append(cell)
        else:
            row.append(value)
    return row


def _as_text(cell, value: str) -> None:
    cell.data_type = "s"
    if looks_like_formula(value):
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited
