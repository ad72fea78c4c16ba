"""晒比评: the 红旗/蜗牛 proposal rule on data whose answer is known, and the committee's decision (roles,
once per month, published)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from handlers.projects import compare, library, progress, review
from handlers.projects.config import DEFAULT as CFG
from models.outbox import OutboxMessage
from models.projects import PickKind, ProjectPick
from tests.harness import readable
from tests.projects.conftest import local

T0 = local(date(2027, 2, 10))
MARCH = date(2027, 3, 1)


def _project(session, org, who, title, *milestones):
    raw = {"title": title, "problem": "问题", "content": "举措", "expected": "目标", "leaders": who.name,
           "milestones": list(milestones)}  # fmt: skip
    p = library.register(session, who, raw, now=T0, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=T0, cfg=CFG, public_base_url="http://x")
    review.score(session, org.sun, p.id, 80, "", now=T0, cfg=CFG, public_base_url="http://x")
    return p


@pytest.fixture
def month(session, org):
    library.set_call(session, org.feng, 2027, date(2027, 3, 31), 2, cfg=CFG)
    a = _project(session, org, org.wang, "A 光伏", "2027-03-31 并网", "2027-09-30 验收")
    d = _project(session, org, org.wang, "D 道路", "2027-08-31 硬化")
    b = _project(session, org, org.li, "B 停车", "2027-03-31 摸底")
    c = _project(session, org, org.zhao, "C 窗口", "2027-06-30 承诺制")
    at = local(date(2027, 3, 20))
    progress.report(session, org.wang, a.id, "并网完成", milestone_seq=1, done=True, now=at, cfg=CFG)
    progress.report(session, org.zhao, c.id, "制度起草中", now=at, cfg=CFG)
    progress.report(session, org.li, b.id, "二月的进展", now=T0, cfg=CFG)  # February: not March
    session.flush()
    return {"A": a.id, "B": b.id, "C": c.id, "D": d.id}


def test_the_proposal_rule(session, org, month):
    rows, decided = compare.month_view(session, org.committee, MARCH, CFG)
    assert not decided
    got = {r.project.title[0]: (r.proposal, r.late, r.reports, r.completed) for r in rows}
    assert got == {
        "A": (PickKind.RED_FLAG, 0, 1, 1),  # reported, one milestone completed in March, none late
        "B": (PickKind.SNAIL, 1, 0, 0),  # silent in March and its 3月31日 milestone not done
        "D": (PickKind.SNAIL, 0, 0, 0),  # silent, nothing due yet: after B (fewer late)
        "C": (None, 0, 1, 0),  # reported, nothing completed: neither
    }
    reasons = {r.project.title[0]: r.reason for r in rows}
    assert reasons["B"] == "1个节点逾期未完成，本月未报告进展" and "完成1个节点" in reasons["A"]
    # With room for one 蜗牛 only, B (late) is kept, D is not.
    rows = compare.propose(compare.month_facts(session, compare.committee_projects(session, org.committee), MARCH),
                           CFG.__class__(snails=1))  # fmt: skip
    assert [r.project.title[0] for r in rows if r.proposal == PickKind.SNAIL] == ["B"]


def test_people_decide_once_within_their_role(session, org, month):
    ids = month
    with pytest.raises(Refused) as no:
        compare.decide(session, org.li, org.committee, MARCH, [ids["A"]], [], now=T0, cfg=CFG)
    assert no.value.status == 403
    with pytest.raises(Refused) as both:
        compare.decide(session, org.zhou, org.committee, MARCH, [ids["A"]], [ids["A"]], now=T0, cfg=CFG)
    assert both.value.status == 422
    with pytest.raises(Refused) as unknown:
        compare.decide(session, org.zhou, org.committee, MARCH, [999], [], now=T0, cfg=CFG)
    assert unknown.value.status == 422 and "#999" in str(unknown.value)
    # The committee takes A as 红旗 and B as 蜗牛, and C (not proposed) as 红旗 too; D's proposal is not taken.
    compare.decide(session, org.zhou, org.committee, MARCH, [ids["A"], ids["C"]], [ids["B"]], now=T0, cfg=CFG)
    picks = {p.project_id: (p.proposed_kind, p.chosen_kind) for p in session.scalars(select(ProjectPick))}
    assert picks == {
        ids["A"]: (PickKind.RED_FLAG, PickKind.RED_FLAG),
        ids["B"]: (PickKind.SNAIL, PickKind.SNAIL),
        ids["C"]: (None, PickKind.RED_FLAG),
        ids["D"]: (PickKind.SNAIL, None),
    }
    with pytest.raises(Refused) as again:
        compare.decide(session, org.feng, org.committee, MARCH, [], [], now=T0, cfg=CFG)
    assert again.value.status == 409
    rows, decided = compare.month_view(session, org.committee, MARCH, CFG)
    assert decided and {r.project.id: r.chosen for r in rows}[ids["D"]] is None
    # Published to the committee's leaders and the secretaries: 红旗 A and C, 蜗牛 B.
    for person in (org.feng, org.li):
        (text,) = [
            readable(m.payload)
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == person.id))
            if "晒比评" in readable(m.payload)
        ]
        assert "城关镇党委2027年3月书记项目晒比评" in text
        red, snail = text.split("蜗牛项目", 1)
        assert "A 光伏" in red and "C 窗口" in red and "B 停车" in snail and "D 道路" not in text


def test_a_month_in_progress_counts_late_milestones_as_of_today(session, org, month):
    """While March runs, B's 3月31日 milestone is not late yet (nor on the day itself), and not having
    reported yet is no fault: nothing is proposed as 蜗牛. Once March is over it is judged at its end."""

    def view(today):
        rows, _ = compare.month_view(session, org.committee, MARCH, CFG, today)
        return {r.project.title[0]: (r.proposal, r.late, r.due) for r in rows}

    for today in (date(2027, 3, 4), date(2027, 3, 31)):
        got = view(today)
        assert got["B"] == (None, 0, 1) and got["D"] == (None, 0, 0), today
        assert got["A"][0] == PickKind.RED_FLAG
    assert view(date(2027, 4, 1))["B"] == (PickKind.SNAIL, 1, 1)
    assert view(date(2027, 6, 1)) == view(None)  # a past month: as of its end, whatever today is
    # A milestone from an earlier month still open today is late in the running month too.
    assert view(date(2027, 4, 4)) == view(date(2027, 4, 1))
    april, _ = compare.month_view(session, org.committee, date(2027, 4, 1), CFG, date(2027, 4, 4))
    assert {r.project.title[0]: r.late for r in april}["B"] == 1
