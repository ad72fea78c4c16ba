"""Who may do what with a 书记项目: the one place the feature's roles are decided.

* The secretary who registered a project edits it and reports its progress; nobody else does.
* Pre-review (预审): the `prereview_roles` (组织委员) of the nearest committee strictly above the project's
  unit; a unit with no committee above (a top committee's own project) goes to the 组织部 over it.
* Scoring (评审): the call's named reviewers, else the 组织部 over the unit, else the
  `fallback_reviewer_roles` of the committee above. Reviewers only score.
* Viewing: members of the unit's subtree (公开承诺), and everyone above who pre-reviews, scores or leads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.roles import people_with_roles_by_unit
from handlers.projects import strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person, Role, RoleAssignment, UnitKind, committee_of, committees_of
from models.projects import ProjectCall, ProjectReviewer, SecretaryProject


def project(session: Session, project_id: int) -> SecretaryProject:
    found = session.get(SecretaryProject, project_id)
    if found is None:
        raise Refused(strings.NO_PROJECT.format(id=project_id), status=404)
    return found


def committee_above(session: Session, unit: OrgUnit) -> OrgUnit | None:
    """The nearest 党委 strictly above the unit (a committee's own project is reviewed above it)."""
    # The committee at or above the parent is the nearest one strictly above the unit.
    return committee_of(session, unit.parent) if unit.parent_id is not None else None


def committees_above(session: Session, units: Iterable[OrgUnit]) -> dict[int, OrgUnit]:
    """{unit id: committee_above(unit)} for many units in two queries; a unit with none is absent."""
    units = list(units)
    parent_ids = {u.parent_id for u in units if u.parent_id is not None}
    if not parent_ids:
        return {}
    parents = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(parent_ids))).all()
    by_parent = committees_of(session, parents)
    return {u.id: by_parent[u.parent_id] for u in units if u.parent_id in by_parent}


def org_staff_by_unit(session: Session, units: Iterable[OrgUnit]) -> dict[int, list[int]]:
    """{unit id: the 组织部 staff whose subtree holds it (a role on an ancestor, or over the whole tree)}
    for many units in one query."""
    units = list(units)
    if not units:
        return {}
    ancestors = {i for u in units for i in u.ancestor_ids()}
    rows = session.execute(
        select(RoleAssignment.org_unit_id, RoleAssignment.person_id).where(
            RoleAssignment.role == Role.ORG_STAFF,
            or_(RoleAssignment.org_unit_id.is_(None), RoleAssignment.org_unit_id.in_(ancestors)),
        )
    ).all()
    found = {}
    for u in units:
        over = set(u.ancestor_ids())
        found[u.id] = sorted({person for at, person in rows if at is None or at in over})
    return found


def org_staff_over(session: Session, unit: OrgUnit) -> list[int]:
    """组织部 staff whose subtree holds the unit (a role on an ancestor, or over the whole tree)."""
    return org_staff_by_unit(session, [unit])[unit.id]


def prereviewers_by_unit(
    session: Session, units: Iterable[OrgUnit], cfg: ProjectsConfig
) -> dict[int, list[int]]:
    """{unit id: who pre-reviews its projects} for many units in a few queries (the chat list over a
    county): the `prereview_roles` of the committee above, else the 组织部 over the unit."""
    units = list(units)
    above = committees_above(session, units)
    holders = people_with_roles_by_unit(session, {c.id for c in above.values()}, cfg.prereview_roles)
    found = {u.id: holders.get(above[u.id].id, []) if u.id in above else [] for u in units}
    bare = [u for u in units if not found[u.id]]
    if bare:
        found.update(org_staff_by_unit(session, bare))
    return found


def prereviewers(session: Session, unit: OrgUnit, cfg: ProjectsConfig) -> list[int]:
    return prereviewers_by_unit(session, [unit], cfg)[unit.id]


def _calls(
    session: Session, units: Iterable[OrgUnit], years: Iterable[int]
) -> dict[tuple[int | None, int], ProjectCall]:
    """{(unit id or None, year): call} of the calls that may cover these units in these years."""
    ancestors = {i for u in units for i in u.ancestor_ids()}
    return {
        (c.unit_id, c.year): c
        for c in session.scalars(
            select(ProjectCall).where(
                ProjectCall.year.in_(set(years)),
                or_(ProjectCall.unit_id.is_(None), ProjectCall.unit_id.in_(ancestors)),
            )
        )
    }


def _nearest_call(
    calls: dict[tuple[int | None, int], ProjectCall], unit: OrgUnit, year: int
) -> ProjectCall | None:
    for uid in reversed(unit.ancestor_ids()):
        if (uid, year) in calls:
            return calls[(uid, year)]
    return calls.get((None, year))


def call_for(session: Session, unit: OrgUnit, year: int) -> ProjectCall | None:
    """The call covering the unit for the year: the nearest ancestor's, else the whole tree's."""
    return _nearest_call(_calls(session, [unit], [year]), unit, year)


def reviewers_by_project(
    session: Session, projects: Iterable[SecretaryProject], cfg: ProjectsConfig
) -> dict[int, tuple[list[int], int]]:
    """{project id: (who may score, how many scores decide)} for many projects in a few queries: the
    call's panel must all score; otherwise one score of the 组织部 over the unit, else of the committee
    above's `fallback_reviewer_roles`, decides."""
    projects = list(projects)
    if not projects:
        return {}
    units = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects})))
    }
    panels: dict[int, set[int]] = defaultdict(set)
    known = _calls(session, units.values(), {p.year for p in projects})
    calls = {p.id: _nearest_call(known, units[p.unit_id], p.year) for p in projects}
    call_ids = {c.id for c in calls.values() if c is not None}
    if call_ids:
        for call_id, person_id in session.execute(
            select(ProjectReviewer.call_id, ProjectReviewer.person_id).where(
                ProjectReviewer.call_id.in_(call_ids)
            )
        ):
            panels[call_id].add(person_id)
    found: dict[int, tuple[list[int], int]] = {}
    for p in projects:
        panel = sorted(panels[calls[p.id].id]) if calls[p.id] is not None else []
        if panel:
            found[p.id] = (panel, len(panel))
    rest = [p for p in projects if p.id not in found]
    staff = org_staff_by_unit(session, [units[i] for i in {p.unit_id for p in rest}])
    for p in rest:
        if staff[p.unit_id]:
            found[p.id] = (staff[p.unit_id], 1)
    rest = [p for p in rest if p.id not in found]
    above = committees_above(session, [units[i] for i in {p.unit_id for p in rest}])
    fallback = people_with_roles_by_unit(session, {c.id for c in above.values()}, cfg.fallback_reviewer_roles)
    for p in rest:
        committee = above.get(p.unit_id)
        found[p.id] = (fallback.get(committee.id, []) if committee else [], 1)
    return found


def reviewers(session: Session, p: SecretaryProject, cfg: ProjectsConfig) -> tuple[list[int], int]:
    """(who may score, how many scores decide): a panel must all score; otherwise one score decides."""
    return reviewers_by_project(session, [p], cfg)[p.id]


def secretary_units(session: Session, person: Person, cfg: ProjectsConfig) -> list[OrgUnit]:
    """The units where the person may register a project, lowest first (a branch before its committee)."""
    units = session.scalars(
        select(OrgUnit)
        .join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role.in_(list(cfg.register_roles)),
            OrgUnit.kind.in_(list(cfg.register_unit_kinds)),
            OrgUnit.active.is_(True),
        )
    ).all()
    return sorted(set(units), key=lambda u: (-len(u.ancestor_ids()), u.id))


def call_units(session: Session, person: Person, cfg: ProjectsConfig) -> list[OrgUnit | None]:
    """Where the person may set the call: committees they lead (call_roles), 组织部 units; None = the
    whole tree (组织部 with no unit)."""
    found: list[OrgUnit | None] = []
    for ra in session.scalars(select(RoleAssignment).where(RoleAssignment.person_id == person.id)):
        if ra.role == Role.ORG_STAFF:
            found.append(ra.org_unit)
        elif ra.role in cfg.call_roles and ra.org_unit is not None and ra.org_unit.kind == UnitKind.COMMITTEE:
            found.append(ra.org_unit)
    return found


def can_view(session: Session, person: Person, p: SecretaryProject, cfg: ProjectsConfig) -> bool:
    if person.id == p.secretary_id:
        return True
    unit = session.get(OrgUnit, p.unit_id)
    if person.branch is not None and person.branch.path.startswith(unit.path):
        return True
    if person.id in prereviewers(session, unit, cfg) or person.id in reviewers(session, p, cfg)[0]:
        return True
    # Anyone holding an office on the unit or above it (the committee's leaders, 组织部).
    return bool(
        session.scalar(
            select(RoleAssignment.id)
            .where(
                RoleAssignment.person_id == person.id,
                or_(
                    RoleAssignment.org_unit_id.in_(unit.ancestor_ids()),
                    (RoleAssignment.org_unit_id.is_(None)) & (RoleAssignment.role == Role.ORG_STAFF),
                ),
            )
            .limit(1)
        )
    )


def members_of(session: Session, unit: OrgUnit) -> list[int]:
    """Active members of the unit's subtree: who the public commitment goes to."""
    return list(
        session.scalars(
            select(Person.id)
            .join(OrgUnit, OrgUnit.id == Person.branch_id)
            .where(Person.active.is_(True), OrgUnit.path.startswith(unit.path))
            .order_by(Person.id)
        )
    )
