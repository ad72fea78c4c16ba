"""The month-end reminder and its ladder, on an injected clock: sent once per (project, month, rung);
a month without a report climbs monthly's committee ladder (组织委员 → 副书记 → 书记 + 组织部); a report
ends the run; late milestones are named."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.projects import library, progress, review
from handlers.projects.config import DEFAULT as CFG
from handlers.projects.jobs import jobs
from models.outbox import OutboxMessage
from models.projects import ProjectReminder
from tests.harness import CONFIG, readable
from tests.projects.conftest import REGISTRATION, local

BASE = "http://testserver"


def _accepted(session, org, who, account, at):
    p = library.register(session, who, REGISTRATION[account], now=at, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=at, cfg=CFG, public_base_url=BASE)
    review.score(session, org.sun, p.id, 80, "", now=at, cfg=CFG, public_base_url=BASE)
    return p


def _texts(session, person_id, part):
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.person_id == person_id).order_by(OutboxMessage.id)
    )
    return [readable(r.payload) for r in rows if part in readable(r.payload)]


def _run(session, day):
    sent = progress.remind(session, now=local(day, 9), cfg=CFG, public_base_url=BASE)
    session.flush()
    return sent


def test_reminder_once_then_the_ladder_then_a_report_ends_it(session, org):
    t0 = local(date(2027, 2, 10))
    wang = _accepted(session, org, org.wang, "wangsj", t0)
    li = _accepted(session, org, org.li, "lisj", t0)
    progress.report(session, org.wang, wang.id, "召开村民代表会议", now=t0, cfg=CFG)

    assert _run(session, date(2027, 2, 24)) == 0  # before the 25th: nothing
    assert _run(session, date(2027, 2, 25)) == 1  # li, who has not reported this month
    assert _run(session, date(2027, 2, 26)) == 0  # once
    (card,) = _texts(session, org.li.id, "月度进展提醒")
    assert "2027年2月还没有报告进展" in card and "报告进展" in card
    assert not _texts(session, org.wang.id, "月度进展提醒")

    # February ended without li's report: one month → the committee's 组织委员 (and li).
    assert _run(session, date(2027, 3, 1)) == 2
    assert _run(session, date(2027, 3, 2)) == 0
    (notice,) = _texts(session, org.zhou.id, "未报告进展")
    assert "已连续1个月（2027年2月）未报告进展" in notice and "告知周组织" in notice
    assert _texts(session, org.li.id, "未报告进展")
    assert not _texts(session, org.deputy.id, "未报告进展")

    # March too: two months → the 副书记; the milestone due 3月31日 is named late.
    _run(session, date(2027, 3, 25))
    _run(session, date(2027, 4, 1))
    (notice,) = _texts(session, org.deputy.id, "未报告进展")
    assert "已连续2个月" in notice and "完成摸底（已逾期）" in notice
    # wang skipped March only: his first rung, not li's second.
    assert any(
        "村集体经济增收" in t and "已连续1个月" in t for t in _texts(session, org.zhou.id, "未报告进展")
    )

    # Three months: the committee's 书记, copied to the 组织部.
    _run(session, date(2027, 5, 1))
    assert any("已连续3个月" in t for t in _texts(session, org.feng.id, "未报告进展"))
    assert any("已连续3个月" in t for t in _texts(session, org.sun.id, "未报告进展"))

    # li reports in May: June 1st sends li nothing more.
    progress.report(session, org.li, li.id, "停车位已动工", now=local(date(2027, 5, 20)), cfg=CFG)
    before = len(_texts(session, org.li.id, "未报告进展"))
    _run(session, date(2027, 6, 1))
    assert len(_texts(session, org.li.id, "未报告进展")) == before
    rungs = sorted(
        (r.month, r.rung)
        for r in session.scalars(select(ProjectReminder).where(ProjectReminder.project_id == li.id))
    )
    assert rungs == [
        (date(2027, 2, 1), 0),
        (date(2027, 2, 1), 1),
        (date(2027, 3, 1), 0),
        (date(2027, 3, 1), 2),
        (date(2027, 4, 1), 3),
    ]  # fmt: skip  (no run on April 25th here: April's reminder was never due)


def test_the_registered_job_runs_the_check(session, org):
    t0 = local(date(2027, 2, 10))
    _accepted(session, org, org.li, "lisj", t0)
    session.commit()
    (spec,) = [j for j in jobs(CONFIG) if j.name == "projects.progress"]
    assert spec.cron == "0 9 * * *"
    spec.function(session, local(date(2027, 2, 27), 9), "2027-02-27")
    assert _texts(session, org.li.id, "月度进展提醒")
