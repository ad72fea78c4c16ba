"""支部年度评定 (issue 19 item 4): the proposal rule on crafted years (each of seed 001's caps, the grades
by mean and weak months, overdue 整改, the start-month floor), the committee's decision from the console
(confirm, change with a reason, refusals: wrong role 403, no reason 422, CSRF 403, another committee's
branch 404; each changing nothing), the audit entry, and December's committee digest section."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.core.context import CoreConfig
from bot.core.errors import Refused
from config.rules import Rules
from handlers.meetings.meetings import create_meeting
from handlers.meetings.types import DEFAULT_CONFIG
from handlers.monthly import digest
from handlers.monthly.config import MonthlyConfig
from handlers.rating import jobs as rating_jobs
from handlers.rating import service
from handlers.rating.config import DEFAULT as CFG
from handlers.rating.proposal import load_years, propose
from models import startmonth
from models.audit import AuditEntry
from models.db import unit_of_work
from models.meetings import MeetingType, Minutes
from models.monthly import MonthlyScore
from models.observers import Observation, Rectification, RectificationStatus
from models.org import OrgUnit
from models.rating import BranchRating, RatingGrade
from tests.console.people_world import NOW, TZ, build_world, console_app, csrf_of, login

TODAY = NOW.astimezone(TZ).date()  # 2026-12-03


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        w = build_world(session)
        startmonth.set_start_month(session, date(2026, 1, 1))
        return w


def month_row(unit_id: int, month: date, score: float, *, lagging=False, missing=(), kind="branch"):
    return MonthlyScore(
        unit_id=unit_id, month=month, unit_kind=kind, peer_group="rural" if kind == "branch" else "committee",
        score=score, rank=1, group_size=1, lagging=lagging, explanation={"missing": list(missing)},
        computed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def fill(session, unit_id: int, scores: list[float], *, first: int = 1, year: int = 2026, **per_month):
    """Months first.. of `year` with these scores; per_month: {month number: dict of month_row kwargs}."""
    for i, score in enumerate(scores):
        m = first + i
        session.add(month_row(unit_id, date(year, m, 1), score, **per_month.get(f"m{m}", {})))
    session.flush()


def proposal_of(session, branch_id: int, *, year: int = 2026, today: date = TODAY):
    y = load_years(session, [branch_id], year, today=today, tz=TZ)[branch_id]
    return propose(y, CFG)


# ---- the rule


def test_a_good_year_is_good_and_says_why(session_factory, world, session):
    b1 = world.units["b1"]
    with unit_of_work(session_factory) as s:
        fill(s, b1, [95, 92, 94, 96, 91, 93, 95, 97, 92, 94, 96])
    p = proposal_of(session, b1)
    assert p.grade == RatingGrade.GOOD
    assert p.figures["months"] == 11 and p.figures["mean"] == pytest.approx(94.1)
    assert p.sentences[0] == "全年计入11个月的月积分，平均得分94.1分"
    assert p.sentences[-1] == "建议评为好"


def test_weak_months_and_the_mean_grade_the_year(session_factory, world, session):
    b1, b2, b3 = world.units["b1"], world.units["b2"], world.units["b3"]
    with unit_of_work(session_factory) as s:
        # 85 on average with two 落后 months: 较好 (at most 2 allowed); a third makes it 一般.
        fill(s, b1, [85] * 10, m3={"lagging": True}, m4={"lagging": True})
        fill(s, b2, [85] * 10, m3={"lagging": True}, m4={"lagging": True}, m5={"lagging": True})
        fill(s, b3, [55] * 10)  # a mean under 60: 差
    p1, p2, p3 = (proposal_of(session, b) for b in (b1, b2, b3))
    assert (p1.grade, p2.grade, p3.grade) == (RatingGrade.FAIRLY_GOOD, RatingGrade.AVERAGE, RatingGrade.POOR)
    assert p2.sentences[0] == "全年计入10个月的月积分，平均得分85分，3个月落后"  # no "0个月低于60分"
    assert p3.figures["poor_months"] == 10


def test_reopened_once_is_not_serious_and_caps_at_average(session_factory, world, session):
    b1 = world.units["b1"]
    with unit_of_work(session_factory) as s:
        scores = [90, 88, 86, 84, 88, 86, 85, 87, 86, 85, 86]
        fill(s, b1, scores, m5={"missing": [{"key": "reopen", "count": 1}]},
             m6={"lagging": True}, m7={"lagging": True}, m8={"lagging": True})  # fmt: skip
    p = proposal_of(session, b1)
    assert p.figures["base_grade"] == "average" and p.grade == RatingGrade.AVERAGE
    # A year that would be 较好 on its scores alone:
    with unit_of_work(session_factory) as s:
        for row in s.scalars(select(MonthlyScore).where(MonthlyScore.unit_id == b1)):
            row.lagging = False
    p = proposal_of(session, b1)
    assert p.figures["base_grade"] == "fairly_good"
    assert p.grade == RatingGrade.AVERAGE and p.figures["caps"] == ["not_serious"]
    assert "被观察员责令重开1次（组织生活不认真），按规定不得评为较好及以上" in p.sentences
    assert p.summary.endswith("建议评为一般")


def test_a_stop_alone_also_caps(session_factory, world, session):
    b1 = world.units["b1"]
    with unit_of_work(session_factory) as s:
        fill(s, b1, [96] * 11, m2={"missing": [{"key": "stop", "count": 2}]})
    p = proposal_of(session, b1)
    assert p.figures["base_grade"] == "good" and p.grade == RatingGrade.AVERAGE
    assert p.figures["stops"] == 2
    assert "被观察员叫停2次（组织生活不认真），按规定不得评为较好及以上" in p.sentences


def test_meetings_missing_in_three_months_is_not_regular(session_factory, world, session):
    b1, b2 = world.units["b1"], world.units["b2"]
    gap = {"missing": [{"key": "meeting", "type": "branch_committee", "held": 0, "required": 1}]}
    with unit_of_work(session_factory) as s:
        fill(s, b1, [95] * 11, m2=gap, m6=gap, m9=gap)
        fill(s, b2, [95] * 11, m2=gap, m6=gap)  # two months: under the line
    p1, p2 = proposal_of(session, b1), proposal_of(session, b2)
    assert p1.grade == RatingGrade.AVERAGE and p1.figures["caps"] == ["not_regular"]
    assert "3个月规定的会议没有开齐（组织生活不经常），按规定不得评为较好及以上" in p1.sentences
    assert p2.grade == RatingGrade.GOOD and p2.figures["meetings_missing_months"] == 2


def test_minutes_late_in_three_months_is_not_standard(session_factory, world, session):
    b1 = world.units["b1"]
    late = {"missing": [{"key": "minutes_late", "count": 1}]}
    with unit_of_work(session_factory) as s:
        fill(s, b1, [95] * 11, m1=late, m2=late, m3=late)
    p = proposal_of(session, b1)
    assert p.grade == RatingGrade.AVERAGE and p.figures["caps"] == ["not_standard"]
    assert "3个月会议记录没有按时完成（组织生活不规范），按规定不得评为较好及以上" in p.sentences


def test_an_overdue_rectification_keeps_a_branch_from_good(session_factory, world, session):
    b1, b2 = world.units["b1"], world.units["b2"]
    with unit_of_work(session_factory) as s:
        fill(s, b1, [95] * 11)
        fill(s, b2, [95] * 11)
        meeting = _meeting(s, b1)
        obs = Observation(meeting_id=meeting.id, observer_id=world.people["ma"], branch_id=b1,
                          meeting_starts_at=meeting.starts_at, preset="taihu", items=[], total=80, max_total=100,
                          grade="B", outcome="correct", submitted_at=meeting.starts_at)  # fmt: skip
        s.add(obs)
        s.flush()
        s.add(Rectification(observation_id=obs.id, branch_id=b1, text="补齐记录", due_on=date(2026, 11, 20)))
        # Closed on time: not overdue.
        s.add(Rectification(observation_id=obs.id, branch_id=b2, text="x", due_on=date(2026, 11, 20),
                            status=RectificationStatus.CLOSED, closed_at=datetime(2026, 11, 18, tzinfo=UTC)))  # fmt: skip
    p1, p2 = proposal_of(session, b1), proposal_of(session, b2)
    assert p1.grade == RatingGrade.FAIRLY_GOOD and p1.figures["overdue_rectifications"] == 1
    assert "目前有1项整改逾期未销号，不宜评为好" in p1.sentences
    assert p2.grade == RatingGrade.GOOD
    # After the year: "年底".
    p1 = proposal_of(session, b1, today=date(2027, 1, 5))
    assert "年底仍有1项整改逾期未销号，不宜评为好" in p1.sentences


def _meeting(s, branch_id):
    from models.meetings import Meeting

    m = Meeting(branch_id=branch_id, title="主题党日", topic="学习", place="会议室",
                starts_at=datetime(2026, 11, 5, 2, tzinfo=UTC))  # fmt: skip
    s.add(m)
    s.flush()
    return m


def test_months_before_the_start_month_count_for_nothing(session_factory, world, session):
    b1 = world.units["b1"]
    with unit_of_work(session_factory) as s:
        # Scored before the start month was moved later: January–March were poor, then good months.
        fill(s, b1, [40, 40, 40] + [95] * 8)
        startmonth.set_start_month(s, date(2026, 4, 1))
    p = proposal_of(session, b1)
    assert p.figures["months"] == 8 and p.figures["first_month"] == "2026-04"
    assert p.grade == RatingGrade.GOOD
    assert p.sentences[0] == "全年计入8个月的月积分（4月启用，之前的月份不计），平均得分95分"
    # A year wholly before the start month: nothing to propose.
    p = proposal_of(session, b1, year=2025)
    assert p.grade is None and p.sentences == [
        "2025年还没有计算过月积分（启用月份之前的月份不计），暂无法提出建议"
    ]


# ---- the committee's decision, from the console


# The committee confirms 2026 once it is over: the decision tests run on 4 January 2027.
AFTER = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)


def _after(session_factory, person_id):
    return login(session_factory, console_app(session_factory, now=AFTER), person_id, now=AFTER)


def _page(client, year=2026):
    return client.get(f"/console/ratings?year={year}")


def _rate(client, branch_id, grade, reason="", *, csrf=None, year=2026):
    data = {"csrf_token": csrf_of(client) if csrf is None else csrf, "year": str(year), "grade": grade,
            "reason": reason}  # fmt: skip
    return client.post(f"/console/ratings/{branch_id}", data=data, follow_redirects=False)


def _row(session, branch_id, year=2026) -> BranchRating | None:
    session.expire_all()
    return session.scalars(
        select(BranchRating).where(BranchRating.branch_id == branch_id, BranchRating.year == year)
    ).one_or_none()


def held_org_life(session, branch_id: int) -> None:
    """The branch's 组织生活会 on 10 December 2026, minutes recorded (a year over without it is capped)."""
    meeting = create_meeting(
        session, branch_id=branch_id, types=[MeetingType.ORG_LIFE], starts_at=datetime(2026, 12, 10, 1, tzinfo=UTC),
        place="会议室", topic="年度组织生活会", now=datetime(2026, 12, 1, tzinfo=UTC), cfg=DEFAULT_CONFIG,
    )  # fmt: skip
    session.add(Minutes(meeting_id=meeting.id, chair="书记", recorder="委员", topics="组织生活会",
                        submitted_at=datetime(2026, 12, 11, tzinfo=UTC), due_on=date(2026, 12, 15)))  # fmt: skip
    session.flush()


@pytest.fixture
def rated_world(session_factory, world):
    """b1 reopened once (capped at 一般), b2 a plain good year, b3 (another committee) a good year; b2 and b3
    held their 组织生活会 (decided after the year, a year without it is capped too)."""
    with unit_of_work(session_factory) as s:
        fill(s, world.units["b1"], [93] * 11, m5={"missing": [{"key": "reopen", "count": 1}]})
        fill(s, world.units["b2"], [95] * 11)
        fill(s, world.units["b3"], [95] * 11)
        held_org_life(s, world.units["b2"])
        held_org_life(s, world.units["b3"])
    return world


def test_the_committee_sees_its_branches_with_the_proposal_and_the_reasons(session_factory, rated_world):
    w = rated_world
    chen = _after(session_factory, w.people["chen"])  # 城关镇党委 书记
    page = _page(chen)
    assert page.status_code == 200
    assert "东风村党支部" in page.text and "幸福社区党支部" in page.text
    assert "县人民医院党支部" not in page.text  # another committee's branch
    assert (
        "被观察员责令重开1次（组织生活不认真）；全年未召开组织生活会（组织生活不经常），按规定不得评为较好及以上"
        in (page.text)
    )
    assert f'action="/console/ratings/{w.units["b1"]}"' in page.text  # a form per row for a rater


def test_confirm_and_change_with_a_reason_are_saved_and_audited(session_factory, rated_world, session):
    w = rated_world
    chen = _after(session_factory, w.people["chen"])
    b1, b2 = w.units["b1"], w.units["b2"]
    resp = _rate(chen, b2, "good")  # the proposal: no reason needed
    assert resp.status_code == 303 and resp.headers["location"].startswith(
        "/console/ratings?year=2026&saved="
    )
    row = _row(session, b2)
    assert (row.proposed_grade, row.confirmed_grade, row.confirmed_by_id) == (
        RatingGrade.GOOD, RatingGrade.GOOD, w.people["chen"],
    )  # fmt: skip
    assert row.confirmed_at == AFTER and row.change_reason is None
    assert "已将幸福社区党支部2026年度评定为好。" in chen.get(resp.headers["location"]).text
    # Changing the proposal needs a reason; with one it is kept.
    resp = _rate(chen, b1, "较好", "重开后整改到位，群众评价好")
    assert resp.status_code == 303
    row = _row(session, b1)
    assert (row.proposed_grade, row.confirmed_grade) == (RatingGrade.AVERAGE, RatingGrade.FAIRLY_GOOD)
    assert row.change_reason == "重开后整改到位，群众评价好"
    # The decision is in the 审计日志, under the person who made it.
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "branch_rating", AuditEntry.entity_id == row.id)
    ).all()
    # The proposal is the software's (系统), though the page the 书记 opened wrote it.
    (created,) = [e for e in entries if e.action == "create"]
    assert (created.via, created.actor_person_id, created.after["proposed_grade"]) == (
        "system",
        None,
        "average",
    )
    decided = [e for e in entries if (e.after or {}).get("confirmed_grade") == "fairly_good"]
    assert len(decided) == 1
    assert (decided[0].via, decided[0].actor_person_id, decided[0].unit_id) == (
        "console",
        w.people["chen"],
        b1,
    )
    assert decided[0].after["change_reason"] == "重开后整改到位，群众评价好"
    audit_page = chen.get(f"/console/audit?unit={b1}")
    assert "支部年度评定" in audit_page.text and "调整理由" in audit_page.text


def test_a_change_without_a_reason_is_refused_and_changes_nothing(session_factory, rated_world, session):
    w = rated_world
    chen = _after(session_factory, w.people["chen"])
    resp = _rate(chen, w.units["b1"], "good", "   ")
    assert resp.status_code == 422
    assert "评定等次与系统建议（一般）不同，请填写调整的理由。" in resp.text
    assert _row(session, w.units["b1"]).confirmed_grade is None
    resp = _rate(chen, w.units["b1"], "优秀")
    assert resp.status_code == 422 and "请选择评定等次：好、较好、一般或差。" in resp.text
    assert _row(session, w.units["b1"]).confirmed_grade is None


def test_a_branch_secretary_cannot_rate_their_own_branch(session_factory, rated_world, session):
    w = rated_world
    wang = _after(session_factory, w.people["wang"])  # 东风村党支部 书记
    page = _page(wang)
    assert page.status_code == 200 and "东风村党支部" in page.text
    assert f'action="/console/ratings/{w.units["b1"]}"' not in page.text  # sees it, no form
    resp = _rate(wang, w.units["b1"], "average")
    assert resp.status_code == 403
    assert "支部书记不能评定本支部" in resp.text
    assert _row(session, w.units["b1"]).confirmed_grade is None


def test_without_the_csrf_token_nothing_is_rated(session_factory, rated_world, session):
    w = rated_world
    chen = _after(session_factory, w.people["chen"])
    resp = _rate(chen, w.units["b2"], "good", csrf="forged")
    assert resp.status_code == 403
    row = _row(session, w.units["b2"])
    assert row is None or row.confirmed_grade is None


def test_another_committees_branch_is_not_found(session_factory, rated_world, session):
    w = rated_world
    chen = _after(session_factory, w.people["chen"])
    resp = _rate(chen, w.units["b3"], "good")
    assert resp.status_code == 404 and "县人民医院党支部" not in resp.text
    assert _row(session, w.units["b3"]) is None
    # 组织部 rates it.
    zhao = _after(session_factory, w.people["zhao"])
    assert _rate(zhao, w.units["b3"], "good").status_code == 303
    assert _row(session, w.units["b3"]).confirmed_grade == RatingGrade.GOOD


def test_a_decided_rating_keeps_the_proposal_it_was_decided_on(session_factory, rated_world, session):
    w = rated_world
    chen = _after(session_factory, w.people["chen"])
    assert _rate(chen, w.units["b2"], "good").status_code == 303
    with unit_of_work(session_factory) as s:  # December scored late and poor: an undecided row would change
        s.add(month_row(w.units["b2"], date(2026, 12, 1), 10, lagging=True))
    assert _page(chen).status_code == 200
    row = _row(session, w.units["b2"])
    assert (row.proposed_grade, row.proposal["figures"]["months"]) == (RatingGrade.GOOD, 11)


# ---- when a year may be confirmed


def test_a_year_under_way_shows_the_proposal_but_cannot_be_confirmed(session_factory, rated_world, session):
    """On 3 December 2026 the walker confirmed 2026 for a branch whose 组织生活会 was not yet held: the
    decided row then kept a proposal without the year-end cap for good. Now the year waits for its end."""
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])  # NOW: 2026-12-03
    page = _page(chen)
    assert page.status_code == 200 and "幸福社区党支部" in page.text
    assert "2026年度尚未结束，以下是截至今天的系统建议，仅供参考；2027年1月1日起可以确认评定。" in page.text
    assert 'action="/console/ratings/' not in page.text  # no form before then
    resp = _rate(chen, w.units["b1"], "average")
    assert resp.status_code == 422
    assert "2026年度还没有结束" in resp.text and "2027年1月1日起可以确认" in resp.text
    row = _row(session, w.units["b1"])
    assert row is None or row.confirmed_grade is None
    # From 1 January the form is there, and b1's proposal carries the year-end cap.
    jan1 = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 00:00 on 1 January in Shanghai
    chen = login(session_factory, console_app(session_factory, now=jan1), w.people["chen"], now=jan1)
    page = _page(chen)
    assert f'action="/console/ratings/{w.units["b1"]}"' in page.text and "尚未结束" not in page.text
    assert "全年未召开组织生活会（组织生活不经常）" in page.text
    assert _rate(chen, w.units["b1"], "average").status_code == 303
    assert _row(session, w.units["b1"]).confirmed_grade == RatingGrade.AVERAGE


def test_a_year_still_to_come_or_a_bad_year_is_refused(session_factory, rated_world, session):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    for year, reason in (
        ("2027", "2027年还没有到，请选择今年或以前的年份。"),
        ("abc", "年份应为 2026 这样的四位数。"),
    ):
        page = chen.get(f"/console/ratings?year={year}")
        assert page.status_code == 422 and reason in page.text
        assert "填写的内容有误" in page.text and "您没有权限" not in page.text
    resp = _rate(chen, w.units["b2"], "good", year=2027)
    assert resp.status_code == 422 and "2027年还没有到" in resp.text
    assert _row(session, w.units["b2"], year=2027) is None


def test_a_county_may_open_the_confirmation_in_late_december(session_factory, rated_world, session):
    """RatingConfig.confirm_days_early=10: from 22 December; the proposal then counts the 组织生活会 as of
    that day, so a branch without it is capped in what is confirmed."""
    w = rated_world
    cfg = replace(CFG, confirm_days_early=10)
    assert service.confirm_opens(2026, cfg) == date(2026, 12, 22)
    b1 = session.get(OrgUnit, w.units["b1"])
    dec21, dec22 = (datetime(2026, 12, d, 2, tzinfo=UTC) for d in (21, 22))
    with pytest.raises(Refused, match="2026年12月22日起可以确认"):
        service.confirm(session, w.people["chen"], b1, 2026, "average", "", now=dec21, tz=TZ, cfg=cfg)
    decision = service.confirm(session, w.people["chen"], b1, 2026, "average", "", now=dec22, tz=TZ, cfg=cfg)
    assert decision.row.confirmed_grade == RatingGrade.AVERAGE
    assert "no_org_life" in decision.row.proposal["figures"]["caps"]


# ---- December's digest


def _committee_text(session, month: date, committee_id: int) -> str:
    data = digest.load(session, month, DEFAULT_CONFIG)
    return digest.text_for(data, committee_id, MonthlyConfig().committee_kinds)


def test_the_december_digest_lists_the_committees_ratings_and_no_other_month_does(
    session_factory, rated_world, session
):
    w = rated_world
    c1 = w.units["c1"]
    now = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # 08:00 on 1 January in Shanghai
    with unit_of_work(session_factory) as s:
        for m in (11, 12):
            s.add(month_row(c1, date(2026, m, 1), 90, kind="committee"))
            s.add(month_row(w.units["c2"], date(2026, m, 1), 90, kind="committee"))
        for b in ("b1", "b2", "b3"):
            s.add(month_row(w.units[b], date(2026, 12, 1), 94))
        s.flush()
        # Before the job: the section says there is nothing yet.
        assert "2026年度支部评定**：还没有评定建议" in _committee_text(s, date(2026, 12, 1), c1)
        core = CoreConfig(tz=TZ, public_base_url="", secret_key="k", rules=Rules())
        (job,) = rating_jobs.jobs(core)
        assert job.name == "rating.propose" and job.period(now.astimezone(TZ)) == "2026"
        job.function(s, now, "2026")
        decided = s.scalars(select(BranchRating).where(BranchRating.branch_id == w.units["b2"])).one()
        decided.confirmed_grade, decided.confirmed_by_id, decided.confirmed_at = (
            RatingGrade.GOOD, w.people["chen"], now,
        )  # fmt: skip
    text = _committee_text(session, date(2026, 12, 1), c1)
    assert "2026年度支部评定**（系统建议 → 党委评定；已评定1个，待评定1个）" in text
    # b1 held no 组织生活会 (and was reopened): capped at 一般; b2 held it, and the committee rated it 好.
    assert "东风村党支部：一般 → 待评定" in text and "幸福社区党支部：好 → 好" in text
    assert "县人民医院党支部" not in text  # another committee's
    assert "年度支部评定" not in _committee_text(session, date(2026, 11, 1), c1)


def test_the_job_scores_an_unstored_december_in_memory(session_factory, rated_world, session, monkeypatch):
    """On 1 January before the monthly run, December is not stored: the job scores it (in memory) and the
    proposal counts twelve months; nothing of the month is stored by it."""
    w = rated_world
    now = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)  # 06:00 on 1 January in Shanghai
    core = CoreConfig(tz=TZ, public_base_url="", secret_key="k", rules=Rules())
    with unit_of_work(session_factory) as s:
        rating_jobs.propose_year(s, 2026, core, now=now)
        assert s.scalar(select(MonthlyScore).where(MonthlyScore.month == date(2026, 12, 1))) is None
    row = _row(session, w.units["b2"])
    assert row.proposal["figures"]["months"] == 12 and row.proposal["figures"]["last_month"] == "2026-12"
    assert _row(session, w.units["b3"]) is not None  # every active branch


def test_only_branches_are_rated(session_factory, rated_world, session):
    chen = login(session_factory, console_app(session_factory), rated_world.people["chen"])
    assert _rate(chen, rated_world.units["c1"], "good").status_code == 404
    assert _row(session, rated_world.units["c1"]) is None


def test_the_organisations_own_lifemeeting_window_decides_whether_the_org_life_cap_applies(
    session_factory, world, session
):
    """The 组织生活会 window is the organisation's (ZHIBU_LIFEMEETING__DIGEST_MONTHS, lifemeeting_config),
    not the default: a branch on zhibu from November, with no 组织生活会 in 2026, is capped when the window
    is November–December, and not with the default October–December it was not on zhibu through."""
    from handlers.lifemeeting.config import DEFAULT as LIFE

    b1 = world.units["b1"]
    with unit_of_work(session_factory) as s:
        startmonth.set_start_month(s, date(2026, 11, 1))
        fill(s, b1, [95, 96], first=11)
    after = date(2027, 1, 5)
    default = load_years(session, [b1], 2026, today=after, tz=TZ)[b1]
    assert default.org_life_held is None
    late = replace(LIFE, tz=TZ, digest_months=frozenset({11, 12}))
    own = load_years(session, [b1], 2026, today=after, tz=TZ, life=late)[b1]
    assert own.org_life_held is False and "no_org_life" in propose(own, CFG).figures["caps"]
    # The ratings page and the job pass it on through refresh.
    row = service.refresh(
        session, [b1], 2026, now=datetime(2027, 1, 5, 2, tzinfo=UTC), tz=TZ, cfg=CFG, life=late
    )
    assert "no_org_life" in row[b1].proposal["figures"]["caps"]
