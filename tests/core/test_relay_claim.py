"""The relay's claim: due rows, oldest first, at most `claim_limit`, in one statement (the gap between
cycles, in which the rate windows' free slots go unused, is the claim)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

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
    # One statement claims and reads the rows, and whether each one's account left its directory.
    assert count_statements(engine, lambda: claimed.append(relay._claim(T0))) == 1
    token, deliveries, full = claimed[0]
    expected = sorted([*ids[-5:], *ids[2:7]])
    assert [d.row_id for d in deliveries] == expected
    assert full  # ten due rows and more: the relay's loop claims the next ten while these are sent
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


def test_the_relays_loop_claims_the_next_cycle_while_this_one_sends(session_factory):
    org = make_org(session_factory, members=30)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
        total = s.scalar(select(func.count()).select_from(OutboxMessage))
    senders = [FakeSender("dingtalk"), FakeSender("wecom")]
    relay = Relay(
        session_factory,
        senders,
        clock=ManualClock(T0),
        config=RelayConfig(claim_limit=10),
    )
    first = relay.run_once(ahead=True)
    assert (first.claimed, first.sent) == (10, 10)
    # The claim was full, so the next ten were claimed (by a claim of their own) while these were sent.
    ahead_token, ahead_rows, _ = relay._ahead.result()
    with session_factory() as s:
        held = set(s.scalars(select(OutboxMessage.id).where(OutboxMessage.claimed_by == ahead_token)))
        assert held == {d.row_id for d in ahead_rows} and len(held) == 10
        assert s.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.SENDING)) == len(
            held
        )
    # The next cycle sends exactly those, and claims the rest ahead; a relay that stops puts them back.
    before = [len(sender.calls) for sender in senders]
    second = relay.run_once(ahead=True)
    assert (second.claimed, second.sent) == (10, 10)
    sent = {d.row_id for s, n in zip(senders, before, strict=True) for b in s.calls[n:] for d in b.deliveries}
    assert sent == held
    relay._drop_ahead()
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.SENDING)) == 0
        queued = s.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.QUEUED))
    assert queued == total - 20
    # Called without `ahead` (as tests and drain do), a cycle claims nothing beyond its own rows.
    third = relay.run_once()
    assert third.claimed == min(10, queued) and relay._ahead is None
