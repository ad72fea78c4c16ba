"""Who sees what: whose records and which branches' coverage a committee's leaders and 组织部 see,
and who may open a form's photos."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.roles import roles_held
from handlers.observers import strings
from handlers.observers.forms import ObserversConfig
from handlers.observers.observation import result_recipients
from models import attachments
from models.observers import Observation, ObserverAssignment
from models.org import OrgUnit, Person, Role, UnitKind, subtree_filter

ADMIN_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.ORG_STAFF})


def _admin_units(session: Session, person: Person) -> list[OrgUnit | None]:
    """The committees whose observers' records and branches' coverage the person may see (None: the
    whole tree, for 组织部 staff without a unit)."""
    units: list[OrgUnit | None] = []
    for unit_id, role in roles_held(session, person.id):
        if role not in ADMIN_ROLES:
            continue
        if unit_id is None:
            units.append(None)
        else:
            unit = session.get(OrgUnit, unit_id)
            if unit.kind == UnitKind.COMMITTEE:
                units.append(unit)
    return units


def coverage_scope(session: Session, person: Person | None) -> list[OrgUnit] | None:
    """The units whose branches' coverage the person may see, for coverage(within=...): None for the
    whole tree; an empty list for someone who is no committee leader or 组织部 staff."""
    if person is None:
        return []
    units = _admin_units(session, person)
    if None in units:
        return None
    return [u for u in units if u is not None]


def stats_scope(session: Session, person: Person | None) -> tuple[list[int], bool]:
    """(observer ids, is_admin): a committee's leaders and 组织部 see the observers of their subtree's
    branches; an observer sees their own record; anyone else is refused."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    admin_units = _admin_units(session, person)
    if admin_units:
        stmt = select(ObserverAssignment.observer_id).distinct()
        if None not in admin_units:
            clauses = [subtree_filter(u) for u in admin_units]
            stmt = stmt.join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id).where(or_(*clauses))
        return sorted(set(session.scalars(stmt))), True
    if session.scalar(select(func.count()).where(ObserverAssignment.observer_id == person.id)):
        return [person.id], False
    raise Refused(strings.NO_ROLE_STATS, status=403)


def observation_photo(
    session: Session, person: Person | None, meeting_id: int, photo_id: int, cfg: ObserversConfig
) -> attachments.Attachment:
    """A photo of an evaluation, for those who see the evaluation: its observer, the people its result
    goes to (observation.result_recipients), and whoever may see this observer's record (stats_scope:
    the committee's leaders, 组织部). Refuses with 404 for a photo not of this meeting's forms."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=401)
    photo = session.get(attachments.Attachment, photo_id)
    obs = session.get(Observation, photo.owner_id) if photo is not None else None
    if (
        photo is None
        or photo.owner_kind != attachments.OBSERVATION
        or obs is None
        or obs.meeting_id != meeting_id
    ):
        raise Refused(strings.NO_PHOTO, status=404)
    if person.id == obs.observer_id or person.id in result_recipients(session, obs, cfg):
        return photo
    try:
        ids, admin = stats_scope(session, person)
    except Refused:
        ids, admin = [], False
    if admin and obs.observer_id in ids:
        return photo
    raise Refused(strings.PHOTO_NOT_YOURS, status=403)
