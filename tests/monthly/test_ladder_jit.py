"""The absences statement runs with PostgreSQL's JIT off (ladder._without_jit): the setting comes back
after a statement that worked, and a statement that failed keeps its own error (a restore sent on the
aborted transaction used to replace it with "current transaction is aborted")."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handlers.monthly.ladder import _without_jit


def _jit(session) -> str:
    return session.scalar(text("SELECT current_setting('jit')"))


def test_jit_is_off_for_the_statement_and_back_after_it(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    before = _jit(session)
    with _without_jit(session):
        assert _jit(session) == "off"
    assert _jit(session) == before


def test_a_failed_statement_keeps_its_own_error(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    before = _jit(session)
    with pytest.raises(DBAPIError, match="division by zero"):
        with _without_jit(session):
            session.execute(text("SELECT 1 / 0"))
    session.rollback()
    assert _jit(session) == before  # the rollback undid the transaction-local setting
