"""The roster workbook's extra sheet 观察员分工 (观察员姓名, 手机号, 党支部): who observes which branch.

Read from the same .xlsx as the roster, after the roster itself is applied in the same transaction
(so observers and branches the roster just created are found). All or nothing: any bad row adds an
Issue to the roster's plan and nothing of the sheet is written. When the sheet is present it is the
full list: links missing from it are ended (kept for the record). A file without the sheet changes
no assignment.

`zhibu roster export` writes the sheet back (handlers.observers.sheet_export) in exactly this format,
so export → import changes nothing. A .csv import leaves the assignments alone.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common import cells
from handlers.observers import strings
from handlers.observers.assignments import assign_observer
from handlers.roster.parse import ImportPlan, Issue
from handlers.roster.validate import unit_paths_by_id
from handlers.spreadsheets import SheetError, read_xlsx
from models.observers import ObserverAssignment
from models.org import Person, UnitKind


def read_sheet(path: Path) -> list[tuple[int, dict[str, str]]] | None:
    """(row number, cells as text) of the sheet's non-empty rows, or None when the file has no such sheet."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx" or not path.exists():
        return None
    try:
        table = read_xlsx(path, strings.SHEET, otherwise="none")  # bounded, like the roster sheet
    except SheetError as exc:
        raise ValueError(str(exc)) from None
    if table is None:
        return None
    if not table.header and not table.rows:
        return []
    headers = [str(h).strip() if h is not None else "" for h in table.header]
    rows = []
    for number, values in table.rows:
        typed = {h: cells.text(values[i]) if i < len(values) else "" for i, h in enumerate(headers) if h}
        if any(typed.values()):
            rows.append((number, typed))
    missing = [c for c in (strings.COL_NAME, strings.COL_BRANCH) if c not in headers]
    if missing:
        raise ValueError(strings.SHEET_MISSING_COLUMNS.format(columns="、".join(missing)))
    return rows


def apply_observer_sheet(session: Session, path: Path, plan: ImportPlan) -> str | None:
    """Validate and apply the 观察员分工 sheet. Returns a one-line summary, or None when there is no
    sheet or it had errors (then they are in plan.errors and nothing of the sheet was written)."""
    try:
        rows = read_sheet(path)
    except ValueError as exc:
        plan.errors.append(Issue(None, None, str(exc)))
        return None
    if rows is None:
        return None
    people = list(session.scalars(select(Person)))
    by_phone = {p.phone: p for p in people if p.phone}
    by_name: dict[str, list[Person]] = {}
    for p in people:
        by_name.setdefault(p.name, []).append(p)
    branches: dict[tuple[str, ...], int] = {}
    by_branch_name: dict[str, list[int]] = {}
    for uid, (kind, names) in unit_paths_by_id(session).items():
        if kind == UnitKind.BRANCH:
            branches[names] = uid
            by_branch_name.setdefault(names[-1], []).append(uid)
    wanted: dict[tuple[int, int], int] = {}
    errors: list[Issue] = []
    for number, typed in rows:
        name, phone = typed.get(strings.COL_NAME, ""), typed.get(strings.COL_PHONE, "")
        branch_text = typed.get(strings.COL_BRANCH, "")
        person = branch_id = None
        if not name:
            errors.append(Issue(number, strings.COL_NAME, strings.SHEET_NO_NAME))
        elif phone:
            try:
                person = by_phone.get(cells.phone(phone))
            except cells.CellError:
                person = None  # not a mobile number: nobody has it
            if person is None:
                errors.append(
                    Issue(
                        number, strings.COL_PHONE, strings.SHEET_UNKNOWN_PERSON.format(name=name, phone=phone)
                    )
                )
            elif person.name != name:
                errors.append(
                    Issue(
                        number,
                        strings.COL_NAME,
                        strings.SHEET_NAME_MISMATCH.format(phone=phone, actual=person.name, name=name),
                    )
                )
                person = None
        else:
            matches = by_name.get(name, [])
            if len(matches) == 1:
                person = matches[0]
            elif not matches:
                errors.append(
                    Issue(
                        number, strings.COL_NAME, strings.SHEET_UNKNOWN_PERSON.format(name=name, phone="未填")
                    )
                )
            else:
                errors.append(
                    Issue(
                        number,
                        strings.COL_PHONE,
                        strings.SHEET_AMBIGUOUS_PERSON.format(count=len(matches), name=name),
                    )
                )
        if not branch_text:
            errors.append(Issue(number, strings.COL_BRANCH, strings.SHEET_NO_BRANCH))
        else:
            parts = tuple(p.strip() for p in branch_text.replace("／", "/").split("/") if p.strip())
            if len(parts) > 1:
                branch_id = branches.get(parts)
                if branch_id is None:
                    errors.append(
                        Issue(
                            number,
                            strings.COL_BRANCH,
                            strings.SHEET_UNKNOWN_BRANCH.format(branch=branch_text),
                        )
                    )
            else:
                ids = by_branch_name.get(parts[0], [])
                if len(ids) == 1:
                    branch_id = ids[0]
                elif not ids:
                    errors.append(
                        Issue(
                            number,
                            strings.COL_BRANCH,
                            strings.SHEET_UNKNOWN_BRANCH.format(branch=branch_text),
                        )
                    )
                else:
                    errors.append(
                        Issue(
                            number,
                            strings.COL_BRANCH,
                            strings.SHEET_AMBIGUOUS_BRANCH.format(count=len(ids), branch=parts[0]),
                        )
                    )
        if person is None or branch_id is None:
            continue
        if person.branch_id == branch_id:
            errors.append(
                Issue(
                    number,
                    strings.COL_BRANCH,
                    strings.OWN_BRANCH.format(name=person.name, branch=branch_text),
                )
            )
            continue
        key = (person.id, branch_id)
        if key in wanted:
            errors.append(Issue(number, None, strings.SHEET_DUPLICATE.format(row=wanted[key])))
            continue
        wanted[key] = number
    if errors:
        plan.errors.extend(errors)
        return None
    links = {(a.observer_id, a.branch_id): a for a in session.scalars(select(ObserverAssignment))}
    added = ended = 0
    for observer_id, branch_id in wanted:
        link = links.get((observer_id, branch_id))
        if link is None or not link.active:
            try:
                assign_observer(session, observer_id, branch_id)
            except Refused as exc:  # pragma: no cover - every rule was checked above
                plan.errors.append(Issue(wanted[(observer_id, branch_id)], None, str(exc)))
                return None
            added += 1
    for key, link in links.items():
        if link.active and key not in wanted:
            link.active = False
            ended += 1
    session.flush()
    return strings.SHEET_SUMMARY.format(total=len(wanted), added=added, ended=ended)
