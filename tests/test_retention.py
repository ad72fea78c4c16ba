"""Retention (handlers/retention.py): old dedup marks, the settled delivery ledger past its window and
stale rate-window rows go, in batches; nothing still to send, and no person's newest settled row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.core.context import CoreConfig
from config import load_settings
from config.rules import RetentionRules, Rules
from config.settings import SettingsError
from handlers import retention
from handlers.delivery import unreachable_members
from models.inbox import InboundEvent
from models.org import UnitKind
from models.outbox import DeliveryStatus, OutboxMessage, RateWindowEvent
from scheduler.jobs import all_jobs
from scheduler.runner import RunResult, run_due
from tests import builders
from tests.harness import CONFIG

NOW = datetime(2027, 3, 1, 4, 40, tzinfo=UTC)  # 12:40 in Shanghai: the job runs at :10 and :40
KEEP = RetentionRules()  # 30 days of dedup marks, 400 of the ledger
DAY = timedelta(days=1)


def _event(session, event_id: str, received_at: datetime) -> None:
    session.add(InboundEvent(platform="dingtalk", event_id=event_id, received_at=received_at))


def _message(session, key: str, status: DeliveryStatus, at: datetime, person=None, branch=None) -> None:
    """A row queued at `at` and, if settled, settled a minute later."""
    session.add(
        OutboxMessage(
            dedup_key=key,
            recipient=f"p:{person.id}" if person else "c:dingtalk:corp:group1",
            platform="dingtalk",
            target="u1",
            person_id=person.id if person else None,
            branch_id=branch.id if branch else None,
            payload={"kind": "text", "text": key},
            content_hash=key,
            status=status,
            next_attempt_at=at,
            created_at=at,
            sent_at=at + timedelta(minutes=1) if status == DeliveryStatus.SENT else None,
            reason="对方不在应用可见范围内" if status == DeliveryStatus.FAILED else None,
        )
    )


def _keys(session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(OutboxMessage.dedup_key)))


@pytest.fixture
def org(session):
    branch = builders.unit(session, "第一支部", UnitKind.BRANCH)
    people = [
        builders.person(session, n, branch, account_id=f"u{i}", corp="corp") for i, n in enumerate("甲乙丙")
    ]
    session.flush()
    return branch, people


def test_old_dedup_marks_go_and_recent_ones_stay(session):
    _event(session, "old", NOW - 31 * DAY)
    _event(session, "edge", NOW - 30 * DAY + timedelta(seconds=1))
    _event(session, "new", NOW - timedelta(hours=2))
    session.commit()
    assert retention.purge(session, NOW, KEEP).inbound == 1
    session.commit()
    assert set(session.scalars(select(InboundEvent.event_id))) == {"edge", "new"}


def test_the_ledger_keeps_its_window_everything_unsent_and_each_person_s_newest(session, org):
    branch, (a, b, c) = org
    old = NOW - 402 * DAY
    _message(session, "a-old-sent", DeliveryStatus.SENT, old, a, branch)
    _message(session, "a-old-failed", DeliveryStatus.FAILED, old + DAY, a, branch)
    _message(session, "a-recent", DeliveryStatus.SENT, NOW - 399 * DAY, a, branch)
    # b's newest settled row is old and failed: the unreachable list still shows b.
    _message(session, "b-old-sent", DeliveryStatus.SENT, old - DAY, b, branch)
    _message(session, "b-old-failed", DeliveryStatus.FAILED, old, b, branch)
    # Never settled, however old: still to be sent or retried.
    _message(session, "c-queued", DeliveryStatus.QUEUED, old, c, branch)
    _message(session, "c-sending", DeliveryStatus.SENDING, old, c, branch)
    _message(session, "group-old", DeliveryStatus.SENT, old)  # a group chat: no person
    _message(session, "group-new", DeliveryStatus.SENT, NOW - DAY)
    session.commit()
    before = [(u.person_id, u.reason) for u in unreachable_members(session, branch.id)]

    deleted = retention.purge(session, NOW, KEEP)
    session.commit()

    assert deleted.outbox == 4
    assert _keys(session) == {"a-recent", "b-old-failed", "c-queued", "c-sending", "group-new"}
    assert [(u.person_id, u.reason) for u in unreachable_members(session, branch.id)] == before
    assert [pid for pid, _ in before] == [b.id]
    # A second run finds nothing more.
    assert retention.purge(session, NOW, KEEP) == retention.Deleted()


def test_a_row_sent_after_the_cutoff_stays_though_queued_before_it(session, org):
    branch, (a, _, _) = org
    _message(session, "held", DeliveryStatus.SENT, NOW - 401 * DAY, a, branch)
    _message(session, "later", DeliveryStatus.SENT, NOW - 10 * DAY, a, branch)
    session.flush()
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == "held"))
    row.sent_at = NOW - 399 * DAY  # retried for two days before it went out
    session.commit()
    assert retention.purge(session, NOW, KEEP).outbox == 0


def test_zero_days_keeps_for_ever(session, org):
    branch, (a, _, _) = org
    _event(session, "ancient", NOW - 3000 * DAY)
    _message(session, "ancient-1", DeliveryStatus.SENT, NOW - 3000 * DAY, a, branch)
    _message(session, "ancient-2", DeliveryStatus.SENT, NOW - 2999 * DAY, a, branch)
    session.commit()
    assert retention.purge(session, NOW, RetentionRules(inbox_days=0, outbox_days=0)) == retention.Deleted()


def test_stale_rate_window_rows_go_in_flight_ones_stay(session):
    session.add_all(
        [
            RateWindowEvent(key="api|dingtalk|send", at=NOW - 2 * DAY, inflight=False, holder="h1"),
            RateWindowEvent(
                key="member|wecom|c|u", at=NOW - timedelta(hours=23), inflight=False, holder="h2"
            ),
            RateWindowEvent(
                key="api|dingtalk|send", at=NOW + timedelta(minutes=2), inflight=True, holder="h3"
            ),
        ]
    )
    session.commit()
    assert retention.purge(session, NOW, KEEP).rate_events == 1
    session.commit()
    assert set(session.scalars(select(RateWindowEvent.holder))) == {"h2", "h3"}


def test_a_backlog_goes_a_batch_per_run_through_the_scheduler(session, session_factory, org):
    """The job as the scheduler runs it: claimed per half-hourly period, each run one batch of each table."""
    branch, (a, _, _) = org
    for i in range(250):
        _event(session, f"e{i}", NOW - 40 * DAY)
        _message(session, f"m{i}", DeliveryStatus.SENT, NOW - 500 * DAY + i * timedelta(minutes=1), a, branch)
    _message(session, "newest", DeliveryStatus.SENT, NOW - DAY, a, branch)
    session.commit()
    spec = {
        j.name: j for j in all_jobs(replace(CONFIG, rules=Rules(retention=RetentionRules(batch_size=100))))
    }["retention"]
    tz = ZoneInfo("Asia/Shanghai")

    def counts():
        session.expire_all()
        return (
            len(session.scalars(select(InboundEvent.id)).all()),
            len(session.scalars(select(OutboxMessage.id)).all()),
        )

    assert run_due(session_factory, spec, tz, NOW, trigger="schedule") == RunResult.RAN
    assert counts() == (150, 151)
    assert _keys(session) == {f"m{i}" for i in range(100, 250)} | {"newest"}  # the oldest went first
    assert (
        run_due(session_factory, spec, tz, NOW + timedelta(minutes=5), trigger="catch-up")
        == RunResult.ALREADY
    )
    assert counts() == (150, 151)
    for minutes in (30, 60):  # 13:10, 13:40
        assert (
            run_due(session_factory, spec, tz, NOW + timedelta(minutes=minutes), trigger="schedule")
            == RunResult.RAN
        )
    assert counts() == (0, 1)


def test_settings_name_the_variables_and_refuse_a_too_short_ledger(monkeypatch):
    monkeypatch.setenv("ZHIBU_RETENTION__INBOX_DAYS", "7")
    monkeypatch.setenv("ZHIBU_RETENTION__OUTBOX_DAYS", "730")
    s = load_settings()
    assert (s.retention.inbox_days, s.retention.outbox_days, s.retention.batch_size) == (7, 730, 5_000)
    assert CoreConfig.from_settings(s).rules.retention == s.retention  # what the retention job is given
    monkeypatch.setenv("ZHIBU_RETENTION__OUTBOX_DAYS", "30")
    with pytest.raises(SettingsError, match="ZHIBU_RETENTION__OUTBOX_DAYS"):
        load_settings()
