"""排位赛 and 进度通报: the ranking rule on crafted data whose answer is known, the confirmation (roles,
after the quarter, once), the bulletin's recipients, and the reminder job on an injected clock."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from handlers.projects import bulletin, compare, library, orders, progress, review, strings
from handlers.projects.config import DEFAULT as CFG
from handlers.projects.jobs import jobs
from models.org import Role, UnitKind
from models.outbox import OutboxMessage
from models.projects import ProjectBulletin, ProjectRanking
from tests import builders
from tests.core.statements import count_statements
from tests.harness import CONFIG, readable
from tests.projects.conftest import local

T0 = local(date(2027, 2, 10))
Q1 = date(2027, 1, 1)
AFTER = local(date(2027, 4, 2))
BASE = "http://testserver"


def _project(session, org, who, title, *milestones):
    raw = {"title": title, "problem": "问题", "content": "举措", "expected": "目标", "leaders": who.name,
           "milestones": list(milestones)}  # fmt: skip
    p = library.register(session, who, raw, now=T0, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=T0, cfg=CFG, public_base_url=BASE)
    review.score(session, org.sun, p.id, 80, "", now=T0, cfg=CFG, public_base_url=BASE)
    return p


def quarter_data(session, org) -> dict[str, int]:
    """Five projects in the first quarter of 2027, whose ranking is A, D, E, C, B:

    * A: its 3月31日 milestone done on 3月20日, reported in February and March, 红旗 in March;
    * B: its 3月31日 milestone not done (1 late), reported in February only, 蜗牛 in March;
    * C: nothing due, reported in March, but a 督办单 open at the quarter's end;
    * D and E: nothing due, never reported, no pick, no 督办单: the same facts, D the older.
    """
    library.set_call(session, org.feng, 2027, date(2027, 3, 31), 2, cfg=CFG)
    a = _project(session, org, org.wang, "A 光伏", "2027-03-31 并网", "2027-09-30 验收")
    d = _project(session, org, org.wang, "D 道路", "2027-08-31 硬化")
    b = _project(session, org, org.li, "B 停车", "2027-03-31 摸底")
    c = _project(session, org, org.zhao, "C 窗口", "2027-06-30 承诺制")
    e = _project(session, org, org.zhao, "E 窗口二期", "2027-08-31 上线")
    feb, march = local(date(2027, 2, 20)), local(date(2027, 3, 20))
    progress.report(session, org.wang, a.id, "选址完成", now=feb, cfg=CFG)
    progress.report(session, org.wang, a.id, "并网完成", milestone_seq=1, done=True, now=march, cfg=CFG)
    progress.report(session, org.li, b.id, "二月的进展", now=feb, cfg=CFG)
    progress.report(session, org.zhao, c.id, "制度起草中", now=march, cfg=CFG)
    orders.issue(session, org.zhou, c.id, date(2027, 4, 15), "四月中旬前推出承诺制", now=march, cfg=CFG)
    compare.decide(session, org.zhou, org.committee, date(2027, 3, 1), [a.id], [b.id], now=AFTER, cfg=CFG)
    session.flush()
    return {"A": a.id, "B": b.id, "C": c.id, "D": d.id, "E": e.id}


@pytest.fixture
def quarter(session, org):
    return quarter_data(session, org)


def _titles(rows):
    return [r.project.title[0] for r in rows]


def test_the_ranking_rule(session, org, quarter):
    rows, confirmed = bulletin.quarter_view(session, org.committee, Q1, CFG)
    assert confirmed is None
    assert _titles(rows) == ["A", "D", "E", "C", "B"] and [r.rank for r in rows] == [1, 2, 3, 4, 5]
    facts = {
        r.project.title[0]: (
            r.due,
            r.on_time,
            r.late,
            r.months_reported,
            r.red_flags,
            r.snails,
            r.open_orders,
        )
        for r in rows
    }
    assert facts == {
        "A": (1, 1, 0, 2, 1, 0, 0),
        "B": (1, 0, 1, 1, 0, 1, 0),
        "C": (0, 0, 0, 1, 0, 0, 1),
        "D": (0, 0, 0, 0, 0, 0, 0),
        "E": (0, 0, 0, 0, 0, 0, 0),
    }
    assert (
        rows[0].facts()
        == "节点按期完成1/1，逾期未完成0个，报告进展2/3个月，红旗1次，蜗牛0次，未办结督办单0件"
    )
    # The 督办单 closed before the quarter's end would no longer count against C: C then ties with D and E
    # on everything but its report, and moves up to second.
    (order,) = bulletin.open_orders(session, [quarter["C"]], Q1, CFG)
    order.status, order.closed_at = order.status.CLOSED, local(date(2027, 3, 30))
    session.flush()
    rows, _ = bulletin.quarter_view(session, org.committee, Q1, CFG)
    assert _titles(rows) == ["A", "C", "D", "E", "B"]
    # Closed after the quarter: it was still open at its end.
    order.closed_at = local(date(2027, 4, 1))
    session.flush()
    rows, _ = bulletin.quarter_view(session, org.committee, Q1, CFG)
    assert _titles(rows) == ["A", "D", "E", "C", "B"]


def test_quarters_are_parsed_the_way_they_are_written():
    today = date(2027, 5, 6)
    for text in ("2027Q1", "2027q1", "2027-Q1", "2027年第1季度", "2027年一季度", "2027年第一季度"):
        assert bulletin.parse_quarter(text, today) == Q1, text
    assert bulletin.parse_quarter("", today) == Q1  # the last whole quarter
    assert bulletin.parse_quarter("", date(2027, 1, 3)) == date(2026, 10, 1)
    for text in ("2027Q5", "2027", "一季度", "2027-13"):
        assert bulletin.parse_quarter(text, today) is None, text
    assert bulletin.code(date(2027, 10, 1)) == "2027Q4"


def test_confirmed_once_by_the_committee_and_published_to_leaders_and_secretaries(session, org, quarter):
    other = builders.unit(session, "河西镇党委", UnitKind.COMMITTEE)
    stranger = builders.person(session, "钱书记", None, account_id="qiansj")
    builders.role(session, stranger, other, Role.SECRETARY)
    session.flush()
    for who in (org.li, org.member, stranger):  # a branch's secretary, a member, another committee's 书记
        with pytest.raises(Refused) as no:
            bulletin.confirm(session, who, org.committee, Q1, now=AFTER, cfg=CFG, public_base_url=BASE)
        assert no.value.status == 403 and "只有本党委" in str(no.value)
    with pytest.raises(Refused) as early:
        bulletin.confirm(
            session, org.zhou, org.committee, Q1, now=local(date(2027, 3, 31)), cfg=CFG, public_base_url=BASE
        )
    assert early.value.status == 422 and "尚未结束" in str(early.value)
    assert session.scalar(select(ProjectBulletin.id)) is None

    b, rows, count = bulletin.confirm(
        session, org.zhou, org.committee, Q1, now=AFTER, cfg=CFG, public_base_url=BASE
    )
    assert b.confirmed_by_id == org.zhou.id and _titles(rows) == ["A", "D", "E", "C", "B"]
    stored = session.scalars(select(ProjectRanking).order_by(ProjectRanking.rank)).all()
    assert [(r.project_id, r.rank) for r in stored] == [(quarter[k], i) for i, k in enumerate("ADECB", 1)]
    with pytest.raises(Refused) as again:
        bulletin.confirm(session, org.feng, org.committee, Q1, now=AFTER, cfg=CFG, public_base_url=BASE)
    assert again.value.status == 409

    # The leaders and the projects' secretaries have the bulletin; members and strangers do not.
    told = {org.feng.id, org.deputy.id, org.zhou.id, org.wang.id, org.li.id, org.zhao.id}
    assert count == len(told) and set(b.recipients) == told
    messages = [
        (m.person_id, readable(m.payload))
        for m in session.scalars(select(OutboxMessage))
        if "进度通报" in readable(m.payload)
    ]
    assert {pid for pid, _ in messages} == told
    text = messages[0][1]
    assert "城关镇党委2027年第1季度书记项目进度通报" in text
    assert (
        text.index("第1名 河东村党支部：A 光伏")
        < text.index("第2名 河东村党支部：D 道路")
        < text.index("第5名 城关社区党支部：B 停车")
    )
    assert "2027年3月：红旗 A 光伏；蜗牛 B 停车" in text and "四月中旬前推出承诺制" in text
    assert f"/h5/projects/bulletin/{org.committee.id}/2027Q1" in text

    # Later facts do not move a confirmed ranking.
    progress.report(session, org.wang, quarter["D"], "补报", now=local(date(2027, 3, 31)), cfg=CFG)
    rows, confirmed = bulletin.quarter_view(session, org.committee, Q1, CFG)
    assert (
        confirmed is not None and _titles(rows) == ["A", "D", "E", "C", "B"] and rows[1].months_reported == 0
    )
    # Who may read it: the units' members, the committee's leaders; not another committee's people.
    assert bulletin.can_read(session, org.member, org.committee, [r.unit for r in rows], CFG)
    assert bulletin.can_read(session, org.deputy, org.committee, [r.unit for r in rows], CFG)
    assert not bulletin.can_read(session, stranger, org.committee, [r.unit for r in rows], CFG)


def _reminders(session, person_id):
    return [
        readable(m.payload)
        for m in session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == person_id))
        if "排位赛待确认" in readable(m.payload)
    ]


def test_the_reminder_job_once_after_the_grace_days(session, org, quarter):
    session.commit()
    (spec,) = [j for j in jobs(CONFIG) if j.name == "projects.progress"]

    def run(day):
        spec.function(session, local(day, 9), day.isoformat())
        session.flush()

    run(date(2027, 4, 10))  # nine days after the quarter: not yet (bulletin_days = 10)
    assert not _reminders(session, org.zhou.id)
    run(date(2027, 4, 11))
    run(date(2027, 4, 12))
    for leader in (org.feng, org.deputy, org.zhou):
        (text,) = _reminders(session, leader.id)
        assert "城关镇党委2027年第1季度已结束10天" in text and "排位赛 2027Q1" in text
    assert not _reminders(session, org.li.id) and not _reminders(session, org.sun.id)
    b = session.scalar(select(ProjectBulletin))
    assert b.reminded_at is not None and b.confirmed_at is None
    # The confirmation after the reminder uses the same row; a confirmed quarter is never reminded.
    bulletin.confirm(
        session, org.feng, org.committee, Q1, now=local(date(2027, 4, 12)), cfg=CFG, public_base_url=BASE
    )
    assert session.scalar(select(ProjectBulletin)).confirmed_by_id == org.feng.id


def test_a_confirmed_quarter_is_not_reminded(session, org, quarter):
    bulletin.confirm(session, org.zhou, org.committee, Q1, now=AFTER, cfg=CFG, public_base_url=BASE)
    assert bulletin.remind(session, now=local(date(2027, 4, 20), 9), cfg=CFG) == 0
    assert not _reminders(session, org.feng.id)


def test_the_bulletin_heads_its_text_and_writes_each_place(session, org, quarter):
    """DingTalk shows a markdown title only in the preview: the heading is the text's first line; a
    markdown ordered list renders as bullets: the place is written out."""
    rows, _ = bulletin.quarter_view(session, org.committee, Q1, CFG)
    m = bulletin.bulletin_message(session, org.committee, Q1, rows, CFG, BASE)
    assert m.text.splitlines()[0] == "**城关镇党委2027年第1季度书记项目进度通报**"
    assert "第1名 河东村党支部：A 光伏" in m.text and "第5名 城关社区党支部：B 停车" in m.text
    assert not any(line[:1].isdigit() for line in m.text.splitlines())
    # WeCom shows the title above the text: as rendered there, the heading stands once.
    from bot.platforms.wecom import render as wecom

    shown = wecom.body(m, task_id="t", base_url=BASE)["markdown"]["content"]
    assert shown.count("城关镇党委2027年第1季度书记项目进度通报") == 1


def test_a_quarter_with_nothing_due_and_nothing_reported_is_not_confirmed(session, org):
    library.set_call(session, org.feng, 2027, date(2027, 3, 31), 2, cfg=CFG)
    _project(session, org, org.wang, "D 道路", "2027-08-31 硬化")
    _project(session, org, org.li, "F 路灯", "2027-09-30 安装")
    session.flush()
    rows, _ = bulletin.quarter_view(session, org.committee, Q1, CFG)
    assert len(rows) == 2 and bulletin.nothing_to_rank(rows)
    with pytest.raises(Refused) as no:
        bulletin.confirm(session, org.zhou, org.committee, Q1, now=AFTER, cfg=CFG, public_base_url=BASE)
    assert no.value.status == 422 and str(no.value) == "本季度各项目没有到期节点，也没有进展报告，无需排位。"
    assert session.scalar(select(ProjectBulletin.id)) is None
    assert not [m for m in session.scalars(select(OutboxMessage)) if "进度通报" in readable(m.payload)]


def test_the_examples_are_the_last_whole_quarter():
    assert bulletin.examples(date(2026, 12, 4)) == {"example": "2026Q3", "example_cn": "2026年第3季度"}
    assert "2027Q1" not in strings.HELP_QUARTER and "2027" not in strings.QUARTER_BAD


def test_readable_bulletins_follow_the_h5_pages_rule(session, org, quarter):
    assert bulletin.readable(session, org.member, CFG) == []  # nothing published
    bulletin.confirm(session, org.zhou, org.committee, Q1, now=AFTER, cfg=CFG, public_base_url=BASE)
    for who in (org.member, org.other_member, org.li, org.feng, org.sun):
        assert [(b.quarter, c.id) for b, c in bulletin.readable(session, who, CFG)] == [
            (Q1, org.committee.id)
        ], who.name
    assert bulletin.readable(session, org.member, CFG, date(2027, 4, 1)) == []
    stranger = builders.person(session, "钱书记", None, account_id="qiansj")
    assert bulletin.readable(session, stranger, CFG) == []
    # However many bulletins there are, the list is read in the same few statements (not per bulletin).
    q1 = session.scalar(select(ProjectBulletin))
    for quarter_ in (date(2026, 10, 1), date(2026, 7, 1)):
        older = ProjectBulletin(
            committee_id=org.committee.id, quarter=quarter_, confirmed_at=q1.confirmed_at, recipients=[]
        )
        older.rankings = [
            ProjectRanking(project_id=r.project_id, rank=r.rank, due=0, on_time=0, late=0, months_reported=0,
                           red_flags=0, snails=0, open_orders=0)
            for r in q1.rankings
        ]  # fmt: skip
        session.add(older)
    session.flush()
    engine = session.get_bind()
    found: list = []
    assert count_statements(engine, lambda: found.extend(bulletin.readable(session, org.member, CFG))) == 5
    assert [b.quarter for b, _ in found] == [Q1, date(2026, 10, 1), date(2026, 7, 1)]
