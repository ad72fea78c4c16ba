"""Reading one spreadsheet cell: the one way the roster, fee and observer imports read a value.

A cell arrives as the file holds it (handlers.spreadsheets: str, int, float, datetime, None) and a
value typed by hand arrives in many spellings. Each reader here takes either and gives one canonical
value, or raises CellError (a ValueError) for a non-empty cell it cannot read; an empty cell is ""
or None, so each import decides whether the column is required and words its own Chinese message.

- text: the cell as text, as typed. Names of people and units are kept exactly (no NFKC): they are
  matched against what the roster stored, and a full-width bracket in 城关镇（一）党支部 is part of the
  name.
- phone: handlers.phones.normalize_phone, the canonical 11-digit mobile number.
- day: a date cell, or 2026-11-06, 2026/11/6, 2026.11.6, 2026年11月6日, 20261106.
- amount: yuan with at most two decimals (分), 4500, 4,500.00, 4500元, full-width digits; never
  negative; `positive` refuses 0 too.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from handlers.phones import normalize_phone

__all__ = ["CellError", "amount", "day", "is_blank", "phone", "text"]

_DAY_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_CENT = Decimal("0.01")


class CellError(ValueError):
    """A non-empty cell that is not what its column holds; the message is the cell's text."""


def text(value: object) -> str:
    """The cell as text: "" for empty, 13800000003 for the number cell 13800000003.0, 2026-11-06 for a
    date cell, otherwise the value as typed without surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def is_blank(value: object) -> bool:
    return text(value) == ""


def _folded(value: object) -> str:
    # NFKC for values that are numbers at heart: full-width digits and signs typed with a Chinese IME.
    return unicodedata.normalize("NFKC", text(value)).strip()


def phone(value: object) -> str | None:
    """The canonical mobile number; None for an empty cell; CellError for anything else."""
    if is_blank(value):
        return None
    found = normalize_phone(value)
    if found is None:
        raise CellError(text(value))
    return found


def day(value: object) -> date | None:
    """The date in the cell; None for an empty cell; CellError for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    typed = _folded(value)
    if not typed:
        return None
    for pattern in _DAY_PATTERNS:
        m = pattern.match(typed)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise CellError(text(value))


def amount(value: object, *, positive: bool = False) -> Decimal | None:
    """An amount in yuan; None for an empty cell; CellError for anything that is not a non-negative
    (with `positive`, a greater-than-zero) amount with at most two decimals."""
    typed = _folded(value).replace(",", "").removesuffix("元").strip()
    if not typed:
        return None
    try:
        found = Decimal(typed)
    except InvalidOperation:
        raise CellError(text(value)) from None
    if not found.is_finite():
        raise CellError(text(value))
    try:
        cents = found.quantize(_CENT)  # InvalidOperation for a magnitude no money has
    except InvalidOperation:
        raise CellError(text(value)) from None
    if found < 0 or (positive and found == 0) or found != cents:
        raise CellError(text(value))
    return cents
