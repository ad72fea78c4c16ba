"""Observer coverage per branch (issue #14 point 4; seed 000 太湖县: 每半年至少列席一次; domain.md §5
rule 55 and rules H23).

Every branch of a committee is listed, also those no observer is assigned to (未安排观察员), so the
committee sees the gap; a branch is covered when an observer attended one of its meetings in the
period (a form, or a 列席 that took place), assigned or not; two months before the half-year ends
the committee's 组织委员 gets one card listing its uncovered branches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from bot.core import outbox
from bot.web.app import answer_refusals
from bot.web.observers import build_observers_router
from handlers import help as help_handlers
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.chat import router as meetings_router
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from handlers.observers import assignments, coverage, jobs, observation, periods, record
from handlers.observers.chat import router as observers_router
from handlers.observers.forms import HUBIN
from models.jobs import JobRun
from models.org import OrgUnit, Person, Role, UnitKind
from scheduler.runner import RunResult, run_due
from tests.core.statements import count_statements
from tests.harness import Chat
from tests.meetings.conftest import _person, _role, _unit, sent
from tests.meetings.test_web import CORE, Clock, FakeIdentity
from tests.observers.conftest import CFG, NOW, World, build_world, full_form, make_meeting
from tests.web import open_session

GAPS = "observers:coverage_gaps:"


def local(y, m, d, hh=10, mm=0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=CFG.tz).astimezone(UTC)


@dataclass
class County:
    w: World
    nested: OrgUnit  # 城关镇党委/镇直党总支/镇卫生院党支部: a branch under a 党总支
    committee2: OrgUnit  # 县直机关工委, with its own 组织委员
    branch2: OrgUnit
    reviewer2: Person


@pytest.fixture
def county(session) -> County:
    """The observers' world (城关社区 watched by 钱观察; 河西村 watched by nobody) plus a branch under a
    党总支 and a second committee with one branch, which 钱观察 also watches."""
    w = build_world(session)
    general = _unit(session, "镇直党总支", UnitKind.GENERAL_BRANCH, w.committee)
    nested = _unit(session, "镇卫生院党支部", UnitKind.BRANCH, general)
    committee2 = _unit(session, "县直机关工委", UnitKind.COMMITTEE)
    branch2 = _unit(session, "县档案馆党支部", UnitKind.BRANCH, committee2)
    reviewer2 = _person(session, "孙组织委员", None, "sunzz")
    _role(session, reviewer2, committee2, Role.ORGANIZATION_MEMBER)
    session.flush()
    assignments.assign_observer(session, w.observer.id, nested.id)
    assignments.assign_observer(session, w.observer.id, branch2.id)
    session.commit()
    return County(w, nested, committee2, branch2, reviewer2)


def _observe(session, county, branch, starts_at, now):
    meeting = make_meeting(session, county.w, starts_at, branch=branch)
    session.commit()
    observation.submit_observation(session, county.w.observer, meeting.id, full_form(), now=now, cfg=CFG)
    session.commit()
    return meeting


def _by_name(rows):
    return {c.name: c for c in rows}


def test_seed000_coverage_lists_every_branch_of_the_committee_also_without_an_observer(session, county):
    w = county.w
    rows = _by_name(coverage.coverage(session, NOW.date(), CFG, now=NOW, within=[w.committee]))
    assert set(rows) == {"城关社区党支部", "河西村党支部", "镇卫生院党支部"}
    assert rows["河西村党支部"].observers == [] and not rows["河西村党支部"].assigned
    assert rows["城关社区党支部"].observers == ["钱观察"] and rows["城关社区党支部"].committee == "城关镇党委"
    assert rows["镇卫生院党支部"].committee_id == w.committee.id  # under the 党总支, still the committee's
    assert not any(c.covered for c in rows.values())
    # Scoped to the other committee: its branch only. Unscoped: the whole tree.
    assert [
        c.name for c in coverage.coverage(session, NOW.date(), CFG, now=NOW, within=[county.committee2])
    ] == ["县档案馆党支部"]
    assert len(coverage.coverage(session, NOW.date(), CFG, now=NOW)) == 4


def test_seed000_one_definition_of_observed_a_form_or_a_lie_xi_that_took_place(session, county):
    """列席 is what 太湖县 asks for: an announced 列席 counts once the meeting has taken place, the same
    for the branch's coverage, 我的支部 and the observer's record; a cancelled or future meeting does not;
    and an observer no longer assigned still covered the branch."""
    w = county.w

    def observed(now):
        rows = coverage.coverage(session, now.date(), CFG, now=now, branch_ids=[w.branch.id])
        return rows[0].observed

    coming = make_meeting(session, w, local(2026, 5, 25))
    dropped = make_meeting(session, w, local(2026, 5, 12))
    held = make_meeting(session, w, local(2026, 5, 10))
    session.commit()
    for meeting in (coming, dropped, held):
        observation.attend(session, w.observer, meeting.id, now=local(2026, 5, 8), cfg=CFG)
    meetings_uc.cancel_meeting(
        session, w.secretary, dropped.id, reason="防汛", now=local(2026, 5, 9), cfg=MCFG
    )
    session.commit()
    assert observed(local(2026, 5, 9)) == 0  # nothing has taken place yet
    assert observed(NOW) == 1  # the 10 May meeting, attended without a form
    (mine,) = [
        b for b in coverage.my_branches(session, w.observer, now=NOW, cfg=CFG) if b.branch.id == w.branch.id
    ]
    assert mine.observed == 1
    (rec,) = record.observer_records(session, 2026, now=NOW, cfg=CFG, observer_ids=[w.observer.id])
    assert rec.attended == 1 and rec.periods_covered >= 1
    assert observed(local(2026, 5, 26)) == 2  # the 25 May one too, once held
    assignments.end_assignment(session, w.observer.id, w.branch.id)
    session.commit()
    assert observed(NOW) == 1  # attended is attended, assigned or not


def _run_gap_job(session_factory, now):
    (spec,) = [j for j in jobs.jobs(CORE) if j.name == "observers.coverage_gaps"]
    return run_due(session_factory, spec, CFG.tz, now, trigger="schedule")


def test_seed000_the_committee_is_told_of_unattended_branches_two_months_before_the_half_year_ends(
    session_factory, session, county
):
    w = county.w
    # 镇卫生院: attended in March by 钱观察, whose link has since ended; 县档案馆: attended in April.
    _observe(session, county, county.nested, local(2026, 3, 10), local(2026, 3, 11))
    assignments.end_assignment(session, w.observer.id, county.nested.id)
    _observe(session, county, county.branch2, local(2026, 4, 10), local(2026, 4, 11))
    session.commit()

    assert _run_gap_job(session_factory, local(2026, 4, 20)) == RunResult.NOT_DUE  # not in April
    assert _run_gap_job(session_factory, local(2026, 5, 6, 9, 31)) == RunResult.RAN
    session.expire_all()
    (card,) = sent(session, GAPS)
    assert card.person_id == w.reviewer.id  # the 组织委员 of 城关镇党委; 县直机关工委 is fully covered
    assert card.payload["title"] == "观察员列席缺口：城关镇党委"
    text = card.payload["text"]
    assert "截至2026年5月6日，以下 2 个支部在2026年上半年还没有观察员列席（本期到2026年6月30日结束）" in text
    assert "- 河西村党支部（未安排观察员）：已列席 0/1 次" in text
    assert "- 城关社区党支部（钱观察）：已列席 0/1 次" in text
    assert "镇卫生院" not in text  # covered in March by an observer no longer assigned
    assert "请在2026年6月30日前安排观察员列席" in text and "其中 1 个支部未安排观察员" in text
    assert card.payload["buttons"][0]["url"].endswith("/h5/observers/export.xlsx?year=2026")
    # Claimed per half-year: the same run again, or a catch-up, adds nothing.
    assert _run_gap_job(session_factory, local(2026, 5, 7, 9, 0)) == RunResult.ALREADY
    assert coverage.report_coverage_gaps(session, now=local(2026, 5, 20), cfg=CFG) == 0
    assert session.scalars(
        select(JobRun.period).where(JobRun.job_name == "observers.coverage_gaps")
    ).all() == ["2026-H1"]
    # November: a new half-year, nothing attended yet: both committees hear, once each.
    assert _run_gap_job(session_factory, local(2026, 11, 6, 9, 30)) == RunResult.RAN
    session.expire_all()
    h2 = [m for m in sent(session, GAPS) if m.dedup_key.endswith(":20260701")]
    assert {m.person_id for m in h2} == {w.reviewer.id, county.reviewer2.id}
    assert (
        "镇卫生院党支部（未安排观察员）"
        in next(m for m in h2 if m.person_id == w.reviewer.id).payload["text"]
    )


def test_seed000_a_run_by_hand_for_an_ended_half_year_reports_it_as_it_ended(session, county):
    """zhibu run-job observers.coverage_gaps --period 2026-H1 in August: H1 as of 30 June, said to be over."""
    _observe(session, county, county.w.branch, local(2026, 7, 2), local(2026, 7, 3))  # H2: does not count
    assert coverage.report_coverage_gaps(session, now=local(2026, 8, 1), cfg=CFG, period="2026-H1") == 2
    card = next(m for m in sent(session, GAPS) if m.person_id == county.w.reviewer.id)
    assert card.dedup_key.endswith(":20260101")
    text = card.payload["text"]
    assert "截至2026年6月30日，以下 3 个支部在2026年上半年还没有观察员列席" in text
    assert "本期已经结束" in text and "请在2026年6月30日前" not in text


def test_seed000_nothing_is_sent_when_every_branch_was_attended(session, county):
    w = county.w
    second = _person(session, "何观察", county.branch2, "heguancha")
    session.flush()
    assignments.assign_observer(session, second.id, w.other_branch.id)
    session.commit()
    for branch in (w.branch, county.nested, county.branch2):
        _observe(session, county, branch, local(2026, 2, 10), local(2026, 2, 11))
    meeting = make_meeting(session, w, local(2026, 4, 2), branch=w.other_branch)
    session.commit()
    observation.attend(session, second, meeting.id, now=local(2026, 4, 1), cfg=CFG)
    session.commit()
    assert coverage.report_coverage_gaps(session, now=local(2026, 5, 6, 9, 30), cfg=CFG) == 0
    assert sent(session, GAPS) == []


def test_seed000_the_gap_report_reads_a_fixed_number_of_statements(session, engine, county, monkeypatch):
    queued: list[tuple[str, set[int]]] = []
    monkeypatch.setattr(
        outbox,
        "enqueue_many",
        lambda _s, items, now: queued.extend((i.dedup_key, set(i.person_ids)) for i in items),
    )

    def run():
        queued.clear()
        coverage.report_coverage_gaps(session, now=local(2026, 5, 6, 9, 30), cfg=CFG)

    few = count_statements(engine, run)
    for i in range(5):
        committee = _unit(session, f"第{i}乡党委", UnitKind.COMMITTEE)
        for j in range(3):
            _unit(session, f"第{i}乡{j}村党支部", UnitKind.BRANCH, committee)
        reviewer = _person(session, f"乡组织委员{i}", None, f"xiangzz{i}")
        _role(session, reviewer, committee, Role.ORGANIZATION_MEMBER)
    session.commit()
    many = count_statements(engine, run)
    assert many == few and len(queued) == 7


def test_seed000_committee_stats_in_chat_list_every_branch_and_the_gap(session_factory, session, county):
    w = county.w
    _observe(session, county, w.branch, NOW - timedelta(days=1), NOW)
    chat = Chat(session_factory, [help_handlers.router, meetings_router, observers_router], now=NOW)
    text = chat.say("zhouzz", "观察统计").text
    assert (
        "2026年上半年，截至2026年5月18日）：3 个支部中 1 个已有观察员列席，2 个还没有，1 个未安排观察员"
        in text
    )
    assert "**城关镇党委**" in text
    assert "- 河西村党支部（未安排观察员）：已列席 0/1 次" in text
    assert "- 城关社区党支部（钱观察）：已列席 1/1 次" in text
    # The observers' own lines name all their branches; the coverage below is the committee's alone.
    branches = text[text.index("**支部列席情况**") :]
    assert "县档案馆" not in branches  # another committee's branch
    # The gaps come first.
    assert (
        branches.index("河西村党支部") < branches.index("镇卫生院党支部") < branches.index("城关社区党支部")
    )
    assert "未安排观察员" not in chat.say("qiangc", "观察统计").text  # an observer sees their own record


def test_seed000_the_export_lists_every_branch_per_period(session_factory, session, county):
    w = county.w
    _observe(session, county, w.branch, NOW - timedelta(days=1), NOW)
    ident, clock = FakeIdentity(), Clock(local(2026, 8, 3))
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(
        build_observers_router(session_factory, {"dingtalk": ident}, CORE, cfg=CFG, clock=clock)
    )
    client = TestClient(app)
    open_session(client, "/h5/observers/session", {"platform": "dingtalk", "code": ident.issue("zhouzz")})
    resp = client.get("/h5/observers/export.xlsx", params={"year": 2026})
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.content))["支部列席情况"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [c.value for c in ws[1]] == [
        "党委",
        "党支部",
        "观察员",
        "期次",
        "已列席次数",
        "要求次数",
        "是否达到要求",
    ]
    assert ["城关镇党委", "河西村党支部", "未安排观察员", "2026年上半年", 0, 1, "否"] in rows
    assert ["城关镇党委", "城关社区党支部", "钱观察", "2026年上半年", 1, 1, "是"] in rows
    assert [
        "城关镇党委",
        "城关社区党支部",
        "钱观察",
        "2026年下半年（进行中，截至2026年8月3日）",
        0,
        1,
        "否",
    ] in rows
    assert len(rows) == 6 and not any(
        r[1] == "县档案馆党支部" for r in rows
    )  # 3 branches × 2 periods, own committee


def test_the_gap_report_follows_the_coverage_period():
    assert jobs.gap_report_cron(CFG) == "30 9 6 5,11 *"  # May and November: two months before June/December
    assert jobs.gap_report_cron(HUBIN) == "30 9 20 * *"
    assert periods.period_key(date(2026, 5, 6), CFG) == "2026-H1"
    assert periods.period_key(date(2026, 11, 6), CFG) == "2026-H2"
    assert periods.period_key(date(2026, 5, 20), HUBIN) == "2026-05"
    # A run asked for by hand for an ended half-year reports it as of its last day.
    assert periods.period_day("2026-H1", date(2026, 8, 1), CFG) == date(2026, 6, 30)
    assert periods.period_day("2026-05", date(2026, 8, 1), HUBIN) == date(2026, 5, 31)
    assert periods.period_day("2026-H2", date(2026, 8, 1), CFG) == date(2026, 8, 1)
    assert periods.period_day("2027-H1", date(2026, 8, 1), CFG) == date(2026, 8, 1)
    assert periods.period_day("nonsense", date(2026, 8, 1), CFG) == date(2026, 8, 1)
