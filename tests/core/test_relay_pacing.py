"""A relay waiting for a full window calls when the slot frees, not that long after its take's round trips:
it reserves the slot and waits for it, or (reserving nothing) sleeps the wait counted from its take."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.core import outbox
from bot.core.messages import Text
from bot.core.ratelimit import LocalWindows, ManualClock, RateLimit, Take
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
        # Only the four in flight hold slots: the test clock moves to whichever reserved moment a waiting
        # thread asks for first, so calls waiting for the next window too would land late (never early).
        config=RelayConfig(concurrency=4, reserved_calls=0, rate_margin=0.0, reserve_seconds=2.0),
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


class CountingWindows(LocalWindows):
    """Local windows that count the slots held (taken, not yet released) and set `beyond` once more are
    held at once than `concurrency`."""

    def __init__(self, concurrency: int) -> None:
        super().__init__(margin=0.0)
        self.concurrency = concurrency
        self.held = self.most_held = 0
        self.beyond = threading.Event()
        self._count = threading.Lock()

    def take(self, now, api, api_limits, members, member_limits, ahead=0.0):
        answer = super().take(now, api, api_limits, members, member_limits, ahead)
        if answer.slot is not None:
            with self._count:
                self.held += 1
                self.most_held = max(self.most_held, self.held)
                if self.held > self.concurrency:
                    self.beyond.set()
        return answer

    def release(self, slot, now, session=None) -> None:
        if slot:
            with self._count:
                self.held -= 1
        super().release(slot, now, session)


def test_calls_hold_reserved_slots_beyond_those_in_flight_and_never_make_more_calls_at_once(session_factory):
    # Two calls in flight at once, and up to twenty more holding the slots they reserved: a planning
    # thread that pauses then delays none of them. The calls in flight are held until a third call holds
    # its slot: with only the calls in flight holding slots, none ever would (the hold ends after 10 s).
    org = make_org(session_factory, members=40)  # 20 on DingTalk
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
    clock = ManualClock(T0)
    limit = RateLimit(5, 1.0)
    windows = CountingWindows(concurrency=2)
    in_flight, most_in_flight, lock = [0], [0], threading.Lock()

    class Held(FakeSender):
        def send(self, batch):
            with lock:
                in_flight[0] += 1
                most_in_flight[0] = max(most_in_flight[0], in_flight[0])
            try:
                windows.beyond.wait(10)
                return super().send(batch)
            finally:
                with lock:
                    in_flight[0] -= 1

    ding = Held("dingtalk", batch_size=1, api_limits={"send": (limit,)}, clock=clock)
    relay = Relay(
        session_factory,
        [ding, FakeSender("wecom")],
        clock=clock,
        config=RelayConfig(concurrency=2, reserved_calls=20, rate_margin=0.0, reserve_seconds=2.0),
        windows=windows,
    )
    assert relay.drain().sent == 40
    assert windows.beyond.is_set() and windows.most_held > 2
    assert most_in_flight[0] <= 2
    assert len(ding.times) == 20 and _most_in_any_window(sorted(ding.times), limit.seconds) <= limit.count


class FullOnce(LocalWindows):
    """Windows in which DingTalk's take number `full_at` finds the API's window full of calls not answered
    yet (not `sure`: only an answer frees a slot, no sooner than a window from now); every other fits."""

    def __init__(self, full_at: int) -> None:
        super().__init__(margin=0.0)
        self.full_at = full_at
        self.takes = 0
        self.was_full = threading.Event()

    def take(self, now, api, api_limits, members, member_limits, ahead=0.0):
        if api[1] == "dingtalk":
            self.takes += 1
            if self.takes == self.full_at:
                self.was_full.set()
                return Take({}, 1.0, sure=False)
        return super().take(now, api, (), members, member_limits, ahead)


def _calls_with_a_full_window(session_factory, members: int, full_at: int) -> tuple[ManualClock, list]:
    org = make_org(session_factory, members=members)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, org.member_ids, Text("通知"), dedup_key="k", now=T0)
    clock = ManualClock(T0)
    windows = FullOnce(full_at)

    class AnsweredOnceFull(FakeSender):
        def send(self, batch):
            windows.was_full.wait(10)  # the call holds its slot while the window is found full
            return super().send(batch)

    ding = AnsweredOnceFull("dingtalk", batch_size=1, clock=clock)
    relay = Relay(
        session_factory,
        [ding, FakeSender("wecom")],
        clock=clock,
        config=RelayConfig(concurrency=2, rate_margin=0.0),
        windows=windows,
    )
    assert relay.drain().sent == members
    return clock, ding.times


def test_a_window_full_of_the_relays_own_calls_is_asked_again_when_one_is_answered(session_factory):
    # The second call's take finds the window full while the first call holds its slot: that call's answer
    # is what tells when a slot frees, so the relay asks again on it instead of sleeping the least wait (a
    # window) or polling; the clock never moves.
    clock, times = _calls_with_a_full_window(session_factory, members=3, full_at=2)  # 2 on DingTalk
    assert times == [T0, T0] and clock.slept == 0


def test_a_window_full_of_other_relays_calls_waits_the_least_it_can_before_asking_again(session_factory):
    # The first take finds the window full and no call of this relay holds a slot: nothing frees sooner
    # than a window from now, so the relay sleeps that, once, and calls.
    clock, times = _calls_with_a_full_window(session_factory, members=1, full_at=1)  # 1 on DingTalk
    assert times == [T0 + timedelta(seconds=1.0)] and clock.slept == 1.0
