"""The relay's claim: due rows, oldest first, at most `claim_limit`, in one statement (the gap between
cycles, in which the rate windows' free slots go unused, is the claim)."""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import Future
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

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


class Watching(FakeSender):
    """On its first call, waits for the relay's claim of the next cycle and counts the claimed rows; can
    stop the relay there."""

    def __init__(self, platform: str, relay_box: list, stop: bool = False) -> None:
        super().__init__(platform)
        self.relay_box, self.stop, self.sending_at_first_call = relay_box, stop, None

    def send(self, batch):
        if self.sending_at_first_call is None:
            relay = self.relay_box[0]
            relay._ahead.result()
            with relay.session_factory() as s:
                self.sending_at_first_call = s.scalar(
                    select(func.count()).where(OutboxMessage.status == DeliveryStatus.SENDING)
                )
            if self.stop:
                relay.stop_event.set()
        return super().send(batch)


def _relay_on(session_factory, rows: int, stop: bool = False):
    org = make_org(session_factory, members=rows)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids[:rows], Text("通知"), dedup_key="k", now=T0)
    box: list = []
    sender = Watching("dingtalk", box, stop)
    config = RelayConfig(claim_limit=10, concurrency=1)
    relay = Relay(session_factory, [sender, FakeSender("wecom")], clock=ManualClock(T0), config=config)
    box.append(relay)
    return relay, sender


def test_the_relays_loop_claims_the_next_cycle_while_this_one_sends(session_factory):
    relay, sender = _relay_on(session_factory, 30)
    result = relay.run_once(ahead=True)
    assert (result.claimed, result.sent) == (30, 30)
    # The first call was made with the first cycle's ten rows and the next cycle's ten claimed.
    assert sender.sending_at_first_call == 20
    with session_factory() as s:
        claims = Counter(s.scalars(select(OutboxMessage.claimed_by)))
        assert sorted(claims.values()) == [10, 10, 10]
        assert set(s.scalars(select(OutboxMessage.status))) == {DeliveryStatus.SENT}


def test_the_relays_loop_claims_less_at_first_and_the_rest_ahead_while_that_is_sent(session_factory):
    # Nothing sending yet: the first calls wait only for a small claim; the full claims follow ahead.
    relay, sender = _relay_on(session_factory, 30)
    relay.config = replace(relay.config, first_claim_limit=4)
    result = relay.run_once(ahead=True)
    assert (result.claimed, result.sent) == (30, 30)
    assert sender.sending_at_first_call == 14  # the first four rows and the next claim's ten
    with session_factory() as s:
        claims = Counter(s.scalars(select(OutboxMessage.claimed_by)))
        assert sorted(claims.values()) == [4, 6, 10, 10]


def test_a_stopping_relay_puts_back_the_rows_it_claimed_ahead(session_factory):
    relay, sender = _relay_on(session_factory, 30, stop=True)
    result = relay.run_once(ahead=True)
    assert result.claimed == 10 and sender.sending_at_first_call == 20
    assert 0 < result.sent < 10  # stopped within the first cycle: its unsent rows went back at its end
    relay._drop_ahead()
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.SENDING)) == 0
        queued = s.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.QUEUED))
    assert queued == 30 - result.sent


class Slow(FakeSender):
    """A platform that takes half a second a call; at its `poll_at`-th recipient another relay polls."""

    def __init__(self, platform: str, clock: ManualClock, sent: Counter, other: list, poll_at: int) -> None:
        super().__init__(platform, batch_size=1)
        self.clock, self.sent, self.other, self.poll_at = clock, sent, other, poll_at

    def send(self, batch):
        self.clock.advance(0.5)
        self.sent.update(batch.targets)
        if sum(self.sent.values()) == self.poll_at:
            self.other[0].run_once()
        return super().send(batch)


def test_rows_claimed_ahead_get_a_new_lease_when_their_cycle_starts(session_factory):
    # Ten rows a cycle at half a second each: five seconds a cycle, the lease six. Claimed at the start of
    # the first cycle, the second cycle's rows would be "abandoned" from six seconds on, in the middle of
    # their own cycle, where the other relay polls: both relays would send them.
    org = make_org(session_factory, members=30)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
    clock, sent, other = ManualClock(T0), Counter(), []
    config = RelayConfig(claim_limit=10, lease_seconds=6.0, concurrency=1)

    def relay(name: str) -> Relay:
        senders = [Slow(p, clock, sent, other, poll_at=15) for p in ("dingtalk", "wecom")]
        return Relay(session_factory, senders, clock=clock, config=config, name=name)

    a = relay("a")
    other.append(relay("b"))
    while a.run_once(ahead=True).claimed:
        pass
    a._drop_ahead()
    assert len(sent) == 30
    assert {t: n for t, n in sent.items() if n > 1} == {}
    with session_factory() as s:
        assert set(s.scalars(select(OutboxMessage.status))) == {DeliveryStatus.SENT}


def test_rows_claimed_ahead_that_another_relay_took_meanwhile_are_left_to_it(session_factory):
    relay, sender = _relay_on(session_factory, 30)
    token, deliveries, _ = relay._claim(T0)
    relay._claim_ahead()
    relay._ahead.result()
    with session_factory() as s, s.begin():
        ahead = sorted(
            s.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == DeliveryStatus.SENDING, OutboxMessage.claimed_by != token
                )
            )
        )
        # Three of the rows claimed ahead ran out of lease and another relay claimed them.
        s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ahead[:3])).values(claimed_by="other"))
    relay.clock.advance(60)
    taken = relay._claimed_ahead()
    assert taken is not None
    assert [d.row_id for d in taken[1]] == ahead[3:]
    with session_factory() as s:
        leases = set(s.scalars(select(OutboxMessage.lease_until).where(OutboxMessage.id.in_(ahead[3:]))))
        assert {lease.replace(tzinfo=None) for lease in leases} == {
            (T0 + timedelta(seconds=60 + relay.config.lease_seconds)).replace(tzinfo=None)
        }
        others = set(s.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.id.in_(ahead[:3]))))
        assert others == {"other"}
    relay._release(token)
    relay._release(taken[0])


class StopAt(FakeSender):
    """Stops the relay during the `at`-th call on any platform (`made` counts them across senders)."""

    def __init__(self, platform: str, relay_box: list, made: list, at: int) -> None:
        super().__init__(platform, batch_size=1)
        self.relay_box, self.made, self.at = relay_box, made, at

    def send(self, batch):
        self.made.append(batch)
        if len(self.made) == self.at:
            self.relay_box[0].stop_event.set()
        return super().send(batch)


def test_a_relay_stopped_at_a_cycles_end_claims_nothing_more_ahead(session_factory):
    org = make_org(session_factory, members=30)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
    box: list = []
    made: list = []
    # Stopped during the first cycle's last call: the second cycle's rows (claimed ahead) are taken up, but
    # no third cycle is claimed for a relay that will not send it.
    relay = Relay(
        session_factory,
        [StopAt(p, box, made, at=10) for p in ("dingtalk", "wecom")],
        clock=ManualClock(T0),
        config=RelayConfig(claim_limit=10, concurrency=1),
    )
    box.append(relay)
    result = relay.run_once(ahead=True)
    assert result.sent == 10
    assert relay._ahead is None
    with session_factory() as s:
        claims = Counter(
            s.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.claimed_by.is_not(None)))
        )
        assert sorted(claims.values()) == [10, 10]
        assert s.scalar(select(func.count()).where(OutboxMessage.status == DeliveryStatus.QUEUED)) == 20


def test_a_failed_claim_ahead_does_not_break_the_relays_stop(session_factory, caplog):
    caplog.set_level(logging.INFO, "bot.core.relay")
    relay, _ = _relay_on(session_factory, 5)
    failed: Future = Future()
    failed.set_exception(OperationalError("UPDATE outbox_message", {}, Exception("connection lost")))
    relay._ahead = failed
    relay.stop_event.set()
    relay.run_forever()  # returns: before, the claim's error escaped and killed the relay's thread
    assert relay._ahead is None
    assert "could not put back the rows it claimed ahead" in caplog.text
    assert "stopped" in caplog.records[-1].getMessage()


class Neighbourly(FakeSender):
    """One recipient a call. At the relay's `at`-th calls (`made` counts them across its senders; its claim
    ahead is back by then) another relay, with nothing queued for it, runs a cycle; `took` keeps what that
    cycle claimed."""

    def __init__(
        self, platform: str, relay_box: list, other: Relay, at: tuple, made: list, took: dict
    ) -> None:
        super().__init__(platform, batch_size=1)
        self.relay_box, self.other, self.at, self.made, self.took = relay_box, other, at, made, took

    def send(self, batch):
        self.made.append(batch)
        if len(self.made) in self.at:
            if self.relay_box[0]._ahead is not None:
                self.relay_box[0]._ahead.result()
            self.took[len(self.made)] = self.other.run_once().claimed
        return super().send(batch)


def test_an_idle_relay_takes_over_half_the_rows_another_claimed_ahead_but_never_a_started_cycle(
    session_factory,
):
    # Twenty rows, ten a claim: relay a claims ten to send and the other ten ahead, and the queue is empty.
    # Relay b, idle, takes over the last five of a's claim ahead and sends them: the end of a burst is not
    # left to a alone. At a's 11th call its second cycle has started: those rows are no longer taken over.
    org = make_org(session_factory, members=20)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
    config = RelayConfig(claim_limit=10, concurrency=1)
    b_senders = [FakeSender(p, batch_size=1) for p in ("dingtalk", "wecom")]
    b = Relay(session_factory, b_senders, clock=ManualClock(T0), config=config, name="b")
    box: list = []
    made: list = []
    took: dict = {}
    a_senders = [Neighbourly(p, box, b, (1, 11), made, took) for p in ("dingtalk", "wecom")]
    a = Relay(session_factory, a_senders, clock=ManualClock(T0), config=config, name="a")
    box.append(a)
    with session_factory() as s:
        ids = sorted(s.scalars(select(OutboxMessage.id).where(OutboxMessage.person_id.in_(org.member_ids))))
    result = a.run_once(ahead=True)
    assert took == {1: 5, 11: 0}
    assert (result.claimed, result.sent) == (15, 15)
    by_b = sorted(d.row_id for sender in b_senders for c in sender.calls for d in c.deliveries)
    by_a = sorted(d.row_id for sender in a_senders for c in sender.calls for d in c.deliveries)
    assert by_b == ids[-5:]
    assert sorted(by_a + by_b) == ids  # each row sent once, by one of them
    with session_factory() as s:
        assert set(s.scalars(select(OutboxMessage.status))) == {DeliveryStatus.SENT}
        claims = Counter(s.scalars(select(OutboxMessage.claimed_by)))
    assert sorted(claims.values()) == [5, 5, 10]
    assert not any(token.endswith(":ahead") for token in claims)  # a started cycle's rows carry its own token
