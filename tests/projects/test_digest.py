"""The committees' monthly digest names the month's 红旗/蜗牛 书记项目 as the committee decided them (seed 003:
每月底评选公示), read from the stored picks: the choice, not the software's proposal; before the decision only that
it is pending (the card goes out on the 1st, the choice is often made later), nothing for a committee without
projects, nothing in another month's digest, and the card reaches the committee's leaders."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly import digest
from handlers.monthly.config import MonthlyConfig
from handlers.projects import compare, library, progress, review
from handlers.projects.config import DEFAULT as CFG
from models.monthly import MonthlyScore
from models.org import BranchCategory, Platform, UnitKind
from models.outbox import OutboxMessage
from models.projects import PickKind, ProjectPick
from tests import builders
from tests.projects.conftest import build, local

T0 = local(date(2027, 2, 10))
MARCH, APRIL = date(2027, 3, 1), date(2027, 4, 1)
KINDS = MonthlyConfig().committee_kinds


def _project(session, org, who, title, *milestones):
    raw = {"title": title, "problem": "问题", "content": "举措", "expected": "目标", "leaders": who.name,
           "milestones": list(milestones)}  # fmt: skip
    p = library.register(session, who, raw, now=T0, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=T0, cfg=CFG, public_base_url="http://x")
    review.score(session, org.sun, p.id, 80, "", now=T0, cfg=CFG, public_base_url="http://x")
    return p


def _score(unit_id: int, month: date, kind: str) -> MonthlyScore:
    return MonthlyScore(
        unit_id=unit_id, month=month, unit_kind=kind, peer_group="community" if kind == "branch" else "township",
        score=90, rank=1, group_size=1, lagging=False, explanation={}, computed_at=datetime(2027, 4, 1, tzinfo=UTC),
    )  # fmt: skip


@pytest.fixture(params=[Platform.DINGTALK, Platform.WECOM], ids=["dingtalk", "wecom"])
def march(request, session):
    """城关镇党委's March: A kept its milestone (proposed 红旗), B is late and silent (proposed 蜗牛), C reported
    without completing anything (proposed nothing); scores stored for March and April. Another committee,
    河西乡党委, has a branch and a score but decides nothing."""
    org = build(session, request.param)
    library.set_call(session, org.feng, 2027, date(2027, 3, 31), 2, cfg=CFG)
    a = _project(session, org, org.wang, "光伏并网", "2027-03-31 并网")
    b = _project(session, org, org.li, "停车难", "2027-03-31 摸底")
    c = _project(session, org, org.zhao, "窗口提速", "2027-06-30 承诺制")
    at = local(date(2027, 3, 20))
    progress.report(session, org.wang, a.id, "并网完成", milestone_seq=1, done=True, now=at, cfg=CFG)
    progress.report(session, org.zhao, c.id, "制度起草中", now=at, cfg=CFG)
    other = builders.unit(session, "河西乡党委", UnitKind.COMMITTEE)
    other_branch = builders.unit(session, "河西村党支部", UnitKind.BRANCH, other, BranchCategory.RURAL)
    for month in (MARCH, APRIL):
        for unit in (org.committee, other):
            session.add(_score(unit.id, month, "committee"))
        for unit in (org.village, org.community, org.office, other_branch):
            session.add(_score(unit.id, month, "branch"))
    session.commit()
    return org, {"A": a.id, "B": b.id, "C": c.id}, other


def _committee_text(session, committee_id: int, month: date = MARCH) -> str:
    return digest.text_for(digest.load(session, month, MEETINGS), committee_id, KINDS)


def test_the_digest_names_the_decided_picks_only(session, march):
    org, ids, other = march
    rows, _ = compare.month_view(session, org.committee, MARCH, CFG)
    assert {r.project.id: r.proposal for r in rows} == {
        ids["A"]: PickKind.RED_FLAG, ids["B"]: PickKind.SNAIL, ids["C"]: None,
    }  # fmt: skip
    # Before the committee decides: a line saying it has not (the proposal is not published).
    before = _committee_text(session, org.committee.id)
    assert "**书记项目晒比评（2027年3月）**：党委尚未评定红旗项目和蜗牛项目" in before
    assert "光伏并网" not in before and "停车难" not in before
    # The committee takes C (not proposed) as 红旗 beside A, and leaves B's proposed 蜗牛 untaken.
    compare.decide(session, org.zhou, org.committee, MARCH, [ids["A"], ids["C"]], [], now=local(date(2027, 3, 31)),
                   cfg=CFG)  # fmt: skip
    session.commit()
    text = _committee_text(session, org.committee.id)
    assert (
        "**书记项目晒比评（2027年3月）**：红旗项目：河东村党支部《光伏并网》、镇机关党支部《窗口提速》；蜗牛项目：无"
        in text
    )
    assert "停车难" not in text  # proposed, not chosen
    assert (
        session.scalars(select(ProjectPick).where(ProjectPick.project_id == ids["B"])).one().chosen_kind
        is None
    )
    # Not in April's digest (undecided there), nor in the other committee's (no projects), nor in a branch's card.
    april = _committee_text(session, org.committee.id, APRIL)
    assert "尚未评定" in april and "光伏并网" not in april
    assert "书记项目晒比评" not in _committee_text(session, other.id)
    assert "书记项目晒比评" not in digest.text_for(
        digest.load(session, MARCH, MEETINGS), org.village.id, KINDS
    )


def test_the_committees_card_carries_them_to_its_leaders(session, march):
    org, ids, _other = march
    compare.decide(session, org.feng, org.committee, MARCH, [ids["A"]], [ids["B"]], now=local(date(2027, 3, 31)),
                   cfg=CFG)  # fmt: skip
    session.commit()
    sent = digest.send_digests(session, MARCH, now=local(date(2027, 4, 1), 9), mcfg=MonthlyConfig(), cfg=MEETINGS,
                               base_url="", secret="k")  # fmt: skip
    session.commit()
    assert sent
    cards = {
        m.person_id: m.payload["text"]
        for m in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.dedup_key == f"monthly:digest:{org.committee.id}:2027-03"
            )
        )
    }
    assert set(cards) == {org.feng.id, org.deputy.id, org.zhou.id}
    line = "**书记项目晒比评（2027年3月）**：红旗项目：河东村党支部《光伏并网》；蜗牛项目：城关社区党支部《停车难》"
    assert all(line in text for text in cards.values())
