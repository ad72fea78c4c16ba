"""Rate limits the relay keeps to, on an injectable clock.

Sliding windows rather than token buckets: "at most N in ANY window of W seconds" also keeps a
server that counts in fixed windows (per second, per calendar minute) from ever seeing N+1, and a
bucket's refill would allow a 2N burst across a window edge. WeCom drops messages silently past
its per-member limits, so "never exceed" matters more than squeezing the last percent.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: float


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock; sleep returns early when `interrupt` is set (graceful shutdown)."""

    def __init__(self, interrupt: threading.Event | None = None) -> None:
        self.interrupt = interrupt or threading.Event()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.interrupt.wait(seconds)


class ManualClock:
    """A clock tests move by hand; sleep() advances it (and tells listeners, e.g. the sandbox clock)."""

    def __init__(self, start: datetime, listeners: Iterable = ()) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.listeners = list(listeners)
        self.slept = 0.0

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self.slept += seconds
            now = self._now
        for listener in self.listeners:
            listener(now)

    advance = sleep


def _ts(moment: datetime) -> float:
    return moment.timestamp()


class SlidingWindow:
    """At most `limit.count` events in any `limit.seconds` (stretched by `margin` for clock skew).

    A call in flight counts until it is answered, and then from the moment it was answered: the
    server saw it somewhere in between, so whatever the network's latency, the server never sees
    more than `count` in a window.
    """

    def __init__(self, limit: RateLimit, margin: float = 0.02) -> None:
        self.count = limit.count
        self.seconds = limit.seconds * (1 + margin)
        self.events: deque[float] = deque()
        self.inflight = 0
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        while self.events and self.events[0] <= now - self.seconds:
            self.events.popleft()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0 = now)."""
        with self._lock:
            self._trim(now)
            used = len(self.events) + self.inflight
            if used < self.count:
                return 0.0
            if self.inflight >= self.count:
                return INFLIGHT_POLL_SECONDS  # only an answer frees a slot
            return max(self.events[used - self.count] + self.seconds - now, 1e-6)

    def begin(self) -> None:
        with self._lock:
            self.inflight += 1

    def end(self, now: float) -> None:
        with self._lock:
            self.inflight -= 1
            self._record(now)

    def record(self, now: float) -> None:
        with self._lock:
            self._record(now)

    def _record(self, now: float) -> None:
        # Answers from several threads may be noted slightly out of order; keep the deque sorted.
        if self.events and now < self.events[-1]:
            now = self.events[-1]
        self.events.append(now)


INFLIGHT_POLL_SECONDS = 0.005


class Limiter:
    """Several windows that must all allow an event (e.g. 30/min and 1,000/hour)."""

    def __init__(self, limits: Iterable[RateLimit], margin: float = 0.02) -> None:
        self.windows = [SlidingWindow(limit, margin) for limit in limits]

    def wait_time(self, now: datetime) -> float:
        t = _ts(now)
        return max((w.wait_time(t) for w in self.windows), default=0.0)

    def begin(self) -> None:
        for w in self.windows:
            w.begin()

    def end(self, now: datetime) -> None:
        t = _ts(now)
        for w in self.windows:
            w.end(t)

    def record(self, now: datetime) -> None:
        t = _ts(now)
        for w in self.windows:
            w.record(t)

    def seed(self, moments: Iterable[datetime]) -> None:
        for moment in sorted(moments):
            self.record(moment)
