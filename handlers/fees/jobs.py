"""Scheduled 党费 jobs. Each takes (session, period, now), is idempotent, and never commits.

The scheduler claims (job, period) before calling them; independently of that claim every message
carries a dedup key, so a second run of the same period (a restart, a catch-up, a manual rerun)
queues nothing new.

- fee_day_reminders: period = a local date (settings.timezone). Run it once a day, early (e.g. 00:05):
  each reminder is held in the outbox until the organisation's reminder time (default 09:00).

Consecutive unpaid months are not notified here: arrears.arrears_counts supplies them to the monthly
member ladder (handlers.monthly.ladder), the one mechanism that tells secretaries and committees.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, daily
from bot.core.messages import Button, Card
from handlers.common import dates
from handlers.fees import strings
from handlers.fees.arrears import fee_message_key, reminder_batches
from handlers.fees.policy import Policy, default_policy

# The reminder's 已交 opens this page (bot.web.fees). A link, not a callback button: a card with only
# links goes to up to 20 people per DingTalk call (1,000 on WeCom), where a callback card is one per
# call, and a city's fee day has tens of thousands of reminders.
PAY_PAGE = "/h5/fees/pay"


def pay_url(month: date) -> str:
    """Relative: each platform's sender makes it absolute with the public base URL."""
    return f"{PAY_PAGE}/{month:%Y-%m}"


def reminder_card(month: date, day: date, *, tomorrow: bool) -> Card:
    template = strings.REMINDER_TEXT_TOMORROW if tomorrow else strings.REMINDER_TEXT_TODAY
    return Card(
        title=strings.REMINDER_TITLE,
        text=template.format(day=dates.fmt_day_weekday(day), month=dates.fmt_month(month)),
        fields=(("所属月份", dates.fmt_month(month)),),
        buttons=(Button(label=strings.BUTTON_PAID, url=pay_url(month)),),
    )


def _at(local_day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(local_day, time(hour, minute), tz)


def fee_day_reminders(
    session: Session, period: date, now: datetime, tz: ZoneInfo, default: Policy | None = None
) -> int:
    """Queue the fee-day (and day-before) reminders of local date `period`; return rows queued.

    Only members who owe for the month and have no reported or confirmed payment get one; members
    with a 免交 exemption or before their liability month get none. All fee messages of a day share
    fee_message_key(period), so each member gets at most one that day. `tz`: settings.timezone;
    `default`: default_policy(core), whose rule and reminder time serve branches without a policy.
    """
    queued = 0
    key = fee_message_key(period)
    for batch in reminder_batches(session, period, default):
        card = reminder_card(batch.month, batch.fee_day, tomorrow=batch.tomorrow)
        queued += outbox.enqueue_to_people(
            session,
            batch.person_ids,
            card,
            dedup_key=key,
            now=now,
            not_before=_at(period, batch.reminder_time, tz),
        )
    return queued


# --- the scheduler's view (scheduler/jobs.py calls jobs(core)) -----------------------------------


def jobs(core: CoreConfig) -> list[JobSpec]:
    def run_fee_day_reminders(session: Session, now: datetime, period: str) -> None:
        """Daily at 00:05 local; the period is that local date ("2026-11-06")."""
        fee_day_reminders(session, date.fromisoformat(period), now, core.tz, default_policy(core))

    return [
        JobSpec("fees.reminders", "5 0 * * *", run_fee_day_reminders, daily, description="党费交纳日提醒（未交的党员）"),
    ]  # fmt: skip
