"""A reply queued in another process wakes the relay at once (issue #18 item 6): PostgreSQL's
LISTEN/NOTIFY, sent in the queuing transaction. SQLite runs one process and has no listener."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy import text

from bot.core import outbox
from bot.core.messages import Text
from bot.core.outbox import WAKEUP_CHANNEL
from bot.core.ratelimit import SystemClock
from bot.core.relay import Relay, RelayConfig, listen_for_wakeups
from tests.core.helpers import T0, FakeSender, make_org


def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; a SQLite deployment is one process woken directly")


def _raw_url(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class _Woken:
    """What the listener calls: a relay's wake()."""

    name = "stub"

    def __init__(self) -> None:
        self.event = threading.Event()

    def wake(self) -> None:
        self.event.set()


def test_notify_from_another_connection_wakes_the_relay(engine, database_url):
    _postgresql_only(database_url)
    relay = _Woken()
    listener = listen_for_wakeups(engine, relay)
    try:
        assert listener.ready.wait(10)
        relay.event.clear()  # the wake every (re)connection gives, for rows queued while deaf
        with psycopg.connect(_raw_url(engine), autocommit=True) as other:
            other.execute(f"NOTIFY {WAKEUP_CHANNEL}")
        assert relay.event.wait(10)
    finally:
        listener.stop()


def test_queuing_notifies_at_commit_and_not_before(session_factory, engine, database_url, monkeypatch):
    _postgresql_only(database_url)
    org = make_org(session_factory)
    marker = "zhibu_test_marker"
    # A channel of this test's own: NOTIFY is database-wide, and anything else queuing on the same
    # PostgreSQL database (another test process, a bench) would be heard on the real one.
    channel = f"zhibu_outbox_{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(outbox, "WAKEUP_CHANNEL", channel)
    with psycopg.connect(_raw_url(engine), autocommit=True) as listening:
        listening.execute(f"LISTEN {channel}")
        listening.execute(f"LISTEN {marker}")

        def heard_until_marker() -> list[str]:
            # Notifications arrive in commit order: everything committed before the marker is heard first.
            with psycopg.connect(_raw_url(engine), autocommit=True) as other:
                other.execute(f"NOTIFY {marker}")
            heard = []
            for n in listening.notifies(timeout=10):
                if n.channel == marker:
                    return heard
                heard.append(n.channel)
            raise AssertionError("the marker never arrived")

        with session_factory() as s:
            with s.begin():
                outbox.enqueue_to_people(s, org.member_ids, Text("第一条"), dedup_key="a", now=T0)
                outbox.enqueue_to_people(s, org.member_ids, Text("第二条"), dedup_key="b", now=T0)
                assert heard_until_marker() == []  # queued, not committed: no relay may look yet
            assert heard_until_marker() == [channel]  # once, for both
            with s.begin():
                s.execute(text("SELECT 1"))
                outbox.enqueue_to_people(s, org.member_ids, Text("第三条"), dedup_key="c", now=T0)
                s.rollback()
            assert heard_until_marker() == []  # rolled back: nothing to send, nobody woken
            with s.begin():
                # Already queued: no new rows, no wake-up.
                outbox.enqueue_to_people(s, org.member_ids, Text("第一条"), dedup_key="a", now=T0)
            assert heard_until_marker() == []


def test_a_waiting_relay_sends_what_another_process_queued(session_factory, database_url):
    """The relay polls once an hour here: only the NOTIFY can get the message out within the test."""
    _postgresql_only(database_url)
    org = make_org(session_factory)
    sent = threading.Event()

    class Signalling(FakeSender):
        def send(self, batch):
            outcome = super().send(batch)
            sent.set()
            return outcome

    ding = Signalling("dingtalk")
    relay = Relay(
        session_factory,
        [ding, FakeSender("wecom")],
        clock=SystemClock(),
        config=RelayConfig(poll_seconds=3600),
    )
    relay.start()
    try:
        assert relay._listener is not None and relay._listener.ready.wait(10)
        _until_waiting(relay)
        with session_factory() as s, s.begin():  # what a web process's handler would commit
            outbox.enqueue_to_people(s, [org.secretary_id], Text("收到"), dedup_key="reply", now=T0)
        assert sent.wait(10)
        assert ding.sent_targets() == ["wangshuji"]
    finally:
        relay.stop()


def _until_waiting(relay: Relay, timeout: float = 10.0) -> None:
    """Until the relay waits for its next poll with no wake-up pending (the listener's first one spent)."""
    deadline = time.monotonic() + timeout
    while not (relay.idle.is_set() and not relay._wakeup.is_set()):
        assert time.monotonic() < deadline, "the relay never settled"
        threading.Event().wait(0.01)


def test_sqlite_has_no_listener(engine, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite case")
    assert listen_for_wakeups(engine, _Woken()) is None
