"""Roster import, step 1: read each row of the file into a RosterRow, collecting every error.

Cells are read with the one set of readers every import shares (handlers.common.cells: text, phone,
date, amount); the words of the roster (member status, branch category, fee category, roles) are read
here. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from handlers.common import cells
from handlers.roster import texts as T
from handlers.roster.fileio import RawRow
from models.org import (
    BRANCH_CATEGORY_LABELS,
    FEE_CATEGORY_LABELS,
    MEMBER_STATUS_LABELS,
    PLATFORM_LABELS,
    ROLE_LABELS,
    BranchCategory,
    FeeCategory,
    MemberStatus,
    Platform,
    Role,
    UnitKind,
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


# Reading the roster's words

_USERID = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
_EARLIEST = date(1921, 7, 1)  # no one joined before the Party was founded

_STATUS_WORDS = {label: status for status, label in MEMBER_STATUS_LABELS.items()} | {
    label + "党员": status for status, label in MEMBER_STATUS_LABELS.items()
}
# A person's name: Chinese characters, letters (and digits: 党员12 in test and demo rosters), the 间隔号 of minority and foreign names (·, and the
# look-alikes people type), spaces, and full-width brackets for the 王芳（大） that tells two apart.
# Nothing that means something in markdown, a spreadsheet formula or HTML: names go into cards,
# exports and pages, and each output escaping them is a second line of defence, not the first.
_PERSON_NAME = re.compile(r"^[^\W_]+(?:[ ·•・.．\-]?[^\W_]+|（[^\W_]+）|\([^\W_]+\))*$")
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


def parse_row(raw: RawRow, plan: ImportPlan, today: date) -> RosterRow | None:
    """One row read into a RosterRow; its errors go into the plan (None when it has any)."""
    n = raw.number
    errors: list[Issue] = []

    def cell(column: str) -> str:
        return cells.text(raw.cells.get(column))

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
    elif not _PERSON_NAME.match(name):
        err(T.NAME, "bad_name", value=name)

    category = None
    category_text = cell(T.CATEGORY)
    if category_text:
        category = _CATEGORY_WORDS.get(category_text)
        if category is None:
            err(T.CATEGORY, "bad_category", value=category_text, allowed="、".join(_CATEGORY_WORDS))

    phone = None
    phone_text = cell(T.PHONE)
    try:
        phone = cells.phone(raw.cells.get(T.PHONE))
    except cells.CellError:
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
    try:
        joined_on = cells.day(raw.cells.get(T.JOINED))
    except cells.CellError:
        err(T.JOINED, "bad_date", value=cell(T.JOINED))
    if joined_on is not None and not _EARLIEST <= joined_on <= today:
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
        try:
            amounts[column] = cells.amount(raw.cells.get(column))
        except cells.CellError:
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
