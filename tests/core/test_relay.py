"""Outbox enqueue and the relay, with an in-memory sender and an injected clock."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot.core import outbox
from bot.core.errors import PermanentPlatformError, TransientPlatformError
from bot.core.messages import Button, Card, CardUpdate, Markdown, Text
from bot.core.ratelimit import ManualClock, RateLimit
from bot.core.relay import Relay, RelayConfig
from handlers.delivery import unreachable_members
from models.outbox import CardRef, DeliveryStatus, OutboxMessage
from tests.core.helpers import T0, FakeSender, make_org


def _rows(session):
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _enqueue(session_factory, ids, message=Text("通知"), key="k1", **kw):
    with session_factory() as s, s.begin():
        return outbox.enqueue_to_people(s, ids, message, dedup_key=key, now=kw.pop("now", T0), **kw)


def _relay(session_factory, *senders, clock=None, **cfg):
    cfg.setdefault("concurrency", 1)  # deterministic call order for these assertions
    return Relay(session_factory, senders, clock=clock or ManualClock(T0), config=RelayConfig(**cfg))


def test_enqueue_is_idempotent_per_key_and_records_the_unbound(session_factory, session):
    org = make_org(session_factory)
    everyone = [org.secretary_id, *org.member_ids, org.unbound_id]
    assert _enqueue(session_factory, everyone) == 5
    assert _enqueue(session_factory, everyone) == 0  # same key: nothing new
    assert _enqueue(session_factory, everyone, key="k2") == 5
    rows = [r for r in _rows(session) if r.dedup_key == "k1"]
    by_person = {r.person_id: r for r in rows}
    # The secretary has both accounts and is reached on DingTalk only.
    assert (by_person[org.secretary_id].platform, by_person[org.secretary_id].target) == (
        "dingtalk",
        "wangshuji",
    )
    assert by_person[org.member_ids[1]].platform == "wecom"
    lost = by_person[org.unbound_id]
    assert lost.status == DeliveryStatus.FAILED and lost.reason == "未绑定钉钉或企业微信账号"
    assert all(r.branch_id == org.branch_id for r in rows)


def test_new_rows_are_counted_across_chunks_beside_rows_already_queued(session_factory, session, monkeypatch):
    """Rows are written a chunk at a time (on PostgreSQL without looking first: ON CONFLICT skips the
    queued ones and the batch's rowcount counts the rest); the count is of new rows however they fall."""
    monkeypatch.setattr(outbox, "_CHUNK", 2)
    org = make_org(session_factory, members=6)
    first = [org.secretary_id, *org.member_ids[:3]]
    assert _enqueue(session_factory, first) == 4
    everyone = [org.secretary_id, *org.member_ids, org.unbound_id]
    assert _enqueue(session_factory, everyone) == 4  # 3 more members and the unbound one
    assert _enqueue(session_factory, everyone) == 0
    assert sorted(r.person_id for r in _rows(session)) == sorted(everyone)


def test_enqueue_many_costs_the_same_statements_for_3_or_40_messages(session_factory, session, engine):
    """A card per branch (digests, 待办) is one batch: the statements do not grow with the messages."""
    from tests.core.statements import count_statements

    org = make_org(session_factory, members=40)
    people = [org.secretary_id, *org.member_ids, org.unbound_id]

    def queue(n, prefix):
        items = [outbox.Queued([pid], Text(f"第{i}条"), f"{prefix}:{i}") for i, pid in enumerate(people[:n])]
        with session_factory() as s, s.begin():
            return count_statements(engine, lambda: outbox.enqueue_many(s, items, now=T0))

    assert queue(3, "few") == queue(40, "many")
    rows = _rows(session)
    assert len(rows) == 43 and {r.payload["text"] for r in rows if r.dedup_key.startswith("many:")} == {
        f"第{i}条" for i in range(40)
    }
    # Queuing the same batch again adds nothing, and one new message beside them is the only new row.
    items = [outbox.Queued([pid], Text("再来"), f"many:{i}") for i, pid in enumerate(people[:40])]
    items.append(outbox.Queued([org.unbound_id], Text("新的"), "many:new"))
    with session_factory() as s, s.begin():
        assert outbox.enqueue_many(s, items, now=T0) == 1
    (unbound,) = [r for r in _rows(session) if r.dedup_key == "many:new"]
    assert unbound.status == DeliveryStatus.FAILED


def test_feeders_queue_at_the_start_of_each_cycle_and_one_that_fails_stops_no_sending(
    session_factory, session, caplog
):
    """A relay's feeders (bot.core.relay.Feeder) run in their own transaction before its claim, so what
    they queue goes out in the same cycle; a feeder that raises is logged, and the cycle still sends."""
    org = make_org(session_factory)
    fed: list = []

    def feeder(s, now):
        fed.append(now)
        return outbox.enqueue_to_people(
            s, [org.member_ids[0]], Text("回执"), dedup_key=f"fed:{len(fed)}", now=now
        )

    def broken(_s, _now):
        raise RuntimeError("feeder down")

    dt = FakeSender("dingtalk")
    relay = Relay(session_factory, [dt], clock=ManualClock(T0), feeders=[broken, feeder])
    _enqueue(session_factory, [org.secretary_id], key="already")
    result = relay.run_once()
    assert fed == [T0] and result.sent == 2
    assert sorted(d.target for b in dt.calls for d in b.deliveries) == ["member0", "wangshuji"]
    assert "feeder down" in caplog.text and "feeder test_feeders_queue" in caplog.text
    assert {r.dedup_key: r.status for r in _rows(session)} == {
        "already": DeliveryStatus.SENT,
        "fed:1": DeliveryStatus.SENT,
    }


def test_platform_preference_is_a_setting(session_factory, session):
    org = make_org(session_factory)
    outbox.set_platform_preference(["wecom", "dingtalk"])
    try:
        _enqueue(session_factory, [org.secretary_id])
    finally:
        outbox.set_platform_preference(["dingtalk", "wecom"])
    (row,) = _rows(session)
    assert (row.platform, row.target) == ("wecom", "WangShuJi")


def test_relay_batches_identical_content_and_marks_rows_sent(session_factory, session):
    org = make_org(session_factory, members=50)
    ding = FakeSender("dingtalk", batch_size=20)
    wecom = FakeSender("wecom", batch_size=1000)
    _enqueue(session_factory, [org.secretary_id, *org.member_ids], Markdown("通知", "明天开会"))
    result = _relay(session_factory, ding, wecom).drain()
    assert result.sent == 51
    assert [len(b.deliveries) for b in ding.calls] == [20, 6]  # 26 DingTalk people in chunks of 20
    assert [len(b.deliveries) for b in wecom.calls] == [25]
    rows = _rows(session)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert all(r.sent_at == T0 for r in rows)
    assert _relay(session_factory, ding, wecom).drain().claimed == 0  # nothing sent twice


def test_permanent_per_recipient_failure_is_in_the_ledger_and_the_unreachable_list(session_factory, session):
    org = make_org(session_factory)
    ding = FakeSender("dingtalk", invalid={"member0"})
    _enqueue(session_factory, [org.secretary_id, *org.member_ids, org.unbound_id])
    _relay(session_factory, ding, FakeSender("wecom")).drain()
    failed = {r.person_id: r.reason for r in _rows(session) if r.status == DeliveryStatus.FAILED}
    assert failed == {
        org.member_ids[0]: "账号不存在或不在应用可见范围内",
        org.unbound_id: "未绑定钉钉或企业微信账号",
    }
    with session_factory() as s:
        names = {u.name: u.reason for u in unreachable_members(s, org.branch_id)}
    assert names == {"党员0": "账号不存在或不在应用可见范围内", "未绑定的人": "未绑定钉钉或企业微信账号"}


def test_transient_failures_back_off_and_deliver_once(session_factory, session):
    org = make_org(session_factory)
    clock = ManualClock(T0)
    ding = FakeSender("dingtalk", script=[TransientPlatformError("502"), TransientPlatformError("timeout")])
    _enqueue(session_factory, [org.secretary_id])
    relay = _relay(session_factory, ding, FakeSender("wecom"), clock=clock)
    assert relay.run_once().retried == 1
    (row,) = _rows(session)
    assert row.status == DeliveryStatus.QUEUED and row.attempts == 1 and row.next_attempt_at > T0
    assert relay.run_once().claimed == 0  # not due yet
    clock.advance(3600)
    assert relay.run_once().retried == 1
    clock.advance(3600)
    assert relay.run_once().sent == 1
    assert ding.sent_targets() == ["wangshuji"]
    (row,) = _rows(session)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2


def test_gives_up_after_max_attempts_with_a_reason(session_factory, session):
    org = make_org(session_factory)
    clock = ManualClock(T0)
    ding = FakeSender("dingtalk", script=[TransientPlatformError("503")] * 3)
    _enqueue(session_factory, [org.secretary_id])
    relay = _relay(session_factory, ding, FakeSender("wecom"), clock=clock, max_attempts=3)
    for _ in range(3):
        relay.run_once()
        clock.advance(3600)
    (row,) = _rows(session)
    assert row.status == DeliveryStatus.FAILED and row.reason.startswith("多次发送失败") and ding.calls == []


def test_whole_call_refusal_fails_every_recipient(session_factory, session):
    org = make_org(session_factory)
    ding = FakeSender("dingtalk", script=[PermanentPlatformError("400", reason="平台拒绝发送：参数错误")])
    _enqueue(session_factory, [org.secretary_id, org.member_ids[0]])
    _relay(session_factory, ding, FakeSender("wecom")).drain()
    assert {r.reason for r in _rows(session)} == {"平台拒绝发送：参数错误"}


def test_per_member_limit_defers_instead_of_exceeding(session_factory, session):
    org = make_org(session_factory)
    clock = ManualClock(T0)
    wecom = FakeSender("wecom", member_limits=(RateLimit(30, 60), RateLimit(1000, 3600)), clock=clock)
    for i in range(45):
        _enqueue(session_factory, [org.member_ids[1]], Text(f"第{i}条"), key=f"n{i}")
    relay = _relay(session_factory, FakeSender("dingtalk"), wecom, clock=clock)
    first = relay.run_once()
    assert (first.sent, first.deferred) == (30, 15)
    for _ in range(10):
        clock.advance(10)
        relay.run_once()
    assert len(wecom.calls) == 45
    times = [t.timestamp() for t in wecom.times]
    assert all(sum(1 for u in times if t - 60 < u <= t) <= 30 for t in times)


def test_member_windows_survive_a_restart(session_factory, session):
    org = make_org(session_factory)
    clock = ManualClock(T0)
    limits = (RateLimit(30, 60),)
    for i in range(30):
        _enqueue(session_factory, [org.member_ids[1]], Text(f"a{i}"), key=f"a{i}")
    _relay(
        session_factory, FakeSender("dingtalk"), FakeSender("wecom", member_limits=limits), clock=clock
    ).drain()
    clock.advance(5)
    _enqueue(session_factory, [org.member_ids[1]], Text("再一条"), key="b", now=clock.now())
    fresh = FakeSender("wecom", member_limits=limits)
    result = _relay(session_factory, FakeSender("dingtalk"), fresh, clock=clock).run_once()
    assert result.deferred == 1 and fresh.calls == []


def test_api_rate_limit_waits_on_the_clock(session_factory, session):
    org = make_org(session_factory, members=1)
    clock = ManualClock(T0)
    ding = FakeSender("dingtalk", api_limits={"send": (RateLimit(20, 1.0),)}, clock=clock)
    for i in range(100):
        _enqueue(session_factory, [org.secretary_id], Text(f"m{i}"), key=f"m{i}")
    _relay(session_factory, ding, FakeSender("wecom"), clock=clock).drain()
    times = [t.timestamp() for t in ding.times]
    assert len(times) == 100
    assert all(sum(1 for u in times if t - 1.0 < u <= t) <= 20 for t in times)
    assert 4.0 <= clock.slept <= 4.5  # 100 calls at 20/s: no faster, and not much slower


def test_a_relay_killed_mid_batch_loses_nothing(session_factory, session):
    org = make_org(session_factory, members=4)
    clock = ManualClock(T0)
    _enqueue(session_factory, [org.secretary_id, *org.member_ids])
    dead = _relay(session_factory, FakeSender("dingtalk"), FakeSender("wecom"), clock=clock)
    dead._claim(clock.now())  # claimed, then the process died before sending or releasing
    assert {r.status for r in _rows(session)} == {DeliveryStatus.SENDING}
    ding, wecom = FakeSender("dingtalk"), FakeSender("wecom")
    again = _relay(session_factory, ding, wecom, clock=clock, lease_seconds=300)
    assert again.run_once().claimed == 0  # the lease still holds
    clock.advance(301)
    assert again.drain().sent == 5
    assert sorted(ding.sent_targets() + wecom.sent_targets()) == sorted(
        ["wangshuji", "member0", "member1", "member2", "member3"]
    )


def test_graceful_stop_puts_unsent_rows_back(session_factory, session):
    org = make_org(session_factory, members=40)
    relay = None

    class StopAfterFirst(FakeSender):
        def send(self, batch):
            outcome = super().send(batch)
            relay.stop_event.set()  # SIGTERM arrives during the first call
            return outcome

    ding = StopAfterFirst("dingtalk", batch_size=5)
    _enqueue(session_factory, [org.secretary_id, *org.member_ids])
    relay = _relay(session_factory, ding, FakeSender("wecom"))
    relay.run_once()
    statuses = [r.status for r in _rows(session)]
    assert statuses.count(DeliveryStatus.SENT) == 5
    assert DeliveryStatus.SENDING not in statuses
    assert statuses.count(DeliveryStatus.QUEUED) == 36


def test_card_update_finds_the_card_sent_under_its_key(session_factory, session):
    org = make_org(session_factory)
    from bot.core.delivery import CardHandle

    class CardSender(FakeSender):
        def send(self, batch):
            outcome = super().send(batch)
            if isinstance(batch.message, Card):
                outcome.cards = {d.row_id: CardHandle(f"track-{d.target}") for d in batch.deliveries}
            return outcome

    ding = CardSender("dingtalk", batch_size=1)
    card = Card(
        "请假申请",
        "张三申请请假",
        buttons=(Button("批准", action="leave.approve", params={"id": "1"}),),
        card_key="leave:1",
    )
    _enqueue(session_factory, [org.secretary_id], card, key="card")
    _enqueue(
        session_factory,
        [org.secretary_id, org.member_ids[0]],
        CardUpdate("leave:1", "请假申请", "已批准"),
        key="upd",
    )
    _relay(session_factory, ding, FakeSender("wecom")).drain()
    with session_factory() as s:
        assert s.scalar(select(CardRef.card_id).where(CardRef.card_key == "leave:1")) == "track-wangshuji"
    updates = [b for b in ding.calls if isinstance(b.message, CardUpdate)]
    assert [b.deliveries[0].card.card_id for b in updates] == ["track-wangshuji"]
    reasons = {r.target: r.reason for r in _rows(session) if r.status == DeliveryStatus.FAILED}
    assert reasons == {"member0": "找不到要更新的卡片"}


def test_two_relays_on_postgresql_send_each_row_once(session_factory, session, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several relays need PostgreSQL's SKIP LOCKED; SQLite deployments run one relay")
    org = make_org(session_factory, members=300)
    for i in range(3):
        _enqueue(session_factory, [org.secretary_id, *org.member_ids], Text(f"通知{i}"), key=f"x{i}")
    lock = threading.Lock()
    sent: list[str] = []

    class Recording(FakeSender):
        def send(self, batch):
            with lock:
                sent.extend(f"{batch.message.text}:{t}" for t in batch.targets)
            return super().send(batch)

    relays = [
        _relay(
            session_factory,
            Recording("dingtalk", batch_size=20),
            Recording("wecom", batch_size=20),
            claim_limit=50,
        )
        for _ in range(2)
    ]
    threads = [threading.Thread(target=r.drain) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 3 * 301 and len(set(sent)) == len(sent)
    assert {r.status for r in _rows(session)} == {DeliveryStatus.SENT}


def test_identical_content_twice_to_one_person_is_two_calls(session_factory, session):
    org = make_org(session_factory)
    ding = FakeSender("dingtalk", batch_size=20)
    _enqueue(session_factory, [org.secretary_id, org.member_ids[0]], Text("同样的话"), key="a")
    _enqueue(session_factory, [org.secretary_id], Text("同样的话"), key="b")
    _relay(session_factory, ding, FakeSender("wecom")).drain()
    assert sorted(len(b.deliveries) for b in ding.calls) == [1, 2]
    assert sorted(ding.sent_targets()) == ["member0", "wangshuji", "wangshuji"]


def test_a_window_counts_calls_in_flight_until_they_are_answered():
    from bot.core.ratelimit import SlidingWindow

    window = SlidingWindow(RateLimit(2, 1.0), margin=0)
    window.begin()
    window.begin()
    assert window.wait_time(10.0) > 0  # two unanswered calls fill the window whatever the clock says
    window.end(10.5)  # answered half a second later: the server may have counted it as late as 10.5
    assert abs(window.wait_time(10.6) - 0.9) < 1e-9  # one in flight, one answered at 10.5
    window.end(10.7)
    assert abs(window.wait_time(11.0) - 0.5) < 1e-9  # the 10.5 answer leaves the window at 11.5
    assert window.wait_time(11.6) == 0


def test_concurrent_sending_delivers_everything_once(session_factory, session):
    org = make_org(session_factory, members=200)
    lock = threading.Lock()
    seen: list[str] = []

    class Slow(FakeSender):
        def send(self, batch):
            import time

            time.sleep(0.01)
            with lock:
                seen.extend(batch.targets)
            return super().send(batch)

    _enqueue(session_factory, [org.secretary_id, *org.member_ids], Text("并发"))
    result = _relay(
        session_factory, Slow("dingtalk", batch_size=5), Slow("wecom", batch_size=5), concurrency=6
    ).drain()
    assert result.sent == 201 and len(seen) == 201 and len(set(seen)) == 201
    assert {r.status for r in _rows(session)} == {DeliveryStatus.SENT}


def test_each_recipient_gets_messages_in_queue_order(session_factory, session):
    org = make_org(session_factory, members=2)
    a = org.member_ids[0]
    lock = threading.Lock()
    received: dict[str, list[str]] = {}

    class Recording(FakeSender):
        def send(self, batch):
            import time

            time.sleep(0.005 if batch.message.text == "第二条" else 0.02)  # later batches would overtake
            with lock:
                for t in batch.targets:
                    received.setdefault(t, []).append(batch.message.text)
            return super().send(batch)

    # member1 gets 第二条 in the same batch as member0's first message; member0's 第二条 must still follow.
    _enqueue(session_factory, [org.secretary_id], Text("第二条"), key="x0")
    _enqueue(session_factory, [a], Text("第一条"), key="x1")
    _enqueue(session_factory, [a, org.secretary_id], Text("第二条"), key="x2")
    _enqueue(session_factory, [a], Text("第三条"), key="x3")
    _relay(session_factory, Recording("dingtalk"), Recording("wecom"), concurrency=4).drain()
    assert received["member0"] == ["第一条", "第二条", "第三条"]
    assert received["wangshuji"] == ["第二条", "第二条"]
