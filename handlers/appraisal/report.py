"""The 民主评议党员 section of the branch's year-end report (年终通报, handlers/ledgers/year_report.py).

The ledgers sit above every feature, so this module does not build their Section: it returns the section's
fields as a dict (title, pairs, headers, rows, paragraphs, problems), which the composition root turns into
one (``SECTION_BUILDERS.append(lambda s, by: Section(**d) if (d := report.section(s, by.branch.id, by.year,
now=..., tz=...)) else None)``). Counts only: the report is read out to the 党员大会, and who was graded what is
the 支部大会's own record, not the year's summary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.appraisal import grades, service, strings
from handlers.common.dates import fmt_full_day
from models.appraisal import GRADE_LABELS, GRADE_ORDER, HANDLING_LABELS


def section(session: Session, branch_id: int, year: int, *, now: datetime, tz: ZoneInfo) -> dict:
    by = grades.branch_years(session, [branch_id], year, now=now, tz=tz)[branch_id]
    a = by.appraisal
    out: dict = {
        "title": strings.REPORT_TITLE,
        "pairs": [],
        "headers": [],
        "rows": [],
        "paragraphs": [],
        "problems": [],
    }
    year_over = service.local_day(now, tz).year > year
    if a is None:
        out["paragraphs"].append(strings.REPORT_NONE.format(year=year))
        if year_over:
            out["problems"].append(strings.REPORT_PROBLEM_NONE)
        return out
    probationary = sum(m.probationary for m, _p in service.members(session, a))
    out["pairs"] = [
        (strings.REPORT_WINDOW, "至".join(service.window_text(a, tz))),
        (
            strings.REPORT_MEMBERS,
            strings.REPORT_MEMBERS_VALUE.format(n=by.members, probationary=probationary),
        ),
        (strings.REPORT_TURNOUT, strings.REPORT_TURNOUT_VALUE.format(voters=by.voters, voted=by.voted)),
        (strings.REPORT_PROPOSED, fmt_full_day(a.proposed_on) if a.proposed_on else strings.REPORT_NOT_YET),
        (strings.REPORT_DECIDED, fmt_full_day(a.decided_on) if a.decided_on else strings.REPORT_NOT_YET),
    ]
    if a.decided_on is not None:
        out["headers"] = list(strings.REPORT_HEADERS)
        out["rows"] = [[GRADE_LABELS[g], str(by.decided.get(g, 0))] for g in GRADE_ORDER]
        out["rows"] += [
            [strings.REPORT_HANDLING.format(handling=HANDLING_LABELS[h]), str(n)]
            for h, n in by.handlings.items()
        ]
    elif year_over:
        out["problems"].append(strings.REPORT_PROBLEM_UNDECIDED)
    return out
