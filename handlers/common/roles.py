"""Who holds which role where: the one set of role lookups every feature asks.

Roles are held on a unit (a branch, a general branch, a committee, a group) or, for 组织部 staff, on
no unit at all. A role on one unit never extends to its neighbours or children: each lookup names
the unit. The committee above a unit (committee_of, committees_of) is computed in models.org from
the unit's path and is re-exported here so a feature imports its role lookups from one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.inspection import Liaison
from models.org import ROLE_LABELS, OrgUnit, Role, RoleAssignment, UnitKind, committee_of, committees_of

__all__ = [
    "committee_of",
    "committee_people",
    "committees_of",
    "people_by_role",
    "people_with_roles",
    "people_with_roles_by_unit",
    "rater_paths",
    "role_holders",
    "roles_by_unit",
    "roles_held",
    "roles_on",
    "units_where",
    "units_with_roles",
]

_CHUNK = 1000  # ids per IN list: SQLite's and PostgreSQL's limits are far above, plans stay simple


def roles_on(session: Session, person_id: int, unit_id: int) -> set[Role]:
    """The roles a person holds on exactly this unit."""
    return set(
        session.scalars(
            select(RoleAssignment.role).where(
                RoleAssignment.person_id == person_id, RoleAssignment.org_unit_id == unit_id
            )
        )
    )


def roles_held(session: Session, person_id: int) -> list[tuple[int | None, Role]]:
    """Every (unit id, role) the person holds, unit None for 组织部 staff over the whole tree; for a rule
    that reads several roles at once (who sees which digest, whose coverage)."""
    return [
        (unit_id, Role(role))
        for unit_id, role in session.execute(
            select(RoleAssignment.org_unit_id, RoleAssignment.role)
            .where(RoleAssignment.person_id == person_id)
            .order_by(RoleAssignment.id)
        )
    ]


def role_holders(session: Session, roles: Collection[Role]) -> dict[tuple[int | None, Role], list[int]]:
    """{(unit id, role): sorted ids of its holders} over the whole organisation in one statement, unit
    None for 组织部 staff over the whole tree; for a job that addresses every unit at once."""
    found: dict[tuple[int | None, Role], set[int]] = defaultdict(set)
    for person_id, unit_id, role in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.org_unit_id, RoleAssignment.role).where(
            RoleAssignment.role.in_(list(roles))
        )
    ):
        found[(unit_id, Role(role))].add(person_id)
    return {key: sorted(people) for key, people in found.items()}


def units_where(
    session: Session, person_id: int, roles: Collection[Role], kind: UnitKind | None = None
) -> set[int]:
    """The units (of `kind`, when given) where the person holds one of `roles`."""
    stmt = select(RoleAssignment.org_unit_id).where(
        RoleAssignment.person_id == person_id,
        RoleAssignment.role.in_(list(roles)),
        RoleAssignment.org_unit_id.is_not(None),
    )
    if kind is not None:
        stmt = stmt.join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id).where(OrgUnit.kind == kind)
    return set(session.scalars(stmt))


def people_with_roles_by_unit(
    session: Session, unit_ids: Iterable[int], roles: Collection[Role]
) -> dict[int, list[int]]:
    """{unit id: sorted ids of the people holding one of `roles` there} for many units in one query
    per thousand units; a unit where nobody holds them is absent."""
    ids = sorted(set(unit_ids))
    found: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        for unit_id, person_id in session.execute(
            select(RoleAssignment.org_unit_id, RoleAssignment.person_id).where(
                RoleAssignment.org_unit_id.in_(ids[start : start + _CHUNK]),
                RoleAssignment.role.in_(list(roles)),
            )
        ):
            found[unit_id].add(person_id)
    return {unit_id: sorted(people) for unit_id, people in found.items()}


def units_with_roles(session: Session, roles: Collection[Role]) -> set[int]:
    """The units where somebody holds one of `roles`, in one query."""
    return set(
        session.scalars(
            select(RoleAssignment.org_unit_id)
            .where(RoleAssignment.role.in_(list(roles)), RoleAssignment.org_unit_id.is_not(None))
            .distinct()
        )
    )


def people_with_roles(session: Session, unit_id: int, roles: Collection[Role]) -> list[int]:
    """Sorted ids of the people holding one of `roles` on the unit."""
    return people_with_roles_by_unit(session, [unit_id], roles).get(unit_id, [])


def people_by_role(session: Session, unit_id: int, roles: Collection[Role]) -> dict[Role, list[int]]:
    """{role: sorted ids of its holders on the unit}, in one query; a role nobody holds is absent. For a
    rule that prefers one role and falls back to another (the 党费收缴员, else the 书记)."""
    found: dict[Role, set[int]] = defaultdict(set)
    for person_id, role in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.role).where(
            RoleAssignment.org_unit_id == unit_id, RoleAssignment.role.in_(list(roles))
        )
    ):
        found[Role(role)].add(person_id)
    return {role: sorted(people) for role, people in found.items()}


def roles_by_unit(session: Session, unit_ids: Iterable[int] | None = None) -> dict[int, set[Role]]:
    """{unit id: the roles somebody holds there}, for the given units (all units when None); a unit
    where no role is held maps to an empty set when it was asked for."""
    if unit_ids is None:
        found: dict[int, set[Role]] = defaultdict(set)
        for unit_id, role in session.execute(
            select(RoleAssignment.org_unit_id, RoleAssignment.role).where(
                RoleAssignment.org_unit_id.is_not(None)
            )
        ):
            found[unit_id].add(Role(role))
        return dict(found)
    ids = sorted(set(unit_ids))
    held: dict[int, set[Role]] = {uid: set() for uid in ids}
    for start in range(0, len(ids), _CHUNK):
        for unit_id, role in session.execute(
            select(RoleAssignment.org_unit_id, RoleAssignment.role).where(
                RoleAssignment.org_unit_id.in_(ids[start : start + _CHUNK])
            )
        ):
            held[unit_id].add(Role(role))
    return held


def committee_people(session: Session, unit_id: int, roles: Collection[Role]) -> list[int]:
    """Sorted ids of the people holding one of `roles` on the committee above (or at) the unit; [] when
    the unit is unknown or has no committee above it."""
    unit = session.get(OrgUnit, unit_id)
    committee = committee_of(session, unit) if unit is not None else None
    return people_with_roles(session, committee.id, roles) if committee is not None else []


def roles_in_words(roles: Collection[Role]) -> str:
    """书记、副书记和组织委员: configured roles in words, in the roster's order of offices (for a refusal that names
    who may do it, whatever the settings say)."""
    labels = [ROLE_LABELS[r] for r in ROLE_LABELS if r in roles]
    if len(labels) <= 1:
        return "".join(labels)
    return "、".join(labels[:-1]) + "和" + labels[-1]


def rater_paths(session: Session, person_id: int, roles: Collection[Role]) -> tuple[bool, tuple[str, ...]]:
    """Where a person rates (the branches' and the observers' yearly rating): everywhere (组织部 staff on no
    unit), and the paths of the units they rate at or under: 组织部 staff's units, and the 党委 on which
    they hold one of `roles` (one statement, for a whole page)."""
    everything, paths = False, []
    for role, unit_path, unit_kind in session.execute(
        select(RoleAssignment.role, OrgUnit.path, OrgUnit.kind)
        .outerjoin(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.person_id == person_id)
    ):
        role = Role(role)
        if role == Role.ORG_STAFF:
            if unit_path is None:
                everything = True
            else:
                paths.append(unit_path)
        elif role in roles and unit_kind == UnitKind.COMMITTEE:
            paths.append(unit_path)
    return everything, tuple(paths)


def liaisons_by_committee(
    session: Session, committee_ids: Collection[int] | None = None
) -> dict[int, list[int]]:
    """{committee id: its 包保 cadres (包保联系: what reaches the committee's leaders reaches them too)},
    for the given committees or, without ids, all of them: one statement."""
    stmt = select(Liaison.committee_id, Liaison.person_id)
    if committee_ids is not None:
        stmt = stmt.where(Liaison.committee_id.in_(set(committee_ids)))
    found: dict[int, set[int]] = defaultdict(set)
    for cid, pid in session.execute(stmt):
        found[cid].add(pid)
    return {c: sorted(people) for c, people in found.items()}


def liaison_committees(session: Session, person_id: int) -> list[int]:
    """The active committees `person_id` is the 包保 cadre of (包保联系), by id."""
    return list(
        session.scalars(
            select(Liaison.committee_id)
            .join(OrgUnit, OrgUnit.id == Liaison.committee_id)
            .where(Liaison.person_id == person_id, OrgUnit.active.is_(True))
            .order_by(Liaison.committee_id)
        )
    )


def liaison_cadres(session: Session, branch_ids: list[int]) -> dict[int, list[int]]:
    """{branch id: the 包保 cadres of its committee}."""
    branches = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(branch_ids))).all()
    committees = committees_of(session, branches)
    links = liaisons_by_committee(session, [c.id for c in committees.values()])
    return {b.id: links.get(committees[b.id].id, []) for b in branches if b.id in committees}
