"""The roster (花名册): template, import and export of the organisation as .xlsx or .csv.

Use-case functions are plain functions over a Session that never commit; the CLI (and later the
web console) opens the unit of work. An import reads the rows (parse.py), checks them (validate.py) and
writes them all or nothing (apply.py). See handlers/roster/texts.py for every column and message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from handlers.roster.apply import ImportResult, apply_roster, structure_warnings
from handlers.roster.exporter import export_roster, roster_rows, write_template
from handlers.roster.fileio import RosterFileError, read_roster, write_roster
from handlers.roster.parse import ImportPlan, Issue, parse_roles
from handlers.roster.validate import validate_roster

__all__ = [
    "ImportPlan",
    "ImportResult",
    "Issue",
    "RosterFileError",
    "apply_roster",
    "export_roster",
    "import_roster",
    "parse_roles",
    "read_roster",
    "roster_rows",
    "structure_warnings",
    "validate_roster",
    "write_roster",
    "write_template",
]


def import_roster(
    session: Session, path: Path, *, dingtalk_corp_id: str, wecom_corp_id: str, today: date
) -> tuple[ImportPlan, ImportResult | None]:
    """Read, validate and (only when every row is valid) apply a roster file.

    Raises RosterFileError when the file cannot be read. Returns the plan (its errors, if any)
    and the result, which is None when nothing was written.
    """
    headers, rows = read_roster(Path(path))
    plan = validate_roster(
        session, rows, headers, dingtalk_corp_id=dingtalk_corp_id, wecom_corp_id=wecom_corp_id, today=today
    )
    if not plan.ok:
        return plan, None
    return plan, apply_roster(session, plan, today=today)
