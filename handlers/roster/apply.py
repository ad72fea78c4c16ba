"""Roster import, step 3: write a validated plan (units, people, roles, chat accounts), all of it in
the caller's transaction, never committing; then the structure warnings of the branches touched.

The first import that writes people also sets the start month (models.startmonth) when none is set:
the month after the import's local date, so the month the roster went in is not scored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handlers.common.dates import fmt_month
from handlers.common.roles import roles_by_unit
from handlers.roster import texts as T
from handlers.roster.parse import ImportPlan, RosterRow, UnitPath
from handlers.roster.validate import chunks, unit_paths_by_id
from models import startmonth
from models.org import (
    FEE_CATEGORY_LABELS,
    ROLE_LABELS,
    BranchCategory,
    ChatAccount,
    FeeCategory,
    MemberStatus,
    OrgUnit,
    Person,
    Role,
    RoleAssignment,
    UnitKind,
    set_path,
)


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
    start_month: date | None = None  # set by this import (the first one), when none was set

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
        text = T.SUMMARY.format(
            **{k: v for k, v in self.__dict__.items() if k not in ("warnings", "start_month")}
        )
        if self.start_month is not None:
            text += T.START_MONTH_SET.format(month=fmt_month(self.start_month))
        return text


def apply_roster(session: Session, plan: ImportPlan, *, today: date, sets_start: bool = True) -> ImportResult:
    """Write a validated plan: units, people, roles, accounts. Never commits.

    `today`: the import's local date (the one validate_roster was given). The first import of a
    roster file sets the start month from it when none is set; a one-person edit (`sets_start`
    False) does not."""
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
    if plan.rows and sets_start:
        result.start_month = startmonth.set_default_on_import(session, today)
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
    for chunk in chunks(ids):
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
            current.left_directory_at = None  # a corrected account is another user: send to it again
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
