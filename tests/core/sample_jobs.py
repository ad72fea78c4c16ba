"""A feature-like module with jobs(), for the run-job tests."""

from __future__ import annotations

from bot.core import outbox
from bot.core.jobs import JobSpec, monthly
from bot.core.messages import Text
from models.org import Person


def _everyone_hello(session, now, period):
    ids = [p.id for p in session.query(Person)]
    outbox.enqueue_to_people(session, ids, Text(f"{period} 你好"), dedup_key=f"hello:{period}", now=now)


def jobs(core=None) -> list[JobSpec]:  # the registry passes its CoreConfig; these need none
    return [JobSpec("hello_monthly", "0 9 1 * *", _everyone_hello, period=monthly)]
