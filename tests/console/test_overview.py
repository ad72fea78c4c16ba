"""总览 (#16 item 3): the figures, their drill-down (committee → branch → meeting) adding up to them,
the stored and the live month, the month switch and the expanding row (htmx), the observer's view.

The organisation is the monthly tests' small county (two committees, two branches each) with a
closed month (November, its scores stored as the monthly run stores them) and the current one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.core.context import CoreConfig
from bot.web.console import build_console
from bot.web.console.deps import COOKIE
from handlers.console.sessions import ConsoleConfig, open_session
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly import service
from handlers.monthly.config import MonthlyConfig
from models.db import unit_of_work
from models.meetings import AttendanceStatus, Meeting, MeetingKind, MeetingStatus, MeetingType
from models.monthly import Escalation, Ladder
from models.observers import Observation, ObserverAssignment, Outcome, Rectification, RectificationStatus
from models.org import OrgUnit, Person, Role
from tests import builders
from tests.monthly.conftest import County, build_county, comply, local, run_at

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 December, 10:00 in Shanghai
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
SECRET = "console-overview-test-secret"


@dataclass
class Org:
    county: County
    observer: Person
    staff_c1: Person  # 组织部 of 城关镇党委 only
    meetings: dict[str, int]  # name → id

    def id(self, key: str) -> int:
        return self.county.people[key].id


def build_org(session, *, now: datetime = NOW) -> Org:
    """The small county with a stored November and a December under way (not committed)."""
    c = build_county(session)
    meetings = {}
    meetings["b1-nov"] = comply(session, c, c.b1, NOV, absent=("党员1甲",)).id
    meetings["b2-nov"] = comply(session, c, c.b2, NOV, minutes_late=True).id
    meetings["b3-nov"] = comply(
        session, c, c.b3, NOV, types=(MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE)
    ).id
    cancelled = comply(session, c, c.b3, NOV, day=20)
    cancelled.status = MeetingStatus.CANCELLED
    meetings["b3-cancelled"] = cancelled.id
    observer = builders.person(session, "观察员老周", c.b3, account_id="obs", corp="x")
    session.add(ObserverAssignment(observer_id=observer.id, branch_id=c.b1.id, active=True))
    staff_c1 = builders.person(session, "组织部小陈", None, account_id="staffc1", corp="x")
    builders.role(session, staff_c1, c.c1, Role.ORG_STAFF)
    session.flush()
    # The observer attended b1's November meeting and asked for two things to be put right; one is closed.
    obs = Observation(
        meeting_id=meetings["b1-nov"], observer_id=observer.id, branch_id=c.b1.id,
        meeting_starts_at=local(NOV.replace(day=10)), preset="huaibin", items=[], total=80, max_total=100,
        grade="良好", comment="", outcome=Outcome.CORRECT, correct_by=date(2026, 11, 30),
        submitted_at=local(NOV.replace(day=10), 12),
    )  # fmt: skip
    session.add(obs)
    session.flush()
    session.add_all([
        Rectification(observation_id=obs.id, branch_id=c.b1.id, text="学习记录不完整", due_on=date(2026, 11, 30),
                      status=RectificationStatus.OPEN, created_at=local(NOV.replace(day=10), 12)),
        Rectification(observation_id=obs.id, branch_id=c.b1.id, text="签到表未存档", due_on=date(2026, 11, 30),
                      status=RectificationStatus.CLOSED, closed_at=local(NOV.replace(day=20)),
                      created_at=local(NOV.replace(day=10), 12)),
    ])  # fmt: skip
    session.flush()
    service.compute_and_store(session, NOV, now=run_at(NOV), mcfg=MonthlyConfig(), cfg=MEETINGS)
    # The ladders' notices: 河西乡党委 lagging, 河东村党支部 lagging, 党员4甲 absent — all still running.
    session.add_all([
        Escalation(ladder=Ladder.COMMITTEE, subject_id=c.c2.id, unit_id=c.c2.id, rung=1, month=NOV, streak=1,
                   detail={}),
        Escalation(ladder=Ladder.BRANCH, subject_id=c.b4.id, unit_id=c.b4.id, rung=1, month=NOV, streak=1,
                   detail={}),
        Escalation(ladder=Ladder.MEMBER_ABSENCE, subject_id=c.people["m4a"].id, unit_id=c.b4.id, rung=1,
                   month=NOV, streak=1, detail={}),
    ])  # fmt: skip
    # December so far: b1 met on the 1st, b3 on the 2nd, both with their minutes in.
    meetings["b1-dec"] = comply(session, c, c.b1, DEC, day=1, absent=("党员1乙",)).id
    meetings["b3-dec"] = comply(session, c, c.b3, DEC, day=2).id
    session.flush()
    return Org(c, observer, staff_c1, meetings)


def console_app(session_factory, *, now: datetime = NOW) -> FastAPI:
    app = FastAPI()
    core = CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET)
    app.state.console = build_console(app, session_factory, {}, core, clock=lambda: now)
    return app


def login(session_factory, app: FastAPI, person_id: int, *, now: datetime = NOW) -> TestClient:
    with unit_of_work(session_factory) as session:
        token = open_session(session, person_id, "test", now=now, cfg=ConsoleConfig())
    client = TestClient(app)
    client.cookies.set(COOKIE, token)
    return client


@pytest.fixture
def org(session_factory) -> Org:
    with unit_of_work(session_factory) as session:
        return build_org(session)


@pytest.fixture
def app(session_factory, org) -> FastAPI:
    return console_app(session_factory)


# --- reading the pages ------------------------------------------------------------------------------


def pair(v: str) -> tuple[float, ...]:
    return tuple(float(x) for x in v.split("/"))


def figure(html: str, name: str) -> tuple[float, ...]:
    m = re.search(rf'data-figure="{name}" data-v="([^"]*)"', html)
    assert m, f"no figure {name}"
    return pair(m.group(1))


def column(html: str, name: str) -> list[tuple[float, ...]]:
    return [pair(v) for v in re.findall(rf'data-col="{name}" data-v="([^"]*)"', html)]


def units_listed(html: str) -> list[int]:
    return [int(u) for u in re.findall(r'<tr class="[^"]*" data-unit="(\d+)"', html)]


def add(items: list[tuple[float, ...]]) -> tuple[float, ...]:
    return tuple(round(sum(xs), 6) for xs in zip(*items, strict=True))


FIGURES = ("plans", "meetings", "attendance", "minutes", "fees", "coverage", "rect", "escalations")


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_every_figure_is_the_sum_of_its_drill_down(session_factory, org, app, month):
    """组织部 (whole tree): overview = Σ committees; committee = Σ branches; branch attendance and
    minutes = Σ its meetings; a meeting's attendance = its list. For the stored and the live month."""
    client = login(session_factory, app, org.id("staff"))
    page = client.get(f"/console/?month={month}")
    assert page.status_code == 200
    html = page.text
    c = org.county
    assert set(units_listed(html)) == {c.c1.id, c.c2.id}
    for name in FIGURES:
        assert figure(html, name) == add(column(html, name)), name
    for committee in (c.c1, c.c2):
        unit = client.get(f"/console/units/{committee.id}?month={month}").text
        row = re.search(rf'data-unit="{committee.id}".*?</tr>', html, re.S).group(0)
        for name in FIGURES:
            assert figure(unit, name) == pair(
                re.search(rf'data-col="{name}" data-v="([^"]*)"', row).group(1)
            ), name
            if name != "escalations":  # a committee's own notices are its, not a branch's
                assert figure(unit, name) == add(column(unit, name)), (committee.name, name)
        assert len(re.findall(r"data-escalation=", unit)) == figure(unit, "escalations")[0]
        assert len(re.findall(r"data-rect=", unit)) == figure(unit, "rect")[0]
        for branch_id in units_listed(unit):
            branch = client.get(f"/console/units/{branch_id}?month={month}").text
            lines = re.findall(
                r'data-meeting="(\d+)" data-counts="(\d)" data-present="(\d+)" data-attendance="(\d+)" '
                r'data-minutes-due="(\d)" data-minutes-on-time="(\d)"',
                branch,
            )
            present, total = figure(branch, "attendance")
            assert (present, total) == (sum(int(x[2]) for x in lines), sum(int(x[3]) for x in lines))
            assert figure(branch, "minutes") == (sum(int(x[5]) for x in lines), sum(int(x[4]) for x in lines))
            for mid, counts, p, n, *_ in lines:
                meeting = client.get(f"/console/meetings/{mid}").text
                statuses = re.findall(r'<tr data-status="(\w*)"', meeting)
                if counts == "1":
                    assert sum(s in ("present", "late") for s in statuses) == int(p)
                    assert sum(bool(s) for s in statuses) == int(n)


def test_the_figures_say_what_happened(session_factory, org, app):
    client = login(session_factory, app, org.id("staff"))
    html = client.get("/console/?month=2026-11").text
    assert "月积分已于月初发布" in html
    # Nov: b1 (3 members, one absent), b2, b3 met; b4 did nothing. 3 plans of 4.
    assert figure(html, "plans") == (3, 4)
    assert figure(html, "attendance") == (8, 9)
    assert figure(html, "minutes") == (2, 3)  # b2's were late
    assert figure(html, "rect") == (1,)  # the closed one is 销号
    assert figure(html, "escalations") == (3,)
    assert figure(html, "coverage") == (1, 4)  # only b1 had an observer
    # Neither committee lags (two of a kind rank nobody behind), so the lower score comes first.
    c = org.county
    assert units_listed(html) == [c.c2.id, c.c1.id]
    # December is scored live: b1 and b3 have met so far.
    dec = client.get("/console/").text
    assert "本月数据实时计算" in dec and "2026年12月" in dec
    assert figure(dec, "attendance") == (5, 6)
    assert figure(dec, "minutes") == (2, 2)
    # The trend carries November's stored mean and December's live one.
    trend = json.loads(re.search(r'id="trend-data">(.*?)</script>', dec).group(1))
    assert len(trend["months"]) == 12 and trend["months"][-2:] == ["2026年11月", "2026年12月"]
    assert trend["score"][:10] == [None] * 10 and None not in trend["score"][-2:]


def test_branch_and_meeting_pages(session_factory, org, app):
    client = login(session_factory, app, org.id("sec3"))
    c = org.county
    branch = client.get(f"/console/units/{c.b3.id}?month=2026-11").text
    assert "河西村党支部" in branch and "已取消" in branch and "主题党日" in branch and "党课" in branch
    meeting = client.get(f"/console/meetings/{org.meetings['b3-nov']}").text
    for name in ("书记3", "党员3甲", "党员3乙"):
        assert name in meeting
    assert "会议记录" in meeting and "学习" in meeting
    # A secretary's overview is their branch alone, listed as itself.
    assert units_listed(client.get("/console/").text) == [c.b3.id]


def test_a_meeting_still_to_come_is_not_called_late(session_factory, org, app):
    """A December meeting after today has not been held and its minutes are not due: 尚未召开, as the
    组织生活纪实台账 says, not 记录逾期."""
    c = org.county
    with unit_of_work(session_factory) as session:
        later = Meeting(
            branch_id=c.b1.id, title="下旬的主题党日", topic="学习", place="活动室",
            starts_at=local(DEC.replace(day=20)), kinds=[MeetingKind(type=MeetingType.THEME_DAY)],
        )  # fmt: skip
        session.add(later)
        session.flush()
        later_id = later.id
    client = login(session_factory, app, org.id("staff"))
    page = client.get(f"/console/units/{c.b1.id}?month=2026-12").text
    row = re.search(rf'<tr data-meeting="{later_id}".*?</tr>', page, re.S).group(0)
    assert "尚未召开" in row and "逾期" not in row
    assert 'data-minutes-due="0"' in row
    # The meeting of the 1st, held with its minutes in, still says so.
    held = re.search(rf'<tr data-meeting="{org.meetings["b1-dec"]}".*?</tr>', page, re.S).group(0)
    assert "已开" in held and "尚未召开" not in held


def test_observer_sees_only_the_branches_observed_read_only(session_factory, org, app):
    client = login(session_factory, app, org.observer.id)
    c = org.county
    html = client.get("/console/?month=2026-11").text
    assert units_listed(html) == [c.b1.id]
    assert "只读" in html
    assert "城关社区党支部" in html and "河西村党支部" not in html
    unit = client.get(f"/console/units/{c.b1.id}?month=2026-11").text
    assert "学习记录不完整" in unit
    # Their own branch (b3) is not theirs to watch: 404 like anything else out of scope.
    assert client.get(f"/console/units/{c.b3.id}").status_code == 404
    assert client.get(f"/console/meetings/{org.meetings['b3-nov']}").status_code == 404


def test_month_switch_and_expanding_a_row_are_partial(session_factory, org, app):
    client = login(session_factory, app, org.id("staff"))
    part = client.get("/console/?month=2026-11", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text and 'id="trend-data"' in part.text and "2026年11月" in part.text
    c = org.county
    rows = client.get(f"/console/units/{c.c1.id}/rows?month=2026-11", headers={"HX-Request": "true"}).text
    assert "<html" not in rows
    assert set(units_listed(rows)) == {c.b1.id, c.b2.id}


def test_bad_and_future_months_are_refused_in_chinese(session_factory, org, app):
    client = login(session_factory, app, org.id("staff"))
    bad = client.get("/console/?month=13-2026")
    assert bad.status_code == 400 and "月份格式" in bad.text
    future = client.get("/console/?month=2027-01")
    assert future.status_code == 400 and "还没有开始" in future.text


def test_a_malformed_address_is_answered_in_chinese(session_factory, org, app):
    """?year=abc (or a 年份 box cleared before 查看) on a console page: a Chinese 400 page naming the
    parameter, not FastAPI's English JSON; a script keeps the JSON answer."""
    client = login(session_factory, app, org.id("staff"))
    for url in ("/console/projects/showcase?year=abc", "/console/projects?year=99999", "/console/units/abc"):
        page = client.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 400, url
        assert "填写的内容有误" in page.text and "网址中的内容有误" in page.text, url
        assert "Input should" not in page.text, url
    assert (
        "（year）" in client.get("/console/projects/showcase?year=abc", headers={"Accept": "text/html"}).text
    )
    script = client.get("/console/projects/showcase?year=abc", headers={"Accept": "application/json"})
    assert script.status_code == 422 and script.json()["detail"][0]["loc"][-1] == "year"


def test_a_committee_staff_scope_is_its_committee(session_factory, org, app):
    client = login(session_factory, app, org.staff_c1.id)
    c = org.county
    html = client.get("/console/?month=2026-11").text
    assert units_listed(html) == [c.c1.id]
    assert figure(html, "plans") == (2, 2)
    assert client.get(f"/console/units/{c.c2.id}").status_code == 404


def test_a_closed_month_without_stored_scores_is_scored_now(session_factory, org, app):
    """October has no stored scores (the monthly run had not run then): it is computed, not empty."""
    client = login(session_factory, app, org.id("staff"))
    html = client.get("/console/?month=2026-10").text
    assert "本月数据实时计算" in html
    assert figure(html, "plans") == (0, 4)


def test_statements_per_page_do_not_grow_with_branches(session_factory, org, app):
    """Two more committees with branches and meetings: the same pages issue the same number of statements."""
    from sqlalchemy import event

    def count(path: str, person: int) -> int:
        client = login(session_factory, app, person)
        client.get(path)  # warm
        n = [0]

        def tick(*_a, **_k):
            n[0] += 1

        engine = session_factory.kw["bind"]
        event.listen(engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", tick)
        return n[0]

    staff = org.id("staff")
    c = org.county
    paths = ["/console/", "/console/?month=2026-11", f"/console/units/{c.c1.id}?month=2026-11",
             f"/console/units/{c.b1.id}?month=2026-11"]  # fmt: skip
    before = [count(p, staff) for p in paths]
    with unit_of_work(session_factory) as session:
        county = session.get(OrgUnit, c.county.id)
        for i in range(3):
            committee = builders.unit(session, f"新区{i}党委", c.c1.kind, county)
            for j in range(4):
                b = builders.unit(session, f"新区{i}第{j}党支部", c.b1.kind, committee, c.b1.category)
                p = builders.person(session, f"新党员{i}{j}", b)
                builders.role(session, p, b, Role.SECRETARY)
        session.flush()
        b1 = session.get(OrgUnit, c.b1.id)
        for _ in range(3):
            comply(session, org.county, b1, NOV, day=15)
        session.flush()
        service.compute_and_store(session, NOV, now=run_at(NOV), mcfg=MonthlyConfig(), cfg=MEETINGS)
    after = [count(p, staff) for p in paths]
    assert before == after


def test_absent_names_on_the_meeting_page(session_factory, org, app):
    client = login(session_factory, app, org.id("c1sec"))
    html = client.get(f"/console/meetings/{org.meetings['b1-nov']}").text
    row = re.search(r'<tr data-status="absent">.*?</tr>', html, re.S).group(0)
    assert "党员1甲" in row and "缺席" in row
    assert AttendanceStatus.ABSENT.value == "absent"
