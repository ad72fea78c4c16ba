"""Scheduled 党费 jobs. Each takes (session, period, now), is idempotent, and never commits.

The scheduler claims (job, period) before calling them; independently of that claim every message
carries a dedup key, so a second run of the same period (a restart, a catch-up, a manual rerun)
queues nothing new.

- fee_day_reminders: period = a local date (Asia/Shanghai). Run it once a day, early (e.g. 00:05):
  each reminder is held in the outbox until the organisation's reminder time (default 09:00).
- fee_arrears_notices: period = a local date, normally the 1st; it looks at the month before.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.jobs import JobSpec, daily, monthly
from bot.core.messages import Button, Card
from handlers.fees import strings
from handlers.fees.feeday import add_months, month_start
from handlers.fees.service import SHANGHAI, PolicyBook, arrears_counts, fee_message_key, reminder_batches
from models.org import OrgUnit, Role, RoleAssignment, UnitKind

PAID_ACTION = "fees.paid"


def reminder_card(month: date, day: date, amount, *, tomorrow: bool) -> Card:
    template = strings.REMINDER_TEXT_TOMORROW if tomorrow else strings.REMINDER_TEXT_TODAY
    return Card(
        title=strings.REMINDER_TITLE,
        text=template.format(day=strings.md_w(day), month=strings.ym(month), amount=strings.yuan(amount)),
        fields=(("所属月份", strings.ym(month)), ("应交金额", strings.yuan(amount))),
        buttons=(Button(label=strings.BUTTON_PAID, action=PAID_ACTION, params={"month": month.isoformat()}),),
        card_key=f"fee-reminder:{month.isoformat()}",
    )


def _at(local_day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(local_day, time(hour, minute), SHANGHAI)


def fee_day_reminders(session: Session, period: date, now: datetime) -> int:
    """Queue the fee-day (and day-before) reminders of local date `period`; return rows queued.

    Only members who owe for the month and have no reported or confirmed payment get one; members
    with a 免交 exemption or before their liability month get none. All fee messages of a day share
    fee_message_key(period), so each member gets at most one that day.
    """
    queued = 0
    key = fee_message_key(period)
    for batch in reminder_batches(session, period):
        card = reminder_card(batch.month, batch.fee_day, batch.amount, tomorrow=batch.tomorrow)
        queued += outbox.enqueue_to_people(
            session,
            batch.person_ids,
            card,
            dedup_key=key,
            now=now,
            not_before=_at(period, batch.reminder_time),
        )
    return queued


def _lines(items) -> str:
    return "\n".join(
        strings.ARREARS_LINE.format(name=a.name, n=a.months, first=strings.ym(a.first_month)) for a in items
    )


def fee_arrears_notices(session: Session, period: date, now: datetime) -> int:
    """Tell each branch secretary of members unpaid for 3+ consecutive months (the policy's number),
    and the committee's 组织委员 plus the secretary of those at 6+, as of the month before `period`.

    The 6-month notice flags a 自行脱党 review candidate (党章第九条) and says in so many words that
    people decide. Paying ends a run, so a member who paid drops off the next notice.
    """
    month = add_months(month_start(period), -1)
    counts = arrears_counts(session, month)
    if not counts:
        return 0
    book = PolicyBook(session, [])
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    by_branch: dict[int, list] = defaultdict(list)
    for a in counts.values():
        by_branch[a.branch_id].append(a)
    roles = defaultdict(list)
    for person_id, unit_id, role in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.org_unit_id, RoleAssignment.role).where(
            RoleAssignment.role.in_((Role.SECRETARY, Role.ORGANIZATION_MEMBER))
        )
    ):
        roles[(unit_id, role)].append(person_id)
    queued = 0
    for branch_id, items in sorted(by_branch.items()):
        branch = units.get(branch_id)
        if branch is None:
            continue
        path = branch.ancestor_ids()
        policy = book.policy(path)
        secretaries = roles[(branch_id, Role.SECRETARY)]
        warn = sorted(
            (a for a in items if a.months >= policy.arrears_secretary_months),
            key=lambda a: (-a.months, a.name),
        )
        if warn and secretaries:
            card = Card(
                title=strings.ARREARS_SECRETARY_TITLE,
                text=strings.ARREARS_SECRETARY_TEXT.format(
                    month=strings.ym(month), n=policy.arrears_secretary_months, lines=_lines(warn)
                ),
            )
            queued += outbox.enqueue_to_people(
                session, secretaries, card, dedup_key=f"fee-arrears:{branch_id}:{month.isoformat()}", now=now
            )
        severe = [a for a in warn if a.months >= policy.arrears_committee_months]
        if not severe:
            continue
        committee = next(
            (units[u] for u in reversed(path[:-1]) if u in units and units[u].kind == UnitKind.COMMITTEE),
            None,
        )
        recipients = set(secretaries)
        if committee is not None:
            recipients.update(roles[(committee.id, Role.ORGANIZATION_MEMBER)])
        if recipients:
            card = Card(
                title=strings.ARREARS_COMMITTEE_TITLE,
                text=strings.ARREARS_COMMITTEE_TEXT.format(
                    month=strings.ym(month),
                    branch=branch.name,
                    n=policy.arrears_committee_months,
                    lines=_lines(severe),
                ),
            )
            queued += outbox.enqueue_to_people(
                session, recipients, card, dedup_key=f"fee-arrears-6:{branch_id}:{month.isoformat()}", now=now
            )
    return queued


# --- the scheduler's view (scheduler/jobs.py reads JOBS) ------------------------------------------


def run_fee_day_reminders(session: Session, now: datetime, period: str) -> None:
    """Daily at 00:05 local; the period is that local date ("2026-11-06")."""
    fee_day_reminders(session, date.fromisoformat(period), now)


def run_fee_arrears_notices(session: Session, now: datetime, period: str) -> None:
    """On the 1st; the period is that month ("2026-11"), the notices are about the month before."""
    fee_arrears_notices(session, date.fromisoformat(period + "-01"), now)


JOBS = [
    JobSpec("fees.reminders", "5 0 * * *", run_fee_day_reminders, daily, description="党费交纳日提醒（未交的党员）"),
    JobSpec("fees.arrears", "30 9 1 * *", run_fee_arrears_notices, monthly, description="连续未交党费：3个月告知书记，6个月告知党委"),
]  # fmt: skip
