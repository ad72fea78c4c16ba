"""Several relays on one PostgreSQL database keep the platforms' limits together (issue #18 item 5).

Two Relay instances stand for two relay processes: nothing is shared between them but the database
(each has its own windows object), and the sandbox, on the relays' injected clock, judges every call.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from bot.core import outbox
from bot.core.messages import Markdown, Text
from bot.core.ratelimit import (
    LocalWindows,
    ManualClock,
    RateLimit,
    SharedWindows,
)
from bot.core.relay import Relay, RelayConfig
from config import demo
from models.org import ChatAccount, OrgUnit, Person, Platform, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage, RateWindowEvent
from tests.core.e2e import running_bot

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DING_PEOPLE = 1200
WECOM_PEOPLE, WECOM_MESSAGES_EACH = 12, 40
QPS = 20


def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("windows shared between relay processes live in PostgreSQL; SQLite runs one relay")


def _org(session_factory) -> tuple[list[int], list[int]]:
    with session_factory() as s, s.begin():
        branch = OrgUnit(kind=UnitKind.BRANCH, name="大支部", path="/1/")
        s.add(branch)
        s.flush()
        s.execute(
            insert(Person),
            [{"name": f"钉{i}", "branch_id": branch.id} for i in range(DING_PEOPLE)]
            + [{"name": f"微{i}", "branch_id": branch.id} for i in range(WECOM_PEOPLE)],
        )
        people = list(s.execute(select(Person.id, Person.name).order_by(Person.id)))
        ding = [pid for pid, name in people if name.startswith("钉")]
        wecom = [pid for pid, name in people if name.startswith("微")]
        s.execute(
            insert(ChatAccount),
            [
                {
                    "person_id": p,
                    "platform": Platform.DINGTALK,
                    "corp_id": demo.DINGTALK_CORP_ID,
                    "account_id": f"d{p}",
                }
                for p in ding
            ]
            + [
                {
                    "person_id": p,
                    "platform": Platform.WECOM,
                    "corp_id": demo.WECOM_CORP_ID,
                    "account_id": f"w{p}",
                }
                for p in wecom
            ],
        )
    return ding, wecom


def _drain(relay: Relay, clock: ManualClock | None, session_factory, errors: list) -> None:
    """One relay process's loop: send what is due; when nothing is, move an injected clock on to the next
    due row, or wait a moment while the other relay still holds rows."""
    try:
        for _ in range(100_000):
            if relay.run_once().claimed:
                continue
            with session_factory() as s:
                pending = s.scalar(
                    select(func.min(OutboxMessage.next_attempt_at)).where(
                        OutboxMessage.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
                    )
                )
            if pending is None:
                return
            ahead = (pending - (clock.now() if clock else datetime.now(UTC))).total_seconds()
            if clock is not None and ahead > 0:
                clock.sleep(ahead + 0.001)
            else:  # claimed by the other relay (or due in a moment): its answer is what we wait for
                threading.Event().wait(0.01)
        raise AssertionError("the outbox did not drain")
    except BaseException as exc:  # surfaced by the test thread
        errors.append(exc)


def _run_two_relays(bot, session_factory) -> None:
    senders = bot.service.platforms.senders
    # Small claims, so both relays hold rows of the same digest and of the same members at once.
    config = RelayConfig(claim_limit=100)
    relays = [Relay(session_factory, senders, clock=bot.clock, config=config, name=f"r{i}") for i in (1, 2)]
    assert all(isinstance(r.windows, SharedWindows) for r in relays)
    errors: list = []
    threads = [threading.Thread(target=_drain, args=(r, bot.clock, session_factory, errors)) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors


def _claimed_by_both(session) -> None:
    session.expire_all()
    by_relay = set(session.scalars(select(OutboxMessage.claimed_by)))
    assert {token.split(":")[0] for token in by_relay} == {"r1", "r2"}
    assert set(session.scalars(select(OutboxMessage.status).distinct())) == {DeliveryStatus.SENT}


def _most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_two_relays_keep_dingtalks_qps_together(session_factory, session, database_url):
    """On the real clock, which the sandbox's QPS window also runs on: two relays that each kept 20 QPS
    on their own would make 40 in a second, and the sandbox would refuse the surplus."""
    _postgresql_only(database_url)
    ding, _ = _org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        bot.sb.configure(dingtalk_qps=QPS)
        with session_factory() as s, s.begin():
            outbox.enqueue_to_people(
                s, ding, Markdown("三月月报", "本月支部活动情况……"), dedup_key="digest", now=datetime.now(UTC)
            )
        _run_two_relays(bot, session_factory)
        counters = bot.sb.counters()
        calls = bot.sb.outbox("dingtalk")
    assert counters["rate_limited_total"] == 0
    assert _most_in_any_window([c["time"] for c in calls], 1.0) <= QPS
    assert sum(len(c["to"]) for c in calls) == DING_PEOPLE
    _claimed_by_both(session)


def test_two_relays_keep_wecoms_per_member_limits_together(session_factory, session, database_url):
    """On an injected clock that moves the sandbox's with it, so the minutes pass in milliseconds."""
    _postgresql_only(database_url)
    _, wecom = _org(session_factory)
    with running_bot(session_factory, database_url, clock_start=START) as bot:
        bot.sb.configure(wecom_per_member_per_minute=30, wecom_per_member_per_hour=1000)
        with session_factory() as s, s.begin():
            for i in range(WECOM_MESSAGES_EACH):
                outbox.enqueue_to_people(s, wecom, Text(f"第 {i + 1} 条提醒"), dedup_key=f"r{i}", now=START)
        _run_two_relays(bot, session_factory)
        counters = bot.sb.counters()
        calls = bot.sb.outbox("wecom")
    # The sandbox drops (silently, as WeCom does) what is over a member's limit, and counts it.
    assert counters["wecom_dropped_total"] == 0
    per_member: dict[str, list[float]] = defaultdict(list)
    for c in calls:
        for user in c["to"]:
            per_member[user].append(c["time"])
    assert max(_most_in_any_window(ts, 60.0) for ts in per_member.values()) <= 30
    assert sum(len(c["to"]) for c in calls) == WECOM_PEOPLE * WECOM_MESSAGES_EACH
    _claimed_by_both(session)


def test_a_window_is_one_window_for_every_relay(session_factory, database_url):
    _postgresql_only(database_url)
    limits = (RateLimit(3, 1.0),)
    members = (RateLimit(2, 60.0),)
    api = ("api", "dingtalk", "batchSend")
    a, b = SharedWindows(session_factory, margin=0), SharedWindows(session_factory, margin=0)
    now = START
    slots = [w.take(now, api, limits, [], ()).slot for w in (a, b, a)]
    assert all(slots)
    full = b.take(now, api, limits, [], ())
    assert full.slot is None and full.wait > 0  # three calls in flight, whoever made them
    a.release(slots[0], now + timedelta(seconds=0.2))
    later = b.take(now + timedelta(seconds=0.5), api, limits, [], ())
    assert later.slot is None and abs(later.wait - 0.7) < 1e-6  # the first answer leaves at 1.2 s
    # Asked to reserve a slot that frees within a second, b holds that one for 1.2 s at once ...
    reserved = b.take(now + timedelta(seconds=0.5), api, limits, [], (), ahead=1.0)
    assert reserved.slot is not None and abs(reserved.wait - 0.7) < 1e-6
    # ... so nobody else has it, then or before; and the calls still in flight free no slot by a clock:
    # only an answer does, and none sooner than a window after it (the least wait, not a sure one).
    for at in (0.5, 1.2, 1.3):
        taken = a.take(now + timedelta(seconds=at), api, limits, [], (), ahead=1.0)
        assert taken.slot is None and not taken.sure and taken.wait == limits[0].seconds
    b.release(reserved.slot, now + timedelta(seconds=1.25))
    a.release(slots[1], now + timedelta(seconds=1.3))
    # The answered calls leave at 2.25 s and 2.3 s: the next free slot, reserved at 1.3 s, is the first's.
    again = a.take(now + timedelta(seconds=1.3), api, limits, [], (), ahead=1.0)
    assert again.slot is not None and abs(again.wait - 0.95) < 1e-6
    # Too far ahead to reserve: nothing is taken.
    assert b.take(now + timedelta(seconds=1.3), api, limits, [], (), ahead=0.5).slot is None

    # A member over their own limit is deferred, the others are sent to.
    m1, m2 = ("member", "wecom", "corp", "u1"), ("member", "wecom", "corp", "u2")
    api2 = ("api", "wecom", "message/send")
    for w in (a, b):
        take = w.take(now, api2, (), [m1], members)
        w.release(take.slot, now)
    take = a.take(now + timedelta(seconds=1), api2, (), [m1, m2], members)
    assert set(take.deferred) == {m1} and abs(take.deferred[m1] - 59) < 1e-6 and take.slot is not None


def test_a_relay_that_died_mid_call_frees_its_slot_by_itself(session_factory, database_url):
    _postgresql_only(database_url)
    api, limits = ("api", "dingtalk", "batchSend"), (RateLimit(1, 1.0),)
    dead, alive = SharedWindows(session_factory, margin=0), SharedWindows(session_factory, margin=0)
    assert dead.take(START, api, limits, [], ()).slot is not None  # never released
    assert alive.take(START + timedelta(seconds=60), api, limits, [], ()).slot is None
    after = START + timedelta(seconds=SharedWindows.INFLIGHT_SECONDS + 1.01)
    assert alive.take(after, api, limits, [], ()).slot is not None
    with session_factory() as s:
        # The abandoned row, past the window, went in the sweep that followed.
        assert s.scalar(select(func.count()).select_from(RateWindowEvent)) == 1


def test_sqlite_keeps_the_windows_in_the_relay(session_factory, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the in-process windows are SQLite's")
    relay = Relay(session_factory, [], clock=ManualClock(START))
    assert isinstance(relay.windows, LocalWindows)
