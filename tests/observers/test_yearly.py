"""观察员年度评定 (issue 19 item 6) on stored years and through the console: which committee rates whom,
the figures read from assignments, forms, 列席 and 整改 (each measure and the 回头看), the committee's
decision (confirm, change with a reason; refusals: another committee's leader 404, the observer rating
themselves 403, a plain member has no console, no reason 422, CSRF 403; each changing nothing), the
training record beside the rating, and the audit entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.observers.forms import TAIHU
from handlers.observers.yearly_config import DEFAULT as YCFG
from handlers.observers.yearly_proposal import load_years, propose, rated_pairs
from models.audit import AuditEntry
from models.db import unit_of_work
from models.meetings import Meeting, MeetingKind, MeetingType
from models.observer_rating import ObserverGrade, ObserverRating, ObserverTraining
from models.observers import (
    Observation,
    ObserverAssignment,
    ObserverRsvp,
    Outcome,
    Rectification,
    RectificationStatus,
)
from models.org import BranchCategory, OrgUnit, Person, Role, UnitKind
from tests import builders
from tests.console.people_world import DT, NOW, build_world, console_app, csrf_of, login

JAN1 = datetime(2026, 1, 1, tzinfo=UTC)
GOOD_ITEMS = [
    {"key": "prep", "label": "会前准备", "max": 15, "score": 14, "comment": ""},
    {"key": "content", "label": "内容质量", "max": 25, "score": 22, "comment": ""},
]
LOW_UNEXPLAINED = [
    {"key": "prep", "label": "会前准备", "max": 15, "score": 14, "comment": ""},
    {"key": "content", "label": "内容质量", "max": 25, "score": 10, "comment": ""},
]


def meeting(s, branch_id: int, when: datetime, kind=MeetingType.THEME_DAY) -> Meeting:
    m = Meeting(branch_id=branch_id, title="主题党日", topic="学习", place="会议室", starts_at=when)
    m.kinds = [MeetingKind(type=kind)]
    s.add(m)
    s.flush()
    return m


def form(s, observer_id: int, m: Meeting, *, on_time=True, comment="程序规范，讨论充分", items=GOOD_ITEMS,
         outcome=Outcome.PASS, reopen_by=None) -> Observation:  # fmt: skip
    total = sum(i["score"] for i in items)
    obs = Observation(
        meeting_id=m.id, observer_id=observer_id, branch_id=m.branch_id, meeting_starts_at=m.starts_at,
        preset="taihu", items=items, total=total, max_total=40, grade="A", comment=comment, outcome=outcome,
        reopen_by=reopen_by, submitted_at=m.starts_at + timedelta(hours=3), on_time=on_time,
    )  # fmt: skip
    s.add(obs)
    s.flush()
    return obs


def link(s, observer_id: int, branch_id: int, *, since: datetime = JAN1, active=True) -> None:
    s.add(ObserverAssignment(observer_id=observer_id, branch_id=branch_id, active=active, created_at=since))
    s.flush()


@pytest.fixture
def world(session_factory):
    """people_world plus 钱观察 (县人民医院党支部, appointed by 城关镇党委, linked to 东风村 and 幸福社区 since
    January) and 县直机关工委's 书记 孙书记; 马超 (城关镇党委's observer of 东风村) is linked since January."""
    with unit_of_work(session_factory) as s:
        w = build_world(s)
        for a in s.scalars(select(ObserverAssignment)):
            a.created_at = JAN1
        c2 = s.get(OrgUnit, w.units["c2"])
        b3 = s.get(OrgUnit, w.units["b3"])
        b4 = builders.unit(s, "县妇幼保健院党支部", UnitKind.BRANCH, c2, BranchCategory.PUBLIC_INSTITUTION)
        qian = builders.person(s, "钱观察", b3, account_id="qianguancha01", corp=DT, phone="13900000011")
        sun = builders.person(s, "孙书记", b3, account_id="sunshuji01", corp=DT, phone="13900000012")
        builders.role(s, qian, s.get(OrgUnit, w.units["c1"]), Role.OBSERVER)
        builders.role(s, sun, c2, Role.SECRETARY)
        s.flush()
        link(s, qian.id, w.units["b1"])
        link(s, qian.id, w.units["b2"])
        w.units["b4"] = b4.id
        w.people.update(qian=qian.id, sun=sun.id)
        return w


def year_of(session, observer_id: int, committee_id: int, *, now=NOW):
    years = load_years(session, [(observer_id, committee_id)], 2026, now=now, ocfg=TAIHU, cfg=YCFG)
    return years[(observer_id, committee_id)]


# ---- who is rated by which committee


def test_the_appointing_committee_rates_and_a_link_elsewhere_goes_to_that_branchs_committee(
    session_factory, world, session
):
    w = world
    with unit_of_work(session_factory) as s:
        link(
            s, w.people["qian"], w.units["b4"], since=datetime(2026, 10, 1, tzinfo=UTC)
        )  # no role on 县直机关工委
    pairs = rated_pairs(session, 2026, ocfg=TAIHU, keep=lambda o, c: True)
    got = {(o, c.id) for o, c in pairs}
    assert got == {
        (w.people["ma"], w.units["c1"]),
        (w.people["qian"], w.units["c1"]),
        (w.people["qian"], w.units["c2"]),
    }
    # Read for one observer only (is_rated, the training form): the same pairs as the whole year's.
    only = rated_pairs(session, 2026, ocfg=TAIHU, keep=lambda o, c: True, observer_ids=[w.people["qian"]])
    assert {(o, c.id) for o, c in only} == {p for p in got if p[0] == w.people["qian"]}
    # 县妇幼保健院 linked in October: the first half-year is not the observer's, the second still running.
    y = year_of(session, w.people["qian"], w.units["c2"])
    assert (y.branches, y.required, y.done) == ({w.units["b4"]}, 0, 0)
    p = propose(y, YCFG, TAIHU)
    assert p.grade is None and p.sentences == ["2026年还没有到期的列席要求，也没有提交评价表，暂无法提出建议"]


# ---- the stored year, measure by measure


def test_a_flawless_year_is_excellent(session_factory, world, session):
    w = world
    with unit_of_work(session_factory) as s:
        for when in (datetime(2026, 3, 5, 2, tzinfo=UTC), datetime(2026, 9, 4, 2, tzinfo=UTC)):
            form(s, w.people["ma"], meeting(s, w.units["b1"], when))
    y = year_of(session, w.people["ma"], w.units["c1"])
    p = propose(y, YCFG, TAIHU)
    assert (y.required, y.done, y.forms, y.on_time, y.complete) == (2, 2, 2, 2, 2)
    assert p.grade == ObserverGrade.EXCELLENT
    assert p.sentences == [
        "联系1个支部，到期应列席2次，做到2次（覆盖100%）",
        "提交评价表2份，会后3天内按时提交2份（及时100%）",
        "记录完整的2份（完整100%）",
        "建议评为优秀",
    ]


def test_coverage_timeliness_and_quality_read_from_the_store(session_factory, world, session):
    w = world
    qian = w.people["qian"]
    with unit_of_work(session_factory) as s:
        # 东风村: the first half-year by a complete form on time; the second by 我要列席 alone, its form never filed.
        form(s, qian, meeting(s, w.units["b1"], datetime(2026, 4, 2, 2, tzinfo=UTC)))
        announced = meeting(s, w.units["b1"], datetime(2026, 11, 6, 2, tzinfo=UTC))
        s.add(
            ObserverRsvp(
                meeting_id=announced.id, observer_id=qian, at=announced.starts_at - timedelta(days=2)
            )
        )
        # 幸福社区: nobody in the first half-year; the second by a late form with no 总体评价 worth the name and a
        # section scored low without its 说明.
        form(s, qian, meeting(s, w.units["b2"], datetime(2026, 8, 7, 2, tzinfo=UTC)), on_time=False, comment="好",
             items=LOW_UNEXPLAINED)  # fmt: skip
        # 马超's form for the same branch counts for 马超 only.
        form(s, w.people["ma"], meeting(s, w.units["b1"], datetime(2026, 5, 8, 2, tzinfo=UTC)))
    y = year_of(session, qian, w.units["c1"])
    assert (y.required, y.done, y.missed) == (4, 3, ["幸福社区党支部（2026年上半年）"])
    assert (y.forms, y.on_time, y.unreported) == (2, 1, 1)
    assert (y.complete, y.no_comment, y.unexplained, y.unscored) == (1, 1, 1, 0)
    p = propose(y, YCFG, TAIHU)
    assert p.sentences == [
        "联系2个支部，到期应列席4次，做到3次（覆盖75%），低于80%，至多评为基本称职；未按要求列席：幸福社区党支部（2026年上半年）",
        "提交评价表2份，会后3天内按时提交1份（及时33%），另有1次报名列席的会议没有提交评价表，低于50%，至多评为不称职",
        "记录完整的1份（完整50%），1份没有写总体评价，1份扣分较多的项目没有写明原因，低于70%，至多评为基本称职",
        "建议评为不称职",
    ]
    # An announced meeting whose form window is still open is not yet held against anyone.
    early = year_of(session, qian, w.units["c1"], now=datetime(2026, 11, 8, 2, tzinfo=UTC))
    assert early.unreported == 0


def test_follow_ups_signed_off_late_or_not_at_all_and_a_reconvened_meeting_missed(
    session_factory, world, session
):
    w = world
    ma = w.people["ma"]
    with unit_of_work(session_factory) as s:
        corrected = form(
            s, ma, meeting(s, w.units["b1"], datetime(2026, 3, 5, 2, tzinfo=UTC)), outcome=Outcome.CORRECT
        )
        reported = datetime(2026, 4, 1, 2, tzinfo=UTC)
        s.add_all([
            # Signed off two days after the report: on time.
            Rectification(observation_id=corrected.id, branch_id=w.units["b1"], text="补签名", due_on=date(2026, 4, 5),
                          status=RectificationStatus.CLOSED, reported_at=reported, closed_at=reported + timedelta(days=2)),
            # Reported on 20 November and still waiting on 3 December: 13 days, over the 7.
            Rectification(observation_id=corrected.id, branch_id=w.units["b1"], text="补记录", due_on=date(2026, 11, 25),
                          status=RectificationStatus.REPORTED, reported_at=datetime(2026, 11, 20, 2, tzinfo=UTC)),
            # Never reported: nothing for the observer to look at yet.
            Rectification(observation_id=corrected.id, branch_id=w.units["b1"], text="补材料", due_on=date(2026, 12, 25)),
        ])  # fmt: skip
        reopened = meeting(s, w.units["b1"], datetime(2026, 9, 4, 2, tzinfo=UTC))
        form(s, ma, reopened, outcome=Outcome.REOPEN, reopen_by=date(2026, 9, 19))
        again = meeting(s, w.units["b1"], datetime(2026, 9, 15, 2, tzinfo=UTC))  # held again, 马超 not there
    y = year_of(session, ma, w.units["c1"])
    assert (y.followups_due, y.followups_done) == (3, 1)
    p = propose(y, YCFG, TAIHU)
    assert p.figures["base_grade"] == "excellent" and p.grade == ObserverGrade.COMPETENT
    assert (
        "需要回头看3次，按时做到1次，2次没有按时回头看（整改报告7天内未销号或退回，或责令重开后重新召开的会议未列席），不宜评为优秀"
        in p.sentences
    )
    # He went to the meeting held again (and filed its form) and signed the waiting item off: the 回头看 are done.
    with unit_of_work(session_factory) as s:
        form(s, ma, s.get(Meeting, again.id))
        rect = s.scalars(select(Rectification).where(Rectification.text == "补记录")).one()
        rect.status, rect.closed_at = RectificationStatus.CLOSED, datetime(2026, 11, 22, 2, tzinfo=UTC)
    y = year_of(session, ma, w.units["c1"])
    assert (y.followups_due, y.followups_done) == (3, 3)
    assert propose(y, YCFG, TAIHU).grade == ObserverGrade.EXCELLENT


def test_items_of_a_branch_the_observer_answers_for_are_not_theirs_to_sign_off(
    session_factory, world, session
):
    w = world
    ma = w.people["ma"]
    with unit_of_work(session_factory) as s:
        # 马超 is a member of 幸福社区: its items go to the committee to sign off (rectification.rect_confirmers).
        link(s, ma, w.units["b2"])
        corrected = form(
            s, ma, meeting(s, w.units["b2"], datetime(2026, 3, 5, 2, tzinfo=UTC)), outcome=Outcome.CORRECT
        )
        s.add(Rectification(observation_id=corrected.id, branch_id=w.units["b2"], text="补记录", due_on=date(2026, 4, 5),
                            status=RectificationStatus.REPORTED, reported_at=datetime(2026, 4, 1, tzinfo=UTC)))  # fmt: skip
    assert year_of(session, ma, w.units["c1"]).followups_due == 0


# ---- the committee's decision, from the console


def _page(client, year=2026):
    return client.get(f"/console/observer-ratings?year={year}")


def _rate(client, committee_id, observer_id, grade, reason="", *, csrf=None, year=2026):
    data = {
        "csrf_token": csrf_of(client) if csrf is None else csrf,
        "year": str(year),
        "grade": grade,
        "reason": reason,
    }
    return client.post(
        f"/console/observer-ratings/{committee_id}/{observer_id}", data=data, follow_redirects=False
    )


def _row(session, observer_id, committee_id, year=2026) -> ObserverRating | None:
    session.expire_all()
    return session.scalars(
        select(ObserverRating).where(
            ObserverRating.observer_id == observer_id,
            ObserverRating.committee_id == committee_id,
            ObserverRating.year == year,
        )
    ).one_or_none()


@pytest.fixture
def rated_world(session_factory, world):
    """马超 a flawless year (优秀); 钱观察 nothing filed in the year: both branches missed in the first half (不称职)."""
    with unit_of_work(session_factory) as s:
        for when in (datetime(2026, 3, 5, 2, tzinfo=UTC), datetime(2026, 9, 4, 2, tzinfo=UTC)):
            form(s, world.people["ma"], meeting(s, world.units["b1"], when))
    return world


def test_the_committee_sees_its_observers_with_the_proposal_the_reasons_and_the_training(
    session_factory, rated_world
):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])  # 城关镇党委 书记
    page = _page(chen)
    assert page.status_code == 200
    assert "马超" in page.text and "钱观察" in page.text and "城关镇党委" in page.text
    assert "联系1个支部，到期应列席2次，做到2次（覆盖100%）" in page.text
    assert "建议评为优秀" in page.text and "建议评为不称职" in page.text
    assert "今年未登记培训" in page.text
    assert f'action="/console/observer-ratings/{w.units["c1"]}/{w.people["ma"]}?year=2026"' in page.text
    # 县直机关工委's 书记 sees neither (城关镇党委 appointed them).
    sun = login(session_factory, console_app(session_factory), w.people["sun"])
    other = _page(sun)
    assert other.status_code == 200 and "马超" not in other.text and "您的管理范围内没有观察员" in other.text


def test_confirm_and_change_with_a_reason_are_saved_and_audited(session_factory, rated_world, session):
    w = rated_world
    c1, ma, qian = w.units["c1"], w.people["ma"], w.people["qian"]
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    resp = _rate(chen, c1, ma, "excellent")  # the proposal: no reason needed
    assert resp.status_code == 303
    assert resp.headers["location"].startswith(f"/console/observer-ratings?year=2026&saved={ma}&by={c1}")
    row = _row(session, ma, c1)
    assert (row.proposed_grade, row.confirmed_grade, row.confirmed_by_id) == (
        ObserverGrade.EXCELLENT, ObserverGrade.EXCELLENT, w.people["chen"],
    )  # fmt: skip
    assert row.confirmed_at == NOW and row.change_reason is None
    assert "已将马超2026年度评定为优秀。" in chen.get(resp.headers["location"]).text
    # Changing the proposal needs a reason; with one it is kept.
    resp = _rate(chen, c1, qian, "基本称职", "下半年调整联系支部，上半年情况特殊")
    assert resp.status_code == 303
    row = _row(session, qian, c1)
    assert (row.proposed_grade, row.confirmed_grade) == (ObserverGrade.INCOMPETENT, ObserverGrade.BASIC)
    assert row.change_reason == "下半年调整联系支部，上半年情况特殊"
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "observer_rating", AuditEntry.entity_id == row.id)
    ).all()
    (created,) = [e for e in entries if e.action == "create"]
    assert (created.via, created.actor_person_id, created.after["proposed_grade"]) == (
        "system",
        None,
        "incompetent",
    )
    (decided,) = [e for e in entries if (e.after or {}).get("confirmed_grade") == "basic"]
    assert (decided.via, decided.actor_person_id, decided.unit_id, decided.subject_person_id) == (
        "console", w.people["chen"], c1, qian,
    )  # fmt: skip
    assert decided.after["change_reason"] == "下半年调整联系支部，上半年情况特殊"
    audit_page = chen.get(f"/console/audit?unit={c1}")
    assert "观察员年度评定" in audit_page.text and "调整理由" in audit_page.text
    # The grades in Chinese (the observers' own scale, not the branches' 好/较好), the committee and the
    # reasons by name: never the stored values.
    text = audit_page.text
    assert '评定等次：<span class="from">（空）</span> → 基本称职' in text
    assert "系统建议：不称职" in text and "系统建议：优秀" in text
    assert (
        "评定党委：城关镇党委" in text and "建议理由：联系1个支部，到期应列席2次，做到2次（覆盖100%）" in text
    )
    assert not any(raw in text for raw in ("incompetent", "excellent", "basic", "{&#39;sentences"))


def test_a_change_without_a_reason_or_a_bad_grade_is_refused_and_changes_nothing(
    session_factory, rated_world, session
):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    assert _page(chen, year="26").status_code == 422  # a bad year: the reason, nothing shown
    assert _rate(chen, w.units["c1"], w.people["ma"], "excellent", year="二〇二六").status_code == 422
    resp = _rate(chen, w.units["c1"], w.people["ma"], "competent", "   ")
    assert resp.status_code == 422 and "评定等次与系统建议（优秀）不同，请填写调整的理由。" in resp.text
    resp = _rate(chen, w.units["c1"], w.people["ma"], "好")
    assert resp.status_code == 422 and "请选择评定等次：优秀、称职、基本称职或不称职。" in resp.text
    assert _row(session, w.people["ma"], w.units["c1"]).confirmed_grade is None


def test_another_committees_leader_is_not_found_and_changes_nothing(session_factory, rated_world, session):
    w = rated_world
    sun = login(session_factory, console_app(session_factory), w.people["sun"])  # 县直机关工委 书记
    resp = _rate(sun, w.units["c1"], w.people["ma"], "excellent")
    assert resp.status_code == 404 and "马超" not in resp.text
    row = _row(session, w.people["ma"], w.units["c1"])
    assert row is None or row.confirmed_grade is None
    # Nor may he name his own committee for an observer it did not appoint.
    resp = _rate(sun, w.units["c2"], w.people["ma"], "excellent")
    assert resp.status_code == 404 and _row(session, w.people["ma"], w.units["c2"]) is None
    # 组织部 rates anyone.
    zhao = login(session_factory, console_app(session_factory), w.people["zhao"])
    assert _rate(zhao, w.units["c1"], w.people["ma"], "excellent").status_code == 303
    assert _row(session, w.people["ma"], w.units["c1"]).confirmed_grade == ObserverGrade.EXCELLENT


def test_an_observer_sees_their_own_rating_but_cannot_rate_it(session_factory, rated_world, session):
    w = rated_world
    with unit_of_work(session_factory) as s:  # 马超 is also 城关镇党委's 组织委员
        builders.role(
            s, s.get(Person, w.people["ma"]), s.get(OrgUnit, w.units["c1"]), Role.ORGANIZATION_MEMBER
        )
    ma = login(session_factory, console_app(session_factory), w.people["ma"])
    page = _page(ma)
    assert page.status_code == 200 and "建议评为优秀" in page.text
    assert f'action="/console/observer-ratings/{w.units["c1"]}/{w.people["ma"]}?year=2026"' not in page.text
    assert (
        f'action="/console/observer-ratings/{w.units["c1"]}/{w.people["qian"]}?year=2026"' in page.text
    )  # rates 钱观察
    resp = _rate(ma, w.units["c1"], w.people["ma"], "excellent")
    assert resp.status_code == 403 and "不能评定自己的年度等次" in resp.text
    assert _row(session, w.people["ma"], w.units["c1"]).confirmed_grade is None


def test_a_branch_secretary_and_a_plain_member_cannot_rate(session_factory, rated_world, session):
    w = rated_world
    wang = login(session_factory, console_app(session_factory), w.people["wang"])  # 东风村党支部 书记
    assert "马超" not in _page(wang).text
    assert _rate(wang, w.units["c1"], w.people["ma"], "excellent").status_code == 404
    li = login(session_factory, console_app(session_factory), w.people["li"])  # a member: no console at all
    resp = _rate(li, w.units["c1"], w.people["ma"], "excellent")
    assert resp.status_code == 401 and "请先登录管理后台" in resp.text
    page = li.get("/console/observer-ratings?year=2026", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    row = _row(session, w.people["ma"], w.units["c1"])
    assert row is None or row.confirmed_grade is None


def test_without_the_csrf_token_nothing_is_rated(session_factory, rated_world, session):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    assert _rate(chen, w.units["c1"], w.people["ma"], "excellent", csrf="forged").status_code == 403
    row = _row(session, w.people["ma"], w.units["c1"])
    assert row is None or row.confirmed_grade is None


def test_a_decided_rating_keeps_the_proposal_it_was_decided_on(session_factory, rated_world, session):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    assert _rate(chen, w.units["c1"], w.people["ma"], "excellent").status_code == 303
    with unit_of_work(session_factory) as s:  # a late form filed since: an undecided row would change
        form(
            s, w.people["ma"], meeting(s, w.units["b1"], datetime(2026, 10, 9, 2, tzinfo=UTC)), on_time=False
        )
    assert _page(chen).status_code == 200
    row = _row(session, w.people["ma"], w.units["c1"])
    assert (row.proposed_grade, row.proposal["figures"]["forms"]) == (ObserverGrade.EXCELLENT, 2)


# ---- training


def _train(
    client, unit_id, attendees, *, held_on="2026-11-20", title="观察员专题培训班", hours="3.5", csrf=None
):
    data = {"csrf_token": csrf_of(client) if csrf is None else csrf, "year": "2026", "unit": str(unit_id),
            "held_on": held_on, "title": title, "hours": hours, "attendee": [str(a) for a in attendees]}  # fmt: skip
    return client.post("/console/observer-ratings/trainings", data=data, follow_redirects=False)


def test_a_training_is_recorded_shown_beside_the_rating_and_audited(session_factory, rated_world, session):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    resp = _train(chen, w.units["c1"], [w.people["ma"], w.people["qian"]])
    assert resp.status_code == 303 and "trained=" in resp.headers["location"]
    page = chen.get(resp.headers["location"])
    assert "已登记培训：2026-11-20 观察员专题培训班（3.5学时，2人参加）。" in page.text
    assert "共1次、3.5学时" in page.text and "2026-11-20 观察员专题培训班（3.5学时）" in page.text
    (t,) = session.scalars(select(ObserverTraining)).all()
    assert (t.unit_id, t.held_on, str(t.hours), t.recorded_by_id) == (
        w.units["c1"],
        date(2026, 11, 20),
        "3.5",
        w.people["chen"],
    )
    assert sorted(a.observer_id for a in t.attendees) == sorted([w.people["ma"], w.people["qian"]])
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.entity == "observer_training")).all()
    assert (entry.action, entry.via, entry.actor_person_id, entry.unit_id) == (
        "create",
        "console",
        w.people["chen"],
        w.units["c1"],
    )
    audit_page = chen.get(f"/console/audit?unit={w.units['c1']}").text
    assert "观察员培训" in audit_page and "举办单位：城关镇党委" in audit_page and "学时：3.5" in audit_page
    came = session.scalars(select(AuditEntry).where(AuditEntry.entity == "observer_training_attendee")).all()
    assert sorted(e.subject_person_id for e in came) == sorted([w.people["ma"], w.people["qian"]])
    # Another year's page shows nothing of it.
    assert "共1次" not in _page(chen, year=2025).text


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"hours": "0"}, "学时应为 0.5 到 100 之间的数字"),
        ({"hours": "三"}, "学时应为 0.5 到 100 之间的数字"),
        ({"held_on": "2026-12-31"}, "培训日期应为 2026-11-20 这样的日期，且不晚于今天。"),
        ({"held_on": "2025-11-20"}, "培训日期应在2026年内。"),
        ({"title": " "}, "请填写培训内容"),
        ({"attendees": []}, "请勾选参加培训的观察员。"),
    ],
)
def test_a_bad_training_is_refused_and_nothing_is_recorded(
    session_factory, rated_world, session, change, problem
):
    w = rated_world
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    change = dict(change)  # the parameters are shared by both databases
    attendees = change.pop("attendees", [w.people["ma"]])
    resp = _train(chen, w.units["c1"], attendees, **change)
    assert resp.status_code == 422 and problem in resp.text
    assert session.scalars(select(ObserverTraining)).all() == []


def test_training_only_for_ones_own_observers(session_factory, rated_world, session):
    w = rated_world
    sun = login(session_factory, console_app(session_factory), w.people["sun"])
    # 县直机关工委's 书记 may record its own training, but not with 城关镇党委's observers in it.
    resp = _train(sun, w.units["c2"], [w.people["ma"]])
    assert resp.status_code == 422 and "只能为您负责评定的观察员登记培训。" in resp.text
    assert _train(sun, w.units["c1"], [w.people["ma"]]).status_code == 404  # another committee
    wang = login(session_factory, console_app(session_factory), w.people["wang"])
    assert _train(wang, w.units["b1"], [w.people["ma"]]).status_code == 422  # a branch is no committee
    assert _train(wang, w.units["c1"], [w.people["ma"]]).status_code == 404
    assert session.scalars(select(ObserverTraining)).all() == []


def test_a_role_the_rule_does_not_name_sees_the_row_but_may_not_rate(session_factory, rated_world, session):
    """ZHIBU_OBSERVERS__YEARLY_CONFIRM_ROLES narrowed to the 书记: a 副书记 of the committee is refused (403)."""
    from dataclasses import replace

    from bot.core.errors import Refused
    from handlers.observers import yearly

    w = rated_world
    with unit_of_work(session_factory) as s:
        builders.role(
            s, s.get(Person, w.people["wang"]), s.get(OrgUnit, w.units["c1"]), Role.DEPUTY_SECRETARY
        )
    cfg = replace(YCFG, confirm_roles=frozenset({Role.SECRETARY}))
    args = (
        session,
        w.people["wang"],
        session.get(Person, w.people["ma"]),
        session.get(OrgUnit, w.units["c1"]),
        2026,
    )
    with pytest.raises(yearly.NotRater) as refused:
        yearly.confirm(*args, "excellent", "", now=NOW, ocfg=TAIHU, cfg=cfg)
    assert isinstance(refused.value, Refused) and "任命观察员的党委" in str(refused.value)
    assert (
        yearly.confirm(*args, "excellent", "", now=NOW, ocfg=TAIHU, cfg=YCFG).row.confirmed_grade
        == ObserverGrade.EXCELLENT
    )


def test_the_audit_page_names_each_tables_grades_on_its_own_scale(session):
    """branch_rating and observer_rating share the column names proposed_grade/confirmed_grade but not the
    scale: each entry prints its own table's labels."""
    from zoneinfo import ZoneInfo

    from handlers.console.audit import describe

    def entry(entity, grade):
        return {
            "entity": entity, "action": "update", "entity_id": 1, "unit_id": None, "subject_person_id": None,
            "actor_person_id": None, "actor_label": "", "via": "console", "at": NOW,
            "before": {"confirmed_grade": None}, "after": {"confirmed_grade": grade},
        }  # fmt: skip

    branch, observer = describe(
        session,
        [entry("branch_rating", "fairly_good"), entry("observer_rating", "basic")],
        tz=ZoneInfo("Asia/Shanghai"),
    )
    assert [(c.label, c.after) for c in branch.changes] == [("评定等次", "较好")]
    assert [(c.label, c.after) for c in observer.changes] == [("评定等次", "基本称职")]


# ---- the page's form: no grade chosen for the software, a refusal named and reopenable


def _row_html(text: str, committee_id: int, observer_id: int) -> str:
    start = text.index(f'<tr id="o{committee_id}-{observer_id}">')
    return text[start : text.index("</tr>", start)]


def test_a_row_without_a_proposal_preselects_no_grade(session_factory, rated_world, session):
    """钱观察's link to 县妇幼保健院 (县直机关工委) began in October: nothing is due yet, 暂无建议. The form
    must not offer 优秀 as if chosen (a browser shows the first option of a select with none selected)."""
    w = rated_world
    with unit_of_work(session_factory) as s:
        link(s, w.people["qian"], w.units["b4"], since=datetime(2026, 10, 1, tzinfo=UTC))
    sun = login(session_factory, console_app(session_factory), w.people["sun"])
    row = _row_html(_page(sun).text, w.units["c2"], w.people["qian"])
    assert "暂无建议" in row
    assert (
        '<select name="grade" aria-label="评定等次" required><option value="" selected>请选择等次</option>'
        in row
    )
    assert [o for o in row.split("<option")[2:] if "selected" in o] == []  # no grade marked
    # A row with a proposal still preselects it, with no empty choice.
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    proposed = _row_html(_page(chen).text, w.units["c1"], w.people["ma"])
    assert '<option value="excellent" selected>优秀</option>' in proposed and "请选择等次" not in proposed
    # Posting without a grade (a browser that ignores `required`) is refused, naming the observer.
    resp = _rate(sun, w.units["c2"], w.people["qian"], "")
    assert resp.status_code == 422
    assert "钱观察（县直机关工委）：请选择评定等次：优秀、称职、基本称职或不称职。" in resp.text
    assert _row(session, w.people["qian"], w.units["c2"]).confirmed_grade is None


def test_a_refused_grade_names_the_observer_and_its_address_reopens_the_page(
    session_factory, rated_world, session, monkeypatch
):
    from bot.web.console import observer_ratings

    w = rated_world
    c1, ma, qian = w.units["c1"], w.people["ma"], w.people["qian"]
    monkeypatch.setattr(
        observer_ratings, "PAGE_SIZE", 1
    )  # one row a page: the refused row is on its own page
    chen = login(session_factory, console_app(session_factory), w.people["chen"])
    first = _page(chen).text
    on_page_two = qian if f'<tr id="o{c1}-{ma}">' in first else ma
    resp = _rate(chen, c1, on_page_two, "basic", "", year=2026)
    assert resp.status_code == 422
    name = "钱观察" if on_page_two == qian else "马超"
    assert (
        f"{name}（城关镇党委）：评定等次与系统建议（" in resp.text and "不同，请填写调整的理由。" in resp.text
    )
    # The refused row is shown (its page, not page 1) with the grade just chosen kept.
    row = _row_html(resp.text, c1, on_page_two)
    assert '<option value="basic" selected>基本称职</option>' in row
    assert _row(session, on_page_two, c1).confirmed_grade is None
    # Opening that address again (a restored tab, the address bar) shows the year's page at that row, not 405.
    again = chen.get(f"/console/observer-ratings/{c1}/{on_page_two}?year=2026")
    assert again.status_code == 200 and f'<tr id="o{c1}-{on_page_two}">' in again.text
    assert "（2026年）" in again.text
    assert chen.get(f"/console/observer-ratings/{c1}/{on_page_two}?year=26").status_code == 422
    # Another committee's 书记 gets nothing from the address of a row outside his scope.
    sun = login(session_factory, console_app(session_factory), w.people["sun"])
    other = sun.get(f"/console/observer-ratings/{c1}/{ma}?year=2026")
    assert other.status_code == 404 and "马超" not in other.text
