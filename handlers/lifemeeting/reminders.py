"""The daily reminders (job `lifemeeting.reminders`): to each person whose step is due and not done, and to the
secretary with the names once a step's due day has come; to a 整改措施's owner as it falls due and when overdue.

Idempotent: every message has a dedup key naming the plan (or measure), the step, its due day and which reminder
it is, so a second run, a catch-up or a second scheduler sends nothing new; a moved due day is reminded again.
Nothing is sent for a plan whose meeting has been held or whose planned day has passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Text
from handlers.common.dates import fmt_full_day
from handlers.common.roles import people_with_roles_by_unit
from handlers.lifemeeting import strings
from handlers.lifemeeting.config import STEPS, LifeMeetingConfig
from handlers.lifemeeting.status import branch_status, names_of
from handlers.meetings.types import MeetingsConfig
from handlers.talks.config import TalksConfig
from models.lifemeeting import LifeMeetingMeasure, LifeMeetingPlan
from models.org import OrgUnit


def remind(
    session: Session,
    *,
    now: datetime,
    cfg: LifeMeetingConfig,
    talks_cfg: TalksConfig,
    meetings_cfg: MeetingsConfig,
) -> int:
    """Queue the day's reminders; returns how many messages were new."""
    today = now.astimezone(cfg.tz).date()
    plans = {
        p.branch_id: p
        for p in session.scalars(
            select(LifeMeetingPlan).where(
                LifeMeetingPlan.year == today.year, LifeMeetingPlan.planned_on >= today
            )
        )
    }
    sent = 0
    lives = branch_status(
        session, list(plans), today.year, now=now, cfg=cfg, talks_cfg=talks_cfg, meetings_cfg=meetings_cfg
    )
    reporters = _reporters(session, list(plans), cfg)
    for branch_id, plan in plans.items():
        life = lives[branch_id]
        if life.held:
            continue
        day = fmt_full_day(plan.planned_on)
        for step in STEPS:
            due = plan.due(step)
            if today < due - timedelta(days=cfg.remind_days_before):
                continue
            state = life.steps[step]
            label = strings.STEP_LABELS[step]
            which = "due" if today <= due else "overdue"
            template = strings.REMIND_DUE if which == "due" else strings.REMIND_OVERDUE
            text = template.format(step=label, due=fmt_full_day(due), day=day, how=strings.HOW[step])
            sent += outbox.enqueue_to_people(
                session, state.missing, Text(f"{strings.REMIND_TITLE}：{text}"),
                dedup_key=f"lifemeeting:{plan.id}:{step}:{due:%Y%m%d}:{which}", now=now,
            )  # fmt: skip
            if today < due or not state.not_done:
                continue
            branch = session.get(OrgUnit, branch_id)
            waiting = (
                strings.REPORT_WAITING.format(
                    n=len(state.waiting),
                    names=names_of(life, state.waiting, cfg.names_shown, strings.MORE),
                    step=label,
                )
                if state.waiting
                else ""
            )
            report = strings.REPORT.format(
                branch=branch.name, step=label, due=fmt_full_day(due), n=len(state.missing),
                names=names_of(life, state.missing, cfg.names_shown, strings.MORE) or "无", waiting=waiting,
            )  # fmt: skip
            sent += outbox.enqueue_to_people(
                session, reporters.get(branch_id, []), Text(f"{strings.REPORT_TITLE}：{report}"),
                dedup_key=f"lifemeeting:{plan.id}:{step}:{due:%Y%m%d}:report", now=now,
            )  # fmt: skip
    return sent + remind_measures(session, now=now, cfg=cfg)


def _reporters(session: Session, branch_ids: list[int], cfg: LifeMeetingConfig) -> dict[int, list[int]]:
    """Who is told of each branch's missing steps: its report_roles, else its managers."""
    first = people_with_roles_by_unit(session, branch_ids, cfg.report_roles)
    fallback = people_with_roles_by_unit(session, branch_ids, cfg.manager_roles)
    return {b: sorted(first.get(b) or fallback.get(b) or []) for b in branch_ids}


def remind_measures(session: Session, *, now: datetime, cfg: LifeMeetingConfig) -> int:
    """An open measure's owner: once when it is due within remind_days_before, once when it is overdue."""
    today = now.astimezone(cfg.tz).date()
    rows = session.scalars(
        select(LifeMeetingMeasure).where(
            LifeMeetingMeasure.done_at.is_(None),
            LifeMeetingMeasure.owner_id.is_not(None),
            LifeMeetingMeasure.due_on <= today + timedelta(days=cfg.remind_days_before),
        )
    ).all()
    sent = 0
    for row in rows:
        which = "due" if today <= row.due_on else "overdue"
        template = strings.MEASURE_REMIND_DUE if which == "due" else strings.MEASURE_REMIND_OVERDUE
        text = template.format(id=row.id, content=row.content, due=fmt_full_day(row.due_on))
        sent += outbox.enqueue_to_people(
            session, [row.owner_id], Text(f"{strings.MEASURE_REMIND_TITLE}：{text}"),
            dedup_key=f"lifemeeting:measure:{row.id}:{row.due_on:%Y%m%d}:{which}", now=now,
        )  # fmt: skip
    return sent
