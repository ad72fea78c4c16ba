"""Use cases of the observers feature: assignments, notices, the evaluation form, outcomes,
rectification, coverage, each observer's record, and the figures the monthly scoring reads.

Use cases take the session, the acting person, `now` (aware UTC) and the config, check first and
raise Refused before writing anything; they never commit.

For the monthly scoring (read-only, one query each, safe at county scale):
- observer_scores(session, month, cfg, branch_ids=None)     → {branch_id: BranchObserverScore}
- rectification_timeliness(session, month, cfg, branch_ids) → {branch_id: RectificationTimeliness}
- severe_outcomes(session, month, cfg, branch_ids=None)     → {branch_id: SevereOutcomes}
Months are `date`s (any day of the month; the first is customary) in the configured zone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, Markdown, Text, md_escape
from handlers.meetings.plans import people_with_roles, people_with_roles_by_unit
from handlers.observers import strings
from handlers.observers.forms import (
    CoveragePeriod,
    FormInput,
    ObserversConfig,
    Refused,
    parse_form,
)
from models import attachments
from models.meetings import Meeting, MeetingKind, MeetingStatus
from models.observers import (
    Observation,
    ObserverAssignment,
    ObserverRsvp,
    Outcome,
    Rectification,
    RectificationStatus,
)
from models.org import OrgUnit, Person, Role, UnitKind, committee_of, committees_of, roles_of, subtree_filter
from models.outbox import OutboxMessage

ACTION_ATTEND = "observers.attend"
ACTION_RECT_CONFIRM = "observers.rect_confirm"
ACTION_RECT_REOPEN = "observers.rect_reopen"
H5_PREFIX = "/h5/observers"


# ---- calendar helpers


def local_day(moment: datetime, cfg: ObserversConfig) -> date:
    return moment.astimezone(cfg.tz).date()


def day_start_utc(day: date, cfg: ObserversConfig) -> datetime:
    return datetime.combine(day, time(0), tzinfo=cfg.tz).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    m = day.month - 1 + months
    return date(day.year + m // 12, m % 12 + 1, 1)


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    return start, _add_months(start, 1)


def coverage_bounds(day: date, cfg: ObserversConfig) -> tuple[date, date]:
    """[first day, first day of the next period) of the coverage period holding `day`."""
    if cfg.coverage_period == CoveragePeriod.MONTH:
        return month_bounds(day)
    start = date(day.year, 1 if day.month <= 6 else 7, 1)
    return start, _add_months(start, 6)


def period_label(cfg: ObserversConfig) -> str:
    return strings.PERIOD_MONTH if cfg.coverage_period == CoveragePeriod.MONTH else strings.PERIOD_HALF_YEAR


def form_deadline(meeting_start: datetime, cfg: ObserversConfig) -> date:
    """The last day (inclusive, local) a form for this meeting may be submitted or changed."""
    return local_day(meeting_start, cfg) + timedelta(days=cfg.submit_days)


def form_url(public_base_url: str, meeting_id: int) -> str:
    return f"{public_base_url.rstrip('/')}{H5_PREFIX}/{meeting_id}/form"


# ---- assignments


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


def _committee_people(session: Session, branch_id: int, roles) -> list[int]:
    branch = session.get(OrgUnit, branch_id)
    committee = committee_of(session, branch) if branch else None
    return people_with_roles(session, committee.id, roles) if committee else []


def attended_meetings(
    session: Session,
    lo: datetime,
    hi: datetime,
    *,
    now: datetime,
    branch_ids: Collection[int] | None = None,
    observer_ids: Collection[int] | None = None,
) -> dict[tuple[int, int], tuple[int, datetime]]:
    """{(observer, meeting): (branch, meeting start)} for every meeting starting in [lo, hi) that an
    observer attended. The one definition behind coverage, 我的支部 and the observers' record.

    Attended: the observer submitted the 观察质量评价表 for it, or announced 列席 (我要列席) and the
    meeting took place (not cancelled, started before `now`), which is what 太湖县 asks for (每半年至少
    列席一次). Whether the observer is still assigned does not matter, and a meeting later ordered
    责令重开 still counts: the observer was there. Two queries.
    """
    forms = select(
        Observation.observer_id, Observation.meeting_id, Observation.branch_id, Observation.meeting_starts_at
    ).where(Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi)
    rsvps = (
        select(ObserverRsvp.observer_id, Meeting.id, Meeting.branch_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == ObserverRsvp.meeting_id)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at >= lo,
            Meeting.starts_at < min(hi, now),
        )
    )
    # Small filters go to the database; the whole tree's branches are filtered here instead, so no
    # statement carries thousands of bound parameters.
    in_sql = branch_ids is not None and len(branch_ids) <= 500
    if in_sql:
        forms = forms.where(Observation.branch_id.in_(list(branch_ids)))
        rsvps = rsvps.where(Meeting.branch_id.in_(list(branch_ids)))
    if observer_ids is not None:
        forms = forms.where(Observation.observer_id.in_(list(observer_ids)))
        rsvps = rsvps.where(ObserverRsvp.observer_id.in_(list(observer_ids)))
    wanted = set(branch_ids) if branch_ids is not None and not in_sql else None
    found: dict[tuple[int, int], tuple[int, datetime]] = {}
    for stmt in (forms, rsvps):
        for observer_id, meeting_id, branch_id, starts_at in session.execute(stmt):
            if wanted is None or branch_id in wanted:
                found.setdefault((observer_id, meeting_id), (branch_id, starts_at))
    return found


def _observed_counts(
    session: Session,
    branch_ids: Collection[int] | None,
    start: date,
    end: date,
    cfg: ObserversConfig,
    *,
    now: datetime,
) -> dict[int, int]:
    """Distinct attended meetings (attended_meetings) per branch, meetings starting in [start, end) (local days)."""
    if branch_ids is not None and not branch_ids:
        return {}
    attended = attended_meetings(
        session, day_start_utc(start, cfg), day_start_utc(end, cfg), now=now, branch_ids=branch_ids
    )
    meetings: dict[int, set[int]] = defaultdict(set)
    for (_, meeting_id), (branch_id, _) in attended.items():
        meetings[branch_id].add(meeting_id)
    return {b: len(m) for b, m in meetings.items()}


@dataclass
class MyBranch:
    branch: OrgUnit
    observed: int
    required: int
    meetings: list[Meeting]


def my_branches(
    session: Session, person: Person | None, *, now: datetime, cfg: ObserversConfig
) -> list[MyBranch]:
    """我的支部: the observer's branches, this period's observed count, and their coming meetings."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    ids = assigned_branch_ids(session, person.id)
    if not ids:
        raise Refused(strings.NOT_OBSERVER)
    start, end = coverage_bounds(local_day(now, cfg), cfg)
    counts = _observed_counts(session, ids, start, end, cfg, now=now)
    meetings = session.scalars(
        select(Meeting)
        .where(
            Meeting.branch_id.in_(ids),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + cfg.notice_horizon,
        )
        .order_by(Meeting.starts_at)
    ).all()
    by_branch: dict[int, list[Meeting]] = defaultdict(list)
    for m in meetings:
        by_branch[m.branch_id].append(m)
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [MyBranch(units[b], counts.get(b, 0), cfg.min_visits, by_branch[b]) for b in ids]


# ---- notices


def notice_card(meeting: Meeting, branch: OrgUnit, cfg: ObserversConfig, public_base_url: str) -> Card:
    return Card(
        title=strings.NOTICE_TITLE.format(branch=branch.name, title=meeting.title),
        text=strings.NOTICE_TEXT,
        fields=(
            (strings.FIELD_BRANCH, branch.name),
            (strings.FIELD_TIME, strings.fmt_when(meeting.starts_at, cfg.tz)),
            (strings.FIELD_PLACE, meeting.place),
            (strings.FIELD_TOPIC, meeting.topic),
        ),
        buttons=(
            Button(strings.BUTTON_ATTEND, action=ACTION_ATTEND, params={"meeting": str(meeting.id)}),
            Button(strings.BUTTON_EVALUATE, url=form_url(public_base_url, meeting.id)),
        ),
        card_key=f"observe:{meeting.id}",
    )


def notice_key(meeting: Meeting) -> str:
    # Keyed by the meeting's version: a moved meeting is announced again with its new time and place.
    return f"observers:notice:{meeting.id}:v{meeting.version}"


def send_notices(session: Session, *, now: datetime, cfg: ObserversConfig, public_base_url: str) -> int:
    """Tell observers of every coming meeting of their branches. Safe at any cadence.

    Finds the scheduled meetings of assigned branches starting within the horizon and sends each
    (meeting, version) once per observer: keys already in the outbox are skipped up front, and the
    outbox's unique key makes a concurrent repeat a no-op. Meetings need not call us.
    """
    rows = session.execute(
        select(Meeting, ObserverAssignment.observer_id)
        .join(ObserverAssignment, ObserverAssignment.branch_id == Meeting.branch_id)
        .where(
            ObserverAssignment.active.is_(True),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + cfg.notice_horizon,
        )
    ).all()
    if not rows:
        return 0
    keys = sorted({notice_key(m) for m, _ in rows})
    done: set[tuple[str, int]] = set()
    for start in range(0, len(keys), 500):  # bounded IN lists: SQLite caps bound parameters
        done.update(
            session.execute(
                select(OutboxMessage.dedup_key, OutboxMessage.person_id).where(
                    OutboxMessage.dedup_key.in_(keys[start : start + 500])
                )
            ).all()
        )
    todo: dict[int, tuple[Meeting, list[int]]] = {}
    # Soonest first, at most `notices_per_run` meetings: a backlog (first start, a bulk import) is worked
    # off over a few runs instead of holding one long transaction.
    for meeting, observer_id in sorted(rows, key=lambda r: (r[0].starts_at, r[0].id)):
        if (notice_key(meeting), observer_id) not in done:
            if meeting.id not in todo and len(todo) >= cfg.notices_per_run:
                continue
            todo.setdefault(meeting.id, (meeting, []))[1].append(observer_id)
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({m.branch_id for m, _ in todo.values()}))
        )
    }
    sent = 0
    for meeting, people in todo.values():
        sent += outbox.enqueue_to_people(
            session,
            people,
            notice_card(meeting, units[meeting.branch_id], cfg, public_base_url),
            dedup_key=notice_key(meeting),
            now=now,
        )
    return sent


def send_cancellations(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """Observers who were told of a meeting hear when it is cancelled (once per meeting and observer)."""
    rows = session.execute(
        select(Meeting, ObserverAssignment.observer_id)
        .join(ObserverAssignment, ObserverAssignment.branch_id == Meeting.branch_id)
        .where(
            ObserverAssignment.active.is_(True),
            Meeting.status == MeetingStatus.CANCELLED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + cfg.notice_horizon,
        )
    ).all()
    meetings = {m.id: m for m, _ in rows}
    observers: dict[int, set[int]] = defaultdict(set)
    for meeting, observer_id in rows:
        observers[meeting.id].add(observer_id)
    if not meetings:
        return 0
    # Who was told of which meeting: one query over the notices of these meetings to these observers.
    told: dict[int, set[int]] = defaultdict(set)
    for person_id, key in session.execute(
        select(OutboxMessage.person_id, OutboxMessage.dedup_key).where(
            OutboxMessage.person_id.in_({observer_id for _, observer_id in rows}),
            or_(*(OutboxMessage.dedup_key.startswith(f"observers:notice:{mid}:v") for mid in meetings)),
        )
    ):
        told[int(key.split(":")[2])].add(person_id)
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({m.branch_id for m in meetings.values()}))
        )
    }
    sent = 0
    for meeting_id, meeting in meetings.items():
        people = told[meeting_id] & observers[meeting_id]
        if not people:
            continue
        text = strings.CANCELLED_TEXT.format(
            branch=units[meeting.branch_id].name,
            when=strings.fmt_when(meeting.starts_at, cfg.tz),
            title=meeting.title,
            reason=meeting.cancel_reason or "",
        )
        sent += outbox.enqueue_to_people(
            session, people, Text(text), dedup_key=f"observers:cancelled:{meeting.id}", now=now
        )
    return sent


def _meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise Refused(strings.NO_MEETING)
    return meeting


def attend(
    session: Session, person: Person | None, meeting_id: int, *, now: datetime, cfg: ObserversConfig
) -> str:
    """我要列席: record it and tell the branch's secretary. Returns the reply for the observer."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    meeting = _meeting(session, meeting_id)
    branch = session.get(OrgUnit, meeting.branch_id)
    if not is_assigned(session, person.id, meeting.branch_id):
        raise Refused(strings.NOT_ASSIGNED.format(branch=branch.name))
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    if meeting.starts_at < now - timedelta(hours=12):
        raise Refused(strings.ATTEND_TOO_LATE)
    existing = session.scalars(
        select(ObserverRsvp).where(
            ObserverRsvp.meeting_id == meeting.id, ObserverRsvp.observer_id == person.id
        )
    ).first()
    if existing is not None:
        return strings.ATTEND_ALREADY
    session.add(ObserverRsvp(meeting_id=meeting.id, observer_id=person.id, at=now))
    session.flush()
    when = strings.fmt_when(meeting.starts_at, cfg.tz)
    outbox.enqueue_to_people(
        session,
        people_with_roles(session, meeting.branch_id, cfg.manager_roles),
        Text(strings.ATTEND_TO_SECRETARY.format(name=person.name, when=when, title=meeting.title)),
        dedup_key=f"observers:attend:{meeting.id}:{person.id}",
        now=now,
    )
    return strings.ATTEND_REPLY.format(branch=branch.name, when=when, title=meeting.title)


# ---- the evaluation form


@dataclass
class FormContext:
    meeting: Meeting
    branch: OrgUnit
    deadline: date
    existing: Observation | None


def open_form(
    session: Session, person: Person | None, meeting_id: int, *, now: datetime, cfg: ObserversConfig
) -> FormContext:
    """Who may fill in the form for this meeting, and when: refuses with the reason otherwise."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    meeting = _meeting(session, meeting_id)
    branch = session.get(OrgUnit, meeting.branch_id)
    if not is_assigned(session, person.id, meeting.branch_id):
        raise Refused(strings.NOT_ASSIGNED.format(branch=branch.name))
    # H23 is checked when an observer is assigned; someone who later joined or came to run the
    # branch would be scoring their own meetings.
    if answers_for_branch(session, person.id, meeting.branch_id, cfg):
        raise Refused(strings.OBSERVE_OWN_BRANCH.format(branch=branch.name))
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    if meeting.starts_at > now:
        raise Refused(strings.NOT_HELD_YET)
    deadline = form_deadline(meeting.starts_at, cfg)
    if local_day(now, cfg) > deadline:
        raise Refused(strings.FORM_CLOSED.format(days=cfg.submit_days, deadline=strings.fmt_day(deadline)))
    existing = session.scalars(
        select(Observation).where(Observation.meeting_id == meeting.id, Observation.observer_id == person.id)
    ).first()
    return FormContext(meeting, branch, deadline, existing)


def submit_observation(
    session: Session,
    person: Person | None,
    meeting_id: int,
    raw: Mapping[str, Any],
    *,
    now: datetime,
    cfg: ObserversConfig,
    photos: Sequence[attachments.Photo] = (),
) -> Observation:
    """Save (or change, until the deadline) the observer's form and apply its outcome.

    Every check happens before the first write; a Refused leaves the database as it was (the unit
    of work rolls back). `photos` (vetted by attachments.check_photos) are added in the same transaction.
    """
    ctx = open_form(session, person, meeting_id, now=now, cfg=cfg)
    data = parse_form(raw, cfg, local_day(now, cfg))
    meeting, obs = ctx.meeting, ctx.existing
    items = [
        {
            "key": i.key,
            "label": i.label,
            "max": i.max,
            "score": data.scores[i.key],
            "comment": data.item_comments.get(i.key, ""),
        }
        for i in cfg.form.items
    ]
    total = sum(data.scores.values())
    # 叫停 forces the lowest grade whatever the points (domain.md §5).
    grade = cfg.form.lowest_grade if data.outcome == Outcome.STOP else cfg.form.grade(total)
    today = local_day(now, cfg)
    if obs is None:
        obs = Observation(
            meeting_id=meeting.id,
            observer_id=person.id,
            branch_id=meeting.branch_id,
            meeting_starts_at=meeting.starts_at,
            submitted_at=now,
            on_time=today <= local_day(meeting.starts_at, cfg) + timedelta(days=cfg.on_time_days),
            revision=1,
        )
        session.add(obs)
    else:
        obs.edited_at = now
        obs.revision += 1
    obs.preset = cfg.form.key
    obs.items = items
    obs.total = total
    obs.max_total = cfg.form.max_total
    obs.grade = grade
    obs.comment = data.comment
    obs.outcome = data.outcome
    obs.correct_by = data.correct_by if data.outcome == Outcome.CORRECT else None
    if data.outcome == Outcome.REOPEN:
        obs.reopen_by = obs.reopen_by or today + timedelta(days=cfg.reopen_days)
    else:
        obs.reopen_by = None
    session.flush()
    try:
        attachments.attach_photos(session, attachments.OBSERVATION, obs.id, list(photos), person.id)
    except attachments.PhotoError as exc:
        raise Refused(str(exc), ("photos",)) from None
    _sync_rectifications(session, obs, data)
    _notify_result(session, obs, meeting, ctx.branch, person, now=now, cfg=cfg)
    return obs


def _sync_rectifications(session: Session, obs: Observation, data: FormInput) -> None:
    """Items from a 责令纠正; on an edit, untouched open items follow the form, reported ones stay."""
    current = list(session.scalars(select(Rectification).where(Rectification.observation_id == obs.id)))
    wanted = data.issues if data.outcome == Outcome.CORRECT else []
    kept = set()
    for rect in current:
        if rect.text in wanted and rect.text not in kept:
            kept.add(rect.text)
            if rect.status in (RectificationStatus.OPEN, RectificationStatus.REOPENED):
                rect.due_on = data.correct_by
        elif rect.status == RectificationStatus.OPEN:
            session.delete(rect)
    for text in wanted:
        if text not in kept:
            kept.add(text)
            session.add(
                Rectification(
                    observation_id=obs.id, branch_id=obs.branch_id, text=text, due_on=data.correct_by
                )
            )
    session.flush()
    session.expire(obs, ["rectifications"])


def rect_lines(rects: Iterable[Rectification], *, markdown: bool = False) -> str:
    """One line per item; `markdown` when the lines go into a card or markdown message (the item's
    text is the observer's own words)."""
    esc = md_escape if markdown else str
    return "\n".join(
        strings.RECT_LINE.format(
            id=r.id,
            text=esc(r.text),
            status=strings.RECT_STATUS_LABELS[r.status],
            due=strings.fmt_day(r.due_on),
        )
        for r in rects
    )


def _notify_result(
    session: Session,
    obs: Observation,
    meeting: Meeting,
    branch: OrgUnit,
    observer: Person,
    *,
    now: datetime,
    cfg: ObserversConfig,
) -> None:
    """The branch's secretary and the committee see every submitted form; a 叫停 goes up at once."""
    text = strings.RESULT_TEXT.format(
        observer=md_escape(observer.name),
        total=obs.total,
        max_total=obs.max_total,
        grade=obs.grade,
        outcome=strings.OUTCOME_LABELS[obs.outcome],
        comment=md_escape(obs.comment),
    ).rstrip()
    if obs.outcome == Outcome.CORRECT:
        text += strings.RESULT_CORRECT.format(
            deadline=strings.fmt_day(obs.correct_by), items=rect_lines(obs.rectifications, markdown=True)
        )
    elif obs.outcome == Outcome.REOPEN:
        text += strings.RESULT_REOPEN.format(deadline=strings.fmt_day(obs.reopen_by))
    elif obs.outcome == Outcome.STOP:
        text += strings.RESULT_STOP
    if obs.outcome == Outcome.STOP:
        title = strings.RESULT_STOP_TITLE.format(branch=branch.name, title=meeting.title)
    elif obs.revision > 1:
        title = strings.RESULT_TITLE_EDITED.format(branch=branch.name, title=meeting.title)
    else:
        title = strings.RESULT_TITLE.format(branch=branch.name, title=meeting.title)
    fields = tuple((i["label"], f"{i['score']}/{i['max']}") for i in obs.items)
    people = set(people_with_roles(session, branch.id, cfg.manager_roles))
    people |= set(_committee_people(session, branch.id, cfg.committee_roles))
    if obs.outcome == Outcome.STOP:
        people |= set(_committee_people(session, branch.id, cfg.stop_report_roles))
    outbox.enqueue_to_people(
        session,
        people,
        Card(title=title, text=text, fields=fields),
        dedup_key=f"observers:result:{obs.id}:r{obs.revision}",
        now=now,
    )


# ---- rectification


def _rect(session: Session, rect_id: int) -> Rectification:
    rect = session.get(Rectification, rect_id)
    if rect is None:
        raise Refused(strings.NO_RECT.format(id=rect_id))
    return rect


def report_fixed(
    session: Session, person: Person | None, rect_id: int, note: str, *, now: datetime, cfg: ObserversConfig
) -> Rectification:
    """The branch's secretary reports an item fixed, with a note; the observer gets a card to confirm."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    rect = _rect(session, rect_id)
    if person.id not in people_with_roles(session, rect.branch_id, cfg.manager_roles):
        raise Refused(strings.RECT_NOT_YOURS)
    note = (note or "").strip()
    if not note:
        raise Refused(strings.RECT_NOTE_REQUIRED.format(id=rect.id))
    if rect.status not in (RectificationStatus.OPEN, RectificationStatus.REOPENED):
        raise Refused(strings.RECT_WRONG_STATE.format(state=strings.RECT_STATUS_LABELS[rect.status]))
    rect.status = RectificationStatus.REPORTED
    rect.report_note = note[:1000]
    rect.reported_at = now
    session.flush()
    branch = session.get(OrgUnit, rect.branch_id)
    params = {"rect": str(rect.id)}
    outbox.enqueue_to_people(
        session,
        rect_confirmers(session, rect, cfg),
        Card(
            title=strings.RECT_REVIEW_TITLE.format(branch=branch.name),
            text=strings.RECT_REVIEW_TEXT.format(
                id=rect.id, text=md_escape(rect.text), note=md_escape(rect.report_note)
            ),
            buttons=(
                Button(strings.BUTTON_CONFIRM, action=ACTION_RECT_CONFIRM, params=params),
                Button(strings.BUTTON_REOPEN, action=ACTION_RECT_REOPEN, params=params),
            ),
            card_key=f"rect:{rect.id}",
        ),
        dedup_key=f"observers:rect:{rect.id}:reported:{rect.reopen_count}",
        now=now,
    )
    return rect


def answers_for_branch(session: Session, person_id: int, branch_id: int, cfg: ObserversConfig) -> bool:
    """A member of the branch or one of its managers (a 第一书记 from elsewhere too): the branch's
    fixes are their own work, so they never sign them off."""
    person = session.get(Person, person_id)
    return (person is not None and person.branch_id == branch_id) or person_id in people_with_roles(
        session, branch_id, cfg.manager_roles
    )


def rect_confirmers(session: Session, rect: Rectification, cfg: ObserversConfig) -> list[int]:
    """Who signs off (销号) a reported item: the observer who ordered it, unless they answer for the
    branch themselves; then the committee's `committee_roles` (组织委员) who do not. Maybe nobody."""
    observer_id = rect.observation.observer_id
    if not answers_for_branch(session, observer_id, rect.branch_id, cfg):
        return [observer_id]
    return [
        pid
        for pid in _committee_people(session, rect.branch_id, cfg.committee_roles)
        if not answers_for_branch(session, pid, rect.branch_id, cfg)
    ]


def rect_reported_reply(session: Session, rect: Rectification, cfg: ObserversConfig) -> str:
    """The secretary's answer to 整改完成: who signs it off, when it is not the observer."""
    confirmers = rect_confirmers(session, rect, cfg)
    if confirmers == [rect.observation.observer_id]:
        return strings.RECT_REPORTED_REPLY.format(id=rect.id, text=rect.text)
    if not confirmers:
        return strings.RECT_REPORTED_NOBODY.format(id=rect.id, text=rect.text)
    names = "、".join(
        session.scalars(select(Person.name).where(Person.id.in_(confirmers)).order_by(Person.id))
    )
    return strings.RECT_REPORTED_ROUTED.format(id=rect.id, text=rect.text, names=names)


def _observer_rect(
    session: Session, person: Person | None, rect_id: int, cfg: ObserversConfig
) -> Rectification:
    if person is None:
        raise Refused(strings.NOT_BOUND)
    rect = _rect(session, rect_id)
    if person.id not in rect_confirmers(session, rect, cfg):
        candidate = person.id == rect.observation.observer_id or person.id in _committee_people(
            session, rect.branch_id, cfg.committee_roles
        )
        if candidate and answers_for_branch(session, person.id, rect.branch_id, cfg):
            raise Refused(strings.RECT_SELF_CONFIRM)
        raise Refused(strings.RECT_NOT_YOURS)
    if rect.status != RectificationStatus.REPORTED:
        raise Refused(strings.RECT_WRONG_STATE.format(state=strings.RECT_STATUS_LABELS[rect.status]))
    return rect


def confirm_fixed(
    session: Session, person: Person | None, rect_id: int, *, now: datetime, cfg: ObserversConfig
) -> Rectification:
    """The observer confirms (销号), or the committee when the observer answers for the branch;
    the secretary is told."""
    rect = _observer_rect(session, person, rect_id, cfg)
    rect.status = RectificationStatus.CLOSED
    rect.closed_at = now
    session.flush()
    outbox.enqueue_to_people(
        session,
        people_with_roles(session, rect.branch_id, cfg.manager_roles),
        Text(
            strings.RECT_CONFIRMED_TO_SECRETARY.format(id=rect.id, text=rect.text)
            if person.id == rect.observation.observer_id
            else strings.RECT_CONFIRMED_BY_COMMITTEE.format(name=person.name, id=rect.id, text=rect.text)
        ),
        dedup_key=f"observers:rect:{rect.id}:closed",
        now=now,
    )
    return rect


def reopen_rect(
    session: Session, person: Person | None, rect_id: int, reason: str, *, now: datetime, cfg: ObserversConfig
) -> Rectification:
    """The observer sends an item back with a reason; the secretary must report again."""
    rect = _observer_rect(session, person, rect_id, cfg)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(strings.RECT_REASON_REQUIRED.format(id=rect.id))
    rect.status = RectificationStatus.REOPENED
    rect.reopen_reason = reason[:500]
    rect.reopen_count += 1
    session.flush()
    outbox.enqueue_to_people(
        session,
        people_with_roles(session, rect.branch_id, cfg.manager_roles),
        Text(
            strings.RECT_REOPENED_TO_SECRETARY.format(id=rect.id, text=rect.text, reason=rect.reopen_reason)
        ),
        dedup_key=f"observers:rect:{rect.id}:reopened:{rect.reopen_count}",
        now=now,
    )
    return rect


def open_rectifications(
    session: Session, person: Person | None, *, cfg: ObserversConfig
) -> list[Rectification]:
    """Items not yet closed that this person answers for: as a branch's secretary or as the observer."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    managed = [
        b
        for b in ([person.branch_id] if person.branch_id else [])
        if person.id in people_with_roles(session, b, cfg.manager_roles)
    ]
    stmt = (
        select(Rectification)
        .join(Observation, Observation.id == Rectification.observation_id)
        .where(Rectification.status != RectificationStatus.CLOSED)
        .where((Rectification.branch_id.in_(managed)) | (Observation.observer_id == person.id))
        .order_by(Rectification.due_on, Rectification.id)
    )
    return list(session.scalars(stmt))


def remind_rectifications(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """Due-tomorrow items to the secretary; overdue ones to the secretary, copied to the committee.

    Overdue items are reminded once a week (keyed by the week since the deadline), so a daily run
    neither spams nor forgets.
    """
    today = local_day(now, cfg)
    rows = session.scalars(
        select(Rectification)
        .where(
            Rectification.status.in_([RectificationStatus.OPEN, RectificationStatus.REOPENED]),
            Rectification.due_on <= today + timedelta(days=1),
        )
        .order_by(Rectification.branch_id, Rectification.id)
    ).all()
    by_branch: dict[int, list[Rectification]] = defaultdict(list)
    for r in rows:
        by_branch[r.branch_id].append(r)
    sent = 0
    for branch_id, rects in by_branch.items():
        branch = session.get(OrgUnit, branch_id)
        secretaries = people_with_roles(session, branch_id, cfg.manager_roles)
        due = [r for r in rects if r.due_on >= today]
        late = [r for r in rects if r.due_on < today]
        if due:
            sent += outbox.enqueue_to_people(
                session,
                secretaries,
                Text(strings.RECT_DUE_TITLE + "\n" + strings.RECT_DUE_TEXT.format(items=rect_lines(due))),
                dedup_key=f"observers:rect_due:{branch_id}:{today:%Y%m%d}",
                now=now,
            )
        for r in late:
            week = (today - r.due_on).days // 7
            sent += outbox.enqueue_to_people(
                session,
                set(secretaries) | set(_committee_people(session, branch_id, cfg.committee_roles)),
                Text(
                    strings.RECT_OVERDUE_TITLE.format(branch=branch.name)
                    + "\n"
                    + strings.RECT_OVERDUE_TEXT.format(items=rect_lines([r]))
                ),
                dedup_key=f"observers:rect_overdue:{r.id}:{r.reopen_count}:w{week}",
                now=now,
            )
    return sent


def reconvened_ids(session: Session, observations: Sequence[Observation], cfg: ObserversConfig) -> set[int]:
    """The ids of the observations whose 责令重开 is satisfied: a later scheduled meeting of the branch
    sharing a type, held by the deadline. Two queries however many observations."""
    if not observations:
        return set()
    types: dict[int, set[str]] = defaultdict(set)
    for meeting_id, kind in session.execute(
        select(MeetingKind.meeting_id, MeetingKind.type).where(
            MeetingKind.meeting_id.in_({o.meeting_id for o in observations})
        )
    ):
        types[meeting_id].add(kind)
    deadlines = {o.id: day_start_utc(o.reopen_by + timedelta(days=1), cfg) for o in observations}
    later: dict[int, list[tuple[int, datetime, str]]] = defaultdict(list)
    for meeting_id, branch_id, starts_at, kind in session.execute(
        select(Meeting.id, Meeting.branch_id, Meeting.starts_at, MeetingKind.type)
        .join(MeetingKind, MeetingKind.meeting_id == Meeting.id)
        .where(
            Meeting.branch_id.in_({o.branch_id for o in observations}),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > min(o.meeting_starts_at for o in observations),
            Meeting.starts_at < max(deadlines.values()),
        )
    ):
        later[branch_id].append((meeting_id, starts_at, kind))
    return {
        o.id
        for o in observations
        if any(
            mid != o.meeting_id
            and o.meeting_starts_at < starts_at < deadlines[o.id]
            and kind in types[o.meeting_id]
            for mid, starts_at, kind in later[o.branch_id]
        )
    }


def reconvened(session: Session, obs: Observation, cfg: ObserversConfig) -> bool:
    """A 责令重开 is satisfied by a later meeting of the branch sharing a type, held by the deadline."""
    return obs.id in reconvened_ids(session, [obs], cfg)


def report_missed_reopens(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """After a 责令重开 deadline passes with no new meeting, the committee is told (once).

    A fixed number of queries (plus the outbox's own per message): a catch-up may find many."""
    today = local_day(now, cfg)
    due = list(
        session.scalars(
            select(Observation).where(
                Observation.outcome == Outcome.REOPEN,
                Observation.reopen_by < today,
                # Reported once (dedup); a month's window lets a missed run catch up without rescanning history.
                Observation.reopen_by >= today - timedelta(days=30),
            )
        )
    )
    done = reconvened_ids(session, due, cfg)
    missed = [o for o in due if o.id not in done]
    if not missed:
        return 0
    meetings = {
        m.id: m
        for m in session.scalars(select(Meeting).where(Meeting.id.in_({o.meeting_id for o in missed})))
    }
    branches = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({o.branch_id for o in missed})))
    }
    managers = people_with_roles_by_unit(session, branches, cfg.manager_roles)
    committees = committees_of(session, branches.values())
    committee_people = people_with_roles_by_unit(
        session, {c.id for c in committees.values()}, cfg.committee_roles
    )
    sent = 0
    for obs in missed:
        meeting, branch = meetings[obs.meeting_id], branches[obs.branch_id]
        people = set(managers.get(branch.id, []))
        if branch.id in committees:
            people |= set(committee_people.get(committees[branch.id].id, []))
        sent += outbox.enqueue_to_people(
            session,
            people,
            Text(
                strings.REOPEN_OVERDUE_TITLE.format(branch=branch.name)
                + "\n"
                + strings.REOPEN_OVERDUE_TEXT.format(
                    when=strings.fmt_when(meeting.starts_at, cfg.tz),
                    title=meeting.title,
                    deadline=strings.fmt_day(obs.reopen_by),
                )
            ),
            dedup_key=f"observers:reopen_missed:{obs.id}",
            now=now,
        )
    return sent


# ---- coverage


@dataclass
class BranchCoverage:
    branch_id: int
    observed: int  # meetings of the period an observer attended (attended_meetings)
    required: int
    name: str = ""
    committee_id: int | None = None
    committee: str = ""
    observer_ids: list[int] = field(default_factory=list)  # active assignments
    observers: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.observed >= self.required

    @property
    def assigned(self) -> bool:
        return bool(self.observer_ids)


def coverage(
    session: Session,
    day: date,
    cfg: ObserversConfig,
    *,
    now: datetime | None = None,
    branch_ids: Collection[int] | None = None,
    within: Sequence[OrgUnit] | None = None,
) -> list[BranchCoverage]:
    """For the period holding `day`: every active branch's attended meetings against the requirement
    (seed 000: 每半年至少列席一次), with its committee and observers, ordered by branch id.

    Every branch, also those no observer is assigned to: they are the gap the committee must see.
    `within`: only branches in these units' subtrees; `branch_ids`: only these. `now` (default: the
    clock) decides which announced 列席 have taken place.
    """
    now = now or datetime.now(UTC)
    start, end = coverage_bounds(day, cfg)
    stmt = select(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True))
    if within is not None:
        if not within:
            return []
        stmt = stmt.where(or_(*(subtree_filter(u) for u in within)))
    if branch_ids is not None:
        stmt = stmt.where(OrgUnit.id.in_(list(branch_ids)))
    branches = list(session.scalars(stmt.order_by(OrgUnit.id)))
    ids = [b.id for b in branches]
    small = ids if len(ids) <= 500 else None
    counts = _observed_counts(session, ids if small is not None else None, start, end, cfg, now=now)
    links = select(ObserverAssignment.branch_id, Person.id, Person.name).join(
        Person, Person.id == ObserverAssignment.observer_id
    )
    links = links.where(ObserverAssignment.active.is_(True)).order_by(Person.id)
    if small is not None:
        links = links.where(ObserverAssignment.branch_id.in_(small))
    observers: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for branch_id, person_id, name in session.execute(links):
        observers[branch_id].append((person_id, name))
    committees = committees_of(session, branches)
    return [
        BranchCoverage(
            b.id,
            counts.get(b.id, 0),
            cfg.min_visits,
            name=b.name,
            committee_id=committees[b.id].id if b.id in committees else None,
            committee=committees[b.id].name if b.id in committees else "",
            observer_ids=[i for i, _ in observers.get(b.id, [])],
            observers=[n for _, n in observers.get(b.id, [])],
        )
        for b in branches
    ]


def coverage_day(year: int, today: date) -> date:
    """The day a year's coverage is shown as of: today in the current year, else the year's last day."""
    return today if year == today.year else date(year, 12, 31)


def coverage_for_year(
    session: Session, year: int, cfg: ObserversConfig, *, now: datetime, within: Sequence[OrgUnit] | None
) -> list[tuple[date, date, list[BranchCoverage]]]:
    """(period start, as-of day, every branch's coverage) for each period of `year` begun by today:
    the export's sheet, a period at a time."""
    last = coverage_day(year, local_day(now, cfg))
    return [
        (start, min(last, end - timedelta(days=1)), coverage(session, start, cfg, now=now, within=within))
        for start, end in _periods_in_year(year, last, cfg)
    ]


def period_key(day: date, cfg: ObserversConfig) -> str:
    """The coverage period holding `day`, as job runs are claimed: 2026-H1, or 2026-05 when monthly."""
    start, _ = coverage_bounds(day, cfg)
    if cfg.coverage_period == CoveragePeriod.MONTH:
        return f"{start:%Y-%m}"
    return f"{start.year}-H{1 if start.month == 1 else 2}"


def period_name(day: date, cfg: ObserversConfig) -> str:
    """The coverage period holding `day` in words: 2026年上半年, or 2026年5月."""
    start, _ = coverage_bounds(day, cfg)
    if cfg.coverage_period == CoveragePeriod.MONTH:
        return strings.PERIOD_NAME_MONTH.format(year=start.year, month=start.month)
    return (strings.PERIOD_NAME_H1 if start.month == 1 else strings.PERIOD_NAME_H2).format(year=start.year)


_PERIOD_KEY = re.compile(r"^(\d{4})-(?:H([12])|(\d{2}))$")


def _period_day(period: str, today: date, cfg: ObserversConfig) -> date:
    """The day a report is made as of: today, or the last day of an ended period named by `period`
    (a run asked for by hand: zhibu run-job observers.coverage_gaps --period 2026-H1)."""
    m = _PERIOD_KEY.match(period or "")
    if not m:
        return today
    try:
        first = date(int(m[1]), 1 if m[2] == "1" else 7 if m[2] else int(m[3]), 1)
    except ValueError:
        return today
    if period_key(first, cfg) != period or first > today:
        return today
    _, end = coverage_bounds(first, cfg)
    return min(today, end - timedelta(days=1))


def report_coverage_gaps(
    session: Session, *, now: datetime, cfg: ObserversConfig, period: str = "", public_base_url: str = ""
) -> int:
    """Tell each committee's `committee_roles` (组织委员) which of its branches no observer has attended
    so far this period, assigned or not (seed 000: 每半年至少列席一次), while there is time to act.

    One card per committee, once per period (dedup); nothing when every branch is covered. A fixed
    number of queries however many committees.
    """
    today = _period_day(period, local_day(now, cfg), cfg)
    start, end = coverage_bounds(today, cfg)
    gaps: dict[int, list[BranchCoverage]] = defaultdict(list)
    names: dict[int, str] = {}
    for c in coverage(session, today, cfg, now=now):
        if not c.covered and c.committee_id is not None:
            gaps[c.committee_id].append(c)
            names[c.committee_id] = c.committee
    if not gaps:
        return 0
    people = people_with_roles_by_unit(session, list(gaps), cfg.committee_roles)
    last_day = strings.fmt_day(end - timedelta(days=1))
    url = f"{public_base_url.rstrip('/')}{H5_PREFIX}/export.xlsx?year={start.year}" if public_base_url else ""
    items = []
    for committee_id, branches in gaps.items():
        branches.sort(key=lambda c: (c.assigned, c.name))
        text = strings.GAPS_TEXT.format(
            period=period_label(cfg),
            required=cfg.min_visits,
            name=period_name(today, cfg),
            today=strings.fmt_day(today),
            end=last_day,
            count=len(branches),
            lines="\n".join(coverage_line(c) for c in branches),
        )
        # A period asked for by hand after it ended can no longer be acted on.
        text += (strings.GAPS_ENDED if local_day(now, cfg) >= end else strings.GAPS_ACT).format(end=last_day)
        unassigned = sum(1 for c in branches if not c.assigned)
        if unassigned:
            text += strings.GAPS_UNASSIGNED.format(count=unassigned)
        items.append(
            outbox.Queued(
                people.get(committee_id, []),
                Card(
                    title=strings.GAPS_TITLE.format(committee=names[committee_id]),
                    text=text,
                    buttons=(Button(strings.STATS_EXPORT, url=url),) if url else (),
                ),
                f"observers:coverage_gaps:{committee_id}:{start:%Y%m%d}",
            )
        )
    return outbox.enqueue_many(session, items, now=now)


def coverage_line(c: BranchCoverage) -> str:
    """One branch in a card or a chat answer (markdown): name, observers or 未安排观察员, count."""
    return strings.COVERAGE_LINE.format(
        branch=md_escape(c.name),
        observers=md_escape("、".join(c.observers)) if c.observers else strings.NO_OBSERVER,
        observed=c.observed,
        required=c.required,
    )


def remind_coverage(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """Observers of branches not yet observed enough when the period ends within the risk window.

    Once per observer, branch and period; the reminder lists the branch's coming meetings in the period.
    """
    today = local_day(now, cfg)
    start, end = coverage_bounds(today, cfg)
    if (end - today).days > cfg.coverage_risk_days:
        return 0
    # Branches nobody is assigned to have no observer to remind; the committee hears of them
    # (report_coverage_gaps).
    at_risk = [c for c in coverage(session, today, cfg, now=now) if not c.covered and c.assigned]
    sent = 0
    for c in at_risk:
        meetings = session.scalars(
            select(Meeting)
            .where(
                Meeting.branch_id == c.branch_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at > now,
                Meeting.starts_at < day_start_utc(end, cfg),
            )
            .order_by(Meeting.starts_at)
        ).all()
        lines = "\n".join(
            strings.MY_MEETING_LINE.format(
                when=strings.fmt_when(m.starts_at, cfg.tz), title=md_escape(m.title), place=md_escape(m.place)
            )
            for m in meetings
        )
        extra = strings.COVERAGE_MEETINGS.format(lines=lines) if meetings else strings.COVERAGE_NO_MEETINGS
        text = strings.COVERAGE_TEXT.format(
            period=period_label(cfg),
            required=c.required,
            end=strings.fmt_day(end - timedelta(days=1)),
            branch=md_escape(c.name),
            meetings=extra,
        )
        sent += outbox.enqueue_to_people(
            session,
            c.observer_ids,
            Markdown(title=strings.COVERAGE_TITLE.format(branch=c.name), text=text),
            dedup_key=f"observers:coverage:{c.branch_id}:{start:%Y%m%d}",
            now=now,
        )
    return sent


# ---- the observers' record


@dataclass
class ObserverRecord:
    observer_id: int
    name: str
    phone: str
    branches: list[str] = field(default_factory=list)
    attended: int = 0  # meetings attended (列席 announced, or a form submitted), that took place
    forms: int = 0
    forms_on_time: int = 0
    issues_raised: int = 0
    issues_closed: int = 0
    periods: int = 0  # (branch, coverage period) pairs due in the year so far
    periods_covered: int = 0
    rating: str = ""


def _periods_in_year(year: int, as_of: date, cfg: ObserversConfig) -> list[tuple[date, date]]:
    """Coverage periods of the year that have ended by `as_of` (or hold it)."""
    out = []
    day = date(year, 1, 1)
    while day.year == year and day <= as_of:
        start, end = coverage_bounds(day, cfg)
        out.append((start, end))
        day = end
    return out


def suggested_rating(rec: ObserverRecord, cfg: ObserversConfig) -> str:
    """太湖县 rates observers 优秀 / 称职 each year; this is a suggestion for the people who decide."""
    coverage_rate = rec.periods_covered / rec.periods if rec.periods else 1.0
    on_time_rate = rec.forms_on_time / rec.forms if rec.forms else 0.0
    if rec.forms and coverage_rate >= 1.0 and on_time_rate >= cfg.excellent_on_time:
        return strings.RATING_EXCELLENT
    if rec.forms and coverage_rate >= cfg.competent_coverage:
        return strings.RATING_COMPETENT
    return strings.RATING_WEAK


def observer_records(
    session: Session,
    year: int,
    *,
    now: datetime,
    cfg: ObserversConfig,
    observer_ids: list[int] | None = None,
) -> list[ObserverRecord]:
    """Each observer's year: meetings attended, forms (on time), issues raised and closed, coverage.

    Without `observer_ids`, everyone with an assignment (active or ended).
    """
    as_of = min(local_day(now, cfg), date(year, 12, 31))
    lo, hi = day_start_utc(date(year, 1, 1), cfg), day_start_utc(date(year + 1, 1, 1), cfg)
    stmt = select(ObserverAssignment.observer_id, ObserverAssignment.branch_id, ObserverAssignment.active)
    if observer_ids is not None:
        stmt = stmt.where(ObserverAssignment.observer_id.in_(observer_ids))
    links = session.execute(stmt).all()
    ids = sorted({link[0] for link in links} | set(observer_ids or []))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}
    unit_names = dict(
        session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_({b for _, b, _ in links}))
        ).all()
    )
    recs = {i: ObserverRecord(i, people[i].name, people[i].phone or "") for i in ids if i in people}
    forms = session.execute(
        select(Observation.observer_id, Observation.on_time).where(
            Observation.observer_id.in_(ids),
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
        )
    ).all()
    # Attended and covered by the same definition as the branches' coverage (attended_meetings).
    visits = attended_meetings(session, lo, hi, now=now, observer_ids=ids)
    rects = session.execute(
        select(Observation.observer_id, Rectification.status)
        .join(Observation, Observation.id == Rectification.observation_id)
        .where(
            Observation.observer_id.in_(ids),
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
        )
    ).all()
    attended: dict[int, set[int]] = defaultdict(set)
    observed: dict[tuple[int, int], list[date]] = defaultdict(list)
    for oid, on_time in forms:
        recs[oid].forms += 1
        recs[oid].forms_on_time += int(bool(on_time))
    for (oid, mid), (bid, starts) in visits.items():
        attended[oid].add(mid)
        observed[(oid, bid)].append(local_day(starts, cfg))
    for oid, status in rects:
        recs[oid].issues_raised += 1
        recs[oid].issues_closed += int(status == RectificationStatus.CLOSED)
    periods = _periods_in_year(year, as_of, cfg)
    for oid, bid, active in links:
        rec = recs.get(oid)
        if rec is None:
            continue
        if active:
            rec.branches.append(unit_names.get(bid, str(bid)))
        days = observed.get((oid, bid), [])
        for start, end in periods:
            done = sum(1 for d in days if start <= d < end)
            # A period still running counts only once covered, so mid-period is not held against anyone;
            # an ended link counts only for the periods actually observed.
            ended = end <= as_of + timedelta(days=1)
            if (ended and active) or done >= cfg.min_visits:
                rec.periods += 1
                rec.periods_covered += int(done >= cfg.min_visits)
    for oid, rec in recs.items():
        rec.attended = len(attended[oid])
        rec.branches.sort()
        rec.rating = suggested_rating(rec, cfg)
    return [recs[i] for i in ids if i in recs]


# ---- figures for the monthly scoring


@dataclass(frozen=True)
class BranchObserverScore:
    forms: int  # forms for meetings held in the month
    average_percent: float  # mean of total / max_total × 100 over those forms
    lowest_grade: str  # the worst grade among them


@dataclass(frozen=True)
class RectificationTimeliness:
    due: int  # items whose deadline fell in the month
    closed_on_time: int  # of those, confirmed by the observer on or before the deadline
    open_overdue: int  # of those, still not closed (as of the query)


@dataclass(frozen=True)
class SevereOutcomes:
    stops: int  # 叫停 on meetings held in the month
    reopens: int  # 责令重开 on meetings held in the month


def _month_utc(month: date, cfg: ObserversConfig) -> tuple[datetime, datetime]:
    start, end = month_bounds(month)
    return day_start_utc(start, cfg), day_start_utc(end, cfg)


def observer_scores(
    session: Session, month: date, cfg: ObserversConfig, *, branch_ids: list[int] | None = None
) -> dict[int, BranchObserverScore]:
    """Observer quality score per branch for meetings held in `month` (local). Branches without a form are absent."""
    lo, hi = _month_utc(month, cfg)
    stmt = select(Observation.branch_id, Observation.total, Observation.max_total, Observation.grade).where(
        Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi
    )
    if branch_ids is not None:
        stmt = stmt.where(Observation.branch_id.in_(branch_ids))
    acc: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for b, total, max_total, grade in session.execute(stmt):
        acc[b].append((100.0 * total / max_total if max_total else 0.0, grade))
    order = [g for _, g in cfg.form.grades] + [cfg.form.lowest_grade]

    def worst(grades: Iterable[str]) -> str:
        return max(grades, key=lambda g: order.index(g) if g in order else len(order))

    return {
        b: BranchObserverScore(len(v), round(sum(p for p, _ in v) / len(v), 2), worst(g for _, g in v))
        for b, v in acc.items()
    }


def rectification_timeliness(
    session: Session, month: date, cfg: ObserversConfig, *, branch_ids: list[int] | None = None
) -> dict[int, RectificationTimeliness]:
    """Rectification items due in `month` per branch: how many, closed on time, still open."""
    start, end = month_bounds(month)
    stmt = select(
        Rectification.branch_id, Rectification.status, Rectification.closed_at, Rectification.due_on
    ).where(Rectification.due_on >= start, Rectification.due_on < end)
    if branch_ids is not None:
        stmt = stmt.where(Rectification.branch_id.in_(branch_ids))
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for b, status, closed_at, due_on in session.execute(stmt):
        acc[b][0] += 1
        if (
            status == RectificationStatus.CLOSED
            and closed_at is not None
            and local_day(closed_at, cfg) <= due_on
        ):
            acc[b][1] += 1
        if status != RectificationStatus.CLOSED:
            acc[b][2] += 1
    return {b: RectificationTimeliness(*v) for b, v in acc.items()}


def severe_outcomes(
    session: Session, month: date, cfg: ObserversConfig, *, branch_ids: list[int] | None = None
) -> dict[int, SevereOutcomes]:
    """叫停 and 责令重开 per branch for meetings held in `month`. Branches with neither are absent."""
    lo, hi = _month_utc(month, cfg)
    stmt = (
        select(Observation.branch_id, Observation.outcome, func.count())
        .where(
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
            Observation.outcome.in_([Outcome.STOP, Outcome.REOPEN]),
        )
        .group_by(Observation.branch_id, Observation.outcome)
    )
    if branch_ids is not None:
        stmt = stmt.where(Observation.branch_id.in_(branch_ids))
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for b, outcome, n in session.execute(stmt):
        acc[b][0 if outcome == Outcome.STOP else 1] += n
    return {b: SevereOutcomes(*v) for b, v in acc.items()}


# ---- who sees whose record

ADMIN_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.ORG_STAFF})


def _admin_units(session: Session, person: Person) -> list[OrgUnit | None]:
    """The committees whose observers' records and branches' coverage the person may see (None: the
    whole tree, for 组织部 staff without a unit)."""
    units: list[OrgUnit | None] = []
    for ra in roles_of(session, person.id):
        if ra.role not in ADMIN_ROLES:
            continue
        if ra.org_unit_id is None:
            units.append(None)
        else:
            unit = session.get(OrgUnit, ra.org_unit_id)
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
        raise Refused(strings.NOT_BOUND)
    admin_units = _admin_units(session, person)
    if admin_units:
        stmt = select(ObserverAssignment.observer_id).distinct()
        if None not in admin_units:
            clauses = [subtree_filter(u) for u in admin_units]
            stmt = stmt.join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id).where(or_(*clauses))
        return sorted(set(session.scalars(stmt))), True
    if session.scalar(select(func.count()).where(ObserverAssignment.observer_id == person.id)):
        return [person.id], False
    raise Refused(strings.NO_ROLE_STATS)


def form_rows(session: Session, year: int, cfg: ObserversConfig, observer_ids: list[int]) -> list[dict]:
    """Every form of the year by these observers, for the export's detail sheet."""
    lo, hi = day_start_utc(date(year, 1, 1), cfg), day_start_utc(date(year + 1, 1, 1), cfg)
    rows = session.execute(
        select(Observation, Person.name, OrgUnit.name, Meeting.title)
        .join(Person, Person.id == Observation.observer_id)
        .join(OrgUnit, OrgUnit.id == Observation.branch_id)
        .join(Meeting, Meeting.id == Observation.meeting_id)
        .where(
            Observation.observer_id.in_(observer_ids),
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
        )
        .order_by(Observation.meeting_starts_at, Observation.id)
    ).all()
    return [
        {
            "observer": name,
            "branch": branch,
            "meeting": title,
            "when": o.meeting_starts_at.astimezone(cfg.tz).replace(tzinfo=None),
            "total": o.total,
            "max_total": o.max_total,
            "grade": o.grade,
            "outcome": strings.OUTCOME_LABELS[o.outcome],
            "submitted": o.submitted_at.astimezone(cfg.tz).replace(tzinfo=None),
            "on_time": o.on_time,
        }
        for o, name, branch, title in rows
    ]
