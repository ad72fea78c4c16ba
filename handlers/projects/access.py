"""Who may do what with a 书记项目: the one place the feature's roles are decided.

* The secretary who registered a project edits it and reports its progress; nobody else does.
* Pre-review (预审): the `prereview_roles` (组织委员) of the nearest committee strictly above the project's
  unit; a unit with no committee above (a top committee's own project) goes to the 组织部 over it.
* Scoring (评审): the call's named reviewers, else the 组织部 over the unit, else the
  `fallback_reviewer_roles` of the committee above. Reviewers only score.
* Viewing: members of the unit's subtree (公开承诺), and everyone above who pre-reviews, scores or leads.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.roles import people_with_roles
from handlers.projects import strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person, Role, RoleAssignment, UnitKind, committee_of
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


def org_staff_over(session: Session, unit: OrgUnit) -> list[int]:
    """组织部 staff whose subtree holds the unit (a role on an ancestor, or over the whole tree)."""
    return sorted(
        set(
            session.scalars(
                select(RoleAssignment.person_id).where(
                    RoleAssignment.role == Role.ORG_STAFF,
                    or_(
                        RoleAssignment.org_unit_id.is_(None),
                        RoleAssignment.org_unit_id.in_(unit.ancestor_ids()),
                    ),
                )
            )
        )
    )


def prereviewers(session: Session, unit: OrgUnit, cfg: ProjectsConfig) -> list[int]:
    committee = committee_above(session, unit)
    if committee is not None:
        found = people_with_roles(session, committee.id, cfg.prereview_roles)
        if found:
            return found
    return org_staff_over(session, unit)


def call_for(session: Session, unit: OrgUnit, year: int) -> ProjectCall | None:
    """The call covering the unit for the year: the nearest ancestor's, else the whole tree's."""
    calls = {
        c.unit_id: c
        for c in session.scalars(
            select(ProjectCall).where(
                ProjectCall.year == year,
                or_(ProjectCall.unit_id.is_(None), ProjectCall.unit_id.in_(unit.ancestor_ids())),
            )
        )
    }
    for uid in reversed(unit.ancestor_ids()):
        if uid in calls:
            return calls[uid]
    return calls.get(None)


def reviewers(session: Session, p: SecretaryProject, cfg: ProjectsConfig) -> tuple[list[int], int]:
    """(who may score, how many scores decide): a panel must all score; otherwise one score decides."""
    unit = session.get(OrgUnit, p.unit_id)
    call = call_for(session, unit, p.year)
    if call is not None:
        panel = sorted(
            set(session.scalars(select(ProjectReviewer.person_id).where(ProjectReviewer.call_id == call.id)))
        )
        if panel:
            return panel, len(panel)
    staff = org_staff_over(session, unit)
    if staff:
        return staff, 1
    committee = committee_above(session, unit)
    fallback = people_with_roles(session, committee.id, cfg.fallback_reviewer_roles) if committee else []
    return fallback, 1


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
