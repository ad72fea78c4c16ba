"""A relay waiting for a full window calls when the slot frees, not that long after its take's round trips:
it reserves the slot and waits for it, or (reserving nothing) sleeps the wait counted from its take."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.core import outbox
from bot.core.messages import Text
from bot.core.ratelimit import LocalWindows, ManualClock, RateLimit
from bot.core.relay import Relay, RelayConfig
from tests.core.helpers import DT, T0, FakeSender, make_org

TAKE_SECONDS = 0.3


class SlowWindows(LocalWindows):
    """Windows whose every take costs time on the clock, as a shared window's round trips do."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(margin=0.0)
        self.clock = clock

    def take(self, now, api, api_limits, members, member_limits, ahead=0.0):
        answer = super().take(now, api, api_limits, members, member_limits, ahead)
        self.clock.advance(TAKE_SECONDS)
        return answer


def _three_calls(session_factory, reserve_seconds: float) -> list:
    org = make_org(session_factory, members=1)
    with session_factory() as s, s.begin():
        for i in range(3):
            outbox.enqueue_to_people(s, [org.secretary_id], Text(f"m{i}"), dedup_key=f"m{i}", now=T0)
    clock = ManualClock(T0)
    ding = FakeSender("dingtalk", api_limits={"send": (RateLimit(1, 1.0),)}, clock=clock)
    relay = Relay(
        session_factory,
        [ding, FakeSender("wecom")],
        clock=clock,
        config=RelayConfig(concurrency=1, rate_margin=0.0, reserve_seconds=reserve_seconds),
        windows=SlowWindows(clock),
    )
    assert relay.drain().sent == 3
    return ding.times


def test_a_full_windows_next_slot_is_reserved_and_the_call_waits_for_it(session_factory):
    # Each call is answered as it is made (the fake sender takes no time), so the next fits one second
    # after it. The take that finds the window full reserves that moment, and its round trips
    # (TAKE_SECONDS) pass inside the wait: the calls are exactly a window apart.
    first = T0 + timedelta(seconds=TAKE_SECONDS)
    step = timedelta(seconds=1.0)
    assert _three_calls(session_factory, reserve_seconds=2.0) == [first, first + step, first + 2 * step]


def test_the_wait_for_a_full_window_counts_from_the_take_not_from_its_answer(session_factory):
    # A slot further off than reserve_seconds is asked for again when it frees; the take that then finds
    # it free costs TAKE_SECONDS before the call. Sleeping the whole wait after a failed take would put
    # each call TAKE_SECONDS later still.
    first = T0 + timedelta(seconds=TAKE_SECONDS)
    step = timedelta(seconds=1.0 + TAKE_SECONDS)
    assert _three_calls(session_factory, reserve_seconds=0.5) == [first, first + step, first + 2 * step]


def test_a_slot_taken_for_a_call_goes_back_when_deferring_its_other_recipients_fails(session_factory):
    org = make_org(session_factory, members=3)  # member0 and member2 are on DingTalk
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(
            s, [org.member_ids[0], org.member_ids[2]], Text("通知"), dedup_key="k", now=T0
        )
    clock = ManualClock(T0)
    api, api_limits = ("api", "dingtalk", "send"), (RateLimit(1, 1.0),)
    member_limits = (RateLimit(1, 60.0),)
    windows = LocalWindows(margin=0.0)
    # member0 had a message a moment ago: the call goes to member2 alone, and member0's row is deferred.
    earlier = windows.take(T0, api, api_limits, [("member", "dingtalk", DT, "member0")], member_limits)
    windows.release(earlier.slot, T0 - timedelta(seconds=5))
    ding = FakeSender("dingtalk", api_limits={"send": api_limits}, member_limits=member_limits)
    relay = Relay(
        session_factory,
        [ding, FakeSender("wecom")],
        clock=clock,
        config=RelayConfig(concurrency=1, rate_margin=0.0),
        windows=windows,
    )

    def lost_connection(token, until):
        raise OperationalError("UPDATE outbox_message", {}, Exception("connection lost"))

    relay._defer = lost_connection
    with pytest.raises(OperationalError):
        relay.run_once()
    assert ding.calls == []
    # The API's one call a second is free again once its second has passed: no call is left in flight.
    clock.advance(2.0)
    assert windows.take(clock.now(), api, api_limits, [], ()).slot is not None


def _most_in_any_window(times: list, seconds: float) -> int:
    """The most calls in any window of `seconds` (the busiest window starts at a call)."""
    return max(sum(1 for t in times if start <= t < start + timedelta(seconds=seconds)) for start in times)


def test_calls_waiting_for_reserved_slots_at_once_keep_the_window_and_call_when_it_frees(session_factory):
    # Up to four calls in flight, each waiting in its own thread for the slot it reserved, until that slot's
    # moment (a test clock adding the waiting threads' sleeps up would put calls later than real time does,
    # so an early call, over the limit, could never show here).
    org = make_org(session_factory, members=40)  # 20 on DingTalk
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
    clock = ManualClock(T0)
    limit = RateLimit(5, 1.0)
    ding = FakeSender("dingtalk", batch_size=1, api_limits={"send": (limit,)}, clock=clock)
    relay = Relay(
        session_factory,
        [ding, FakeSender("wecom")],
        clock=clock,
        config=RelayConfig(concurrency=4, rate_margin=0.0, reserve_seconds=2.0),
        windows=LocalWindows(margin=0.0),
    )
    assert relay.drain().sent == 40
    times = sorted(ding.times)
    assert len(times) == 20
    assert _most_in_any_window(times, limit.seconds) == limit.count
    # The calls are answered as they are made: five a second from T0, the last five in the fourth second.
    assert times == [T0 + timedelta(seconds=i // 5) for i in range(20)]


def test_sleeping_until_a_moment_moves_the_test_clock_there_only_if_it_is_not_there_yet():
    # Two calls waiting 0.5 s and 0.9 s for their slots wake at 0.5 s and 0.9 s: the clock is at 0.9 s
    # after both, not 1.4 s; a moment already past moves nothing and tells no listener.
    heard: list = []
    clock = ManualClock(T0, listeners=[heard.append])
    for seconds in (0.5, 0.9, 0.2):
        clock.sleep_until(T0 + timedelta(seconds=seconds))
    assert clock.now() == T0 + timedelta(seconds=0.9)
    assert heard == [T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=0.9)]


def test_a_listener_hearing_of_a_move_keeps_nobody_from_reading_the_time():
    # The e2e listener moves the sandbox's clock over HTTP: meanwhile other threads (the relay's calls,
    # the sandbox's own requests) must still read the time, which is already the new one.
    clock = ManualClock(T0)
    seen: list = []

    def listener(moved):
        reader = threading.Thread(target=lambda: seen.append(clock.now()))
        reader.start()
        reader.join(timeout=5)  # only a broken clock makes this wait: the reader never got the time
        seen.append(reader.is_alive())

    clock.listeners.append(listener)
    clock.sleep(1.0)
    assert seen == [T0 + timedelta(seconds=1.0), False]
