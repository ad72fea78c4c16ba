"""`zhibu run-job monthly --period YYYY-MM [--send]`: recompute, show the differences, send only when asked."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from models import startmonth
from models.jobs import JobRun
from models.meetings import MeetingType
from models.monthly import MonthlyScore
from models.outbox import OutboxMessage
from tests.monthly.conftest import QUARTER, build_county, comply

SEP = date(2026, 9, 1)


def test_run_job_monthly_recomputes_and_sends_on_request(migrated_url, session_factory, monkeypatch):
    monkeypatch.setenv("ZHIBU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "a-long-enough-production-secret")
    factory = session_factory
    with factory() as session:
        county = build_county(session, start=None)
        for b in (county.b1, county.b3, county.b4):
            comply(session, county, b, SEP, QUARTER)
        comply(session, county, county.b2, SEP, (MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE))
        session.commit()
    runner = CliRunner()
    # No start month yet (no roster import, no `zhibu golive`): nothing monthly runs.
    result = runner.invoke(app, ["run-job", "monthly", "--period", "2026-09"])
    assert result.exit_code != 0 and "还没有设置支部助手的启用月份" in result.output
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(MonthlyScore)) == 0
        startmonth.set_start_month(session, SEP)
        session.commit()
    result = runner.invoke(app, ["run-job", "monthly", "--period", "2026-09"])
    assert result.exit_code == 0, result.output
    assert "2026年9月：共6个单位，新增6个" in result.output and "未发送任何消息" in result.output
    # A late correction: the 党员大会 gets recorded; the recompute names the branch and what changed.
    with factory() as session:
        comply(session, county, county.b2, SEP, (MeetingType.PARTY_CONGRESS,), day=12, plan=False)
        session.commit()
    result = runner.invoke(app, ["run-job", "monthly", "--period", "2026-09"])
    assert result.exit_code == 0, result.output
    assert "- 东门社区党支部：" in result.output and "会议完成" in result.output
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    result = runner.invoke(app, ["run-job", "monthly", "--period", "2026-09", "--send"])
    assert result.exit_code == 0, result.output
    assert "月度通报" in result.output
    with factory() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
        assert queued > 0
        assert session.scalar(select(JobRun.period).where(JobRun.job_name == "monthly")) == "2026-09"
    # Sending again succeeds, changes nothing and queues nothing new (every message has its dedup key).
    result = runner.invoke(app, ["run-job", "monthly", "--period", "2026-09", "--send"])
    assert result.exit_code == 0, result.output
    assert "新增0个，变化0个，不变6个" in result.output
    assert "已排队：约谈提醒0条，结束提醒0个，党员提示0条，月度通报0条，未落实提醒0条。" in result.output
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == queued
    result = runner.invoke(app, ["run-job", "monthly", "--period", "九月"])
    assert result.exit_code != 0 and "月份格式应为 2026-10" in result.output
    # A month before the start month is refused with the reason; nothing is computed for it.
    result = runner.invoke(app, ["run-job", "monthly", "--period", "2026-08", "--send"])
    assert result.exit_code != 0
    assert (
        "2026年8月早于支部助手的启用月份2026年9月" in result.output
        and "zhibu golive 2026-08 --force" in result.output
    )
    with factory() as session:
        assert not session.scalar(
            select(func.count()).select_from(MonthlyScore).where(MonthlyScore.month < SEP)
        )
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == queued
