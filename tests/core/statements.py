"""Counting the SQL statements a piece of code sends, for the tests that guard against N+1 queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


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
