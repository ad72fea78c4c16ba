"""Roster import: parse and validate every row, then apply all of it or nothing.

validate_roster() reads the database but never writes; apply_roster() writes through the Session
and never commits. The caller (the CLI, later the web console) owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handlers.common.roles import roles_by_unit
from handlers.phones import normalize_phone
from handlers.roster import texts as T
from handlers.roster.fileio import RawRow
from models.org import (
    BRANCH_CATEGORY_LABELS,
    FEE_CATEGORY_LABELS,
    MEMBER_STATUS_LABELS,
    PLATFORM_LABELS,
    ROLE_LABELS,
    ROLES_BY_UNIT_KIND,
    UNIT_KIND_LABELS,
    BranchCategory,
    ChatAccount,
    FeeCategory,
    MemberStatus,
    OrgUnit,
    Person,
    Platform,
    Role,
    RoleAssignment,
    UnitKind,
    set_path,
)

UnitPath = tuple[str, ...]  # unit names from the committee down: ("城关镇党委", "东风村党支部")


@dataclass(frozen=True)
class Issue:
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ""
        if self.row is not None:
            where = f"第{self.row}行"
        if self.column:
            where += f"「{self.column}」"
        return f"{where}：{self.message}" if where else self.message


@dataclass(frozen=True)
class RoleToken:
    text: str
    role: Role
    # The unit kind the word implies, None for 组织部 over the whole tree; `path` when written out.
    kind: UnitKind | None
    path: UnitPath | None = None


@dataclass
class RosterRow:
    number: int
    committee: str
    general: str
    branch: str
    category: BranchCategory | None
    group: str
    name: str
    phone: str | None
    status: MemberStatus
    joined_on: date | None
    fee_category: FeeCategory
    fee_base: Decimal | None
    fee_fixed: Decimal | None
    is_mobile: bool
    exempt: str | None
    roles: list[RoleToken]
    accounts: dict[Platform, str]

    def unit_paths(self) -> dict[UnitKind, UnitPath]:
        """The units this row names, by kind."""
        out: dict[UnitKind, UnitPath] = {}
        if self.committee:
            out[UnitKind.COMMITTEE] = (self.committee,)
        if self.branch:
            parent = (self.committee, self.general) if self.general else (self.committee,)
            if self.general:
                out[UnitKind.GENERAL_BRANCH] = parent
            out[UnitKind.BRANCH] = (*parent, self.branch)
            if self.group:
                out[UnitKind.GROUP] = (*parent, self.branch, self.group)
        return out


@dataclass
class ImportPlan:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_examples: int = 0
    corp_ids: dict[Platform, str] = field(default_factory=dict)
    # Filled by validation for apply: row number → matched person id; unit path → kind and category.
    matches: dict[int, int] = field(default_factory=dict)
    units: dict[UnitPath, UnitKind] = field(default_factory=dict)
    categories: dict[UnitPath, BranchCategory] = field(default_factory=dict)
    identities: list[tuple[int, str | None, dict[Platform, str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    units_created: int = 0
    units_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    roles_added: int = 0
    roles_removed: int = 0
    accounts_added: int = 0
    accounts_updated: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.units_created,
                self.units_updated,
                self.people_created,
                self.people_updated,
                self.roles_added,
                self.roles_removed,
                self.accounts_added,
                self.accounts_updated,
            )
        )

    def summary(self) -> str:
        return T.SUMMARY.format(**{k: v for k, v in self.__dict__.items() if k != "warnings"})


# Parsing single cells

_USERID = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_EARLIEST = date(1921, 7, 1)

_STATUS_WORDS = {label: status for status, label in MEMBER_STATUS_LABELS.items()} | {
    label + "党员": status for status, label in MEMBER_STATUS_LABELS.items()
}
_CATEGORY_WORDS = {label: cat for cat, label in BRANCH_CATEGORY_LABELS.items()}
_FEE_WORDS = {label: cat for cat, label in FEE_CATEGORY_LABELS.items()}

_BRANCH_ROLE_ORDER = [
    Role.SECRETARY,
    Role.DEPUTY_SECRETARY,
    Role.ORGANIZATION_MEMBER,
    Role.PROPAGANDA_MEMBER,
    Role.DISCIPLINE_MEMBER,
    Role.CONTACT,
    Role.FEE_COLLECTOR,
]
_GENERAL_ROLES = _BRANCH_ROLE_ORDER[:5]
_COMMITTEE_LEADER_ROLES = _BRANCH_ROLE_ORDER[:3]


def _role_words() -> dict[str, tuple[Role, UnitKind | None]]:
    words: dict[str, tuple[Role, UnitKind | None]] = {}
    for role in _BRANCH_ROLE_ORDER:
        words[ROLE_LABELS[role]] = (role, UnitKind.BRANCH)
        words["支部" + ROLE_LABELS[role]] = (role, UnitKind.BRANCH)
    words["联系人"] = (Role.CONTACT, UnitKind.BRANCH)
    for role in _GENERAL_ROLES:
        words["总支" + ROLE_LABELS[role]] = (role, UnitKind.GENERAL_BRANCH)
        words["党总支" + ROLE_LABELS[role]] = (role, UnitKind.GENERAL_BRANCH)
    for role in _COMMITTEE_LEADER_ROLES:
        words["党委" + ROLE_LABELS[role]] = (role, UnitKind.COMMITTEE)
        words["党工委" + ROLE_LABELS[role]] = (role, UnitKind.COMMITTEE)
    words["观察员"] = (Role.OBSERVER, UnitKind.COMMITTEE)
    words["组织生活观察员"] = (Role.OBSERVER, UnitKind.COMMITTEE)
    words["组织部"] = (Role.ORG_STAFF, None)
    words["党小组组长"] = (Role.GROUP_LEADER, UnitKind.GROUP)
    words["组长"] = (Role.GROUP_LEADER, UnitKind.GROUP)
    return words


ROLE_WORDS = _role_words()
_ROLE_TOKEN = re.compile(r"^(?P<word>[^（(]+?)\s*(?:[（(](?P<path>[^）)]*)[）)])?$")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_date(value: object) -> date | None:
    """A date from a date cell or common Chinese spellings; None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def _amount(value: object) -> Decimal | None:
    text = _text(value).replace(",", "").removesuffix("元")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(text)
    return amount.quantize(Decimal("0.01"))


def parse_roles(text: str) -> tuple[list[RoleToken], list[str]]:
    """(tokens, the words that are not roles)."""
    tokens: list[RoleToken] = []
    bad: list[str] = []
    for part in re.split(f"[{T.ROLE_SEPARATORS}]", text):
        part = part.strip()
        if not part:
            continue
        m = _ROLE_TOKEN.match(part)
        word = m["word"].strip() if m else part
        if not m or word not in ROLE_WORDS:
            bad.append(part)
            continue
        role, kind = ROLE_WORDS[word]
        path = None
        if m["path"] is not None:
            path = tuple(p.strip() for p in m["path"].split("/") if p.strip())
            if not path:
                bad.append(part)
                continue
        token = RoleToken(part, role, kind, path)
        if token not in tokens:
            tokens.append(token)
    return tokens, bad


# Validation


def validate_roster(
    session: Session,
    raw_rows: list[RawRow],
    headers: list[str],
    *,
    dingtalk_corp_id: str,
    wecom_corp_id: str,
    today: date,
) -> ImportPlan:
    """Check every row against the rules and the database; collect every error, write nothing."""
    plan = ImportPlan(corp_ids={Platform.DINGTALK: dingtalk_corp_id, Platform.WECOM: wecom_corp_id})
    missing = [h for h in T.REQUIRED_HEADERS if h not in headers]
    if missing:
        plan.errors.append(Issue(1, None, T.E["missing_headers"].format(columns="、".join(missing))))
        return plan
    for raw in raw_rows:
        if _text(raw.cells.get(T.SEQ)) == T.EXAMPLE_MARK:
            plan.skipped_examples += 1
            continue
        row = _parse_row(raw, plan, today)
        if row is not None:
            plan.rows.append(row)
    if not plan.rows and not plan.errors:
        plan.errors.append(Issue(None, None, T.E["no_rows"]))
        return plan
    _check_across_rows(plan)
    _check_against_database(session, plan)
    plan.errors.sort(key=lambda i: (i.row or 0, T.HEADERS.index(i.column) if i.column in T.HEADERS else 99))
    return plan


def _parse_row(raw: RawRow, plan: ImportPlan, today: date) -> RosterRow | None:
    n = raw.number
    errors: list[Issue] = []

    def cell(column: str) -> str:
        return _text(raw.cells.get(column))

    def err(column: str, key: str, **kw) -> None:
        errors.append(Issue(n, column, T.E[key].format(**kw)))

    committee, general, branch, group = (
        cell(T.COMMITTEE),
        cell(T.GENERAL_BRANCH),
        cell(T.BRANCH),
        cell(T.GROUP),
    )
    name = cell(T.NAME)
    for column, value in (
        (T.COMMITTEE, committee),
        (T.GENERAL_BRANCH, general),
        (T.BRANCH, branch),
        (T.GROUP, group),
    ):
        if len(value) > 100:
            err(column, "too_long", limit=100)
        elif "/" in value:
            err(column, "slash_in_name")
    if branch and not committee:
        err(T.COMMITTEE, "no_committee", branch=branch)
    if general and not branch:
        err(T.GENERAL_BRANCH, "general_without_branch")
    if group and not branch:
        err(T.GROUP, "group_without_branch")
    if not name:
        err(T.NAME, "required")
    elif len(name) > 50:
        err(T.NAME, "too_long", limit=50)

    category = None
    category_text = cell(T.CATEGORY)
    if category_text:
        category = _CATEGORY_WORDS.get(category_text)
        if category is None:
            err(T.CATEGORY, "bad_category", value=category_text, allowed="、".join(_CATEGORY_WORDS))

    phone = None
    phone_text = cell(T.PHONE)
    if phone_text:
        phone = normalize_phone(phone_text)
        if phone is None:
            err(T.PHONE, "bad_phone", value=phone_text)

    status = MemberStatus.FULL
    status_text = cell(T.STATUS)
    if status_text:
        if status_text in _STATUS_WORDS:
            status = _STATUS_WORDS[status_text]
        else:
            err(T.STATUS, "bad_status", value=status_text)
    elif branch:
        err(T.STATUS, "status_required")

    joined_on = None
    joined_raw = raw.cells.get(T.JOINED)
    if _text(joined_raw):
        joined_on = parse_date(joined_raw)
        if joined_on is None:
            err(T.JOINED, "bad_date", value=_text(joined_raw))
        elif not _EARLIEST <= joined_on <= today:
            err(T.JOINED, "date_range", value=joined_on.isoformat())
            joined_on = None

    fee_category = FeeCategory.EMPLOYED
    fee_text = cell(T.FEE_CATEGORY)
    if fee_text:
        if fee_text in _FEE_WORDS:
            fee_category = _FEE_WORDS[fee_text]
        else:
            err(T.FEE_CATEGORY, "bad_fee_category", value=fee_text, allowed="、".join(_FEE_WORDS))
    amounts: dict[str, Decimal | None] = {}
    for column in (T.FEE_BASE, T.FEE_FIXED):
        amounts[column] = None
        if cell(column):
            try:
                amounts[column] = _amount(raw.cells.get(column))
            except ValueError:
                err(column, "bad_amount", value=cell(column))
    if fee_text in _FEE_WORDS or not fee_text:
        if fee_category == FeeCategory.FIXED and amounts[T.FEE_FIXED] is None and not cell(T.FEE_FIXED):
            err(T.FEE_FIXED, "fixed_required")
        elif fee_category != FeeCategory.FIXED and cell(T.FEE_FIXED):
            err(T.FEE_FIXED, "fixed_not_allowed", category=FEE_CATEGORY_LABELS[fee_category])

    is_mobile = False
    mobile_text = cell(T.MOBILE)
    if mobile_text:
        if mobile_text in (T.YES, T.NO):
            is_mobile = mobile_text == T.YES
        else:
            err(T.MOBILE, "bad_yes_no", value=mobile_text)

    exempt = cell(T.EXEMPT) or None
    if exempt and len(exempt) > 200:
        err(T.EXEMPT, "too_long", limit=200)

    accounts: dict[Platform, str] = {}
    for platform, column, variable in (
        (Platform.DINGTALK, T.DINGTALK, "ZHIBU_DINGTALK__CORP_ID"),
        (Platform.WECOM, T.WECOM, "ZHIBU_WECOM__CORP_ID"),
    ):
        value = cell(column)
        if not value:
            continue
        if not _USERID.match(value):
            err(column, "bad_userid", value=value)
        elif not plan.corp_ids[platform]:
            err(column, "no_corp", platform=PLATFORM_LABELS[platform], variable=variable)
        else:
            accounts[platform] = value
    if not phone_text and not cell(T.DINGTALK) and not cell(T.WECOM):
        err(T.PHONE, "no_identity")

    tokens, bad = parse_roles(cell(T.ROLES))
    for word in bad:
        err(T.ROLES, "unknown_role", value=word)
    for token in tokens:
        if token.path is not None:
            continue
        needs = {
            UnitKind.BRANCH: (branch, "role_needs_branch"),
            UnitKind.GROUP: (group, "role_needs_group"),
            UnitKind.GENERAL_BRANCH: (general, "role_needs_general"),
            UnitKind.COMMITTEE: (committee, "role_needs_committee"),
        }.get(token.kind)
        if needs and not needs[0]:
            err(T.ROLES, needs[1], value=token.text)

    plan.errors.extend(errors)
    # Duplicates are checked across every row, including rows with other errors.
    plan.identities.append((n, phone, dict(accounts)))
    if errors:
        return None
    return RosterRow(
        number=n,
        committee=committee,
        general=general,
        branch=branch,
        category=category,
        group=group,
        name=name,
        phone=phone,
        status=status,
        joined_on=joined_on,
        fee_category=fee_category,
        fee_base=amounts[T.FEE_BASE],
        fee_fixed=amounts[T.FEE_FIXED],
        is_mobile=is_mobile,
        exempt=exempt,
        roles=tokens,
        accounts=accounts,
    )


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


def unit_paths_by_id(session: Session) -> dict[int, tuple[UnitKind, UnitPath]]:
    """Every unit's kind and name path, from its materialised id path."""
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    out: dict[int, tuple[UnitKind, UnitPath]] = {}
    for unit in units.values():
        names = tuple(units[i].name for i in unit.ancestor_ids() if i in units)
        out[unit.id] = (unit.kind, names or (unit.name,))
    return out


def _check_against_database(session: Session, plan: ImportPlan) -> None:
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
    _match_people(session, plan)


def _match_people(session: Session, plan: ImportPlan) -> None:
    """Find each row's person: by chat account, then by phone; refuse ambiguity."""
    phones = [r.phone for r in plan.rows if r.phone]
    by_phone: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(phones):
        for pid, phone, name in session.execute(
            select(Person.id, Person.phone, Person.name).where(Person.phone.in_(chunk))
        ):
            by_phone[phone] = (pid, name)
    by_account: dict[tuple[Platform, str], tuple[int, str]] = {}
    for platform in Platform:
        ids = [r.accounts[platform] for r in plan.rows if platform in r.accounts]
        for chunk in _chunks(ids):
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


def _chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i : i + size]


# Applying


def apply_roster(session: Session, plan: ImportPlan) -> ImportResult:
    """Write a validated plan: units, people, roles, accounts. Never commits."""
    if plan.errors:
        raise ValueError("apply_roster() needs a plan without errors")
    result = ImportResult()
    units = _apply_units(session, plan, result)
    matched = _load_people(session, list(plan.matches.values()))
    touched_branches: set[int] = set()
    for row in plan.rows:
        person = matched.get(plan.matches.get(row.number, -1))
        created = person is None
        if created:
            person = Person(name=row.name)
            session.add(person)
        paths = row.unit_paths()
        branch = units.get(paths.get(UnitKind.BRANCH))
        group = units.get(paths.get(UnitKind.GROUP))
        changed = _assign(
            person,
            name=row.name,
            branch_id=branch.id if branch else None,
            group_id=group.id if group else None,
            status=row.status,
            joined_on=row.joined_on,
            fee_category=row.fee_category,
            fee_base=row.fee_base,
            fee_fixed_amount=row.fee_fixed,
            is_mobile=row.is_mobile,
            attendance_exempt_reason=row.exempt,
            active=True,
        )
        # Identity fields are only ever filled in, never cleared, by a roster.
        if row.phone:
            changed |= _assign(person, phone=row.phone)
        changed |= _apply_accounts(person, row, plan, result)
        changed |= _apply_roles(person, row, units, result)
        if branch:
            touched_branches.add(branch.id)
        if row.fee_category in (FeeCategory.EMPLOYED, FeeCategory.RETIRED) and row.fee_base is None:
            result.warnings.append(
                T.W["no_fee_base"].format(
                    row=row.number, name=row.name, category=FEE_CATEGORY_LABELS[row.fee_category]
                )
            )
        if created:
            result.people_created += 1
        elif changed:
            result.people_updated += 1
        else:
            result.people_unchanged += 1
    session.flush()
    result.warnings = plan.warnings + result.warnings + structure_warnings(session, touched_branches)
    return result


def _assign(obj, **values) -> bool:
    """Set only what differs, so an unchanged row leaves updated_at alone."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _load_people(session: Session, ids: list[int]) -> dict[int, Person]:
    out: dict[int, Person] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(Person)
            .where(Person.id.in_(chunk))
            .options(selectinload(Person.roles), selectinload(Person.chat_accounts))
        )
        out.update({p.id: p for p in session.scalars(stmt)})
    return out


def _apply_units(session: Session, plan: ImportPlan, result: ImportResult) -> dict[UnitPath, OrgUnit]:
    existing = {path: uid for uid, (_, path) in unit_paths_by_id(session).items()}
    by_id = {u.id: u for u in session.scalars(select(OrgUnit))}
    units: dict[UnitPath, OrgUnit] = {path: by_id[uid] for path, uid in existing.items()}
    # Parents before children: a path is one name longer than its parent's.
    for depth in range(1, 5):
        new: list[tuple[OrgUnit, OrgUnit | None]] = []
        for path, kind in plan.units.items():
            if len(path) != depth:
                continue
            unit = units.get(path)
            category = plan.categories.get(path) if kind == UnitKind.BRANCH else None
            if unit is None:
                parent = units.get(path[:-1]) if depth > 1 else None
                if kind == UnitKind.BRANCH and category is None:
                    category = BranchCategory.OTHER
                    plan.warnings.append(T.W["default_category"].format(branch="/".join(path)))
                unit = OrgUnit(kind=kind, name=path[-1], parent=parent, category=category, path="")
                session.add(unit)
                units[path] = unit
                new.append((unit, parent))
                result.units_created += 1
            elif _assign(unit, active=True) | (category is not None and _assign(unit, category=category)):
                result.units_updated += 1
        if new:
            session.flush()
            for unit, parent in new:
                set_path(unit, parent)
    return units


def _apply_accounts(person: Person, row: RosterRow, plan: ImportPlan, result: ImportResult) -> bool:
    changed = False
    for platform, account_id in row.accounts.items():
        corp_id = plan.corp_ids[platform]
        current = next(
            (a for a in person.chat_accounts if a.platform == platform and a.corp_id == corp_id), None
        )
        if current is None:
            person.chat_accounts.append(
                ChatAccount(platform=platform, corp_id=corp_id, account_id=account_id)
            )
            result.accounts_added += 1
            changed = True
        elif current.account_id != account_id:
            current.account_id = account_id
            result.accounts_updated += 1
            changed = True
    return changed


def _resolve_role_units(row: RosterRow, units: dict[UnitPath, OrgUnit]) -> set[tuple[int | None, Role]]:
    defaults = row.unit_paths()
    wanted: set[tuple[int | None, Role]] = set()
    for token in row.roles:
        if token.kind is None and token.path is None:
            wanted.add((None, token.role))
            continue
        path = token.path or defaults[token.kind]
        wanted.add((units[path].id, token.role))
    return wanted


def _apply_roles(
    person: Person, row: RosterRow, units: dict[UnitPath, OrgUnit], result: ImportResult
) -> bool:
    wanted = _resolve_role_units(row, units)
    have = {(ra.org_unit_id, ra.role): ra for ra in person.roles}
    changed = False
    for key, assignment in have.items():
        if key not in wanted:
            person.roles.remove(assignment)
            result.roles_removed += 1
            changed = True
    for unit_id, role in sorted(wanted - have.keys(), key=lambda k: (k[0] or 0, k[1].value)):
        person.roles.append(RoleAssignment(org_unit_id=unit_id, role=role))
        result.roles_added += 1
        changed = True
    return changed


def structure_warnings(session: Session, branch_ids: set[int] | None = None) -> list[str]:
    """条例 rules A1–A2 as warnings: ≥3 正式党员, ≤50 members, a 支委会 from 7 正式党员, a 书记."""
    paths = unit_paths_by_id(session)
    branches = [uid for uid, (kind, _) in paths.items() if kind == UnitKind.BRANCH]
    if branch_ids is not None:
        branches = [b for b in branches if b in branch_ids]
    if not branches:
        return []
    totals: dict[int, list[int]] = {b: [0, 0] for b in branches}
    for branch_id, status in session.execute(
        select(Person.branch_id, Person.status).where(Person.active.is_(True), Person.branch_id.is_not(None))
    ):
        if branch_id in totals:
            totals[branch_id][0] += 1
            totals[branch_id][1] += status == MemberStatus.FULL
    roles = roles_by_unit(session, branches)
    committee_roles = [Role.ORGANIZATION_MEMBER, Role.PROPAGANDA_MEMBER, Role.DISCIPLINE_MEMBER]
    out: list[str] = []
    for b in sorted(branches, key=lambda b: paths[b][1]):
        name = "/".join(paths[b][1])
        total, full = totals[b]
        if full < 3:
            out.append(T.W["too_few"].format(branch=name, full=full))
        if total > 50:
            out.append(T.W["too_many"].format(branch=name, total=total))
        if Role.SECRETARY not in roles[b]:
            out.append(T.W["no_secretary"].format(branch=name))
        if full >= 7:
            missing = [ROLE_LABELS[r] for r in committee_roles if r not in roles[b]]
            if missing:
                out.append(T.W["committee_needed"].format(branch=name, full=full, missing="、".join(missing)))
    return out
