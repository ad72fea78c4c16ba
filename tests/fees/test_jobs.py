"""Reminders (only the unpaid, never twice a day) and the arrears counts (consecutive unpaid months, ended by paying).

The notices built on those counts are the monthly member ladder's (tests/monthly/test_ladder.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.core import outbox
from bot.core.messages import Text
from handlers.common import batches
from handlers.fees import jobs
from handlers.fees.arrears import arrears_counts, fee_message_key
from models.fees import FeeExemption, FeePayment, FeePolicy, PaymentMethod, PaymentStatus
from models.outbox import OutboxMessage
from tests.core.statements import count_statements
from tests.fees.conftest import FEE_DAY, NOW, TZ, add_person

EARLY = datetime(2026, 11, 5, 16, 5, tzinfo=UTC)  # 00:05 on the fee day, Shanghai


def _rows(session, key_prefix="fee:"):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(key_prefix))))


def _pay(session, person, month, status=PaymentStatus.CONFIRMED):
    session.add(
        FeePayment(
            person_id=person.id,
            branch_id=person.branch_id,
            month=month,
            amount=Decimal("1"),
            paid_at=NOW,
            method=PaymentMethod.COLLECTOR,
            status=status,
        )
    )


@pytest.mark.parametrize("whole", [False, True], ids=["by-branch-lists", "whole-organisation"])
def test_reminders_go_only_to_the_unpaid_on_the_fee_day(session, org, whole, monkeypatch):
    """Also with the branches read as the whole organisation (above one IN list, as at a province:
    handlers.common.batches), where the rows of branches not asked for are dropped in Python."""
    if whole:
        monkeypatch.setattr(batches, "CHUNK", 1)
    nov = date(2026, 11, 1)
    _pay(session, org.alice, nov)
    _pay(session, org.bob, nov, PaymentStatus.REPORTED)
    _pay(session, org.collector, nov, PaymentStatus.REJECTED)  # rejected: still unpaid
    session.add(FeeExemption(person_id=org.secretary.id, from_month=date(2026, 1, 1), amount=Decimal("0")))
    # An exemption that ended before November does not spare its member November's reminder.
    ended = FeeExemption(
        person_id=org.other_member.id,
        from_month=date(2026, 1, 1),
        to_month=date(2026, 10, 1),
        amount=Decimal("0"),
    )
    session.add(ended)
    left = add_person(session, "离开的人", org.branch)
    left.active = False
    session.commit()

    assert jobs.fee_day_reminders(session, date(2026, 11, 5), EARLY, TZ) == 0  # not the fee day
    queued = jobs.fee_day_reminders(session, FEE_DAY, EARLY, TZ)
    session.commit()
    rows = _rows(session)
    got = {r.person_id for r in rows}
    assert got == {org.collector.id, org.probationary.id, org.other_collector.id, org.other_member.id}
    assert queued == 4
    by_person = {r.person_id: r for r in rows}
    card = by_person[org.probationary.id].payload
    assert (
        card["kind"] == "card" and "今天（11月6日" in card["text"] and "2026年11月党费交纳日" in card["text"]
    )
    # One card for all (the amount is on the page): the relay can send it to many members per call.
    assert len({r.content_hash for r in rows}) == 1
    # 已交 is a link to the H5 page, not a callback: the platforms then take many members per call.
    assert card["buttons"] == [{"label": "已交", "url": "/h5/fees/pay/2026-11", "action": "", "params": {}}]
    from bot.core.messages import from_payload
    from bot.platforms.dingtalk import render as dingtalk
    from bot.platforms.wecom import render as wecom

    message = from_payload(card)
    assert not dingtalk.is_interactive(message) and not wecom.is_interactive(message)
    key, param = dingtalk.sample(message, "https://zhibu.example.org")
    assert key == "sampleActionCard" and param["singleURL"] == "https://zhibu.example.org/h5/fees/pay/2026-11"
    # held until 09:00 Shanghai (01:00 UTC), though the job ran at 00:05
    assert by_person[org.collector.id].next_attempt_at == datetime(2026, 11, 6, 1, 0, tzinfo=UTC)

    # a second run (restart, catch-up) queues nothing
    assert jobs.fee_day_reminders(session, FEE_DAY, EARLY, TZ) == 0
    session.commit()
    assert len(_rows(session)) == 4


def test_never_a_second_fee_message_the_same_day(session, org):
    outbox.enqueue_to_people(
        session, [org.alice.id], Text("请交党费"), dedup_key=fee_message_key(FEE_DAY), now=EARLY
    )
    session.commit()
    jobs.fee_day_reminders(session, FEE_DAY, EARLY, TZ)
    session.commit()
    alice_rows = [r for r in _rows(session) if r.person_id == org.alice.id]
    assert len(alice_rows) == 1 and alice_rows[0].payload["kind"] == "text"
    assert len(_rows(session)) == 7  # everyone else in both branches, once


def test_day_before_reminder_and_custom_time(session, org):
    session.add(FeePolicy(org_unit_id=org.branch.id, remind_day_before=True, reminder_time="17:30"))
    session.commit()
    eve = date(2026, 11, 5)
    assert jobs.fee_day_reminders(session, eve, EARLY, TZ) == 5  # the first branch only
    session.commit()
    rows = _rows(session)
    assert {r.branch_id for r in rows} == {org.branch.id}
    assert "明天" in rows[0].payload["text"]
    assert rows[0].next_attempt_at == datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
    # on the day itself they get the day's reminder (a different day, so a different key)
    jobs.fee_day_reminders(session, FEE_DAY, EARLY, TZ)
    session.commit()
    assert len([r for r in _rows(session) if r.person_id == org.alice.id]) == 2


def _track_from(session, org, month):
    session.add(FeePolicy(org_unit_id=org.committee.id, tracking_start=month))
    session.commit()


def test_arrears_counts_at_three_and_six_and_end_after_paying(session, org):
    _track_from(session, org, date(2026, 5, 1))
    oct_ = date(2026, 10, 1)
    counts = arrears_counts(session, oct_, tz=TZ)
    assert counts[org.alice.id].months == 6 and counts[org.alice.id].first_month == date(2026, 5, 1)
    assert counts[org.probationary.id].months == 2  # owes from September
    assert org.org_member.id not in counts  # no branch: not a member anyone collects from
    assert arrears_counts(session, date(2026, 7, 1), tz=TZ)[org.alice.id].months == 3

    _pay(session, org.alice, date(2026, 8, 1), PaymentStatus.REPORTED)  # a report stops the run too
    _pay(session, org.bob, oct_)
    session.add(
        FeeExemption(person_id=org.secretary.id, from_month=date(2026, 9, 1), to_month=date(2026, 9, 1))
    )
    session.commit()
    counts = arrears_counts(session, oct_, tz=TZ)
    assert counts[org.alice.id].months == 2
    assert org.bob.id not in counts
    assert counts[org.secretary.id].months == 1  # September was 免交
    assert set(arrears_counts(session, oct_, org.other_branch, tz=TZ)) == {
        org.other_collector.id,
        org.other_member.id,
    }


def test_arrears_counts_take_a_fixed_number_of_queries(session, org, engine):
    _track_from(session, org, date(2026, 5, 1))

    def queries():
        return count_statements(engine, lambda: arrears_counts(session, date(2026, 10, 1), tz=TZ))

    few = queries()
    for i in range(40):
        p = add_person(session, f"新党员{i}", org.branch)
        _pay(session, p, date(2026, 9, 1))
    session.commit()
    assert queries() == few


def test_scheduled_through_the_registry_once_per_period(session, session_factory, org):
    from zoneinfo import ZoneInfo

    from scheduler.jobs import all_jobs
    from scheduler.runner import RunResult, run_due
    from tests.harness import CONFIG

    specs = {j.name: j for j in all_jobs(CONFIG)}
    tz = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 11, 5, 16, 10, tzinfo=UTC)  # 00:10 on the fee day
    assert run_due(session_factory, specs["fees.reminders"], tz, at, trigger="schedule") == RunResult.RAN
    assert run_due(session_factory, specs["fees.reminders"], tz, at, trigger="catch-up") == RunResult.ALREADY
    session.expire_all()
    assert len(_rows(session)) == 7  # everyone in both branches who owes
