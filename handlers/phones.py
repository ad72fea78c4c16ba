"""One way to read a mainland mobile number, for every import and anything else that reads a phone.

People are matched by phone (roster, fee and observer imports), so two spellings of one number must
come out the same: 138-0000-0003, +86 138 0000 0003, 0086 13800000003, （138）00000003 and the
spreadsheet number 13800000003.0 are all 13800000003, the form the roster stores.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
# Separators people type inside a number: spaces (NBSP and ideographic too), hyphens and dashes as
# Word and IMEs produce them, dots, brackets. NFKC has already folded full-width forms.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−.()\[\]（）]")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        # A number cell: Excel hands 13800000003 back as 13800000003.0.
        return str(int(value))
    if isinstance(value, datetime):
        return ""
    # NFKC: full-width digits and signs (１３８, ＋８６) typed with a Chinese IME become ASCII.
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalize_phone(value: object) -> str | None:
    """The canonical 11-digit number, or None when the value is not a mainland mobile number."""
    raw = _SEPARATORS.sub("", _cell_text(value))
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086") and len(raw) == 15:
        raw = raw[4:]
    elif raw.startswith("86") and len(raw) == 13:
        raw = raw[2:]
    # ASCII digits only: \d would also take other scripts' digits and store them.
    return raw if _MOBILE.match(raw) else None
