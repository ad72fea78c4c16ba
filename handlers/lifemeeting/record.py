"""At and after the meeting: 批评和自我批评 per person, 查摆问题, and the 整改措施 carried out one by one.

They belong to the branch's latest 组织生活会 of the year that has begun (an ORG_LIFE meeting scheduled through
the meetings feature). The 书记, 副书记 or 组织委员 records them; a measure's owner reports it done too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.dates import fmt_full_day, parse_day
from handlers.common.roles import roles_in_words
from handlers.lifemeeting import strings
from handlers.lifemeeting.config import LifeMeetingConfig
from handlers.lifemeeting.prepare import (
    CONTENT_MAX,
    branch_people,
    is_manager_of,
    managed_branch,
    person_named,
)
from handlers.lifemeeting.status import org_life_meetings
from models.lifemeeting import LifeMeetingCriticism, LifeMeetingMeasure, LifeMeetingMinutes
from models.meetings import Meeting
from models.org import OrgUnit, Person

MEASURE_MAX = 500
_MEASURE = re.compile(
    r"^(?P<content>.+?)\s+责任人[：:\s]*(?P<owner>\S+)\s+(?:期限|完成时限|截止)[：:\s]*(?P<due>\S+)$", re.S
)


def current_meeting(session: Session, branch: OrgUnit, *, now: datetime, cfg: LifeMeetingConfig) -> Meeting:
    """The branch's latest 组织生活会 of this year that has begun; refused when there is none yet."""
    year = now.astimezone(cfg.tz).year
    rows = session.execute(
        org_life_meetings(session, [branch.id], year, cfg).where(Meeting.starts_at <= now)
    ).all()
    if not rows:
        raise Refused(strings.NO_MEETING.format(year=year), status=404)
    return session.get(Meeting, rows[-1][1])


def split_criticism(text: str) -> tuple[str, str, str]:
    """「自我批评：…；受到批评：…；批评他人：…」 into its three parts (any order, any of them); text with no
    label is the person's self-criticism."""
    labels = [
        (lbl, i)
        for i, group in enumerate((strings.SELF_LABELS, strings.RECEIVED_LABELS, strings.GIVEN_LABELS))
        for lbl in group
    ]
    pattern = "|".join(re.escape(lbl) for lbl, _ in sorted(labels, key=lambda x: -len(x[0])))
    parts = ["", "", ""]
    marks = list(re.finditer(rf"(?:{pattern})\s*[：:]?", text))
    if not marks:
        return text.strip(), "", ""
    lead = text[: marks[0].start()].strip(" ；;，,\n")
    for n, m in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
        which = next(i for lbl, i in labels if m.group(0).startswith(lbl))
        parts[which] = text[m.end() : end].strip(" ；;，,\n")
    if lead:
        parts[0] = (lead + "；" + parts[0]).strip("；")
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class CriticismSaved:
    meeting: Meeting
    name: str
    count: int


def record_criticism(
    session: Session, actor: Person | None, args: str, *, now: datetime, cfg: LifeMeetingConfig
) -> CriticismSaved:
    branch = managed_branch(session, actor, cfg, strings.WHAT_RECORD)
    name, _, text = args.strip().partition(" ")
    if not name or not text.strip():
        raise Refused(strings.CRITICISM_USAGE, status=422)
    if len(text) > CONTENT_MAX:
        raise Refused(strings.CONTENT_TOO_LONG.format(n=CONTENT_MAX), status=422)
    meeting = current_meeting(session, branch, now=now, cfg=cfg)
    pid = person_named(branch_people(session, branch.id), name)
    self_points, received, given = split_criticism(text)
    row = session.scalar(
        select(LifeMeetingCriticism).where(
            LifeMeetingCriticism.meeting_id == meeting.id, LifeMeetingCriticism.person_id == pid
        )
    )
    if row is None:
        row = LifeMeetingCriticism(meeting_id=meeting.id, person_id=pid)
        session.add(row)
    row.self_points, row.received, row.given = self_points, received, given
    row.recorded_by_id, row.recorded_at = actor.id, now
    session.flush()
    count = session.scalar(
        select(func.count())
        .select_from(LifeMeetingCriticism)
        .where(LifeMeetingCriticism.meeting_id == meeting.id)
    )
    return CriticismSaved(meeting, name, count or 0)


def record_problems(
    session: Session, actor: Person | None, text: str, *, now: datetime, cfg: LifeMeetingConfig
) -> Meeting:
    branch = managed_branch(session, actor, cfg, strings.WHAT_RECORD)
    text = text.strip()
    if not text:
        raise Refused(strings.PROBLEMS_USAGE, status=422)
    if len(text) > CONTENT_MAX:
        raise Refused(strings.CONTENT_TOO_LONG.format(n=CONTENT_MAX), status=422)
    meeting = current_meeting(session, branch, now=now, cfg=cfg)
    row = session.scalar(select(LifeMeetingMinutes).where(LifeMeetingMinutes.meeting_id == meeting.id))
    if row is None:
        row = LifeMeetingMinutes(meeting_id=meeting.id)
        session.add(row)
    row.problems, row.recorded_by_id, row.recorded_at = text, actor.id, now
    session.flush()
    return meeting


def add_measure(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date, cfg: LifeMeetingConfig
) -> tuple[LifeMeetingMeasure, str]:
    """「整改措施 内容 责任人 姓名 期限 日期」: one measure of the meeting, with its owner (someone of the branch)."""
    branch = managed_branch(session, actor, cfg, strings.WHAT_RECORD)
    m = _MEASURE.match(args.strip())
    if m is None:
        raise Refused(strings.MEASURE_USAGE, status=422)
    content = m.group("content").strip()
    if len(content) > MEASURE_MAX:
        raise Refused(strings.CONTENT_TOO_LONG.format(n=MEASURE_MAX), status=422)
    due = parse_day(m.group("due"), today, short="next")
    if due is None:
        raise Refused(strings.BAD_DAY.format(text=m.group("due")), status=422)
    if due < today:
        raise Refused(strings.MEASURE_DUE_PAST.format(due=fmt_full_day(due)), status=422)
    people = branch_people(session, branch.id)
    owner = person_named(people, m.group("owner"))
    meeting = current_meeting(session, branch, now=now, cfg=cfg)
    row = LifeMeetingMeasure(
        meeting_id=meeting.id, content=content, owner_id=owner, due_on=due, created_by_id=actor.id
    )
    session.add(row)
    session.flush()
    return row, people[owner]


def year_measures(
    session: Session, branch_id: int, year: int, cfg: LifeMeetingConfig
) -> list[LifeMeetingMeasure]:
    meeting_ids = [r[1] for r in session.execute(org_life_meetings(session, [branch_id], year, cfg))]
    if not meeting_ids:
        return []
    return list(
        session.scalars(
            select(LifeMeetingMeasure)
            .where(LifeMeetingMeasure.meeting_id.in_(meeting_ids))
            .order_by(LifeMeetingMeasure.id)
        )
    )


def finish_measure(
    session: Session, actor: Person | None, args: str, *, now: datetime, cfg: LifeMeetingConfig
) -> LifeMeetingMeasure:
    """The owner, or a manager of the branch, reports a measure done; anyone else is refused."""
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    text = args.strip().lstrip("#＃")
    if not text.isdigit():
        raise Refused(strings.MEASURE_USAGE_DONE, status=422)
    row = session.get(LifeMeetingMeasure, int(text))
    meeting = session.get(Meeting, row.meeting_id) if row is not None else None
    manager = meeting is not None and is_manager_of(session, actor, meeting.branch_id, cfg)
    if row is None or (not manager and row.owner_id != actor.id and actor.branch_id != meeting.branch_id):
        raise Refused(strings.MEASURE_NOT_FOUND.format(id=text), status=404)
    if not manager and row.owner_id != actor.id:
        owner = session.get(Person, row.owner_id) if row.owner_id else None
        raise Refused(
            strings.MEASURE_NOT_YOURS.format(
                id=row.id, owner=owner.name if owner else "?", managers=roles_in_words(cfg.manager_roles)
            ),
            status=403,
        )
    if row.done_at is not None:
        raise Refused(
            strings.MEASURE_ALREADY.format(
                id=row.id, day=fmt_full_day(row.done_at.astimezone(cfg.tz).date())
            ),
            status=409,
        )
    row.done_at, row.done_by_id = now, actor.id
    return row


def owns_open_measure(session: Session, person_id: int) -> bool:
    return (
        session.scalar(
            select(LifeMeetingMeasure.id)
            .where(LifeMeetingMeasure.owner_id == person_id, LifeMeetingMeasure.done_at.is_(None))
            .limit(1)
        )
        is not None
    )
