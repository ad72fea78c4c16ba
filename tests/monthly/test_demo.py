"""`zhibu demo` shows last month's 月积分: two months of seeded history, the digests queued, the period claimed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.cli.serve import DEMO_HISTORY_MONTHS, demo_monthly, demo_settings
from config import demo
from models.jobs import JobRun
from models.monthly import MonthlyScore
from models.org import Person
from models.outbox import OutboxMessage
from models.seed import seed

NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)  # 10:00 in Shanghai


def test_demo_sends_last_months_digest_to_each_secretary(session, database_url):
    seed(session, "demo", dingtalk_corp_id=demo.DINGTALK_CORP_ID, wecom_corp_id=demo.WECOM_CORP_ID,
         months=DEMO_HISTORY_MONTHS, today=NOW.date(), now=NOW)  # fmt: skip
    session.commit()
    s = demo_settings(database_url, "http://127.0.0.1:18080", "http://127.0.0.1:8000")
    run = demo_monthly(session, s, NOW)
    session.commit()
    assert run.month.isoformat() == "2026-10-01"
    scored = session.scalars(select(MonthlyScore).where(MonthlyScore.month == run.month)).all()
    assert len([r for r in scored if r.explanation.get("meetings") is not None]) == 6  # the six branches
    # The history is real: some branch held meetings last month and some item is missing somewhere.
    assert any(m["held"] for r in scored for m in r.explanation.get("meetings") or [])
    wang = session.scalar(select(Person).where(Person.name == "王建国"))  # 东风村党支部's secretary
    digests = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.person_id == wang.id, OutboxMessage.dedup_key.startswith("monthly:digest:")
        )
    ).all()
    assert len(digests) == 1 and "东风村党支部" in digests[0].payload["title"]
    assert "http://127.0.0.1:8000/h5/monthly/" in str(digests[0].payload)
    assert run.digests >= 6
    assert session.scalar(select(JobRun.period).where(JobRun.job_name == "monthly")) == "2026-10"
