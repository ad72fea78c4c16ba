"""组织与党员 in the console: the tree and the people in the viewer's scope, a person's roles and
accounts, and their changes: edit, move to another branch, add or end a role, a roster file uploaded.

Every change goes through the roster import (handlers.roster: parse → validate → apply), so the page
applies the very rules the 花名册 does (phone format, a phone or account of someone else, a role the
unit cannot hold, …), all or nothing, with the same Chinese errors. An edit is one roster row: the
person's own row as the export writes it, with the form's fields put in, pinned to that person.
Plain functions over a Session that never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.core import signing
from handlers.console.audit import EntryView, describe
from handlers.console.scope import Scope
from handlers.roster import accounts
from handlers.roster import texts as T
from handlers.roster.apply import ImportResult, apply_roster
from handlers.roster.exporter import roster_rows
from handlers.roster.fileio import RawRow, RosterFileError, read_roster
from handlers.roster.parse import ImportPlan, Issue, UnitPath
from handlers.roster.validate import chunks, unit_paths_by_id, validate_roster
from models.audit import captured
from models.org import (
    FEE_CATEGORY_LABELS,
    MEMBER_STATUS_LABELS,
    PLATFORM_LABELS,
    ROLE_LABELS,
    ROLES_BY_UNIT_KIND,
    UNIT_KIND_LABELS,
    ChatAccount,
    OrgUnit,
    Person,
    Platform,
    Role,
    RoleAssignment,
    UnitKind,
    committee_of,
)

PAGE_SIZE = 50

# Short messages (the pages' own text is in their templates).
SAVED = "已保存。"
UNCHANGED = "没有需要保存的修改。"
MOVE_OUT_OF_SCOPE = "只能调到您管理范围内的党支部。"
GROUP_NOT_IN_BRANCH = "所选党小组不属于所选党支部。"
ROLE_UNIT_OUT_OF_SCOPE = "只能在您管理范围内的组织任免职务。"
ROLE_ALREADY_HELD = "已担任该职务。"
ROLE_NOT_ALLOWED = "{kind}不设{role}。"
ROLE_ADDED = "已任命{role}（{unit}）。"
ROLE_ENDED = "已免去{role}（{unit}）。"
UPLOAD_MISSING = "请选择要上传的花名册文件（.xlsx 或 .csv）。"
UPLOAD_STALE = "预览已过期或文件已变化，请重新上传花名册。"
UPLOAD_APPLIED = "花名册已导入。"
PREVIEW_LIMIT = 300  # changes listed on the dry-run page; the counts cover every one

# Form field ↔ roster column: errors go next to the field they concern.
FIELD_COLUMNS = {
    "name": T.NAME,
    "phone": T.PHONE,
    "status": T.STATUS,
    "joined_on": T.JOINED,
    "fee_category": T.FEE_CATEGORY,
    "fee_base": T.FEE_BASE,
    "fee_fixed": T.FEE_FIXED,
    "is_mobile": T.MOBILE,
    "exempt": T.EXEMPT,
}
_COLUMN_FIELDS = {column: name for name, column in FIELD_COLUMNS.items()} | {
    T.COMMITTEE: "branch_id",
    T.GENERAL_BRANCH: "branch_id",
    T.BRANCH: "branch_id",
    T.CATEGORY: "branch_id",
    T.GROUP: "group_id",
    T.ROLES: "roles",
    T.DINGTALK: "accounts",
    T.WECOM: "accounts",
}
STATUS_CHOICES = list(MEMBER_STATUS_LABELS.values())
FEE_CATEGORY_CHOICES = list(FEE_CATEGORY_LABELS.values())


class NotVisible(Exception):
    """Not there, or outside the viewer's scope: the same 404 either way."""


class ReadOnly(Exception):
    """The viewer may see this but not change it (an observer): 403."""


@dataclass(frozen=True)
class CorpIds:
    dingtalk: str
    wecom: str


# ---- reading


@dataclass
class TreeNode:
    id: int
    name: str
    kind: str
    depth: int
    members: int
    editable: bool


def unit_tree(session: Session, scope: Scope, selected: int | None = None) -> list[TreeNode]:
    """The tree as far as it is open, in tree order (a subtree's paths share its prefix): the scope's top
    units, and the children of each unit on the way to the selected one (a single top unit is open from
    the start). A city's 10,000 branches are never listed at once."""
    if scope.everything:
        tops = session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).all()
    else:
        tops = session.scalars(select(OrgUnit).where(OrgUnit.path.in_(scope.roots + scope.observed))).all()
    opened = {u.id for u in tops} if len(tops) == 1 else set()
    unit = session.get(OrgUnit, selected) if selected else None
    if unit is not None and scope.sees_unit(unit):
        on_the_way = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit.ancestor_ids()))).all()
        opened |= {u.id for u in on_the_way if scope.sees_unit(u)}
    units = session.scalars(
        select(OrgUnit)
        .where(
            scope.unit_clause(),
            OrgUnit.active.is_(True),
            or_(OrgUnit.id.in_([t.id for t in tops] or [0]), OrgUnit.parent_id.in_(sorted(opened) or [0])),
        )
        .order_by(OrgUnit.path)
    ).all()
    counts = dict(
        session.execute(
            select(Person.branch_id, func.count())
            .where(Person.active.is_(True), Person.branch_id.in_([u.id for u in units] or [0]))
            .group_by(Person.branch_id)
        ).all()
    )
    top = min((len(u.ancestor_ids()) for u in units), default=1)
    return [
        TreeNode(
            u.id,
            u.name,
            UNIT_KIND_LABELS[u.kind],
            len(u.ancestor_ids()) - top,
            counts.get(u.id, 0),
            scope.can_edit_unit(u),
        )
        for u in units
    ]


@dataclass
class PersonRow:
    person: Person
    branch: str
    roles: list[str]
    accounts: list[str]


@dataclass
class PeoplePage:
    rows: list[PersonRow]
    total: int
    page: int
    pages: int


def search_people(
    session: Session, scope: Scope, *, q: str = "", unit_id: int | None = None, page: int = 1
) -> PeoplePage:
    """People in scope, by name, phone or chat account (any part), optionally under one unit."""
    where = [scope.person_clause(), Person.active.is_(True)]
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if not scope.sees_unit(unit):
            raise NotVisible
        subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
        where.append(or_(Person.branch_id.in_(subtree), Person.group_id.in_(subtree)))
    q = q.strip()
    if q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        digits = "".join(ch for ch in q if ch.isdigit())
        matches = [
            Person.name.like(pattern),
            exists().where(ChatAccount.person_id == Person.id, ChatAccount.account_id.like(pattern)),
        ]
        if len(digits) >= 3:
            matches.append(Person.phone.like(f"%{digits}%"))
        where.append(or_(*matches))
    clause = and_(*where)
    total = session.scalar(select(func.count()).select_from(Person).where(clause)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    people = session.scalars(
        select(Person)
        .where(clause)
        .order_by(Person.branch_id, Person.name, Person.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
        .options(selectinload(Person.roles), selectinload(Person.chat_accounts))
    ).all()
    names = _unit_names(
        session, {p.branch_id for p in people} | {r.org_unit_id for p in people for r in p.roles}
    )
    rows = [
        PersonRow(
            p,
            names.get(p.branch_id, ""),
            [_role_text(r, names) for r in p.roles],
            [f"{PLATFORM_LABELS[a.platform]}：{a.account_id}" for a in p.chat_accounts],
        )
        for p in people
    ]
    return PeoplePage(rows, total, page, pages)


def _unit_names(session: Session, ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def _role_text(ra: RoleAssignment, names: dict[int, str]) -> str:
    where = names.get(ra.org_unit_id, "") if ra.org_unit_id else "全部组织"
    return f"{where} {ROLE_LABELS[ra.role]}"


@dataclass
class RoleView:
    id: int
    role: str
    unit: str
    can_end: bool


@dataclass
class Choice:
    value: str
    label: str


@dataclass
class PersonDetail:
    person: Person
    branch: str  # full name path
    group: str
    roles: list[RoleView]
    accounts: list[str]
    editable: bool
    branches: list[Choice] = field(default_factory=list)  # where they can be moved
    groups: list[Choice] = field(default_factory=list)  # 党小组 of the branches offered, "branch:group"
    role_units: list[Choice] = field(default_factory=list)  # units a role can be added on
    role_choices: dict[str, list[Choice]] = field(default_factory=dict)  # unit id → roles it can hold


def visible_person(session: Session, scope: Scope, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or not person.active or not scope.sees_person(session, person):
        raise NotVisible
    return person


def editable_person(session: Session, scope: Scope, person_id: int) -> Person:
    person = visible_person(session, scope, person_id)
    if not scope.can_edit_person(session, person):
        raise ReadOnly
    return person


def person_detail(
    session: Session, scope: Scope, person_id: int, *, paths: UnitPaths | None = None
) -> PersonDetail:
    """`paths`: the unit paths an edit of this request already loaded (the page after a save)."""
    person = visible_person(session, scope, person_id)
    units = {u.id: u for u in session.scalars(select(OrgUnit))}  # the unit table, read once
    paths = paths if paths is not None else unit_paths_by_id(session, units)
    by_id = {uid: u for uid, u in units.items() if u.active}
    editable = scope.can_edit_person(session, person)
    roles = [
        RoleView(
            ra.id,
            ROLE_LABELS[ra.role],
            "/".join(paths[ra.org_unit_id][1]) if ra.org_unit_id else "全部组织",
            editable and _can_hold(scope, by_id.get(ra.org_unit_id) if ra.org_unit_id else None),
        )
        for ra in sorted(person.roles, key=lambda r: (paths.get(r.org_unit_id, (None, ()))[1], r.role))
    ]
    detail = PersonDetail(
        person=person,
        branch="/".join(paths[person.branch_id][1]) if person.branch_id else "",
        group=paths[person.group_id][1][-1] if person.group_id else "",
        roles=roles,
        accounts=[f"{PLATFORM_LABELS[a.platform]}：{a.account_id}" for a in person.chat_accounts],
        editable=editable,
    )
    if not editable:
        return detail
    # What the forms offer: the units the viewer leads within the person's own 党委 (a city has 10,000
    # branches; moving someone to another 党委 is a roster's work), or, for someone in no branch, the
    # 党委 the viewer leads.
    branch = by_id.get(person.branch_id) if person.branch_id else None
    committee = committee_of(session, branch) if branch is not None else None
    if committee is not None:
        near = (u for u in by_id.values() if u.path.startswith(committee.path))
    else:
        near = (u for u in by_id.values() if u.kind == UnitKind.COMMITTEE)
    in_reach = sorted((u for u in near if scope.can_edit_unit(u)), key=lambda u: paths[u.id][1])
    detail.branches = [
        Choice(str(u.id), "/".join(paths[u.id][1])) for u in in_reach if u.kind == UnitKind.BRANCH
    ]
    detail.groups = [Choice(f"{u.parent_id}:{u.id}", u.name) for u in in_reach if u.kind == UnitKind.GROUP]
    detail.role_units = [Choice(str(u.id), "/".join(paths[u.id][1])) for u in in_reach]
    detail.role_choices = {
        str(u.id): [Choice(r.value, ROLE_LABELS[r]) for r in Role if r in ROLES_BY_UNIT_KIND[u.kind]]
        for u in in_reach
    }
    return detail


def _can_hold(scope: Scope, unit: OrgUnit | None) -> bool:
    """May the viewer appoint or remove on this unit (None: 组织部 over the whole tree)?"""
    return scope.everything if unit is None else scope.can_edit_unit(unit)


# ---- changing one person: one roster row, pinned to them


# Every unit's kind and name path (handlers.roster.validate.unit_paths_by_id): one read of the unit
# table per request, handed from the edit to the page that follows it.
UnitPaths = dict[int, tuple[UnitKind, UnitPath]]


@dataclass
class EditOutcome:
    errors: dict[str, list[str]] = field(default_factory=dict)  # form field ("_" for the form) → messages
    warnings: list[str] = field(default_factory=list)
    result: ImportResult | None = None
    paths: UnitPaths | None = None  # the unit paths the edit loaded (no edit creates or renames a unit)

    @property
    def ok(self) -> bool:
        return not self.errors


def _role_words(paths: dict, roles: list[tuple[int | None, Role]]) -> str:
    """The 职务 cell naming every role's unit in full, so moving the person moves none of them."""
    words = []
    for unit_id, role in roles:
        if unit_id is None:
            words.append("组织部")
        else:
            words.append(f"{ROLE_LABELS[role]}（{'/'.join(paths[unit_id][1])}）")
    return "、".join(words)


def _unit_cells(paths: dict, branch_id: int | None, group_id: int | None) -> dict[str, str]:
    cells = {T.COMMITTEE: "", T.GENERAL_BRANCH: "", T.BRANCH: "", T.GROUP: "", T.CATEGORY: ""}
    if branch_id is not None:
        path: UnitPath = paths[branch_id][1]
        cells[T.COMMITTEE], cells[T.BRANCH] = path[0], path[-1]
        cells[T.GENERAL_BRANCH] = path[1] if len(path) == 3 else ""
        if group_id is not None:
            cells[T.GROUP] = paths[group_id][1][-1]
    return cells


def _run_row(
    session: Session,
    person: Person,
    changes: dict[str, object],
    *,
    corp_ids: CorpIds,
    today: date,
    paths: UnitPaths,
) -> EditOutcome:
    """The person's roster row with `changes` (roster column → cell) validated and, when clean, applied."""
    (row,) = roster_rows(
        session, dingtalk_corp_id=corp_ids.dingtalk, wecom_corp_id=corp_ids.wecom, person_ids=[person.id]
    )
    row = dict(row)
    row[T.SEQ] = ""
    row[T.ROLES] = _role_words(paths, [(r.org_unit_id, r.role) for r in person.roles])
    if person.branch_id is not None:
        row.update(_unit_cells(paths, person.branch_id, person.group_id))
    row.update(changes)
    plan = validate_roster(
        session,
        [RawRow(2, row)],
        list(T.HEADERS),
        dingtalk_corp_id=corp_ids.dingtalk,
        wecom_corp_id=corp_ids.wecom,
        today=today,
        pinned={2: person.id},
    )
    outcome = EditOutcome(paths=paths)
    if not plan.ok:
        for issue in plan.errors:
            outcome.errors.setdefault(_COLUMN_FIELDS.get(issue.column, "_"), []).append(issue.message)
        return outcome
    outcome.result = apply_roster(session, plan, today=today, sets_start=False)  # one person's edit
    outcome.warnings = outcome.result.warnings
    return outcome


def edit_person(
    session: Session,
    scope: Scope,
    person_id: int,
    form: dict[str, str],
    *,
    corp_ids: CorpIds,
    today: date,
) -> EditOutcome:
    """Save the person's fields and, when another branch (or 党小组) is chosen, move them there."""
    person = editable_person(session, scope, person_id)
    paths = unit_paths_by_id(session)
    changes: dict[str, object] = {
        FIELD_COLUMNS[k]: form.get(k, "").strip() for k in FIELD_COLUMNS if k in form
    }
    if "branch_id" in form and person.branch_id is not None:
        try:
            branch_id = int(form["branch_id"])
            group_id = int(form["group_id"]) if form.get("group_id") else None
        except ValueError:
            return EditOutcome({"branch_id": [MOVE_OUT_OF_SCOPE]})
        branch = session.get(OrgUnit, branch_id)
        if branch_id != person.branch_id and (
            branch is None or branch.kind != UnitKind.BRANCH or not scope.can_edit_unit(branch)
        ):
            return EditOutcome({"branch_id": [MOVE_OUT_OF_SCOPE]})
        group = session.get(OrgUnit, group_id) if group_id is not None else None
        if group_id is not None and (group is None or group.parent_id != branch_id):
            return EditOutcome({"group_id": [GROUP_NOT_IN_BRANCH]})
        changes.update(_unit_cells(paths, branch_id, group_id))
    return _run_row(session, person, changes, corp_ids=corp_ids, today=today, paths=paths)


def add_role(
    session: Session, scope: Scope, person_id: int, unit_id: int, role: str, *, corp_ids: CorpIds, today: date
) -> EditOutcome:
    person = editable_person(session, scope, person_id)
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not scope.can_edit_unit(unit):
        return EditOutcome({"role_unit": [ROLE_UNIT_OUT_OF_SCOPE]})
    try:
        wanted = Role(role)
    except ValueError:
        return EditOutcome({"role": [ROLE_NOT_ALLOWED.format(kind=UNIT_KIND_LABELS[unit.kind], role=role)]})
    held = [(r.org_unit_id, r.role) for r in person.roles]
    if (unit.id, wanted) in held:
        return EditOutcome({"role": [ROLE_ALREADY_HELD]})
    paths = unit_paths_by_id(session)
    outcome = _run_row(
        session,
        person,
        {T.ROLES: _role_words(paths, [*held, (unit.id, wanted)])},
        corp_ids=corp_ids,
        today=today,
        paths=paths,
    )
    # The roster names the cell; here the role's own field is the place to say it.
    if "roles" in outcome.errors:
        outcome.errors.setdefault("role", []).extend(outcome.errors.pop("roles"))
    return outcome


def end_role(
    session: Session, scope: Scope, person_id: int, assignment_id: int, *, corp_ids: CorpIds, today: date
) -> tuple[EditOutcome, str]:
    """(outcome, what was ended, in words)."""
    person = editable_person(session, scope, person_id)
    assignment = next((r for r in person.roles if r.id == assignment_id), None)
    if assignment is None:
        raise NotVisible
    unit = session.get(OrgUnit, assignment.org_unit_id) if assignment.org_unit_id else None
    if not _can_hold(scope, unit):
        return EditOutcome({"roles": [ROLE_UNIT_OUT_OF_SCOPE]}), ""
    what = ROLE_ENDED.format(role=ROLE_LABELS[assignment.role], unit=unit.name if unit else "全部组织")
    rest = [(r.org_unit_id, r.role) for r in person.roles if r.id != assignment_id]
    paths = unit_paths_by_id(session)
    outcome = _run_row(
        session, person, {T.ROLES: _role_words(paths, rest)}, corp_ids=corp_ids, today=today, paths=paths
    )
    return outcome, what


# ---- a roster file: dry run, then apply what was previewed


@dataclass
class UploadReport:
    errors: list[Issue] = field(default_factory=list)
    result: ImportResult | None = None
    changes: list[EntryView] = field(default_factory=list)  # at most PREVIEW_LIMIT
    counts: dict[str, int] = field(default_factory=dict)  # create / update / delete → entries
    warnings: list[str] = field(default_factory=list)
    skipped_examples: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _scope_errors(session: Session, scope: Scope, plan: ImportPlan) -> list[Issue]:
    """A scoped editor's file may touch only units (and so people) inside what they lead: every unit a
    row names, or its nearest existing ancestor when it is new, must be theirs."""
    if scope.everything:
        return []
    paths = unit_paths_by_id(session)
    by_names = {names: uid for uid, (_, names) in paths.items()}
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(list(by_names.values()))))}
    people = {
        p.id: p for p in session.scalars(select(Person).where(Person.id.in_(list(plan.matches.values()))))
    }
    errors = []
    for row in plan.rows:
        named: list[UnitPath] = list(row.unit_paths().values())
        named += [tok.path for tok in row.roles if tok.path]
        if any(tok.path is None and tok.kind is None for tok in row.roles):
            errors.append(Issue(row.number, T.ROLES, T.E["out_of_scope"].format(path="组织部")))
        for path in named:
            cut = next((path[:n] for n in range(len(path), 0, -1) if path[:n] in by_names), None)
            if cut is None or not scope.can_edit_unit(units.get(by_names[cut])):
                errors.append(Issue(row.number, None, T.E["out_of_scope"].format(path="/".join(path))))
                break
        matched = people.get(plan.matches.get(row.number, -1))
        if (
            matched is not None
            and matched.branch_id is not None
            and not scope.can_edit_person(session, matched)
        ):
            errors.append(Issue(row.number, T.NAME, T.E["out_of_scope"].format(path=matched.name)))
    return errors


def check_roster(
    session: Session,
    scope: Scope,
    path: Path,
    *,
    corp_ids: CorpIds,
    today: date,
    tz: ZoneInfo,
    apply: bool,
) -> UploadReport:
    """Validate a roster file for this viewer; then either apply it (apply=True, in the caller's unit of
    work) or run it in a savepoint that is rolled back, reporting what it would add, change and end."""
    report = UploadReport()
    try:
        headers, raw_rows = read_roster(path)
    except RosterFileError as exc:
        report.errors.append(Issue(None, None, str(exc)))
        return report
    plan = validate_roster(
        session,
        raw_rows,
        headers,
        dingtalk_corp_id=corp_ids.dingtalk,
        wecom_corp_id=corp_ids.wecom,
        today=today,
    )
    report.skipped_examples = plan.skipped_examples
    if plan.ok:
        plan.errors.extend(_scope_errors(session, scope, plan))
    if not plan.ok:
        report.errors = plan.errors
        return report
    if apply:
        report.result = apply_roster(session, plan, today=today)
        report.warnings = report.result.warnings
        return report
    savepoint = session.begin_nested()
    try:
        with captured(session) as logged:
            report.result = apply_roster(session, plan, today=today)
            session.flush()
        report.warnings = report.result.warnings
        for entry in logged:
            report.counts[entry["action"]] = report.counts.get(entry["action"], 0) + 1
        # Told while the savepoint still holds the new units and people, so their names read.
        report.changes = describe(session, logged[:PREVIEW_LIMIT], tz=tz)
    finally:
        savepoint.rollback()
    return report


# An uploaded file waits here between its preview and its application: named by its SHA-256, so what is
# applied is byte for byte what was previewed; the apply form carries a signature binding that hash to
# the viewer and an expiry.
STAGING_SECONDS = 3600
_PURPOSE = "console.roster-upload"


def stage_upload(directory: Path, data: bytes, suffix: str) -> Path:
    """Keep an uploaded roster for its preview and apply (in `directory`, ConsoleConfig.uploads);
    stale ones are removed on the way."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = _time.time() - STAGING_SECONDS
    for old in directory.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    path = directory / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    path.write_bytes(data)
    return path


def upload_token(
    secret: str, person_id: int, staged: Path, expires_at: datetime, *, purpose: str = _PURPOSE
) -> str:
    value = f"{person_id}:{staged.name}:{int(expires_at.timestamp())}"
    return f"{value}:{signing.signature(secret, purpose, value)}"


def staged_upload(
    directory: Path, secret: str, person_id: int, token: str, now: datetime, *, purpose: str = _PURPOSE
) -> Path | None:
    """The staged file a token names, if the token is this viewer's, unexpired, and the file still
    has the hash it was previewed with."""
    try:
        pid, name, expiry, sig = token.split(":")
    except ValueError:
        return None
    value = f"{pid}:{name}:{expiry}"
    if not hmac.compare_digest(sig, signing.signature(secret, purpose, value)):
        return None
    if pid != str(person_id) or not expiry.isdigit() or now.timestamp() > int(expiry):
        return None
    digest, _, suffix = name.partition(".")
    path = directory / name
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        return None
    return path


# ---- chat accounts found by phone (按手机号匹配账号)
#
# The dry run asks the platforms (handlers.roster.accounts) for the people the viewer may change and
# shows what it found; 应用 writes what that report matched. The matches wait in the staging directory
# as the roster uploads do (a county's thousands of matches would not fit the 64 KB form limit), named
# by their hash, and the apply form carries a token signed for this viewer with an expiry: applying
# asks the platforms nothing again (WeCom counts every miss against a daily allowance) and writes
# exactly what was shown, after checking it against the database and the viewer's scope once more.
MATCH_SECONDS = 3600
_MATCH_PURPOSE = "console.accounts-match"
MATCH_NO_PLATFORM = "没有配置钉钉或企业微信，无法按手机号查询账号。"
MATCH_STALE = "匹配结果已过期或无效，请重新查询。"


def match_accounts(session: Session, scope: Scope, lookups: list[accounts.Lookup]) -> accounts.MatchReport:
    """The dry run: everyone the viewer may change with a phone and no account on a platform the app
    runs, asked of that platform; matches already someone's account are marked TAKEN."""
    if scope.read_only:
        raise ReadOnly
    wanted = accounts.candidates(
        session, [(lk.platform, lk.corp_id) for lk in lookups], people=scope.person_clause(editable=True)
    )
    report = accounts.look_up(wanted, lookups)
    accounts.check_taken(session, report)
    return report


def match_token(
    directory: Path, secret: str, person_id: int, report: accounts.MatchReport, expires_at: datetime
) -> str:
    rows = [
        [r.candidate.person_id, r.candidate.platform.value, r.candidate.corp_id, r.userid]
        for r in report.matched
    ]
    staged = stage_upload(directory, json.dumps(rows, separators=(",", ":")).encode(), ".json")
    return upload_token(secret, person_id, staged, expires_at, purpose=_MATCH_PURPOSE)


def apply_matched(
    session: Session, scope: Scope, directory: Path, secret: str, viewer_id: int, token: str, now: datetime
) -> accounts.MatchReport | None:
    """Write the matches a dry run of this viewer showed (None: the token is not theirs, forged or
    expired, or its file is gone). All or nothing: see handlers.roster.accounts.apply_matches."""
    if scope.read_only:
        raise ReadOnly
    staged = staged_upload(directory, secret, viewer_id, token, now, purpose=_MATCH_PURPOSE)
    if staged is None:
        return None
    try:
        rows = json.loads(staged.read_bytes())
    except ValueError:
        return None
    people = {}
    for part in chunks({r[0] for r in rows}):
        found = session.scalars(
            select(Person).where(Person.id.in_(part)).options(selectinload(Person.branch))
        )
        people |= {p.id: p for p in found}
    report = accounts.MatchReport()
    for person_id, platform, corp_id, userid in rows:
        p = people.get(person_id)
        if p is None:
            continue
        c = accounts.Candidate(
            p.id, p.name, p.phone or "", p.branch.name if p.branch else "", Platform(platform), corp_id
        )
        report.rows.append(accounts.Row(c, accounts.Outcome.MATCHED, userid))
    if accounts.apply_matches(session, report, allowed=scope.person_clause(editable=True)):
        staged.unlink(missing_ok=True)
    return report
