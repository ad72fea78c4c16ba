"""The observer at a meeting: 我要列席, the 观察质量评价表 and its outcome (合格, 责令纠正, 责令重开,
叫停), and the watch over 责令重开 deadlines.

Use cases take the session, the acting person, `now` (aware UTC) and the config, check first and
raise Refused before writing anything; they never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Card, Text, md_escape
from handlers.common import dates
from handlers.common.roles import committee_people, people_with_roles, people_with_roles_by_unit
from handlers.observers import strings
from handlers.observers.assignments import answers_for_branch, is_assigned
from handlers.observers.forms import ObserversConfig, parse_form
from handlers.observers.periods import day_start_utc, local_day
from handlers.observers.rectification import rect_lines, sync_rectifications
from models import attachments
from models.meetings import Meeting, MeetingKind, MeetingStatus
from models.observers import Observation, ObserverRsvp, Outcome
from models.org import OrgUnit, Person, committees_of


def form_deadline(meeting_start: datetime, cfg: ObserversConfig) -> date:
    """The last day (inclusive, local) a form for this meeting may be submitted or changed."""
    return local_day(meeting_start, cfg) + timedelta(days=cfg.submit_days)


def observed_meeting(session: Session, person: Person | None, meeting_id: int) -> tuple[Meeting, OrgUnit]:
    """The meeting and its branch, when `person` may observe it at all: bound to an account, the
    meeting exists, they are assigned to its branch, and it was not cancelled. Refuses otherwise."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise Refused(strings.NO_MEETING, status=404)
    branch = session.get(OrgUnit, meeting.branch_id)
    if not is_assigned(session, person.id, meeting.branch_id):
        raise Refused(strings.NOT_ASSIGNED.format(branch=branch.name), status=403)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED, status=409)
    return meeting, branch


def attend(
    session: Session, person: Person | None, meeting_id: int, *, now: datetime, cfg: ObserversConfig
) -> str:
    """我要列席: record it and tell the branch's secretary. Returns the reply for the observer."""
    meeting, branch = observed_meeting(session, person, meeting_id)
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
    when = dates.fmt_when(meeting.starts_at, cfg.tz)
    outbox.enqueue_to_people(
        session,
        people_with_roles(session, meeting.branch_id, cfg.manager_roles),
        Text(strings.ATTEND_TO_SECRETARY.format(name=person.name, when=when, title=meeting.title)),
        dedup_key=f"observers:attend:{meeting.id}:{person.id}",
        now=now,
    )
    return strings.ATTEND_REPLY.format(branch=branch.name, when=when, title=meeting.title)


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
    meeting, branch = observed_meeting(session, person, meeting_id)
    # H23 is checked when an observer is assigned; someone who later joined or came to run the
    # branch would be scoring their own meetings.
    if answers_for_branch(session, person.id, meeting.branch_id, cfg):
        raise Refused(strings.OBSERVE_OWN_BRANCH.format(branch=branch.name), status=403)
    if meeting.starts_at > now:
        raise Refused(strings.NOT_HELD_YET, status=409)
    deadline = form_deadline(meeting.starts_at, cfg)
    if local_day(now, cfg) > deadline:
        closed = strings.FORM_CLOSED.format(days=cfg.submit_days, deadline=dates.fmt_full_day(deadline))
        raise Refused(closed, status=403)
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
    before = _what_the_result_says(obs) if ctx.existing is not None else None
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
    sync_rectifications(session, obs, data)
    if before is not None:
        # Saved again without a change (a second press, the page reopened and sent): the branch and
        # the committee were told already; a 已修改 notice would say something changed.
        if not photos and _what_the_result_says(obs) == before:
            return obs
        obs.edited_at = now
        obs.revision += 1
        session.flush()
    notify_result(session, obs, meeting, ctx.branch, person, now=now, cfg=cfg)
    return obs


def _what_the_result_says(obs: Observation) -> tuple:
    """Everything notify_result reports, to tell a real change from the same form saved again."""
    rects = sorted((r.text, r.status, r.due_on) for r in obs.rectifications)
    return (
        [dict(i) for i in obs.items],
        obs.total,
        obs.grade,
        obs.comment,
        obs.outcome,
        obs.correct_by,
        obs.reopen_by,
        rects,
    )


def result_recipients(session: Session, obs: Observation, cfg: ObserversConfig) -> set[int]:
    """Who sees a form's result: the branch's secretaries and the committee's `committee_roles`, and
    for a 叫停 its `stop_report_roles` at once."""
    people = set(people_with_roles(session, obs.branch_id, cfg.manager_roles))
    people |= set(committee_people(session, obs.branch_id, cfg.committee_roles))
    if obs.outcome == Outcome.STOP:
        people |= set(committee_people(session, obs.branch_id, cfg.stop_report_roles))
    return people


def notify_result(
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
            deadline=dates.fmt_full_day(obs.correct_by), items=rect_lines(obs.rectifications, markdown=True)
        )
    elif obs.outcome == Outcome.REOPEN:
        text += strings.RESULT_REOPEN.format(deadline=dates.fmt_full_day(obs.reopen_by))
    elif obs.outcome == Outcome.STOP:
        text += strings.RESULT_STOP
    if obs.outcome == Outcome.STOP:
        title = strings.RESULT_STOP_TITLE.format(branch=branch.name, title=meeting.title)
    elif obs.revision > 1:
        title = strings.RESULT_TITLE_EDITED.format(branch=branch.name, title=meeting.title)
    else:
        title = strings.RESULT_TITLE.format(branch=branch.name, title=meeting.title)
    fields = tuple((i["label"], f"{i['score']}/{i['max']}") for i in obs.items)
    outbox.enqueue_to_people(
        session,
        result_recipients(session, obs, cfg),
        Card(title=title, text=text, fields=fields),
        dedup_key=f"observers:result:{obs.id}:r{obs.revision}",
        now=now,
    )


# ---- 责令重开: the new meeting it orders


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
    committee_staff = people_with_roles_by_unit(
        session, {c.id for c in committees.values()}, cfg.committee_roles
    )
    sent = 0
    for obs in missed:
        meeting, branch = meetings[obs.meeting_id], branches[obs.branch_id]
        people = set(managers.get(branch.id, []))
        if branch.id in committees:
            people |= set(committee_staff.get(committees[branch.id].id, []))
        sent += outbox.enqueue_to_people(
            session,
            people,
            Text(
                strings.REOPEN_OVERDUE_TITLE.format(branch=branch.name)
                + "\n"
                + strings.REOPEN_OVERDUE_TEXT.format(
                    when=dates.fmt_when(meeting.starts_at, cfg.tz),
                    title=meeting.title,
                    deadline=dates.fmt_full_day(obs.reopen_by),
                )
            ),
            dedup_key=f"observers:reopen_missed:{obs.id}",
            now=now,
        )
    return sent
