"""/console/lifemeetings: each viewer sees the branches of their scope only, with the right numbers: held or not
and when, each step's completion and who is missing, the 整改措施 open; a bad year is 422, no login no page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from handlers.meetings.meetings import schedule_meeting
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from models.db import unit_of_work
from models.lifemeeting import LifeMeetingMeasure, LifeMeetingPlan, LifeMeetingStep, LifeStep
from models.meetings import MeetingType
from models.org import OrgUnit, Person, Role, UnitKind
from models.talks import HeartTalk, HeartTalkPerson
from tests import builders
from tests.console.people_world import NOW, build_world, console_app, login


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        w = build_world(session)
        b1, b2 = w.units["b1"], w.units["b2"]
        plan = LifeMeetingPlan(
            branch_id=b1, year=2026, planned_on=date(2026, 12, 20), study_due=date(2026, 11, 29),
            opinions_due=date(2026, 12, 6), talks_due=date(2026, 12, 13), materials_due=date(2026, 12, 17),
            set_by_id=w.people["wang"], set_at=NOW,
        )  # fmt: skip
        session.add(plan)
        session.flush()
        session.add(LifeMeetingStep(plan_id=plan.id, person_id=w.people["li"], step=LifeStep.STUDY,
                                    submitted_at=NOW, done_at=NOW))  # fmt: skip
        # 幸福社区党支部 held its 组织生活会 on 1 December, with one 整改措施 open and one done.
        chen = session.get(Person, w.people["chen"])
        builders.role(session, chen, session.get(OrgUnit, b2), Role.SECRETARY)  # also 幸福社区's 书记
        session.flush()
        meeting = schedule_meeting(
            session, chen, types=[MeetingType.ORG_LIFE], starts_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
            place="会议室", topic="年度组织生活会", now=datetime(2026, 11, 20, tzinfo=UTC), cfg=MEETINGS,
        )  # fmt: skip
        session.add_all([
            LifeMeetingMeasure(meeting_id=meeting.id, content="整改一", owner_id=w.people["zhang"],
                               due_on=date(2026, 12, 2)),
            LifeMeetingMeasure(meeting_id=meeting.id, content="整改二", owner_id=w.people["ma"],
                               due_on=date(2027, 1, 31), done_at=NOW),
        ])  # fmt: skip
    return w


def _row(html: str, name: str) -> str:
    start = html.index(f"<td>{name}</td>")
    return html[start : html.index("</tr>", start)]


def test_the_committee_sees_its_branches_with_the_numbers(session_factory, world):
    chen = login(session_factory, console_app(session_factory), world.people["chen"])  # 城关镇党委 书记
    page = chen.get("/console/lifemeetings?year=2026")
    assert page.status_code == 200
    html = page.text
    assert "组织生活会（2026年）" in html and "县人民医院党支部" not in html  # another committee's branch
    assert "已召开 <strong>1</strong> 个，未召开 <strong>1</strong> 个" in html
    east = _row(html, "东风村党支部")
    assert "未召开" in east and "计划 2026-12-20" in east
    # 学习研讨 1 of 2 (李小红 marked); 王建国 still missing it; nobody has the materials.
    assert '<td>1/2<div class="muted">未完成：王建国</div></td>' in east
    assert "学习研讨、征求意见、谈心谈话、对照检查材料" in east
    happy = _row(html, "幸福社区党支部")
    assert "已召开</strong> 2026-12-01" in happy and "2项，未完成1项（逾期1项）" in happy
    # The hub stays marked in the top bar.
    assert 'href="/console/year" class="on"' in html


def test_the_talks_step_counts_the_talks_recorded(session_factory, world):
    """东风村: 王建国 (书记) and 李小红: one talk owed. The cell moves when it is recorded, as 谈心谈话情况 counts."""
    chen = login(session_factory, console_app(session_factory), world.people["chen"])
    cells = _row(chen.get("/console/lifemeetings?year=2026").text, "东风村党支部").split("<td>")
    talks_before = cells[5]  # 党支部, 召开情况, 学习研讨, 征求意见, 谈心谈话
    assert talks_before.startswith("0/1")
    with unit_of_work(session_factory) as s:
        talk = HeartTalk(branch_id=world.units["b1"], held_on=date(2026, 12, 2), topic="工作和思想情况",
                         people_key=f"{world.people['wang']},{world.people['li']}",
                         recorded_by_id=world.people["wang"], recorded_at=NOW)  # fmt: skip
        s.add(talk)
        s.flush()
        s.add_all([HeartTalkPerson(talk_id=talk.id, person_id=world.people[k]) for k in ("wang", "li")])
    cells = _row(chen.get("/console/lifemeetings?year=2026").text, "东风村党支部").split("<td>")
    assert cells[5].startswith("1/1</td>")


def test_a_branch_secretary_sees_their_branch_only_and_org_staff_everything(session_factory, world):
    app = console_app(session_factory)
    wang = login(session_factory, app, world.people["wang"])  # 东风村党支部 书记
    html = wang.get("/console/lifemeetings").text
    assert "东风村党支部" in html and "幸福社区党支部" not in html and "县人民医院党支部" not in html
    zhao = login(session_factory, app, world.people["zhao"])  # 组织部
    html = zhao.get("/console/lifemeetings?year=2026").text
    assert all(n in html for n in ("东风村党支部", "幸福社区党支部", "县人民医院党支部"))
    # Another year: nothing planned nor held.
    html = zhao.get("/console/lifemeetings?year=2025").text
    assert "已召开 <strong>0</strong> 个" in html and "计划 2026" not in html


def test_refusals(session_factory, world):
    app = console_app(session_factory)
    chen = login(session_factory, app, world.people["chen"])
    resp = chen.get("/console/lifemeetings?year=abcd")
    assert resp.status_code == 422 and "年份请写四位数字" in resp.text
    assert "填写的内容有误" in resp.text and "您没有权限" not in resp.text  # a bad value, not a missing right
    assert chen.get("/console/lifemeetings?year=1999").status_code == 422
    member = login(session_factory, app, world.people["li"])  # a member: no console scope
    assert member.get("/console/lifemeetings", follow_redirects=False).status_code in (303, 403)
    anonymous = TestClient(app)
    resp = anonymous.get("/console/lifemeetings", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/console/login")


def test_pages_of_a_hundred_branches(session_factory, world):
    with unit_of_work(session_factory) as session:
        c2 = session.get(OrgUnit, world.units["c2"])
        for n in range(100):
            builders.unit(session, f"第{n:03d}支部", UnitKind.BRANCH, c2)
    zhao = login(session_factory, console_app(session_factory), world.people["zhao"])  # 组织部: 103 branches
    first, second = (
        zhao.get("/console/lifemeetings?year=2026").text,
        zhao.get("/console/lifemeetings?page=2").text,
    )
    assert first.count('<tr id="b') == 100 and second.count('<tr id="b') == 3
    assert 'href="/console/lifemeetings?year=2026&page=2"' in first
