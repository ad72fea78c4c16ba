"""`zhibu check` warns when a SQLite database holds more than a city's roster (issue #22 item 1)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli import check as check_module
from models.org import OrgUnit, Person, UnitKind
from models.seed import seed

WARNING = "建议改用 PostgreSQL"


def _seeded(migrated_url, session_factory) -> tuple[dict, int, int]:
    with session_factory() as session:
        seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", today=date(2026, 10, 31))
        session.commit()
        branches = session.scalar(
            select(func.count()).select_from(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH)
        )
        members = session.scalar(
            select(func.count()).select_from(Person).where(Person.branch_id.is_not(None))
        )
    env = {
        "ZHIBU_DATABASE_URL": migrated_url,
        "ZHIBU_SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123",
    }
    return env, branches, members


def _check(env) -> str:
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_check_warns_above_a_city_on_sqlite_only(migrated_url, session_factory, monkeypatch):
    env, branches, members = _seeded(migrated_url, session_factory)
    assert (branches, members) == (6, 60)
    # The demo is far below a city: no warning on either database.
    assert WARNING not in _check(env)

    # Shrink "a city" below the demo: members over the limit, then branches over the limit.
    sqlite = migrated_url.startswith("sqlite")
    monkeypatch.setattr(check_module, "SQLITE_MAX_MEMBERS", members - 1)
    output = _check(env)
    if sqlite:
        lines = [line for line in output.splitlines() if WARNING in line]
        assert len(lines) == 1, output
        assert f"已有 {branches} 个支部、{members} 名党员" in lines[0]
        assert "ZHIBU_DATABASE_URL" in lines[0] and "zhibu db upgrade" in lines[0]
    else:
        assert WARNING not in output  # PostgreSQL is the fix, not the problem
    monkeypatch.setattr(check_module, "SQLITE_MAX_MEMBERS", members)
    assert WARNING not in _check(env)  # at the limit is still fine
    monkeypatch.setattr(check_module, "SQLITE_MAX_BRANCHES", branches - 1)
    assert (WARNING in _check(env)) == sqlite
