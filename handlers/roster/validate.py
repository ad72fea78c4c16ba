"""Roster import, step 2: check the parsed rows against each other and against the database.

validate_roster() parses (handlers.roster.parse) and checks every row, reads the database but never
writes, and returns the plan with every error; handlers.roster.apply writes a plan without errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.common import cells
from handlers.roster import texts as T
from handlers.roster.fileio import RawRow
from handlers.roster.parse import ImportPlan, Issue, UnitPath, parse_row
from models.org import (
    BRANCH_CATEGORY_LABELS,
    PLATFORM_LABELS,
    ROLE_LABELS,
    ROLES_BY_UNIT_KIND,
    UNIT_KIND_LABELS,
    BranchCategory,
    ChatAccount,
    OrgUnit,
    Person,
    Platform,
    Role,
    UnitKind,
)


def validate_roster(
    session: Session,
    raw_rows: list[RawRow],
    headers: list[str],
    *,
    dingtalk_corp_id: str,
    wecom_corp_id: str,
    today: date,
    pinned: Mapping[int, int] | None = None,
) -> ImportPlan:
    """Check every row against the rules and the database; collect every error, write nothing.

    `pinned` (row number → person id) says whom a row is, for an edit of a known person (the console):
    such a row updates that person, and a phone or account of someone else is an error."""
    plan = ImportPlan(corp_ids={Platform.DINGTALK: dingtalk_corp_id, Platform.WECOM: wecom_corp_id})
    missing = [h for h in T.REQUIRED_HEADERS if h not in headers]
    if missing:
        plan.errors.append(Issue(1, None, T.E["missing_headers"].format(columns="、".join(missing))))
        return plan
    for raw in raw_rows:
        if cells.text(raw.cells.get(T.SEQ)) == T.EXAMPLE_MARK:
            plan.skipped_examples += 1
            continue
        row = parse_row(raw, plan, today)
        if row is not None:
            plan.rows.append(row)
    if not plan.rows and not plan.errors:
        plan.errors.append(Issue(None, None, T.E["no_rows"]))
        return plan
    _check_across_rows(plan)
    _check_against_database(session, plan, pinned or {})
    plan.errors.sort(key=lambda i: (i.row or 0, T.HEADERS.index(i.column) if i.column in T.HEADERS else 99))
    return plan


_KIND_COLUMN = {
    UnitKind.COMMITTEE: T.COMMITTEE,
    UnitKind.GENERAL_BRANCH: T.GENERAL_BRANCH,
    UnitKind.BRANCH: T.BRANCH,
    UnitKind.GROUP: T.GROUP,
}


def _check_across_rows(plan: ImportPlan) -> None:
    seen_phone: dict[str, int] = {}
    seen_account: dict[tuple[Platform, str], int] = {}
    unit_kind_row: dict[UnitPath, tuple[UnitKind, int]] = {}
    category_row: dict[UnitPath, tuple[BranchCategory, int]] = {}
    for number, phone, accounts in plan.identities:
        if phone:
            if phone in seen_phone:
                plan.errors.append(
                    Issue(
                        number, T.PHONE, T.E["duplicate_phone"].format(value=phone, other=seen_phone[phone])
                    )
                )
            else:
                seen_phone[phone] = number
        for platform, account in accounts.items():
            key = (platform, account)
            column = T.DINGTALK if platform == Platform.DINGTALK else T.WECOM
            if key in seen_account:
                message = T.E["duplicate_userid"].format(
                    platform=PLATFORM_LABELS[platform], value=account, other=seen_account[key]
                )
                plan.errors.append(Issue(number, column, message))
            else:
                seen_account[key] = number
    for row in plan.rows:
        for kind, path in row.unit_paths().items():
            if path in unit_kind_row and unit_kind_row[path][0] != kind:
                other_kind, other = unit_kind_row[path]
                plan.errors.append(
                    Issue(
                        row.number,
                        _KIND_COLUMN[kind],
                        T.E["kind_conflict"].format(
                            path="/".join(path),
                            where=T.E["kind_conflict_file"].format(other=other),
                            actual=UNIT_KIND_LABELS[other_kind],
                            expected=UNIT_KIND_LABELS[kind],
                        ),
                    )
                )
            unit_kind_row.setdefault(path, (kind, row.number))
        if row.branch and row.category is not None:
            path = row.unit_paths()[UnitKind.BRANCH]
            if path in category_row and category_row[path][0] != row.category:
                value, other = category_row[path]
                plan.errors.append(
                    Issue(
                        row.number,
                        T.CATEGORY,
                        T.E["category_conflict"].format(other=other, value=BRANCH_CATEGORY_LABELS[value]),
                    )
                )
            category_row.setdefault(path, (row.category, row.number))
    plan.units = {path: kind for path, (kind, _) in unit_kind_row.items()}
    plan.categories = {path: cat for path, (cat, _) in category_row.items()}


def unit_paths_by_id(
    session: Session, units: Mapping[int, OrgUnit] | None = None
) -> dict[int, tuple[UnitKind, UnitPath]]:
    """Every unit's kind and name path, from its materialised id path (`units`: every unit by id, when
    the caller has read them already)."""
    if units is None:
        units = {u.id: u for u in session.scalars(select(OrgUnit))}
    out: dict[int, tuple[UnitKind, UnitPath]] = {}
    for unit in units.values():
        names = tuple(units[i].name for i in unit.ancestor_ids() if i in units)
        out[unit.id] = (unit.kind, names or (unit.name,))
    return out


def _check_against_database(session: Session, plan: ImportPlan, pinned: Mapping[int, int]) -> None:
    db_units = {path: (uid, kind) for uid, (kind, path) in unit_paths_by_id(session).items()}
    for row in plan.rows:
        for kind, path in row.unit_paths().items():
            if path in db_units and db_units[path][1] != kind:
                plan.errors.append(
                    Issue(
                        row.number,
                        _KIND_COLUMN[kind],
                        T.E["kind_conflict"].format(
                            path="/".join(path),
                            where=T.E["kind_conflict_db"],
                            actual=UNIT_KIND_LABELS[db_units[path][1]],
                            expected=UNIT_KIND_LABELS[kind],
                        ),
                    )
                )
    # Roles: the unit they name must exist (here or in the database) and be able to hold the role.
    known = {path: kind for path, (_, kind) in db_units.items()} | plan.units
    for row in plan.rows:
        defaults = row.unit_paths()
        for token in row.roles:
            if token.kind is None and token.path is None:
                continue
            path = token.path or defaults.get(token.kind)
            if path is None:
                continue  # already reported while parsing
            kind = known.get(path)
            if kind is None:
                plan.errors.append(
                    Issue(
                        row.number,
                        T.ROLES,
                        T.E["role_unit_missing"].format(value=token.text, path="/".join(path)),
                    )
                )
            elif token.role not in ROLES_BY_UNIT_KIND[kind] or (
                token.kind not in (None, UnitKind.BRANCH) and token.kind != kind
            ):
                allowed = [ROLE_LABELS[r] for r in Role if r in ROLES_BY_UNIT_KIND[kind]]
                plan.errors.append(
                    Issue(
                        row.number,
                        T.ROLES,
                        T.E["role_kind_mismatch"].format(
                            value=token.text,
                            kind=UNIT_KIND_LABELS[kind],
                            role=ROLE_LABELS[token.role],
                            allowed="、".join(allowed),
                        ),
                    )
                )
    _match_people(session, plan, pinned)


def _match_people(session: Session, plan: ImportPlan, pinned: Mapping[int, int]) -> None:
    """Find each row's person: by chat account, then by phone; refuse ambiguity."""
    phones = [r.phone for r in plan.rows if r.phone]
    by_phone: dict[str, tuple[int, str]] = {}
    for chunk in chunks(phones):
        for pid, phone, name in session.execute(
            select(Person.id, Person.phone, Person.name).where(Person.phone.in_(chunk))
        ):
            by_phone[phone] = (pid, name)
    by_account: dict[tuple[Platform, str], tuple[int, str]] = {}
    for platform in Platform:
        ids = [r.accounts[platform] for r in plan.rows if platform in r.accounts]
        for chunk in chunks(ids):
            stmt = (
                select(ChatAccount.account_id, Person.id, Person.name)
                .join(Person, Person.id == ChatAccount.person_id)
                .where(
                    ChatAccount.platform == platform,
                    ChatAccount.corp_id == plan.corp_ids[platform],
                    ChatAccount.account_id.in_(chunk),
                )
            )
            for account_id, pid, name in session.execute(stmt):
                by_account[(platform, account_id)] = (pid, name)
    matched_row: dict[int, int] = {}
    for row in plan.rows:
        found: list[tuple[str, int, str]] = []
        for platform in (Platform.DINGTALK, Platform.WECOM):
            hit = by_account.get((platform, row.accounts.get(platform, "")))
            if hit:
                found.append(
                    (f"{PLATFORM_LABELS[platform]}账号「{row.accounts[platform]}」（{hit[1]}）", *hit)
                )
        if row.phone and row.phone in by_phone:
            hit = by_phone[row.phone]
            found.append((f"手机号「{row.phone}」（{hit[1]}）", *hit))
        if row.number in pinned:
            _check_pinned(plan, row, pinned[row.number], by_phone, by_account, matched_row)
            continue
        ids = {pid for _, pid, _ in found}
        if len(ids) > 1:
            details = "、".join(text for text, _, _ in found)
            plan.errors.append(Issue(row.number, T.NAME, T.E["two_people"].format(details=details)))
            continue
        if ids:
            pid = ids.pop()
            if pid in matched_row:
                name = found[0][2]
                plan.errors.append(
                    Issue(row.number, T.NAME, T.E["same_person"].format(other=matched_row[pid], name=name))
                )
                continue
            matched_row[pid] = row.number
            plan.matches[row.number] = pid


def _check_pinned(plan: ImportPlan, row, person_id: int, by_phone, by_account, matched_row) -> None:
    """A row that is a known person: their phone and accounts must not be someone else's."""
    clean = True
    if row.phone and row.phone in by_phone and by_phone[row.phone][0] != person_id:
        message = T.E["phone_taken"].format(value=row.phone, name=by_phone[row.phone][1])
        plan.errors.append(Issue(row.number, T.PHONE, message))
        clean = False
    for platform, column in ((Platform.DINGTALK, T.DINGTALK), (Platform.WECOM, T.WECOM)):
        hit = by_account.get((platform, row.accounts.get(platform, "")))
        if hit and hit[0] != person_id:
            message = T.E["account_taken"].format(
                platform=PLATFORM_LABELS[platform], value=row.accounts[platform], name=hit[1]
            )
            plan.errors.append(Issue(row.number, column, message))
            clean = False
    if clean:
        matched_row[person_id] = row.number
        plan.matches[row.number] = person_id


def chunks(values: Iterable, size: int = 500) -> Iterator[list]:
    """Bind lists small enough for every database (SQLite allows 32,766 parameters at most), in order."""
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
