"""Who observes which branch: the observer ↔ branch links (one observer may watch several, never
their own branch, H23), and who answers for a branch and its committee."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.roles import people_with_roles
from handlers.observers import strings
from handlers.observers.forms import ObserversConfig
from models.observers import ObserverAssignment
from models.org import OrgUnit, Person, UnitKind


def _branch(session: Session, branch_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, branch_id)
    if unit is None:
        raise Refused(strings.NO_BRANCH)
    if unit.kind != UnitKind.BRANCH:
        raise Refused(strings.NOT_A_BRANCH.format(unit=unit.name))
    return unit


def assign_observer(session: Session, observer_id: int, branch_id: int) -> ObserverAssignment:
    """Link an observer to a branch (one observer may watch several). Never their own branch (H23).

    Re-activates an ended link; refuses one that is already active.
    """
    person = session.get(Person, observer_id)
    if person is None:
        raise Refused(strings.NO_PERSON)
    branch = _branch(session, branch_id)
    if person.branch_id == branch.id:
        raise Refused(strings.OWN_BRANCH.format(name=person.name, branch=branch.name))
    existing = session.scalars(
        select(ObserverAssignment).where(
            ObserverAssignment.observer_id == observer_id, ObserverAssignment.branch_id == branch_id
        )
    ).first()
    if existing is not None:
        if existing.active:
            raise Refused(strings.ALREADY_ASSIGNED.format(name=person.name, branch=branch.name))
        existing.active = True
        session.flush()
        return existing
    link = ObserverAssignment(observer_id=observer_id, branch_id=branch_id, active=True)
    session.add(link)
    session.flush()
    return link


def end_assignment(session: Session, observer_id: int, branch_id: int) -> bool:
    """End a link (kept for the record). True when there was an active one."""
    link = session.scalars(
        select(ObserverAssignment).where(
            ObserverAssignment.observer_id == observer_id,
            ObserverAssignment.branch_id == branch_id,
            ObserverAssignment.active.is_(True),
        )
    ).first()
    if link is None:
        return False
    link.active = False
    session.flush()
    return True


def assigned_branch_ids(session: Session, observer_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ObserverAssignment.branch_id)
            .where(ObserverAssignment.observer_id == observer_id, ObserverAssignment.active.is_(True))
            .order_by(ObserverAssignment.branch_id)
        )
    )


def observers_of(session: Session, branch_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ObserverAssignment.observer_id)
            .where(ObserverAssignment.branch_id == branch_id, ObserverAssignment.active.is_(True))
            .order_by(ObserverAssignment.observer_id)
        )
    )


def is_assigned(session: Session, observer_id: int, branch_id: int) -> bool:
    return branch_id in assigned_branch_ids(session, observer_id)


def answers_for_branch(session: Session, person_id: int, branch_id: int, cfg: ObserversConfig) -> bool:
    """A member of the branch or one of its managers (a 第一书记 from elsewhere too): the branch's
    fixes are their own work, so they never sign them off."""
    person = session.get(Person, person_id)
    return (person is not None and person.branch_id == branch_id) or person_id in people_with_roles(
        session, branch_id, cfg.manager_roles
    )
