"""Counting the SQL statements a piece of code sends, for the tests that guard against N+1 queries,
and recording what it would queue so the outbox's own statements stay out of the count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.core import outbox


def count_statements(engine: Engine, call: Callable[[], Any]) -> int:
    """How many statements `call()` sends through `engine`."""
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def record_enqueues(monkeypatch) -> dict[str, set[int]]:
    """Replace outbox.enqueue_to_people with a recorder: dedup key → the people it would queue for."""
    queued: dict[str, set[int]] = {}

    def enqueue(_session, person_ids, _message, *, dedup_key, now, not_before=None):
        queued[dedup_key] = set(person_ids)
        return len(queued[dedup_key])

    monkeypatch.setattr(outbox, "enqueue_to_people", enqueue)
    return queued
