"""Reading and writing roster files: .xlsx (openpyxl) and .csv (UTF-8 with BOM, so Excel opens it).

Cells come back as the file holds them (str, int, float, datetime, None); the importer normalises.
Both directions go through handlers.spreadsheets: text is written as text, never as a formula, and read
back unchanged; reading is bounded (rows, columns, cell size, unpacked size).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from handlers.roster import texts as T
from handlers.spreadsheets import SheetError, csv_value, read_csv, read_xlsx, set_cell


class RosterFileError(ValueError):
    """The file cannot be read at all (wrong type, missing, corrupt); the message is Chinese."""


@dataclass
class RawRow:
    number: int  # the row number the user sees in Excel (the header is row 1)
    cells: dict[str, object]


def read_roster(path: Path) -> tuple[list[str], list[RawRow]]:
    """(headers, non-empty data rows) of the roster sheet or the CSV file."""
    path = Path(path)
    if not path.exists():
        raise RosterFileError(T.E["not_found"].format(path=path))
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise RosterFileError(T.E["unsupported"].format(suffix=suffix or "无扩展名"))
    try:
        if suffix == ".xlsx":
            table = read_xlsx(path, T.SHEET_ROSTER, otherwise="first")
        else:
            table = read_csv(path)
    except SheetError as exc:
        raise RosterFileError(str(exc)) from None
    headers = [str(h).strip() if h is not None else "" for h in table.header]
    rows = []
    for number, values in table.rows:
        cells = {h: values[i] if i < len(values) else None for i, h in enumerate(headers) if h}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue
        rows.append(RawRow(number, cells))
    return headers, rows


# Writing


_TEXT_COLUMNS = {T.PHONE, T.DINGTALK, T.WECOM, T.SEQ}
_WIDTHS = {T.COMMITTEE: 20, T.GENERAL_BRANCH: 16, T.BRANCH: 22, T.NAME: 10, T.PHONE: 14, T.JOINED: 12, T.EXEMPT: 22, T.ROLES: 26, T.DINGTALK: 16, T.WECOM: 16}  # fmt: skip


def write_roster(path: Path, rows: list[dict[str, object]], *, notes: bool = True) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _write_csv(path, rows)
    elif suffix == ".xlsx":
        _write_xlsx(path, rows, notes=notes)
    else:
        raise RosterFileError(T.E["unsupported"].format(suffix=suffix or "无扩展名"))


def _csv_value(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.strftime("%Y-%m-%d")
    return csv_value(value)


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(T.HEADERS)
        for row in rows:
            writer.writerow([_csv_value(row.get(h)) for h in T.HEADERS])


def _write_xlsx(path: Path, rows: list[dict[str, object]], *, notes: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from models.org import BRANCH_CATEGORY_LABELS, FEE_CATEGORY_LABELS, MEMBER_STATUS_LABELS

    wb = Workbook()
    ws = wb.active
    ws.title = T.SHEET_ROSTER
    ws.append(T.HEADERS)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
    ws.freeze_panes = "A2"
    columns = {h: get_column_letter(i + 1) for i, h in enumerate(T.HEADERS)}
    for header, letter in columns.items():
        ws.column_dimensions[letter].width = _WIDTHS.get(header, 10)
    grey = Font(color="808080", italic=True)
    for r, row in enumerate(rows, start=2):
        for c, header in enumerate(T.HEADERS, start=1):
            value = row.get(header)
            if value == "" or value is None:
                continue
            cell = ws.cell(row=r, column=c)
            if header in _TEXT_COLUMNS:
                # Text, or Excel turns phone numbers and long numeric userIds into 1.39E+10.
                set_cell(cell, str(value))
                cell.number_format = "@"
            elif isinstance(value, Decimal):
                cell.value = float(value) if value != value.to_integral() else int(value)
            else:
                set_cell(cell, value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if row.get(T.SEQ) == T.EXAMPLE_MARK:
                cell.font = grey
    # Drop-down lists where the values are fixed; Excel still accepts pasted text, the import checks it.
    last = max(len(rows) + 1, 2000)
    for header, values in (
        (T.CATEGORY, BRANCH_CATEGORY_LABELS.values()),
        (T.STATUS, MEMBER_STATUS_LABELS.values()),
        (T.FEE_CATEGORY, FEE_CATEGORY_LABELS.values()),
        (T.MOBILE, (T.YES, T.NO)),
    ):
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
        dv.add(f"{columns[header]}2:{columns[header]}{last}")
        ws.add_data_validation(dv)
    for header in (T.PHONE, T.DINGTALK, T.WECOM):
        # What people type into these columns later stays text too.
        ws.column_dimensions[columns[header]].number_format = "@"
    if notes:
        ns = wb.create_sheet(T.SHEET_NOTES)
        ns.append(["列名", "是否必填", "说明", "可填写的值"])
        for cell in ns[1]:
            cell.font = bold
            cell.fill = fill
        for note in T.NOTES:
            ns.append(list(note))
        ns.column_dimensions["A"].width = 22
        ns.column_dimensions["B"].width = 12
        ns.column_dimensions["C"].width = 90
        ns.column_dimensions["D"].width = 50
        from openpyxl.styles import Alignment

        for row in ns.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
