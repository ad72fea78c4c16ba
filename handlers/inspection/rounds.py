"""督查 rounds and their findings (issue #20 item 1), shared by every kind of round.

Who may do what (the one place it is decided):

* organisers: 组织部 staff over the round's unit (or the whole tree), a committee's 书记/副书记/组织委员
  over its own subtree, and the creator of the round;
  they open and close rounds, confirm or send back rectifications, and correct findings after the close;
* a unit's checker: its named inspector, or in a 交叉互查 the checking branch's `checker_roles`;
  they record findings while the round is open, and confirm or send back its rectifications;
* an inspector sees only the units of the rounds they check in;
* a committee's leaders see, read-only, every round's units in their committee (rounds run by the
  组织部 included) unless they are the round's organisers or checkers;
* a branch's leaders see the rounds over their branch; both see a patrol draw only from
  `visible_from` (the month after the draw): it is shown only to the 组织部 and the inspectors until
  the month ends, so an unannounced check stays unannounced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session, selectinload

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Text
from handlers.common import dates
from handlers.common.roles import liaison_cadres, people_by_role, people_with_roles, roles_held
from handlers.inspection import strings
from handlers.inspection.config import InspectionConfig
from models.inspection import (
    ChecklistItem,
    Finding,
    InspectionRectification,
    InspectionRound,
    RoundKind,
    RoundUnit,
)
from models.observers import RectificationStatus
from models.org import OrgUnit, Person, Role, UnitKind

MAX_TEXT = 500
COMMITTEE_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER})


# ---- access


@dataclass
class Standing:
    """What a person holds that matters here, read once per request."""

    person_id: int
    staff_paths: list[str] = field(default_factory=list)  # 组织部 over these subtrees ("" = everything)
    led_branch_ids: set[int] = field(default_factory=set)  # branches where they hold checker_roles
    committee_paths: list[str] = field(default_factory=list)  # committees they lead (watch read-only)

    def organises(self, path: str) -> bool:
        """Whether the unit at `path` ("/" for the whole tree) is in their 组织部 subtree."""
        return any(p == "" or path.startswith(p) for p in self.staff_paths)

    def organised_units(self):
        """The SQL condition of `organises` on OrgUnit (false when they organise nothing)."""
        if "" in self.staff_paths:
            return true()
        return or_(false(), *(OrgUnit.path.startswith(p) for p in self.staff_paths))


def standing(session: Session, person_id: int, cfg: InspectionConfig) -> Standing:
    held = roles_held(session, person_id)
    units = {
        u.id: u
        for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({i for i, _ in held if i is not None})))
    }
    st = Standing(person_id)
    for unit_id, role in held:
        if role in cfg.inspector_roles:
            st.staff_paths.append("" if unit_id is None else units[unit_id].path)
        elif role in COMMITTEE_ROLES and unit_id in units and units[unit_id].kind == UnitKind.COMMITTEE:
            st.staff_paths.append(units[unit_id].path)  # a committee runs its own rounds (交叉互查, 巡查指导)
            st.committee_paths.append(units[unit_id].path)
        if role in cfg.checker_roles and unit_id in units and units[unit_id].kind == UnitKind.BRANCH:
            st.led_branch_ids.add(unit_id)
    return st


def _round_path(session: Session, rnd: InspectionRound) -> str:
    return "/" if rnd.unit_id is None else session.get(OrgUnit, rnd.unit_id).path


def is_organiser(session: Session, st: Standing, rnd: InspectionRound) -> bool:
    if rnd.created_by_id == st.person_id:
        return True
    return st.organises(_round_path(session, rnd))


def is_checker(st: Standing, ru: RoundUnit) -> bool:
    if ru.inspector_id == st.person_id:
        return True
    return ru.checker_branch_id is not None and ru.checker_branch_id in st.led_branch_ids


def visible_units(
    session: Session, st: Standing, rnd: InspectionRound, today: date, *, watched: set[int] | None = None
) -> list[RoundUnit]:
    """The round's units this person may see (possibly none: then the round is not theirs).
    `watched`: the branches in the committees they lead, when already known (a list of rounds)."""
    if is_organiser(session, st, rnd):
        return list(rnd.units)
    if any(is_checker(st, ru) for ru in rnd.units):
        return list(rnd.units)  # an inspector sees the units of their rounds
    hidden = rnd.kind == RoundKind.PATROL and (rnd.visible_from is None or today < rnd.visible_from)
    if hidden:
        return []
    if watched is None:
        watched = _watched_branches(session, st, {ru.branch_id for ru in rnd.units})
    return [ru for ru in rnd.units if ru.branch_id in st.led_branch_ids or ru.branch_id in watched]


def _under_committees(st: Standing):
    """The ids of the units in the committees the person leads (a subquery), or None."""
    if not st.committee_paths:
        return None
    return select(OrgUnit.id).where(or_(*(OrgUnit.path.startswith(p) for p in st.committee_paths)))


def _watched_branches(session: Session, st: Standing, branch_ids: set[int]) -> set[int]:
    under = _under_committees(st)
    if under is None or not branch_ids:
        return set()
    return set(session.scalars(under.where(OrgUnit.id.in_(branch_ids))))


def rounds_for(session: Session, st: Standing, today: date) -> list[tuple[InspectionRound, list[RoundUnit]]]:
    """Every round this person may see, newest first, with the units they see in it."""
    clauses = [RoundUnit.inspector_id == st.person_id]
    if st.led_branch_ids:
        clauses += [
            RoundUnit.branch_id.in_(st.led_branch_ids),
            RoundUnit.checker_branch_id.in_(st.led_branch_ids),
        ]
    if (under := _under_committees(st)) is not None:
        clauses.append(RoundUnit.branch_id.in_(under))
    ids = set(session.scalars(select(RoundUnit.round_id).where(or_(*clauses))))
    ids |= set(
        session.scalars(select(InspectionRound.id).where(InspectionRound.created_by_id == st.person_id))
    )
    if st.staff_paths:
        if "" in st.staff_paths:
            ids |= set(session.scalars(select(InspectionRound.id)))
        else:
            under = select(OrgUnit.id).where(st.organised_units())
            ids |= set(session.scalars(select(InspectionRound.id).where(InspectionRound.unit_id.in_(under))))
    rounds = session.scalars(
        select(InspectionRound)
        .where(InspectionRound.id.in_(ids))
        .options(selectinload(InspectionRound.units))
        .order_by(InspectionRound.id.desc())
    ).all()
    watched = _watched_branches(session, st, {ru.branch_id for rnd in rounds for ru in rnd.units})
    out = []
    for rnd in rounds:
        seen = visible_units(session, st, rnd, today, watched=watched)
        if seen:
            out.append((rnd, seen))
    return out


def rounds_seen_of(session: Session, st: Standing, branch_id: int, today: date) -> set[int]:
    """The ids of the rounds over the branch in which this person sees it (rounds_for, for one branch)."""
    rus = session.scalars(select(RoundUnit).where(RoundUnit.branch_id == branch_id)).all()
    watched = _watched_branches(session, st, {branch_id})
    return {
        ru.round_id for ru in rus
        if any(u.branch_id == branch_id for u in visible_units(session, st, ru.round, today, watched=watched))
    }  # fmt: skip


def get_round(session: Session, round_id: int) -> InspectionRound:
    rnd = session.get(InspectionRound, round_id)
    if rnd is None:
        raise Refused(strings.NO_ROUND.format(id=round_id), status=404)
    return rnd


def get_round_unit(session: Session, rnd: InspectionRound, branch_id: int) -> RoundUnit:
    ru = next((u for u in rnd.units if u.branch_id == branch_id), None)
    if ru is None:
        raise Refused(strings.NO_UNIT, status=404)
    return ru


# ---- rounds


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Refused(strings.BAD_DAY, ("due_on",), status=422) from None


def open_round(
    session: Session,
    st: Standing,
    *,
    kind: RoundKind,
    title: str,
    unit: OrgUnit | None,
    assignments: list[tuple[OrgUnit, int | None, int | None]],
    today: date,
    scope_kind: str = "",
    target_kind: str = "",
    method: str = "",
    period: tuple[date, date] | None = None,
) -> InspectionRound:
    """A new round over `assignments` [(branch, inspector id, checking branch id)]; the person must be
    组织部 over `unit` (None: the whole tree)."""
    title = title.strip()
    if not title or len(title) > 200:
        raise Refused(strings.NEED_TITLE, ("title",), status=422)
    path = "/" if unit is None else unit.path
    if not st.organises(path):
        raise Refused(strings.NOT_ORGANISER, status=403)
    if not assignments:
        raise Refused(strings.NO_UNITS, ("units",), status=422)
    for branch, inspector, checker in assignments:
        if branch.kind != UnitKind.BRANCH or not branch.path.startswith(path):
            raise Refused(strings.UNIT_NOT_BRANCH.format(name=branch.name), ("units",), status=422)
        if inspector is None and checker is None:
            raise Refused(strings.NO_INSPECTOR.format(name=branch.name), ("inspectors",), status=422)
    rnd = InspectionRound(
        kind=kind, year=today.year, title=title, unit_id=unit.id if unit else None, scope_kind=scope_kind,
        target_kind=target_kind, method=method, opened_on=today, created_by_id=st.person_id,
        period_start=period[0] if period else None, period_end=period[1] if period else None,
    )  # fmt: skip
    rnd.units = [RoundUnit(branch_id=b.id, inspector_id=i, checker_branch_id=c) for b, i, c in assignments]
    session.add(rnd)
    session.flush()
    return rnd


def close_round(session: Session, st: Standing, rnd: InspectionRound, *, now: datetime) -> None:
    if not is_organiser(session, st, rnd):
        raise Refused(strings.NOT_ORGANISER, status=403)
    if rnd.closed_at is not None:
        raise Refused(strings.ROUND_ALREADY_CLOSED.format(when=rnd.closed_at.date()), status=409)
    rnd.closed_at = now
    session.flush()


# ---- findings


def items_for(session: Session, rnd: InspectionRound, branch: OrgUnit) -> list[ChecklistItem]:
    """The list's items that apply to the branch's kind (the 督查清单 for every round but 巡查指导)."""
    return applying(checklist(session, rnd), branch)


def checklist(session: Session, rnd: InspectionRound) -> list[ChecklistItem]:
    """The round's whole active list, every kind of branch (read once for a page of many units)."""
    kind = RoundKind.GUIDANCE if rnd.kind == RoundKind.GUIDANCE else RoundKind.SUPERVISION
    return list(
        session.scalars(
            select(ChecklistItem)
            .where(
                ChecklistItem.year == rnd.year,
                ChecklistItem.list_kind == kind,
                ChecklistItem.active.is_(True),
            )
            .order_by(ChecklistItem.seq, ChecklistItem.id)
        )
    )


def applying(items: list[ChecklistItem], branch: OrgUnit) -> list[ChecklistItem]:
    """Those of `items` that apply to the branch's kind."""
    category = branch.category.value if branch.category else None
    return [i for i in items if not i.categories or category in i.categories]


def _default_owner(session: Session, branch_id: int, cfg: InspectionConfig) -> int | None:
    """The branch's 书记, else the first of its other checker roles' holders (one query)."""
    held = people_by_role(session, branch_id, {Role.SECRETARY, *cfg.checker_roles})
    people = held.get(Role.SECRETARY) or sorted({p for ids in held.values() for p in ids})
    return people[0] if people else None


def record_finding(
    session: Session,
    st: Standing,
    rnd: InspectionRound,
    ru: RoundUnit,
    *,
    item: str,
    ok: bool,
    text: str = "",
    photos: list[int] | None = None,
    due_on: date | None = None,
    owner_id: int | None = None,
    now: datetime,
    today: date,
    cfg: InspectionConfig,
    correction_reason: str = "",
) -> Finding:
    """Record (or, while the round is open, change) the finding of one item for one unit. After the
    close only an organiser changes it, with a reason (a recorded correction). A problem opens its
    rectification (the owner is told in chat); a problem turned fine drops a rectification nobody has
    reported on yet."""
    item, text = item.strip(), text.strip()
    closed = rnd.closed_at is not None
    if closed:
        if not is_organiser(session, st, rnd):
            raise Refused(strings.ROUND_CLOSED, status=409)
        if not correction_reason.strip():
            raise Refused(strings.NEED_REASON, ("reason",), status=422)
    elif not (is_checker(st, ru) or is_organiser(session, st, rnd)):
        raise Refused(strings.NOT_INSPECTOR, status=403)
    if not item or len(item) > 200:
        raise Refused(strings.NEED_ITEM, ("item",), status=422)
    if not ok and (not text or len(text) > MAX_TEXT):
        raise Refused(strings.NEED_PROBLEM, ("text",), status=422)
    if due_on is not None and due_on < today:
        raise Refused(strings.DUE_PAST, ("due_on",), status=422)
    finding = next((f for f in ru.findings if f.item_title == item), None)
    if finding is None:
        if closed:
            raise Refused(strings.ROUND_CLOSED, status=409)
        catalogued = session.scalar(
            select(ChecklistItem.id)
            .where(ChecklistItem.year == rnd.year, ChecklistItem.title == item)
            .limit(1)
        )
        finding = Finding(
            branch_id=ru.branch_id, item_id=catalogued, item_title=item, recorded_at=now, photos=[]
        )
        ru.findings.append(finding)
    finding.ok, finding.text = ok, text
    if photos is not None:  # None: keep the photos (the console's form has none; the H5 form adds its own)
        finding.photos = list(photos)
    finding.recorded_by_id = finding.recorded_by_id or st.person_id
    if closed:
        finding.corrected_by_id, finding.corrected_at = st.person_id, now
        finding.correction_reason = correction_reason.strip()[:MAX_TEXT]
    else:
        finding.recorded_by_id, finding.recorded_at = st.person_id, now
    if ru.visited_on is None:
        ru.visited_on = today
    session.flush()
    rect = finding.rectification
    if ok:
        if rect is not None and rect.status == RectificationStatus.OPEN:
            session.delete(rect)
            session.flush()
            session.expire(finding, ["rectification"])
        return finding
    due = due_on or today + timedelta(days=cfg.rectification_days)
    if rect is None:
        rect = InspectionRectification(
            finding=finding, branch_id=ru.branch_id, text=text[:MAX_TEXT], due_on=due,
            owner_id=owner_id or _default_owner(session, ru.branch_id, cfg),
        )  # fmt: skip
        session.add(rect)
        session.flush()
        if rect.owner_id is not None:
            branch = session.get(OrgUnit, ru.branch_id)
            outbox.enqueue_to_people(
                session, [rect.owner_id],
                Text(strings.RECT_ASSIGNED.format(branch=branch.name, round=rnd.title, id=rect.id, text=rect.text,
                                                  due=dates.fmt_full_day(rect.due_on))),
                dedup_key=f"inspection:rect:{rect.id}", now=now,
            )  # fmt: skip
    elif rect.status in (RectificationStatus.OPEN, RectificationStatus.REOPENED):
        rect.text, rect.due_on = text[:MAX_TEXT], due
        rect.owner_id = owner_id or rect.owner_id
    session.flush()
    return finding


# ---- rectifications (整改 → 确认销号 / 退回, as the observers')


def get_rect(session: Session, rect_id: int) -> InspectionRectification:
    rect = session.get(InspectionRectification, rect_id)
    if rect is None:
        raise Refused(strings.NO_RECT.format(id=rect_id), status=404)
    return rect


def _checkers(rect: InspectionRectification) -> list[int]:
    ru = rect.finding.round_unit
    rnd = ru.round
    return sorted({i for i in (ru.inspector_id, rnd.created_by_id) if i is not None})


def report_fixed(
    session: Session, person: Person, rect: InspectionRectification, note: str, *, now: datetime
) -> None:
    """The owner (or the branch's 书记) says it is fixed; the unit's inspector is told."""
    owners = {rect.owner_id, *people_with_roles(session, rect.branch_id, [Role.SECRETARY])}
    if person.id not in owners:
        raise Refused(strings.NOT_OWNER, status=403)
    if rect.status == RectificationStatus.CLOSED:
        raise Refused(strings.RECT_ALREADY_CLOSED, status=409)
    if rect.status == RectificationStatus.REPORTED:
        raise Refused(strings.RECT_NOT_OPEN, status=409)
    note = note.strip()
    if not note or len(note) > 1000:
        raise Refused(strings.NEED_NOTE, ("note",), status=422)
    rect.status, rect.report_note, rect.reported_at = RectificationStatus.REPORTED, note, now
    session.flush()
    branch = session.get(OrgUnit, rect.branch_id)
    outbox.enqueue_to_people(
        session, _checkers(rect),
        Text(strings.REPORTED_TO_INSPECTOR.format(branch=branch.name, id=rect.id, text=rect.text, note=note)),
        dedup_key=f"inspection:reported:{rect.id}:{rect.reopen_count}", now=now,
    )  # fmt: skip


def decide(
    session: Session, st: Standing, rect: InspectionRectification, *, confirm: bool, reason: str = "",
    now: datetime,
) -> None:  # fmt: skip
    """确认销号, or 退回 with a reason (the owner is told and reports again)."""
    ru = rect.finding.round_unit
    if not (is_checker(st, ru) or is_organiser(session, st, ru.round)):
        raise Refused(strings.NOT_CONFIRMER, status=403)
    if rect.status == RectificationStatus.CLOSED:
        raise Refused(strings.RECT_ALREADY_CLOSED, status=409)
    if rect.status != RectificationStatus.REPORTED:
        raise Refused(strings.RECT_NOT_REPORTED, status=409)
    if confirm:
        rect.status, rect.closed_at, rect.closed_by_id = RectificationStatus.CLOSED, now, st.person_id
    else:
        reason = reason.strip()
        if not reason or len(reason) > MAX_TEXT:
            raise Refused(strings.NEED_REOPEN_REASON, ("reason",), status=422)
        rect.status, rect.reopen_reason = RectificationStatus.REOPENED, reason
        rect.reopen_count += 1
        if rect.owner_id is not None:
            outbox.enqueue_to_people(
                session, [rect.owner_id], Text(strings.RECT_REOPENED.format(id=rect.id, reason=reason)),
                dedup_key=f"inspection:reopened:{rect.id}:{rect.reopen_count}", now=now,
            )  # fmt: skip
    session.flush()


# ---- the unit's file (一户一档)


@dataclass
class FileEntry:
    round: InspectionRound
    unit: RoundUnit
    findings: list[Finding]


def unit_file(
    session: Session, branch: OrgUnit, *, visible_round_ids: set[int] | None = None
) -> list[FileEntry]:
    """Every round, finding and rectification of one unit, oldest first (`visible_round_ids`: only
    those rounds, for a viewer who may not see a patrol draw yet)."""
    rus = session.scalars(
        select(RoundUnit).where(RoundUnit.branch_id == branch.id).order_by(RoundUnit.round_id)
    ).all()
    return [
        FileEntry(ru.round, ru, list(ru.findings))
        for ru in rus
        if visible_round_ids is None or ru.round_id in visible_round_ids
    ]


def remind(session: Session, *, today: date, now: datetime, cfg: InspectionConfig) -> int:
    """The daily check: owners of items due in `remind_days_before` days, and for items whose deadline
    passed yesterday the owner, the unit's checkers (inspector, round creator) and the 包保 cadres of
    its committee (the escalation). Dedup keys make a
    rerun of the same day send nothing more."""
    soon = today + timedelta(days=cfg.remind_days_before)
    missed = today - timedelta(days=1)
    rows = session.scalars(
        select(InspectionRectification).where(
            InspectionRectification.status.in_((RectificationStatus.OPEN, RectificationStatus.REOPENED)),
            InspectionRectification.due_on.in_((soon, missed)),
        )
    ).all()
    late = {r.branch_id for r in rows if r.due_on == missed}
    liaisons = liaison_cadres(session, list(late))
    names = dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(late))).tuples().all())
    sent = 0
    for rect in rows:
        due = dates.fmt_full_day(rect.due_on)
        if rect.due_on == soon and rect.owner_id is not None:
            sent += outbox.enqueue_to_people(
                session, [rect.owner_id],
                Text(strings.RECT_DUE_SOON.format(id=rect.id, days=cfg.remind_days_before, due=due, text=rect.text)),
                dedup_key=f"inspection:due:{rect.id}:{rect.due_on}", now=now,
            )  # fmt: skip
        if rect.due_on == missed:
            cadres = liaisons.get(rect.branch_id, [])
            people = sorted({*_checkers(rect), *cadres, *([rect.owner_id] if rect.owner_id else [])})
            sent += outbox.enqueue_to_people(
                session, people,
                Text(strings.RECT_OVERDUE.format(branch=names[rect.branch_id], id=rect.id, due=due, text=rect.text)),
                dedup_key=f"inspection:overdue:{rect.id}:{rect.due_on}", now=now,
            )  # fmt: skip
    return sent
