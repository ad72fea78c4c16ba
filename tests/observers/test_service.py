"""Use cases: assignment rules, the form (who, when, ranges), each outcome, rectification, scoring figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Text
from handlers.meetings.minutes import held_meeting_kinds
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from handlers.observers import (
    access,
    assignments,
    coverage,
    notices,
    observation,
    record,
    rectification,
    scoring,
)
from handlers.observers.forms import HUBIN
from models.inspection import Liaison
from models.meetings import Minutes
from models.observers import Observation, ObserverAssignment, Outcome, Rectification, RectificationStatus
from models.org import Person, Role, UnitKind
from tests import builders
from tests.meetings.conftest import _person, _role, _unit
from tests.observers.conftest import CFG, NOW, full_form, make_meeting, recipients, sent


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _held(session, w):
    m = make_meeting(session, w, NOW - timedelta(days=1))
    session.commit()
    return m


# ---- assignments


def test_an_observer_is_never_assigned_to_their_own_branch(session, world):
    with pytest.raises(Refused, match="不能观察本人所在的支部"):
        assignments.assign_observer(session, world.observer.id, world.other_branch.id)
    with pytest.raises(Refused, match="已经是城关社区党支部的观察员"):
        assignments.assign_observer(session, world.observer.id, world.branch.id)
    with pytest.raises(Refused, match="不是党支部"):
        assignments.assign_observer(session, world.outsider.id, world.committee.id)
    session.rollback()
    assert _count(session, ObserverAssignment) == 1


def test_one_observer_many_branches_and_ending_a_link(session, world):
    # 孔观察 (河西村) may watch 城关社区 too: one branch, two observers; end it and bring it back.
    assignments.assign_observer(session, world.outsider.id, world.branch.id)
    assert assignments.observers_of(session, world.branch.id) == sorted(
        [world.observer.id, world.outsider.id]
    )
    assert assignments.end_assignment(session, world.outsider.id, world.branch.id)
    assert assignments.observers_of(session, world.branch.id) == [world.observer.id]
    assignments.assign_observer(session, world.outsider.id, world.branch.id)
    assert world.outsider.id in assignments.observers_of(session, world.branch.id)


def test_my_branches_lists_coming_meetings_and_this_periods_count(session, world):
    coming = make_meeting(session, world, NOW + timedelta(days=3), topic="学习条例")
    make_meeting(session, world, NOW + timedelta(days=3), branch=world.other_branch, topic="别的支部")
    mine = coverage.my_branches(session, world.observer, now=NOW, cfg=CFG)
    assert [(b.branch.name, b.observed, b.required, [m.id for m in b.meetings]) for b in mine] == [
        ("城关社区党支部", 0, 1, [coming.id])
    ]
    with pytest.raises(Refused, match="还没有联系的支部"):
        coverage.my_branches(session, world.outsider, now=NOW, cfg=CFG)


# ---- notices


def test_notices_go_to_the_branchs_observers_once_and_again_when_moved(session, world):
    m = make_meeting(session, world, NOW + timedelta(days=2))
    make_meeting(session, world, NOW + timedelta(days=2), branch=world.other_branch)
    session.commit()
    assert notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h") == 1
    assert notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h") == 0
    (row,) = sent(session, notices.NOTICES_PREFIX)
    assert row.person_id == world.observer.id
    assert row.payload["fields"][1][1].startswith("5月20日")
    labels = [b["label"] for b in row.payload["buttons"]]
    assert labels == ["我要列席", "填写评价"]
    assert row.payload["buttons"][1]["url"] == f"http://h/h5/observers/{m.id}/form"
    m.version += 1
    session.commit()
    assert notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h") == 1


def test_attend_tells_the_secretary_and_is_idempotent(session, world):
    m = make_meeting(session, world, NOW + timedelta(days=2))
    reply = observation.attend(session, world.observer, m.id, now=NOW, cfg=CFG)
    assert "已告知城关社区党支部书记" in reply
    assert recipients(session, f"observers:attend:{m.id}") == {world.secretary.id, world.deputy.id}
    assert "已报名" in observation.attend(session, world.observer, m.id, now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="您不是城关社区党支部的观察员"):
        observation.attend(session, world.outsider, m.id, now=NOW, cfg=CFG)


# ---- the form


def test_only_the_assigned_observer_for_a_held_meeting_within_the_deadline(session, world):
    held = _held(session, world)
    coming = make_meeting(session, world, NOW + timedelta(days=1))
    with pytest.raises(Refused, match="您不是城关社区党支部的观察员"):
        observation.submit_observation(session, world.outsider, held.id, full_form(), now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="您不是"):
        observation.submit_observation(session, world.secretary, held.id, full_form(), now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="会议还没有召开"):
        observation.submit_observation(session, world.observer, coming.id, full_form(), now=NOW, cfg=CFG)
    late = NOW + timedelta(days=CFG.submit_days + 1)
    with pytest.raises(Refused, match="评价表已截止"):
        observation.submit_observation(session, world.observer, held.id, full_form(), now=late, cfg=CFG)
    assert _count(session, Observation) == 0


def test_scores_out_of_range_save_nothing_and_name_every_problem(session, world):
    held = _held(session, world)
    raw = full_form(score_prep="16", score_content="abc", score_record="")
    with pytest.raises(Refused) as err:
        observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    message = str(err.value)
    assert "“会前准备”的得分 16 超出范围，应为 0–15 分" in message
    assert "“内容质量”的得分要填整数" in message
    assert "“记录规范”还没有打分" in message
    assert set(err.value.fields) == {"score_prep", "score_content", "score_record"}
    with pytest.raises(Refused, match="应为 0–20 分"):
        observation.submit_observation(
            session, world.observer, held.id, full_form(score_procedure="-1"), now=NOW, cfg=CFG
        )
    with pytest.raises(Refused, match="请选择观察结论"):
        observation.submit_observation(
            session, world.observer, held.id, full_form(outcome="随便"), now=NOW, cfg=CFG
        )
    session.rollback()
    assert _count(session, Observation) == 0
    assert not sent(session, "observers:result")


def test_a_passing_form_is_graded_and_the_branch_and_committee_see_it(session, world):
    held = _held(session, world)
    obs = observation.submit_observation(session, world.observer, held.id, full_form(), now=NOW, cfg=CFG)
    assert (obs.total, obs.max_total, obs.grade, obs.outcome, obs.on_time) == (
        88,
        100,
        "B",
        Outcome.PASS,
        True,
    )
    assert {i["key"]: i["score"] for i in obs.items}["content"] == 22
    assert recipients(session, f"observers:result:{obs.id}:r1") == {
        world.secretary.id,
        world.deputy.id,
        world.reviewer.id,
    }
    (card, *_) = sent(session, f"observers:result:{obs.id}:r1")
    assert "88/100 分，等次 B，结论：合格" in card.payload["text"]


def test_one_form_per_observer_per_meeting_editable_until_the_deadline(session, world):
    held = _held(session, world)
    first = observation.submit_observation(session, world.observer, held.id, full_form(), now=NOW, cfg=CFG)
    later = NOW + timedelta(days=5)
    again = observation.submit_observation(
        session, world.observer, held.id, full_form(score_prep="15", score_followup="15"), now=later, cfg=CFG
    )
    assert again.id == first.id and again.total == 92 and again.grade == "A" and again.revision == 2
    assert again.on_time  # the first submission was on time; an edit does not change that
    assert _count(session, Observation) == 1
    assert "已修改" in sent(session, f"observers:result:{first.id}:r2")[0].payload["title"]
    assert recipients(session, f"observers:result:{first.id}:r2") == {
        world.secretary.id,
        world.deputy.id,
        world.reviewer.id,
    }


def test_saving_an_unchanged_form_again_tells_nobody(session, world):
    """Issue #15: re-saving an unchanged evaluation sent a second 已修改 notice."""
    held = _held(session, world)
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="补齐签名")
    first = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    rect = first.rectifications[0]
    rectification.report_fixed(session, world.secretary, rect.id, "已补签", now=NOW, cfg=CFG)
    again = observation.submit_observation(
        session, world.observer, held.id, dict(raw), now=NOW + timedelta(days=1), cfg=CFG
    )
    assert again.revision == 1 and again.edited_at is None
    assert [r.status for r in again.rectifications] == [RectificationStatus.REPORTED]
    assert sent(session, f"observers:result:{first.id}:r2") == []
    # A real change (one comment) is a revision, and the branch and committee hear of it.
    changed = observation.submit_observation(
        session,
        world.observer,
        held.id,
        raw | {"comment": "签名已补齐"},
        now=NOW + timedelta(days=1),
        cfg=CFG,
    )
    assert changed.revision == 2
    assert recipients(session, f"observers:result:{first.id}:r2") == {
        world.secretary.id,
        world.deputy.id,
        world.reviewer.id,
    }


def test_grades_follow_the_100_point_scale():
    form = CFG.form
    assert [form.grade(t) for t in (100, 90, 89, 80, 79, 60, 59, 0)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
        "D",
    ]
    assert HUBIN.form.max_total == 100
    assert [i.label for i in HUBIN.form.items] == ["比学习", "比纪律", "比奉献", "比效果", "争创模范机关"]


# ---- outcomes


def test_remind_is_recorded(session, world):
    held = _held(session, world)
    obs = observation.submit_observation(
        session, world.observer, held.id, full_form("现场提醒"), now=NOW, cfg=CFG
    )
    assert obs.outcome == Outcome.REMIND and not obs.rectifications


def test_stop_forces_d_and_goes_to_the_committee_at_once(session, world):
    held = _held(session, world)
    obs = observation.submit_observation(
        session, world.observer, held.id, full_form("叫停"), now=NOW, cfg=CFG
    )
    assert obs.grade == "D" and obs.outcome == Outcome.STOP
    (card, *_) = sent(session, f"observers:result:{obs.id}")
    assert card.payload["title"].startswith("【叫停】")
    # The branch's secretaries, and at once the committee: its 组织委员 and its 书记 (stop_report_roles);
    # nobody else, the observer included.
    assert recipients(session, f"observers:result:{obs.id}") == {
        world.secretary.id,
        world.deputy.id,
        world.reviewer.id,
        world.committee_secretary.id,
    }


def test_reopen_makes_the_meeting_not_count_as_held_and_is_reported_when_missed(session, world):
    held = _held(session, world)
    session.add(
        Minutes(
            meeting_id=held.id, chair="王书记", recorder="赵委员", topics="学习", submitted_at=NOW,
            due_on=NOW.date(),
        )
    )  # fmt: skip
    session.commit()
    month = date(2026, 5, 1)
    assert len(held_meeting_kinds(session, month, date(2026, 6, 1), MCFG)) == 1
    obs = observation.submit_observation(
        session, world.observer, held.id, full_form("责令重开"), now=NOW, cfg=CFG
    )
    session.commit()
    assert obs.reopen_by == date(2026, 5, 18) + timedelta(days=CFG.reopen_days)
    assert held_meeting_kinds(session, month, date(2026, 6, 1), MCFG) == []
    assert "重新召开" in sent(session, f"observers:result:{obs.id}")[0].payload["text"]
    after = datetime.combine(obs.reopen_by + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert observation.report_missed_reopens(session, now=after, cfg=CFG) > 0
    assert recipients(session, f"observers:reopen_missed:{obs.id}") == {
        world.secretary.id,
        world.deputy.id,
        world.reviewer.id,
    }
    assert observation.report_missed_reopens(session, now=after, cfg=CFG) == 0


def test_a_new_meeting_in_time_satisfies_the_reopen(session, world):
    held = _held(session, world)
    obs = observation.submit_observation(
        session, world.observer, held.id, full_form("责令重开"), now=NOW, cfg=CFG
    )
    make_meeting(session, world, NOW + timedelta(days=7))
    session.commit()
    assert observation.reconvened(session, obs, CFG)
    after = datetime.combine(obs.reopen_by + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert observation.report_missed_reopens(session, now=after, cfg=CFG) == 0


def test_correct_needs_a_deadline_and_items(session, world):
    held = _held(session, world)
    with pytest.raises(Refused) as err:
        observation.submit_observation(
            session, world.observer, held.id, full_form("责令纠正"), now=NOW, cfg=CFG
        )
    assert "整改期限" in str(err.value) and "整改事项" in str(err.value)
    with pytest.raises(Refused, match="整改期限要在今天之后"):
        observation.submit_observation(
            session, world.observer, held.id,
            full_form("责令纠正", correct_by="2026-05-01", issues="补签名"), now=NOW, cfg=CFG,
        )  # fmt: skip
    session.rollback()
    assert _count(session, Rectification) == 0


def test_rectification_lifecycle(session, world):
    held = _held(session, world)
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="会议记录补齐签名\n\n补充到会名单")
    obs = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    r1, r2 = obs.rectifications
    assert (r1.text, r1.due_on, r1.status) == ("会议记录补齐签名", date(2026, 6, 1), RectificationStatus.OPEN)
    assert f"#{r1.id} 会议记录补齐签名" in sent(session, f"observers:result:{obs.id}")[0].payload["text"]
    # Only the branch's secretary reports, with a note.
    with pytest.raises(Refused, match="不是您负责的"):
        rectification.report_fixed(session, world.other_secretary, r1.id, "好了", now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="请说明整改情况"):
        rectification.report_fixed(session, world.secretary, r1.id, " ", now=NOW, cfg=CFG)
    rectification.report_fixed(session, world.secretary, r1.id, "已补签", now=NOW, cfg=CFG)
    assert r1.status == RectificationStatus.REPORTED
    assert recipients(session, f"observers:rect:{r1.id}:reported") == {world.observer.id}
    # Only the observer confirms or sends back; sending back needs a reason.
    with pytest.raises(Refused, match="不是您负责的"):
        rectification.confirm_fixed(session, world.secretary, r1.id, now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="请说明退回的原因"):
        rectification.reopen_rect(session, world.observer, r1.id, "", now=NOW, cfg=CFG)
    rectification.reopen_rect(session, world.observer, r1.id, "主持人未签", now=NOW, cfg=CFG)
    assert r1.status == RectificationStatus.REOPENED and r1.reopen_count == 1
    assert recipients(session, f"observers:rect:{r1.id}:reopened:1") == {world.secretary.id, world.deputy.id}
    rectification.report_fixed(session, world.secretary, r1.id, "主持人已补签", now=NOW, cfg=CFG)
    assert recipients(session, f"observers:rect:{r1.id}:reported:1") == {world.observer.id}
    rectification.confirm_fixed(session, world.observer, r1.id, now=NOW + timedelta(days=1), cfg=CFG)
    assert r1.status == RectificationStatus.CLOSED
    with pytest.raises(Refused, match="已销号"):
        rectification.report_fixed(session, world.secretary, r1.id, "再报", now=NOW, cfg=CFG)
    assert [r.id for r in rectification.open_rectifications(session, world.secretary, cfg=CFG)] == [r2.id]
    assert [r.id for r in rectification.open_rectifications(session, world.observer, cfg=CFG)] == [r2.id]
    # Overdue: the secretary is reminded and the committee's 组织委员 and 包保 cadre copied, once a week.
    cadre = builders.person(session, "包保干部", world.org.other_branch)
    session.add(Liaison(person_id=cadre.id, committee_id=world.org.committee.id))
    overdue = datetime(2026, 6, 3, 1, 0, tzinfo=UTC)
    assert rectification.remind_rectifications(session, now=overdue, cfg=CFG) > 0
    assert recipients(session, f"observers:rect_overdue:{r2.id}") == {
        world.secretary.id,
        world.deputy.id,
        world.reviewer.id,
        cadre.id,
    }
    assert rectification.remind_rectifications(session, now=overdue + timedelta(days=1), cfg=CFG) == 0
    assert rectification.remind_rectifications(session, now=overdue + timedelta(days=7), cfg=CFG) > 0
    # Scoring: of June's items, one closed on time, one still open.
    session.commit()
    assert scoring.rectification_timeliness(session, date(2026, 6, 1), CFG)[world.branch.id] == (
        scoring.RectificationTimeliness(due=2, closed_on_time=1, open_overdue=1)
    )


def test_editing_a_correct_form_keeps_reported_items(session, world):
    held = _held(session, world)
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="甲\n乙")
    obs = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    a, b = obs.rectifications
    rectification.report_fixed(session, world.secretary, a.id, "已改", now=NOW, cfg=CFG)
    obs = observation.submit_observation(
        session, world.observer, held.id, full_form("合格"), now=NOW, cfg=CFG
    )
    assert [r.text for r in obs.rectifications] == ["甲"]


# ---- figures for the monthly scoring and coverage


def test_monthly_figures_per_branch(session, world):
    may = _held(session, world)
    # 30 April 20:00 UTC is 1 May 04:00 in Shanghai: a May meeting for the scoring.
    first = make_meeting(session, world, datetime(2026, 4, 30, 20, 0, tzinfo=UTC))
    session.commit()
    observation.submit_observation(session, world.observer, may.id, full_form(), now=NOW, cfg=CFG)
    observation.submit_observation(
        session, world.observer, first.id, full_form("叫停"), now=datetime(2026, 5, 2, tzinfo=UTC), cfg=CFG
    )
    session.commit()
    scores = scoring.observer_scores(session, date(2026, 5, 1), CFG)
    assert scores == {
        world.branch.id: scoring.BranchObserverScore(forms=2, average_percent=88.0, lowest_grade="D")
    }
    assert scoring.observer_scores(session, date(2026, 4, 1), CFG) == {}
    assert scoring.severe_outcomes(session, date(2026, 5, 1), CFG) == {
        world.branch.id: scoring.SevereOutcomes(stops=1, reopens=0)
    }
    assert scoring.observer_scores(session, date(2026, 5, 1), CFG, branch_ids=[world.other_branch.id]) == {}


def test_coverage_across_the_half_year_boundary(session, world):
    june = make_meeting(session, world, datetime(2026, 6, 30, 2, 0, tzinfo=UTC))
    july = make_meeting(session, world, datetime(2026, 7, 2, 2, 0, tzinfo=UTC))
    session.commit()
    # Early June: H1 ends within 30 days and the branch is not observed yet: the observer is reminded once.
    early_june = datetime(2026, 6, 5, 1, 0, tzinfo=UTC)
    after = datetime(2026, 7, 3, 9, tzinfo=UTC)  # both meetings held; the coverage counts at this clock
    assert coverage.remind_coverage(session, now=early_june, cfg=CFG) == 1
    assert coverage.remind_coverage(session, now=early_june + timedelta(days=1), cfg=CFG) == 0
    (msg,) = sent(session, "observers:coverage:")
    assert msg.person_id == world.observer.id and "6月30日" in msg.payload["text"]
    # Long before the period ends, nobody is nagged.
    assert coverage.remind_coverage(session, now=datetime(2026, 3, 1, 1, tzinfo=UTC), cfg=CFG) == 0
    observation.submit_observation(
        session, world.observer, june.id, full_form(), now=datetime(2026, 6, 30, 8, tzinfo=UTC), cfg=CFG
    )
    assert coverage.coverage(session, date(2026, 6, 30), CFG, now=after)[0].covered
    # The June form does not count for H2: July starts a new period.
    assert not coverage.coverage(session, date(2026, 7, 1), CFG, now=after)[0].covered
    observation.submit_observation(
        session, world.observer, july.id, full_form(), now=datetime(2026, 7, 3, 8, tzinfo=UTC), cfg=CFG
    )
    assert coverage.coverage(session, date(2026, 12, 31), CFG, now=after)[0].observed == 1
    # 湖滨区: monthly. June's form covers June only.
    assert coverage.coverage(session, date(2026, 6, 1), HUBIN, now=after)[0].covered
    assert not coverage.coverage(session, date(2026, 5, 1), HUBIN, now=after)[0].covered


def test_observer_record_for_the_year(session, world):
    may = _held(session, world)
    observation.attend(session, world.observer, may.id, now=NOW - timedelta(days=2), cfg=CFG)
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="甲\n乙")
    obs = observation.submit_observation(session, world.observer, may.id, raw, now=NOW, cfg=CFG)
    rectification.report_fixed(session, world.secretary, obs.rectifications[0].id, "好", now=NOW, cfg=CFG)
    rectification.confirm_fixed(session, world.observer, obs.rectifications[0].id, now=NOW, cfg=CFG)
    late_meeting = make_meeting(session, world, datetime(2026, 9, 1, 2, tzinfo=UTC))
    observation.submit_observation(
        session,
        world.observer,
        late_meeting.id,
        full_form(),
        now=datetime(2026, 9, 6, 2, tzinfo=UTC),
        cfg=CFG,
    )
    session.commit()
    (rec,) = record.observer_records(
        session, 2026, now=datetime(2027, 1, 5, tzinfo=UTC), cfg=CFG, observer_ids=[world.observer.id]
    )
    assert (rec.name, rec.branches, rec.attended, rec.forms, rec.forms_on_time) == (
        "钱观察", ["城关社区党支部"], 2, 2, 1,
    )  # fmt: skip
    assert (rec.issues_raised, rec.issues_closed, rec.periods, rec.periods_covered) == (2, 1, 2, 2)
    # No grade of its own: the console's 观察员年度评定 is the one rule (handlers.observers.yearly_proposal).
    assert rec.rating == "见管理后台“观察员年度评定”"
    assert "已到期的 2 次中做到 2 次；评价表按时提交 1/2 份。" in record.rating_basis(rec, CFG)
    # The item was signed off by the observer: the branch's secretaries heard of it, nobody else.
    closed = obs.rectifications[0].id
    assert recipients(session, f"observers:rect:{closed}:closed") == {world.secretary.id, world.deputy.id}


def test_a_notice_backlog_goes_out_soonest_first_over_several_runs(session, world):
    from dataclasses import replace

    small = replace(CFG, notices_per_run=2)
    later = make_meeting(session, world, NOW + timedelta(days=9))
    soon = [make_meeting(session, world, NOW + timedelta(days=d)) for d in (1, 2)]
    session.commit()
    assert notices.send_notices(session, now=NOW, cfg=small, public_base_url="http://h") == 1
    (first,) = sent(session, notices.NOTICES_PREFIX)
    assert notices.told_of(first.dedup_key) == {(m.id, m.version) for m in soon}
    assert notices.send_notices(session, now=NOW, cfg=small, public_base_url="http://h") == 1
    assert notices.told_of(sent(session, notices.NOTICES_PREFIX)[-1].dedup_key) == {(later.id, later.version)}
    assert notices.send_notices(session, now=NOW, cfg=small, public_base_url="http://h") == 0


def test_many_coming_meetings_reach_an_observer_as_one_card_listing_them(session, world):
    """Issue #15: 韩立新 received 18 观察提示 cards at once, one per meeting."""
    others = []  # 钱观察 now watches three branches
    for i in range(2):
        branch = _unit(session, f"新村{i}党支部", UnitKind.BRANCH, world.committee)
        _role(session, _person(session, f"新书记{i}", branch, f"xinsj{i}"), branch, Role.SECRETARY)
        session.flush()
        assignments.assign_observer(session, world.observer.id, branch.id)
        others.append(branch)
    meetings = [
        make_meeting(session, world, NOW + timedelta(days=d), topic=f"议题{d}", branch=b)
        for d, b in zip(range(1, 19), [world.branch, *others] * 6, strict=True)
    ]
    session.commit()
    url = "https://zhibu.example.gov.cn"
    # One card per run, as many meetings as one WeCom markdown message holds (2,048 bytes: a longer one
    # is cut, losing the last meetings and how to attend); the rest come with the next run.
    cards = []
    while notices.send_notices(session, now=NOW, cfg=CFG, public_base_url=url):
        cards.append(sent(session, notices.NOTICES_PREFIX)[-1])
    assert 1 < len(cards) < 6 and {c.person_id for c in cards} == {world.observer.id}
    first = cards[0].payload
    listed = [m for m in meetings if f"**编号{m.id}**：" in first["text"]]
    assert listed == meetings[: len(listed)]  # soonest first
    assert first["title"] == f"观察提示：您联系的支部近期有{len(listed)}次组织生活"
    assert f"另有 {18 - len(listed)} 次会议，几分钟后另发一条提示。" in first["text"]
    assert f"我要列席 {meetings[0].id}" in first["text"]
    for card in cards:
        assert len(f"**{card.payload['title']}**\n\n{card.payload['text']}".encode()) <= 2048
    assert "另有" not in cards[-1].payload["text"]
    # Every meeting once, with its number for 我要列席 and its form link.
    text = "".join(c.payload["text"] for c in cards)
    for m in meetings:
        assert text.count(f"**编号{m.id}**：") == 1
        assert f"议题{(m.starts_at - NOW).days}" in text and f"({url}/h5/observers/{m.id}/form)" in text
    told = [notices.told_of(c.dedup_key) for c in cards]
    assert set().union(*told) == {(m.id, m.version) for m in meetings} and sum(map(len, told)) == 18
    # Nothing new, nothing sent; a moved meeting comes alone, on the one-meeting card with its buttons.
    assert notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h") == 0
    meetings[3].version += 1
    session.commit()
    assert notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h") == 1
    moved = sent(session, notices.NOTICES_PREFIX)[-1]
    assert notices.told_of(moved.dedup_key) == {(meetings[3].id, meetings[3].version)}
    assert [b["label"] for b in moved.payload["buttons"]] == ["我要列席", "填写评价"]


def test_notices_already_sent_one_per_meeting_are_not_sent_again(session, world):
    """Installs that ran before one card per run keep their notice rows (observers:notice:<id>:v<n>)."""
    m = make_meeting(session, world, NOW + timedelta(days=2))
    session.commit()
    outbox.enqueue_to_people(
        session,
        [world.observer.id],
        Text("旧提示"),
        dedup_key=f"observers:notice:{m.id}:v{m.version}",
        now=NOW,
    )
    assert notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h") == 0


def test_the_hubin_preset_form(session, world):
    held = _held(session, world)
    raw = {f"score_{i.key}": "18" for i in HUBIN.form.items} | {"outcome": "合格"}
    obs = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=HUBIN)
    assert (obs.preset, obs.total, obs.max_total, obs.grade) == ("hubin", 90, 100, "A")
    with pytest.raises(Refused, match="“比纪律”的得分 21 超出范围，应为 0–20 分"):
        observation.submit_observation(
            session, world.observer, held.id, raw | {"score_discipline": "21"}, now=NOW, cfg=HUBIN
        )


def test_observers_told_of_a_meeting_hear_when_it_is_cancelled(session, world):
    from handlers.meetings import meetings as meetings_uc

    told = make_meeting(session, world, NOW + timedelta(days=2))
    session.commit()
    notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h")
    untold = make_meeting(session, world, NOW + timedelta(days=3))
    for m in (told, untold):
        meetings_uc.cancel_meeting(session, world.secretary, m.id, reason="与防汛冲突", now=NOW, cfg=MCFG)
    session.commit()
    assert notices.send_cancellations(session, now=NOW, cfg=CFG) == 1
    assert notices.send_cancellations(session, now=NOW, cfg=CFG) == 0
    (msg,) = sent(session, "observers:cancelled:")
    assert (
        msg.person_id == world.observer.id
        and "已取消" in msg.payload["text"]
        and "与防汛冲突" in msg.payload["text"]
    )
    assert msg.dedup_key == f"observers:cancelled:{told.id}"


def test_a_forms_photos_are_for_those_who_see_the_form(session, world):
    from models import attachments

    held = _held(session, world)
    photo = attachments.Photo("image/png", b"\x89PNG")
    obs = observation.submit_observation(
        session, world.observer, held.id, full_form("叫停"), now=NOW, cfg=CFG, photos=[photo]
    )
    (stored,) = attachments.photos_of(session, attachments.OBSERVATION, obs.id)
    # The observer, and everyone the 叫停 result went to (its recipients are the rule, not a copy).
    for person in (world.observer, *session.scalars(select(Person).where(Person.id.in_(
        observation.result_recipients(session, obs, CFG)
    )))):  # fmt: skip
        assert access.observation_photo(session, person, held.id, stored.id, CFG) is stored
    assert world.committee_secretary.id in observation.result_recipients(session, obs, CFG)
    for outsider in (world.other_secretary, world.outsider, world.alice):
        with pytest.raises(Refused, match="这张照片只有") as refused:
            access.observation_photo(session, outsider, held.id, stored.id, CFG)
        assert refused.value.status == 403
    with pytest.raises(Refused, match="没有找到这张照片") as missing:
        access.observation_photo(session, world.observer, held.id + 1, stored.id, CFG)
    assert missing.value.status == 404
