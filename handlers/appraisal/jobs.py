"""Jobs of 民主评议党员: job `appraisal.remind`, daily at 09:00 local (period: that local date).

- On a window's last day, each member who has not yet self-assessed or (a voter) voted gets one card with
  what is missing and the page's link. Who has voted is read from the "has voted" flags only; nothing about
  a ballot is read or sent.
- On the day after the close, the branch's 书记/副书记/组织委员 get the turnout and the link to the count.

Each message carries a dedup key per appraisal and kind, so a second run of the day queues nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, daily
from bot.core.messages import Button, Card, md_escape
from handlers.appraisal import service, strings
from handlers.appraisal.config import AppraisalConfig, appraisal_config
from handlers.common.roles import people_with_roles_by_unit
from models.appraisal import Appraisal, AppraisalMember
from models.org import OrgUnit


def remind(session: Session, day: date, now: datetime, core: CoreConfig, cfg: AppraisalConfig) -> int:
    """Queue the last day's reminders and the day-after notices of local date `day`; returns rows queued."""
    tz = core.tz
    lo, hi = service.start_of(day, tz), service.start_of(day + timedelta(days=1), tz)
    queued = 0
    # Windows whose last day is `day` (they close at the next midnight).
    last_day = list(
        session.scalars(select(Appraisal).where(Appraisal.closes_at == hi, Appraisal.decided_on.is_(None)))
    )
    closed = list(
        session.scalars(select(Appraisal).where(Appraisal.closes_at == lo, Appraisal.proposed_on.is_(None)))
    )
    # Each table read once for all of them, not once per appraisal.
    branches = _branches(session, {a.branch_id for a in last_day + closed})
    members: dict[int, list[AppraisalMember]] = defaultdict(list)
    if last_day:
        for m in session.scalars(
            select(AppraisalMember)
            .where(AppraisalMember.appraisal_id.in_([a.id for a in last_day]))
            .order_by(AppraisalMember.appraisal_id, AppraisalMember.person_id)
        ):
            members[m.appraisal_id].append(m)
    for a in last_day:
        branch = branches[a.branch_id]
        end = service.window_text(a, tz)[1]
        by_missing: dict[str, list[int]] = {}
        for m in members[a.id]:
            missing = [strings.LAST_DAY_VOTE] * (m.can_vote and not m.has_voted)
            missing += [strings.LAST_DAY_SELF] * (m.self_assessment is None)
            if missing:
                by_missing.setdefault("、".join(missing), []).append(m.person_id)
        for what, people in sorted(by_missing.items()):
            card = Card(
                title=strings.LAST_DAY_TITLE,
                text=strings.LAST_DAY_TEXT.format(
                    branch=md_escape(branch.name), year=a.year, end=end, what=what
                ),
                buttons=(Button(label=strings.CARD_BUTTON, url=service.member_url(a.id)),),
            )
            queued += outbox.enqueue_to_people(
                session, people, card, dedup_key=f"appraisal:{a.id}:last-day", now=now
            )
    # Windows that closed at the start of `day`.
    turnouts = service.turnout(session, [a.id for a in closed])
    managers = people_with_roles_by_unit(session, [a.branch_id for a in closed], cfg.manager_roles)
    for a in closed:
        branch = branches[a.branch_id]
        t = turnouts[a.id]
        card = Card(
            title=strings.CLOSED_TITLE,
            text=strings.CLOSED_TEXT.format(
                branch=md_escape(branch.name),
                year=a.year,
                end=service.window_text(a, tz)[1],
                voters=t.voters,
                voted=t.voted,
            ),  # fmt: skip
            buttons=(Button(label=strings.MANAGE_BUTTON, url=service.manage_url(a.id)),),
        )
        queued += outbox.enqueue_to_people(
            session, managers.get(a.branch_id, []), card, dedup_key=f"appraisal:{a.id}:closed", now=now
        )
    return queued


def _branches(session: Session, ids: set[int]) -> dict[int, OrgUnit]:
    return (
        {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(sorted(ids))))} if ids else {}
    )


def jobs(core: CoreConfig) -> list[JobSpec]:
    def run(session: Session, now: datetime, period: str) -> None:
        remind(session, date.fromisoformat(period), now, core, appraisal_config(core))

    return [JobSpec("appraisal.remind", "0 9 * * *", run, daily, description=strings.JOB_DESCRIPTION)]
