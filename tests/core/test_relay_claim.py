"""The relay's claim: due rows, oldest first, at most `claim_limit`, in one statement (the gap between
cycles, in which the rate windows' free slots go unused, is the claim)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.core import outbox
from bot.core.messages import Text
from bot.core.ratelimit import ManualClock
from bot.core.relay import Relay, RelayConfig
from models.outbox import DeliveryStatus, OutboxMessage
from tests.core.helpers import T0, FakeSender, make_org
from tests.core.statements import count_statements


def test_a_claim_takes_the_oldest_due_rows_up_to_its_limit_in_one_statement(session_factory, engine):
    org = make_org(session_factory, members=30)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
        ids = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == DeliveryStatus.QUEUED)))
        ids.sort()
        # The newest rows are due first, one row is not due yet, and one is another relay's (live lease).
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[-5:]))
            .values(next_attempt_at=T0 - timedelta(minutes=1))
        )
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[0])
            .values(next_attempt_at=T0 + timedelta(minutes=1))
        )
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[1])
            .values(status=DeliveryStatus.SENDING, lease_until=T0 + timedelta(minutes=5), claimed_by="other")
        )
    relay = Relay(
        session_factory,
        [FakeSender("dingtalk"), FakeSender("wecom")],
        clock=ManualClock(T0),
        config=RelayConfig(claim_limit=10),
    )
    claimed: list = []
    # One statement claims and reads the rows; then one lookup per platform and corp of the accounts that
    # left their directory (the members alternate between DingTalk and WeCom).
    assert count_statements(engine, lambda: claimed.append(relay._claim(T0))) == 1 + 2
    token, deliveries = claimed[0]
    expected = sorted([*ids[-5:], *ids[2:7]])
    assert [d.row_id for d in deliveries] == expected
    with session_factory() as s:
        mine = set(s.scalars(select(OutboxMessage.id).where(OutboxMessage.claimed_by == token)))
        assert mine == set(expected)
        assert s.scalar(select(OutboxMessage.claimed_by).where(OutboxMessage.id == ids[1])) == "other"
        assert (
            s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == ids[0])) == DeliveryStatus.QUEUED
        )
    # Put back, the claimed rows are sent with the rest; the other relay's row and the one not due wait.
    relay._release(token)
    assert relay.drain().sent == len(ids) - 2
