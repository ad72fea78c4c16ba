"""`zhibu roster export` writes the observers' sheet 观察员分工 (观察员姓名, 手机号, 党支部) into the
exported roster workbook, in exactly the format handlers.observers.importer reads, with every active
link, so export → import changes nothing. The roster knows nothing of observers: the CLI command
writes the roster first, then this sheet. The sheet lives only in .xlsx: a .csv export has no
assignments and a .csv import leaves them alone, so that round trip changes nothing either.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.observers import strings
from handlers.roster.validate import unit_paths_by_id
from handlers.spreadsheets import text_cells
from models.observers import ObserverAssignment
from models.org import Person


def sheet_rows(session: Session) -> list[list[str]]:
    """[观察员姓名, 手机号, 党支部] of every active link; the branch as its full path, so it is never ambiguous."""
    paths = unit_paths_by_id(session)
    rows = [
        [name, phone or "", "/".join(paths[branch_id][1])]
        for name, phone, branch_id in session.execute(
            select(Person.name, Person.phone, ObserverAssignment.branch_id)
            .join(Person, Person.id == ObserverAssignment.observer_id)
            .where(ObserverAssignment.active.is_(True))
        )
    ]
    return sorted(rows, key=lambda r: (r[2], r[0], r[1]))


def write_sheet(session: Session, path: Path) -> int | None:
    """Add the sheet (always, even empty: it is the full list) to an exported .xlsx roster.

    Returns the number of links written, or None for a .csv, which has no second sheet.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return None
    rows = sheet_rows(session)
    wb = load_workbook(path)
    ws = wb.create_sheet(strings.SHEET)
    ws.append([strings.COL_NAME, strings.COL_PHONE, strings.COL_BRANCH])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(text_cells(ws, row))  # names and branches are text, never formulas
    # Text, or Excel shows the phone number as 1.39E+10.
    ws.column_dimensions["B"].number_format = "@"
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.number_format = "@"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 40
    wb.save(path)
    return len(rows)
