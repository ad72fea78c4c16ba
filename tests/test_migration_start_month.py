"""Migration 0005 gives an installation that is already running a start month, so its monthly runs go
on after the upgrade (issue #18 item 3); a new, empty database gets none (its first roster import sets it)."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from models.db import make_engine, upgrade
from models.startmonth import start_month


def _insert(engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), {"at": datetime(2026, 11, 20, 2, 0, tzinfo=UTC)})


BRANCH = "INSERT INTO org_unit (id, kind, name, path, active, created_at, updated_at) VALUES (1, 'branch', '东风村党支部', '/1/', true, :at, :at)"
PERSON = "INSERT INTO person (id, name, branch_id, status, fee_category, is_mobile, active, created_at, updated_at) VALUES (1, '王建国', 1, 'full', 'employed', false, true, :at, :at)"
SCORE = (
    "INSERT INTO monthly_score (id, unit_id, month, unit_kind, peer_group, score, rank, group_size, lagging, "
    "explanation, computed_at, revision, created_at, updated_at) "
    "VALUES (1, 1, '2026-09-01', 'branch', 'rural', 88, 1, 1, false, '{}', :at, 1, :at, :at)"
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [((), None), ((BRANCH, PERSON), date(2026, 12, 1)), ((BRANCH, PERSON, SCORE), date(2026, 9, 1))],
    ids=["empty", "people-added-in-november", "scored-since-september"],
)
def test_an_existing_installation_keeps_its_months(database_url, rows, expected):
    engine = make_engine(database_url)
    try:
        upgrade(database_url, "0004")
        _insert(engine, *rows)
        upgrade(database_url, "0005")
        with Session(engine) as session:
            assert start_month(session) == expected
    finally:
        engine.dispose()
