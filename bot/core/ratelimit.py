"""Rate limits the relay keeps to, on an injectable clock.

Sliding windows rather than token buckets: "at most N in ANY window of W seconds" also keeps a
server that counts in fixed windows (per second, per calendar minute) from ever seeing N+1, and a
bucket's refill would allow a 2N burst across a window edge. WeCom drops messages silently past
its per-member limits, so "never exceed" matters more than squeezing the last percent.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, delete, insert, select, text, update

from models.outbox import RateWindowEvent


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: float


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def sleep_until(self, moment: datetime) -> None:
        """Wait until `moment` (at once if it has passed): several threads waiting for their own moments
        wake at each one, where adding up their sleep()s would not."""
        ...


class SystemClock:
    """The real clock; sleep returns early when `interrupt` is set (graceful shutdown)."""

    def __init__(self, interrupt: threading.Event | None = None) -> None:
        self.interrupt = interrupt or threading.Event()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.interrupt.wait(seconds)

    def sleep_until(self, moment: datetime) -> None:
        self.sleep((moment - self.now()).total_seconds())


class ManualClock:
    """A clock tests move by hand; sleep() advances it (and tells listeners, e.g. the sandbox clock).

    Threads sleeping at once each add their seconds (one after the other, as a test moving the clock by
    hand means); sleep_until() moves the clock to a moment only if it is not there yet, as real time
    would: two calls waiting 0.5 s and 0.9 s for their slots wake at 0.5 s and 0.9 s, not at 1.4 s."""

    def __init__(self, start: datetime, listeners: Iterable = ()) -> None:
        self._now = start
        self._lock = threading.Lock()  # the time: held for no more than reading or moving it
        # Held while the listeners hear of a move, and by every sleeper: a thread whose sleep finds the
        # time already moved by another waits until the listeners (the sandbox's clock, over HTTP) have
        # moved too, so its next call never reaches the sandbox before the sandbox's time does. Not the
        # time's lock: now() is never kept waiting on a listener's round trip.
        self._heard = threading.RLock()
        self.listeners = list(listeners)
        self.slept = 0.0

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._heard:
            with self._lock:
                self._now += timedelta(seconds=seconds)
                self.slept += seconds
                moved = self._now
            self._tell(moved)

    def sleep_until(self, moment: datetime) -> None:
        with self._heard:
            with self._lock:
                if moment <= self._now:
                    return
                self.slept += (moment - self._now).total_seconds()
                self._now = moment
            self._tell(moment)

    def _tell(self, moved: datetime) -> None:
        for listener in self.listeners:
            listener(moved)

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
        return self.free_in(now)[0]

    def free_in(self, now: float) -> tuple[float, bool]:
        """wait_time, and whether a slot surely frees then. False when only an answer can free one: the
        wait is then the least it can be (a call answered now leaves the window a window from now)."""
        with self._lock:
            self._trim(now)
            used = len(self.events) + self.inflight
            if used < self.count:
                return 0.0, True
            if self.inflight >= self.count:
                return self.seconds, False
            return max(self.events[used - self.count] + self.seconds - now, 1e-6), True

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


class Limiter:
    """Several windows that must all allow an event (e.g. 30/min and 1,000/hour)."""

    def __init__(self, limits: Iterable[RateLimit], margin: float = 0.02) -> None:
        self.windows = [SlidingWindow(limit, margin) for limit in limits]

    def wait_time(self, now: datetime) -> float:
        return self.free_in(now)[0]

    def free_in(self, now: datetime) -> tuple[float, bool]:
        t = _ts(now)
        waits = [w.free_in(t) for w in self.windows]
        return max((w for w, _ in waits), default=0.0), all(sure for _, sure in waits)

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


# ---- windows the relay takes slots from ----------------------------------------------------
#
# A key names one window's subject: ("api", platform, api) or ("member", platform, corp, userid).
Key = tuple[str, ...]


@dataclass
class Take:
    """The answer to one request for a call's slots.

    `deferred` are the members over their own limit (seconds until they fit), left out of the call;
    `slot` is what release() needs once the call is answered. With a slot, `wait` is how long the call
    must wait for it (0 = call now; more when a full window's slot was reserved, see `ahead`). Without
    one the API's window is full: nothing was taken and the caller waits `wait` seconds and asks again.
    Not `sure`: the window is full of calls not answered yet, so only an answer frees a slot, and no
    sooner than `wait` (a window from now); a caller with calls of its own in flight asks again as soon as
    one of them is answered, since that answer is what tells when its slot frees.
    """

    deferred: dict[Key, float]
    wait: float = 0.0
    slot: object | None = None
    sure: bool = True


class RateWindows(Protocol):
    def take(
        self,
        now: datetime,
        api: Key,
        api_limits: tuple[RateLimit, ...],
        members: list[Key],
        member_limits: tuple[RateLimit, ...],
        ahead: float = 0.0,
    ) -> Take:
        """Slots for one call now. A full API window whose next slot surely frees within `ahead` seconds
        (not only when a call in flight is answered) is reserved for then: the slot counts as a call in
        flight from this take on, so nobody else takes it, and the caller waits `Take.wait` before the
        call. The take's own round trips then overlap the wait instead of following it."""
        ...

    def release(self, slot: object, now: datetime, session=None) -> None:
        """The call was answered at `now`; `session`: record it in that transaction (shared windows)."""


class LocalWindows:
    """Windows held in this process: right when one relay sends for the whole deployment (SQLite).

    `history(members)` gives the recent sends of members not seen yet (from the delivery ledger), so a
    restart does not forget them.
    """

    def __init__(self, margin: float = 0.02, history=None) -> None:
        self.margin = margin
        self.history = history
        self._windows: dict[Key, Limiter] = {}
        self._lock = threading.Lock()

    def _limiter(self, key: Key, limits: tuple[RateLimit, ...]) -> Limiter:
        limiter = self._windows.get(key)
        if limiter is None:
            limiter = self._windows[key] = Limiter(limits, self.margin)
        return limiter

    def take(self, now, api, api_limits, members, member_limits, ahead=0.0) -> Take:
        unseen = [m for m in members if m not in self._windows]
        if unseen and self.history is not None:
            horizon = max(limit.seconds for limit in member_limits) * (1 + self.margin)
            seen = self.history(unseen, now - timedelta(seconds=horizon))
            with self._lock:
                for member in unseen:
                    if member not in self._windows:
                        self._limiter(member, member_limits).seed(seen.get(member, ()))
        with self._lock:
            deferred, ready = {}, []
            for member in members:
                wait = self._limiter(member, member_limits).wait_time(now)
                if wait > 0:
                    deferred[member] = wait
                else:
                    ready.append(self._windows[member])
            limiter = self._limiter(api, api_limits)
            wait, sure = limiter.free_in(now)
            if (wait > 0 and not (sure and wait <= ahead)) or (members and not ready):
                return Take(deferred, wait, sure=sure)
            slots = [limiter, *ready]
            for slot in slots:
                slot.begin()
            return Take(deferred, wait, slots)

    def release(self, slot, now, session=None) -> None:
        while slot:  # emptied: a second release (after a failed commit) must not end a call twice
            slot.pop().end(now)


def window_wait(
    events: list[tuple[float, bool]], limits: tuple[RateLimit, ...], margin: float, now: float
) -> float:
    """Seconds until one more call fits every window, from a key's recorded (at, inflight) events: the
    same rule as SlidingWindow, for events read from the database."""
    return free_in(events, limits, margin, now)[0]


def free_in(
    events: list[tuple[float, bool]], limits: tuple[RateLimit, ...], margin: float, now: float
) -> tuple[float, bool]:
    """window_wait, and whether a slot surely frees then: False when only an answer can free one."""
    worst, sure = 0.0, True
    for limit in limits:
        seconds = limit.seconds * (1 + margin)
        live = [(at, inflight and at > now) for at, inflight in events if at > now - seconds]
        if len(live) < limit.count:
            continue
        flying = sum(1 for _, still in live if still)
        if flying >= limit.count:
            # The least it can be: a call answered now leaves the window a window from now.
            worst, sure = max(worst, seconds), False
            continue
        answered = sorted(at for at, still in live if not still)
        worst = max(worst, answered[len(live) - limit.count] + seconds - now, 1e-6)
    return worst, sure


def _key_text(key: Key) -> str:
    return "|".join(key)


class SharedWindows:
    """Windows every relay on one PostgreSQL database shares: several relays together keep DingTalk's
    per-app QPS and WeCom's per-member limits.

    Each call is a row in `rate_window_event`, written in the transaction that decided it fits, which
    holds a transaction-scoped advisory lock on each key involved (taken in one order, so two relays
    never deadlock). Why a table plus advisory locks: the windows need every relay's recent calls (a
    table keeps them, and survives a relay's restart, which the per-member hour needs), and "count, then
    add one" must be one atomic step per key; an advisory lock per key serialises exactly the relays
    that contend for the same window, with no lock row to create first and nothing held past the
    transaction, while SERIALIZABLE would abort and retry whole transactions under contention. A call
    in flight counts from the moment it is taken until it is answered (its row's `at` is the latest
    moment it could reach the platform, so a relay that dies mid-call frees the slot by itself); once
    answered it counts from the answer, as SlidingWindow does in one process.

    Every relay's clock must agree with the others to within `margin` of the shortest window (10 ms of
    DingTalk's second at the relay's 1%, RelayConfig.rate_margin): NTP on the hosts, as for any server.
    """

    # The longest a platform call can take (the HTTP clients time out well before).
    INFLIGHT_SECONDS = 120.0
    SWEEP_EVERY_SECONDS = 60.0
    # Rows this old are swept whatever their key: a relay does not know every window another relay
    # keeps, so this stays far behind all of them.
    SWEEP_AFTER_SECONDS = 86_400.0

    def __init__(self, session_factory, margin: float = 0.02) -> None:
        self.session_factory = session_factory
        self.margin = margin
        self._horizon = 0.0
        self._api_horizons: dict[str, float] = {}
        self._pruned_at: datetime | None = None

    def take(self, now, api, api_limits, members, member_limits, ahead=0.0) -> Take:
        E = RateWindowEvent
        t = now.timestamp()
        if self._pruned_at is None:
            self._pruned_at = now  # see _sweep
        api_horizon = max((lim.seconds for lim in api_limits), default=0.0) * (1 + self.margin)
        member_horizon = max((lim.seconds for lim in member_limits), default=0.0) * (1 + self.margin)
        self._horizon = max(self._horizon, api_horizon, member_horizon)
        api_key = _key_text(api)
        self._api_horizons[api_key] = api_horizon
        member_keys = {_key_text(m): m for m in members}
        keys = [api_key, *member_keys]
        with self.session_factory() as session, session.begin():
            session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h "
                    "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS locks"
                ).bindparams(bindparam("keys", keys))
            )
            events: dict[str, list[tuple[float, bool]]] = {k: [] for k in keys}
            since_api = now - timedelta(seconds=api_horizon)
            since_member = now - timedelta(seconds=member_horizon)
            where = (E.key == api_key) & (E.at > since_api)
            if member_keys:
                where = where | (E.key.in_(list(member_keys)) & (E.at > since_member))
            for key, at, inflight in session.execute(select(E.key, E.at, E.inflight).where(where)):
                events[key].append((at.timestamp(), inflight))
            deferred, ready = {}, []
            for text_key, member in member_keys.items():
                wait = window_wait(events[text_key], member_limits, self.margin, t)
                if wait > 0:
                    deferred[member] = wait
                else:
                    ready.append(text_key)
            wait, sure = free_in(events[api_key], api_limits, self.margin, t)
            if (wait > 0 and not (sure and wait <= ahead)) or (members and not ready):
                return Take(deferred, wait, sure=sure)
            holder = uuid.uuid4().hex
            # A reserved slot's call starts `wait` from now: it could reach the platform that much later.
            until = now + timedelta(seconds=wait + self.INFLIGHT_SECONDS)
            session.execute(
                insert(E),
                [{"key": k, "at": until, "inflight": True, "holder": holder} for k in [api_key, *ready]],
            )
        self._sweep(now)
        return Take(deferred, wait, holder)

    def release(self, slot, now, session=None) -> None:
        answered = (
            update(RateWindowEvent).where(RateWindowEvent.holder == slot).values(at=now, inflight=False)
        )
        if session is not None:
            session.execute(answered)
            return
        with self.session_factory() as own, own.begin():
            own.execute(answered)

    def _sweep(self, now: datetime) -> None:
        """Once a minute, not on every take (that would be a statement more per call): an API's rows past
        its window (thousands a minute at DingTalk's QPS), and anyone's rows a day old (a member's are one a
        message: a day of them is small; keys nobody sends to again go with them). The first a minute after
        the first take: that take's wait is a starting relay's first call's, not a sweep's."""
        if (now - self._pruned_at).total_seconds() < self.SWEEP_EVERY_SECONDS:
            return
        self._pruned_at = now
        horizon = max(self._horizon, self.SWEEP_AFTER_SECONDS)
        E = RateWindowEvent
        with self.session_factory() as session, session.begin():
            for key, seconds in self._api_horizons.items():
                session.execute(delete(E).where(E.key == key, E.at <= now - timedelta(seconds=seconds)))
            session.execute(delete(E).where(E.at <= now - timedelta(seconds=horizon)))
