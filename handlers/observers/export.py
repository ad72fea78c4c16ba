"""The observers' yearly record as .xlsx (for 太湖县's yearly 优秀/称职 assessment): one row per
observer, a second sheet with every form of the year, and a third with every branch's coverage per
period (seed 000: 每半年至少列席一次), branches without an observer included."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from handlers.common import dates
from handlers.observers import coverage, periods, record, strings
from handlers.observers.forms import ObserversConfig
from handlers.spreadsheets import text_cells
from models.org import OrgUnit


def export_xlsx(
    session: Session,
    year: int,
    *,
    now: datetime,
    cfg: ObserversConfig,
    observer_ids: list[int],
    coverage_within: Sequence[OrgUnit] | None = (),
) -> bytes:
    """`coverage_within`: the committees whose branches the coverage sheet lists (None: the whole
    tree; by default none, so a caller shows only what it scoped: access.coverage_scope)."""
    records = record.observer_records(session, year, now=now, cfg=cfg, observer_ids=observer_ids)
    forms = record.form_rows(session, year, cfg, observer_ids)
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
    branches = wb.create_sheet(strings.EXPORT_COVERAGE_SHEET)
    branches.append(list(strings.EXPORT_COVERAGE_HEADERS))
    if coverage_within is None or coverage_within:
        today = periods.local_day(now, cfg)
        for start, as_of, rows in coverage.coverage_for_year(
            session, year, cfg, now=now, within=coverage_within
        ):
            name = periods.period_name(start, cfg)
            if as_of >= today:
                name = strings.EXPORT_PERIOD_RUNNING.format(name=name, as_of=dates.fmt_full_day(as_of))
            for c in sorted(rows, key=lambda c: (c.committee, c.name)):
                branches.append(
                    text_cells(
                        branches,
                        [
                            c.committee,
                            c.name,
                            "、".join(c.observers) or strings.NO_OBSERVER,
                            name,
                            c.observed,
                            c.required,
                            strings.YES if c.covered else strings.NO,
                        ],
                    )
                )
    for sheet in (ws, detail, branches):
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
