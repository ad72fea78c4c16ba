"""Job appraisal.remind: on the last day, the members who still have to self-assess or vote (read from the
"has voted" flags only) get one card each; the day after the close, the branch's managers get the turnout.
A second run of the same day queues nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.appraisal import jobs
from handlers.appraisal.config import DEFAULT as CFG
from models.outbox import OutboxMessage
from scheduler.jobs import JOB_MODULES
from tests.appraisal.conftest import CORE
from tests.appraisal.test_flow import PLAN, ballot_form, mark_suspended, open_it, post


def _messages(session, key: str) -> dict[int, str]:
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == key)).all()
    return {r.person_id: r.payload["text"] for r in rows}


def test_the_last_day_and_the_day_after(world, session):
    a = open_it(world)
    mark_suspended(world, a.id)
    for acc in ("wang", "li", "zs"):
        post(world.h5(acc), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, PLAN[acc]))
    post(world.h5("zs"), f"/h5/appraisal/{a.id}/self", {"self_assessment": "已自评"})
    post(world.h5("ls"), f"/h5/appraisal/{a.id}/self", {"self_assessment": "已自评"})
    ids = {acc: p.id for acc, p in world.org.people.items()}

    with world.session_factory() as s, s.begin():
        assert jobs.remind(s, date(2026, 12, 8), world.clock.now, CORE, CFG) == 0  # not the last day yet
    with world.session_factory() as s, s.begin():
        queued = jobs.remind(s, date(2026, 12, 9), world.clock.now, CORE, CFG)
    last = _messages(session, f"appraisal:{a.id}:last-day")
    assert queued == len(last) == 7  # everyone but 张三 (voted and self-assessed)
    assert "还没有完成：投票、个人自评" in last[ids["ww"]] and "还没有完成：投票。" in last[ids["ls"]]
    assert "还没有完成：个人自评" in last[ids["wang"]] and "还没有完成：个人自评" in last[ids["cq"]]
    assert "还没有完成：个人自评" in last[ids["zb"]]  # 留党察看: no vote, still self-assesses
    with world.session_factory() as s, s.begin():
        assert jobs.remind(s, date(2026, 12, 9), world.clock.now, CORE, CFG) == 0

    with world.session_factory() as s, s.begin():
        jobs.remind(s, date(2026, 12, 10), world.clock.now, CORE, CFG)
    closed = _messages(session, f"appraisal:{a.id}:closed")
    assert set(closed) == {ids["wang"], ids["li"]} and "应投票6人，已投3人" in closed[ids["wang"]]


def test_the_job_is_scheduled_daily():
    [spec] = [j for m in JOB_MODULES for j in m.jobs(CORE) if j.name == "appraisal.remind"]
    assert spec.cron == "0 9 * * *" and spec.period.__name__ == "daily"
