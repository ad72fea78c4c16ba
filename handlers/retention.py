"""Retention: rows that only record the past are deleted once they are older than the settings keep.

- inbound_event: the dedup marks of chat events, after ZHIBU_RETENTION__INBOX_DAYS (30). The platforms
  redeliver within minutes or hours, so an older mark no longer stops anything.
- outbox_message: the delivery ledger's settled rows (sent, failed) after ZHIBU_RETENTION__OUTBOX_DAYS
  (400: a year's ledger and then some). Never a queued or sending row, whatever its age (it is still
  to be sent or retried), and never a person's newest settled row: the branch's unreachable list
  (handlers.delivery.unreachable_members) reads it, so a member whose last message failed years ago
  stays on that list.
- rate_window_event: calls counted in the shared rate windows, once they are older than any window
  (a day, SharedWindows.SWEEP_AFTER_SECONDS): the relays sweep them while they run; this clears what
  relays that stopped left behind.

Other readers of old outbox rows look back less than the 90 days the settings allow at least (the
observers' notices: 60 days; the fee reminders: today's key; the relay's per-member history: a day).

Each run deletes at most `batch_size` rows of each table, in the runner's one transaction, so a big
table is never locked for long (SQLite has one writer: a long delete would hold up every chat reply);
a backlog drains over the following runs, every half hour. Job-run rows (job_run) are not touched:
they are the scheduler's claims (this job adds 48 small ones a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session, aliased

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, minutely
from bot.core.ratelimit import SharedWindows
from config.rules import RetentionRules
from models.inbox import InboundEvent
from models.outbox import DeliveryStatus, OutboxMessage, RateWindowEvent

SETTLED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
RATE_EVENTS_AFTER = timedelta(seconds=SharedWindows.SWEEP_AFTER_SECONDS)


@dataclass(frozen=True)
class Deleted:
    inbound: int = 0
    outbox: int = 0
    rate_events: int = 0


def _delete_ids(session: Session, model, ids_query) -> int:
    """One DELETE of the rows whose ids the (limited) query selects: no ids travel to Python and back."""
    result = session.execute(
        delete(model).where(model.id.in_(ids_query.scalar_subquery())),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def expired_outbox(cutoff: datetime):
    """Settled rows older than `cutoff` (created, last tried and sent before it) that are not their
    person's newest settled row. The (status, next_attempt_at) index finds them: a settled row's
    next_attempt_at is its last try, never after it settled."""
    newer = aliased(OutboxMessage)
    return and_(
        OutboxMessage.status.in_(SETTLED),
        OutboxMessage.next_attempt_at < cutoff,
        OutboxMessage.created_at < cutoff,
        or_(OutboxMessage.sent_at.is_(None), OutboxMessage.sent_at < cutoff),
        or_(
            OutboxMessage.person_id.is_(None),
            exists().where(
                newer.person_id == OutboxMessage.person_id,
                newer.id > OutboxMessage.id,
                newer.status.in_(SETTLED),
            ),
        ),
    )


def purge(session: Session, now: datetime, keep: RetentionRules) -> Deleted:
    """Delete one batch of each table's expired rows, oldest first; never commits (the runner does).

    Each batch is ordered by the index its condition uses (received_at; status, next_attempt_at; at),
    so the database walks that index and stops after `batch_size` rows: a run costs the batch, not
    the backlog (ordered by id, SQLite would check every expired row before taking the first)."""
    n = keep.batch_size
    inbound = outbox = 0
    if keep.inbox_days:
        cutoff = now - timedelta(days=keep.inbox_days)
        inbound = _delete_ids(
            session,
            InboundEvent,
            select(InboundEvent.id)
            .where(InboundEvent.received_at < cutoff)
            .order_by(InboundEvent.received_at)
            .limit(n),
        )
    if keep.outbox_days:
        cutoff = now - timedelta(days=keep.outbox_days)
        outbox = _delete_ids(
            session,
            OutboxMessage,
            select(OutboxMessage.id)
            .where(expired_outbox(cutoff))
            .order_by(OutboxMessage.status, OutboxMessage.next_attempt_at)
            .limit(n),
        )
    rate_events = _delete_ids(
        session,
        RateWindowEvent,
        select(RateWindowEvent.id)
        .where(RateWindowEvent.at < now - RATE_EVENTS_AFTER)
        .order_by(RateWindowEvent.at)
        .limit(n),
    )
    return Deleted(inbound, outbox, rate_events)


# --- the scheduler's view (scheduler/jobs.py) ---------------------------------------------------------


def jobs(core: CoreConfig) -> list[JobSpec]:
    """The retention job, keeping what the settings' retention section says (ZHIBU_RETENTION__*)."""
    keep = core.rules.retention

    def run_retention(session: Session, now: datetime, period: str) -> None:
        """At :10 and :40 of every hour; the period is the fire time ("2026-11-06T03:40")."""
        purge(session, now, keep)

    return [
        JobSpec("retention", "10,40 * * * *", run_retention, minutely, grace=timedelta(minutes=30), description="清理过期的去重记录和发送记录"),
    ]  # fmt: skip
