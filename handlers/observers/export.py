"""The observers' yearly record as .xlsx (for 太湖县's yearly 优秀/称职 assessment): one row per
observer, and a second sheet with every form of the year."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from handlers.observers import service, strings
from handlers.observers.forms import ObserversConfig
from handlers.spreadsheets import text_cells


def export_xlsx(
    session: Session, year: int, *, now: datetime, cfg: ObserversConfig, observer_ids: list[int]
) -> bytes:
    records = service.observer_records(session, year, now=now, cfg=cfg, observer_ids=observer_ids)
    forms = service.form_rows(session, year, cfg, observer_ids)
    wb = Workbook()
    ws = wb.active
    ws.title = strings.EXPORT_SHEET
    ws.append(list(strings.EXPORT_HEADERS))
    # Every text (names, branches, meeting titles typed by secretaries) is a string cell, never a formula.
    for r in records:
        ws.append(
            text_cells(
                ws,
                [
                    r.name,
                    r.phone,
                    "、".join(r.branches),
                    r.attended,
                    r.forms,
                    r.forms_on_time,
                    r.issues_raised,
                    r.issues_closed,
                    r.periods,
                    r.periods_covered,
                    r.rating,
                ],
            )
        )
    detail = wb.create_sheet(strings.EXPORT_FORMS_SHEET)
    detail.append(list(strings.EXPORT_FORM_HEADERS))
    for f in forms:
        detail.append(
            text_cells(
                detail,
                [
                    f["observer"],
                    f["branch"],
                    f["meeting"],
                    f["when"],
                    f["total"],
                    f["max_total"],
                    f["grade"],
                    f["outcome"],
                    f["submitted"],
                    strings.YES if f["on_time"] else strings.NO,
                ],
            )
        )
    for sheet in (ws, detail):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(40, max(10, 2 * width))
    for row in detail.iter_rows(min_row=2):
        row[3].number_format = row[8].number_format = "yyyy-mm-dd hh:mm"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
