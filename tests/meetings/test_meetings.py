"""Meeting types, who is expected, scheduling, notices, reminders, moves and cancellations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from handlers.common.dates import period_bounds
from handlers.meetings import meetings as uc
from handlers.meetings.types import Period, Refused, expected_person_ids
from models.meetings import Invitee, Meeting, MeetingKind, MeetingStatus, MeetingType
from models.outbox import OutboxMessage
from tests.meetings.conftest import CFG, NOW, recipients, sent

START = NOW + timedelta(days=3)


def test_expected_per_type(session, org):
    everyone = {p.id for p in org.branch_members}
    assert set(expected_person_ids(session, org.branch.id, [MeetingType.PARTY_CONGRESS], CFG)) == everyone
    committee = {org.secretary.id, org.deputy.id, org.org_member.id}
    assert set(expected_person_ids(session, org.branch.id, [MeetingType.BRANCH_COMMITTEE], CFG)) == committee
    group = {org.alice.id, org.bob.id}
    assert (
        set(expected_person_ids(session, org.branch.id, [MeetingType.GROUP_MEETING], CFG, org.group.id))
        == group
    )
    # The exempt member and the other branch are never expected.
    assert org.exempt.id not in everyone and org.other_member.id not in everyone
    with pytest.raises(Refused):
        expected_person_ids(session, org.branch.id, [MeetingType.GROUP_MEETING], CFG)


def test_period_bounds_are_calendar_windows():
    assert period_bounds(date(2026, 5, 18), Period.QUARTER.months) == (date(2026, 4, 1), date(2026, 7, 1))
    assert period_bounds(date(2026, 12, 3), Period.MONTH.months) == (date(2026, 12, 1), date(2027, 1, 1))
    assert period_bounds(date(2026, 12, 3), Period.YEAR.months) == (date(2026, 1, 1), date(2027, 1, 1))


def test_one_event_several_types_one_record_per_type_and_notice_to_all(session, org):
    m = uc.schedule_meeting(
        session, org.secretary, types=["主题党日", MeetingType.PARTY_LECTURE], starts_at=START,
        place="党员活动室", topic="学习党章", now=NOW, cfg=CFG,
    )  # fmt: skip
    session.commit()
    kinds = set(session.scalars(select(MeetingKind.type).where(MeetingKind.meeting_id == m.id)))
    assert kinds == {MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE}
    assert recipients(session, f"meeting:{m.id}:notice") == {p.id for p in org.branch_members}
    notice = sent(session, f"meeting:{m.id}:notice")[0].payload
    assert notice["kind"] == "card"
    assert [b["label"] for b in notice["buttons"]] == ["请假", "详情"]
    assert ["地点", "党员活动室"] in [list(f) for f in notice["fields"]]


def test_only_the_branch_secretary_schedules(session, org):
    for actor in (org.alice, org.org_member, org.reviewer, None):
        with pytest.raises(Refused):
            uc.schedule_meeting(
                session,
                actor,
                types=["党员大会"],
                starts_at=START,
                place="会议室",
                topic="议题",
                now=NOW,
                cfg=CFG,
            )
    assert session.scalar(select(func.count()).select_from(Meeting)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_bad_input_is_refused_with_chinese(session, org):
    with pytest.raises(Refused, match="不认识的会议类型"):
        uc.schedule_meeting(
            session, org.secretary, types=["茶话会"], starts_at=START, place="x", topic="y", now=NOW, cfg=CFG
        )
    with pytest.raises(Refused, match="不能早于现在"):
        uc.schedule_meeting(
            session, org.secretary, types=["党课"], starts_at=NOW, place="x", topic="y", now=NOW, cfg=CFG
        )
    with pytest.raises(Refused, match="地点"):
        uc.schedule_meeting(
            session, org.secretary, types=["党课"], starts_at=START, place=" ", topic="y", now=NOW, cfg=CFG
        )
    with pytest.raises(Refused, match="党小组"):
        uc.schedule_meeting(
            session,
            org.secretary,
            types=["党小组会"],
            starts_at=START,
            place="x",
            topic="y",
            now=NOW,
            cfg=CFG,
        )


def test_group_meeting_goes_to_the_group(session, org):
    m = uc.schedule_meeting(
        session, org.secretary, types=["党小组会"], starts_at=START, place="x", topic="y", group_id=org.group.id,
        now=NOW, cfg=CFG,
    )  # fmt: skip
    assert set(uc.invitee_ids(session, m.id)) == {org.alice.id, org.bob.id}


def test_reminders_day_before_and_two_hours_before_once_each(session, org):
    m = uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="x", topic="y", now=NOW, cfg=CFG
    )
    session.commit()
    assert uc.send_reminders(session, now=START - timedelta(days=2), cfg=CFG) == 0
    day_before = START - timedelta(hours=23)
    assert uc.send_reminders(session, now=day_before, cfg=CFG) == 6
    assert uc.send_reminders(session, now=day_before + timedelta(minutes=5), cfg=CFG) == 0
    assert uc.send_reminders(session, now=START - timedelta(hours=1, minutes=55), cfg=CFG) == 6
    assert uc.send_reminders(session, now=START - timedelta(hours=1), cfg=CFG) == 0
    assert len(sent(session, f"meeting:{m.id}:v1:remind")) == 12


def test_move_and_cancel_tell_everyone_and_move_rearms_reminders(session, org):
    m = uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="x", topic="y", now=NOW, cfg=CFG
    )
    uc.send_reminders(session, now=START - timedelta(hours=20), cfg=CFG)
    later = START + timedelta(days=1)
    with pytest.raises(Refused):
        uc.move_meeting(session, org.other_secretary, m.id, starts_at=later, now=NOW, cfg=CFG)
    assert (
        uc.move_meeting(session, org.secretary, m.id, starts_at=later, place="大礼堂", now=NOW, cfg=CFG) == 6
    )
    assert uc.send_reminders(session, now=later - timedelta(hours=20), cfg=CFG) == 6  # v2 reminders
    assert uc.cancel_meeting(session, org.secretary, m.id, reason="台风停课", now=NOW, cfg=CFG) == 6
    assert session.get(Meeting, m.id).status == MeetingStatus.CANCELLED
    assert "台风停课" in sent(session, f"meeting:{m.id}:cancelled")[0].payload["text"]
    assert uc.send_reminders(session, now=later - timedelta(hours=1), cfg=CFG) == 0


def test_month_overview_for_the_secretary_only(session, org):
    uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="x", topic="y", now=NOW, cfg=CFG
    )
    branch, rows = uc.month_overview(session, org.secretary, month=date(2026, 5, 1), now=NOW, cfg=CFG)
    assert branch.id == org.branch.id and len(rows) == 1 and rows[0][1] == "未开始"
    with pytest.raises(Refused):
        uc.month_overview(session, org.alice, month=date(2026, 5, 1), now=NOW, cfg=CFG)
    _, rows = uc.month_overview(session, org.other_secretary, month=date(2026, 5, 1), now=NOW, cfg=CFG)
    assert rows == []


def test_invitees_are_fixed_when_scheduled(session, org):
    m = uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="x", topic="y", now=NOW, cfg=CFG
    )
    everyone = {p.id for p in org.branch_members}
    assert set(uc.invitee_ids(session, m.id)) == everyone  # the exempt member and other branches are out
    org.carol.branch_id = org.other_branch.id
    session.flush()
    # 刘芳 moved away after the notice: she stays invited to this meeting, and only to this one.
    invited = set(session.scalars(select(Invitee.person_id).where(Invitee.meeting_id == m.id)))
    assert invited == everyone and org.carol.id in invited
    later = uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START + timedelta(days=7), place="x", topic="y",
        now=NOW, cfg=CFG,
    )  # fmt: skip
    assert set(uc.invitee_ids(session, later.id)) == everyone - {org.carol.id}
