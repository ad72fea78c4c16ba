"""Monthly progress (潜山: 单月报告; 岳西: 晒动态): the secretary reports per milestone, with text and
photos, from chat or the H5 page; late milestones are shown; month-end reminders climb a ladder.

The ladder is monthly's (handlers.monthly.config.LadderPreset, handlers.monthly.ladder.rung_for): a
month without a report counts like a lagging month, and consecutive ones climb the committee's rungs.
Each notice is a ProjectReminder row keyed (project, month, rung) and an outbox row with the same key,
so a rerun, a restart or a second scheduler sends nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Button, Card, Text
from handlers.common import dates
from handlers.common.roles import people_with_roles_by_unit
from handlers.monthly.config import Rung
from handlers.monthly.ladder import rung_for
from handlers.projects import access, review, strings
from handlers.projects.config import ProjectsConfig
from models import attachments
from models.org import OrgUnit, Person
from models.projects import ProjectProgress, ProjectReminder, ProjectStatus, SecretaryProject

PHOTO_OWNER = "project_progress"  # models.attachments owner kind


def progress_url(public_base_url: str, project_id: int) -> str:
    return f"{review.page_url(public_base_url, project_id)}/progress"


def report(
    session: Session,
    person: Person | None,
    project_id: int,
    text: str,
    *,
    milestone_seq: int | None = None,
    done: bool = False,
    photos: list[attachments.Photo] = (),
    now: datetime,
    cfg: ProjectsConfig,
) -> tuple[ProjectProgress, str]:
    """Record a report for the current month; returns it and the Chinese answer (late milestones listed)."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if p.secretary_id != person.id:
        raise Refused(strings.NOT_YOUR_PROJECT.format(id=p.id), status=403)
    if p.status != ProjectStatus.ACCEPTED:
        raise Refused(
            strings.PROGRESS_NOT_ACCEPTED.format(id=p.id, state=strings.STATUS_LABELS[p.status]), status=409
        )
    text = (text or "").strip()
    if not text:
        raise Refused(strings.PROGRESS_TEXT_REQUIRED, ("text",), status=422)
    milestone = None
    if milestone_seq is not None:
        milestone = next((m for m in p.milestones if m.seq == milestone_seq), None)
        if milestone is None:
            raise Refused(
                strings.PROGRESS_NO_MILESTONE.format(id=p.id, seq=milestone_seq, count=len(p.milestones)),
                ("milestone",),
                status=422,
            )
    today = now.astimezone(cfg.tz).date()
    row = ProjectProgress(
        project_id=p.id,
        milestone_id=milestone.id if milestone else None,
        month=dates.month_start(today),
        text=text[:4000],
        done=bool(done and milestone),
        reported_by_id=person.id,
        reported_at=now,
    )
    session.add(row)
    session.flush()
    try:
        stored = attachments.attach_photos(session, PHOTO_OWNER, row.id, list(photos), person.id)
    except attachments.PhotoError as exc:
        raise Refused(str(exc), ("photos",), status=422) from None
    done_text = ""
    if milestone is not None and done and milestone.done_on is None:
        milestone.done_on = today
        done_text = strings.PROGRESS_DONE.format(seq=milestone.seq, title=milestone.title)
    session.flush()
    late = review.late_milestones(p, today)
    answer = strings.PROGRESS_SAVED.format(
        id=p.id,
        title=p.title,
        month=dates.fmt_month(row.month),
        photos=strings.PROGRESS_PHOTOS.format(count=len(stored)) if stored else "",
        done=done_text,
        late=strings.PROGRESS_LATE.format(lines=review.milestone_lines(late, today, markdown=False))
        if late
        else "",
    )
    return row, answer


def reported_months(session: Session, project_ids: list[int]) -> dict[int, set[date]]:
    found: dict[int, set[date]] = defaultdict(set)
    if project_ids:
        for pid, month in session.execute(
            select(ProjectProgress.project_id, ProjectProgress.month)
            .where(ProjectProgress.project_id.in_(project_ids))
            .distinct()
        ):
            found[pid].add(month)
    return found


def _sent(session: Session, project_ids: list[int], months: list[date]) -> set[tuple[int, date, int]]:
    """The (project, month, rung) reminders already sent for these projects and months, in one query."""
    if not project_ids:
        return set()
    return set(
        session.execute(
            select(ProjectReminder.project_id, ProjectReminder.month, ProjectReminder.rung).where(
                ProjectReminder.project_id.in_(project_ids), ProjectReminder.month.in_(months)
            )
        ).tuples()
    )


def _record(
    session: Session, p: SecretaryProject, month: date, rung: int, people: list[int], now: datetime
) -> None:
    session.add(ProjectReminder(project_id=p.id, month=month, rung=rung, recipients=people, sent_at=now))
    session.flush()


def remind(session: Session, *, now: datetime, cfg: ProjectsConfig, public_base_url: str) -> int:
    """The month-end reminder (rung 0, from the `remind_day`) for this month, and the ladder's notice for
    last month when it ended without a report. Safe to run daily: each (project, month, rung) once."""
    today = now.astimezone(cfg.tz).date()
    month = dates.month_start(today)
    previous = dates.add_months(month, -1)
    projects = list(
        session.scalars(
            select(SecretaryProject)
            .options(selectinload(SecretaryProject.milestones))  # every reminder lists them
            .where(
                SecretaryProject.status == ProjectStatus.ACCEPTED,
                SecretaryProject.year.in_([month.year, previous.year]),
            )
            .order_by(SecretaryProject.id)
        )
    )
    reported = reported_months(session, [p.id for p in projects])
    done = _sent(session, [p.id for p in projects], [month, previous])
    # Last month's silent projects whose rung is not sent yet, decided first so that who hears of them
    # is loaded for all of them at once.
    climbs: dict[int, tuple[int, Rung]] = {}
    for p in projects:
        start = dates.month_start(p.decided_at.astimezone(cfg.tz).date()) if p.decided_at else month
        if p.year == previous.year and start <= previous and previous not in reported[p.id]:
            streak = silent_streak(previous, start, reported[p.id])
            rung = rung_for(cfg.ladder, streak)
            if rung is not None and (p.id, previous, rung.streak) not in done:
                climbs[p.id] = (streak, rung)
    told = _escalation_people(session, [p for p in projects if p.id in climbs], climbs)
    sent = 0
    for p in projects:
        if today.day >= cfg.remind_day and p.year == month.year and month not in reported[p.id]:
            if (p.id, month, 0) not in done:
                sent += _remind_secretary(session, p, month, today, now=now, public_base_url=public_base_url)
        if p.id in climbs:
            sent += _escalate(session, p, previous, *climbs[p.id], told, today, now=now)
    return sent


def _remind_secretary(
    session: Session, p: SecretaryProject, month: date, today: date, *, now: datetime, public_base_url: str
) -> int:
    _record(session, p, month, 0, [p.secretary_id], now)
    return outbox.enqueue_to_people(
        session,
        [p.secretary_id],
        Card(
            title=strings.REMIND_TITLE,
            text=strings.REMIND_TEXT.format(
                id=p.id,
                title=p.title,
                month=dates.fmt_month(month),
                milestones=review.milestone_lines(p.milestones, today),
            ),
            buttons=(Button(strings.BUTTON_REPORT, url=progress_url(public_base_url, p.id)),),
        ),
        dedup_key=f"projects:remind:{p.id}:{month:%Y-%m}:0",
        now=now,
    )


def silent_streak(month: date, start: date, reported: set[date]) -> int:
    """Months in a row without a report, ending with `month`, counted from the project's first month."""
    streak, m = 0, month
    while m >= start and m not in reported:
        streak += 1
        m = dates.add_months(m, -1)
    return streak


@dataclass
class _Told:
    """Who hears of the escalations of one run, loaded for all the projects at once."""

    units: dict[int, OrgUnit]
    people: dict[int, set[int]]  # project id -> the committee's rung roles (and 组织部), not the secretary
    names: dict[int, str]


def _escalation_people(
    session: Session, projects: list[SecretaryProject], climbs: dict[int, tuple[int, Rung]]
) -> _Told:
    """For each project: its rung's roles on the committee above its unit, and the 组织部 over it when
    the rung copies them or there is no committee; with the names of everyone involved."""
    if not projects:
        return _Told({}, {}, {})
    units = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects})))
    }
    above = access.committees_above(session, units.values())
    holders = {
        roles: people_with_roles_by_unit(session, {c.id for c in above.values()}, roles)
        for roles in {climbs[p.id][1].roles for p in projects}
    }
    staff = access.org_staff_by_unit(session, units.values())
    people: dict[int, set[int]] = {}
    for p in projects:
        rung, committee = climbs[p.id][1], above.get(p.unit_id)
        found = set(holders[rung.roles].get(committee.id, [])) if committee else set()
        if rung.copy_org_staff or committee is None:
            found |= set(staff[p.unit_id])
        people[p.id] = found
    everyone = set().union(*people.values(), {p.secretary_id for p in projects})
    names = dict(
        session.execute(select(Person.id, Person.name).where(Person.id.in_(everyone))).tuples().all()
    )
    return _Told(units, people, names)


def _escalate(
    session: Session,
    p: SecretaryProject,
    month: date,
    streak: int,
    rung: Rung,
    told: _Told,
    today: date,
    *,
    now: datetime,
) -> int:
    unit, people = told.units[p.unit_id], told.people[p.id]
    to = "、".join(told.names[i] for i in sorted(people))
    recipients = sorted(people | {p.secretary_id})
    _record(session, p, month, rung.streak, recipients, now)
    months = [dates.add_months(month, -i) for i in range(streak - 1, -1, -1)]
    late = review.late_milestones(p, today)
    secretary_name = told.names[p.secretary_id]
    return outbox.enqueue_to_people(
        session,
        recipients,
        Text(
            strings.ESCALATE_TITLE.format(unit=unit.name)
            + "\n"
            + strings.ESCALATE_TEXT.format(
                id=p.id,
                title=p.title,
                secretary=secretary_name,
                streak=streak,
                months=dates.fmt_months(months),
                to=to or secretary_name,
                late=strings.ESCALATE_LATE.format(lines=review.milestone_lines(late, today, markdown=False))
                if late
                else "",
            )
        ),
        dedup_key=f"projects:escalate:{p.id}:{month:%Y-%m}:{rung.streak}",
        now=now,
    )
