"""`zhibu golive [YYYY-MM] [--force]`: show and set the start month (issue #18 item 3), and the seed's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from bot.cli import app
from models import startmonth
from models.monthly import MonthlyScore
from models.org import UnitKind
from models.seed import seed, seed_start_month
from tests import builders


@pytest.fixture
def cli_db(migrated_url, session_factory):
    return {"ZHIBU_DATABASE_URL": migrated_url}, session_factory


def golive(env, *args):
    return CliRunner().invoke(app, ["golive", *args], env=env)


def stored(factory) -> date | None:
    with factory() as session:
        return startmonth.start_month(session)


def test_show_set_and_refuse_bad_months(cli_db):
    env, factory = cli_db
    result = golive(env)
    assert result.exit_code == 0 and "还没有设置启用月份" in result.output
    assert "不计算任何月份的月积分" in result.output
    result = golive(env, "2027-01")
    assert result.exit_code == 0, result.output
    assert (
        "已把启用月份设为2027年1月（原来是（未设置））" in result.output
        and "2027年2月初发出" in result.output
    )
    assert stored(factory) == date(2027, 1, 1)
    result = golive(env)
    assert result.exit_code == 0 and "启用月份：2027年1月" in result.output
    assert "已经是" not in golive(env, "2027-01").output and "没有改动" in golive(env, "2027-01").output
    for bad, message in (("2027年1月", "启用月份应写成 2027-01"), ("2027-13", "启用月份应写成 2027-01"),
                         ("2099-01", "太远了")):  # fmt: skip
        result = golive(env, bad)
        assert result.exit_code != 0 and message in result.output, (bad, result.output)
    assert stored(factory) == date(2027, 1, 1)


def test_moving_it_earlier_after_scoring_needs_force(cli_db):
    env, factory = cli_db
    assert golive(env, "2026-11").exit_code == 0
    assert golive(env, "2026-10").exit_code == 0  # nothing scored yet: no question asked
    with factory() as session:
        branch = builders.unit(session, "东风村党支部", UnitKind.BRANCH)
        session.add(MonthlyScore(unit_id=branch.id, month=date(2026, 10, 1), unit_kind="branch",
                                 peer_group="rural", score=80, computed_at=datetime.now(UTC)))  # fmt: skip
        session.commit()
    result = golive(env, "2026-08")
    assert result.exit_code != 0
    assert "已经计算过月积分" in result.output and "--force" in result.output
    assert "2026年8月到2026年9月" in result.output
    assert stored(factory) == date(2026, 10, 1)
    assert golive(env, "2026-12").exit_code == 0  # later: allowed
    result = golive(env, "2026-08", "--force")
    assert result.exit_code == 0, result.output
    assert stored(factory) == date(2026, 8, 1)


def test_help_states_the_default_rule(cli_db):
    env, _ = cli_db
    result = CliRunner().invoke(app, ["golive", "--help"], env=env)
    assert result.exit_code == 0
    text = "".join(result.output.split())  # the help is wrapped anywhere, even inside words
    assert "导入日的下一个月" in text and "12月2日导入" in text and "--force" in text


def test_seed_start_month_covers_its_history(session):
    today = date(2026, 12, 3)
    assert seed_start_month(today, 0) == date(2027, 1, 1)  # as a first roster import would set it
    assert seed_start_month(today, 2) == date(2026, 11, 1)  # the history: November and December
    assert seed_start_month(date(2026, 2, 10), 3) == date(2025, 12, 1)
    result = seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=2, today=today,
                  now=datetime(2026, 12, 3, 2, tzinfo=UTC))  # fmt: skip
    assert result.start_month == date(2026, 11, 1) == startmonth.start_month(session)


def test_the_first_roster_import_sets_it_and_says_so(cli_db, tmp_path):
    from handlers.roster import texts as T
    from handlers.roster import write_roster

    env, factory = cli_db
    env = {**env, "ZHIBU_DINGTALK__CORP_ID": "dingtestcorp", "ZHIBU_WECOM__CORP_ID": "wwtestcorp"}
    path = tmp_path / "roster.csv"
    write_roster(path, [{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.CATEGORY: "农村",
                         T.NAME: "张王李"[i] + "明", T.PHONE: f"1390000000{i}", T.STATUS: "正式",
                         T.FEE_CATEGORY: "农民"} for i in range(3)])  # fmt: skip
    result = CliRunner().invoke(app, ["roster", "import", str(path), "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert stored(factory) is None  # a dry run writes nothing, the start month neither
    result = CliRunner().invoke(app, ["roster", "import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "这是第一次导入花名册：已把支部助手的启用月份设为" in result.output
    first = stored(factory)
    assert first is not None and first.day == 1
    assert "启用月份：" in golive(env).output
    result = CliRunner().invoke(app, ["roster", "import", str(path)], env=env)
    assert "启用月份" not in result.output and stored(factory) == first


def test_check_says_whether_the_months_run(cli_db):
    env = {**cli_db[0], "ZHIBU_SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123"}
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "启用月份：未设置——不计算月积分、不发月度通报" in result.output
    assert golive(env, "2027-01").exit_code == 0
    assert "启用月份：2027年1月" in CliRunner().invoke(app, ["check"], env=env).output


def test_setting_the_start_month_is_in_the_audit_log(cli_db):
    from sqlalchemy import select

    from models.audit import AuditEntry

    env, factory = cli_db
    assert golive(env, "2027-01").exit_code == 0
    assert golive(env, "2027-02").exit_code == 0
    with factory() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity == "org_setting")).all()
    assert [(e.via, e.action, e.before, e.after) for e in entries] == [
        ("cli", "create", None, {"key": "start_month", "value": "2027-01"}),
        (
            "cli",
            "update",
            {"key": "start_month", "value": "2027-01"},
            {"key": "start_month", "value": "2027-02"},
        ),
    ]
    assert all(e.actor_label.startswith("命令行") and e.entity_id is None for e in entries)
