"""Quorum and votes (issue #14 point 2; domain.md §1.2 rules 10–16, §1.4 rule 20).

A branch of its own: 10 正式党员 with a vote (5 of them the 支委), 2 预备党员, and 1 正式党员 exempt from
organisational life. Each test builds the meeting, marks who came, and records the minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.web.app import answer_refusals
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings import quorum
from handlers.meetings.types import Refused
from models.meetings import Attendance, AttendanceMethod, AttendanceStatus, Minutes, VoteKind
from models.org import MemberStatus, OrgUnit, Person, Role, RoleAssignment, UnitKind, set_path
from tests.meetings.conftest import CFG, sent

START = datetime(2026, 5, 19, 2, 0, tzinfo=UTC)  # Tue 10:00 Shanghai
LATER = START + timedelta(hours=3)
COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.PROPAGANDA_MEMBER,
                   Role.DISCIPLINE_MEMBER)  # fmt: skip


@dataclass
class Branch:
    unit: OrgUnit
    full: list[Person]  # 10 正式党员 with a vote; the first 5 are the 支委, full[0] the 书记
    probationary: list[Person]  # 2 预备党员
    exempt: Person  # 正式, 免于参加组织生活

    @property
    def secretary(self) -> Person:
        return self.full[0]

    @property
    def deputy(self) -> Person:
        return self.full[1]


@pytest.fixture
def branch(session, org) -> Branch:
    unit = OrgUnit(name="城南社区党支部", kind=UnitKind.BRANCH, parent_id=org.committee.id)
    session.add(unit)
    session.flush()
    set_path(unit, org.committee)

    def person(name, **kw):
        p = Person(name=name, branch_id=unit.id, **kw)
        session.add(p)
        session.flush()
        return p

    full = [person(f"正式{i}") for i in range(1, 11)]
    probationary = [person(f"预备{i}", status=MemberStatus.PROBATIONARY) for i in range(1, 3)]
    exempt = person("病休老党员", attendance_exempt_reason="长期住院")
    for p, role in zip(full, COMMITTEE_ROLES, strict=False):
        session.add(RoleAssignment(person_id=p.id, org_unit_id=unit.id, role=role))
    session.commit()
    return Branch(unit, full, probationary, exempt)


def _meeting(session, b: Branch, types=("党员大会",), start=START):
    return meetings_uc.schedule_meeting(
        session, b.secretary, types=list(types), starts_at=start, place="社区活动室", topic="讨论接收预备党员",
        now=start - timedelta(days=2), cfg=CFG,
    )  # fmt: skip


def _present(session, meeting, people):
    for p in people:
        session.add(Attendance(meeting_id=meeting.id, person_id=p.id, status=AttendanceStatus.PRESENT,
                               method=AttendanceMethod.QR, at=meeting.starts_at))  # fmt: skip
    session.flush()


def _record(session, b: Branch, meeting, vote=quorum.VoteInput(), now=LATER):
    # The chair and recorder count as present (issue 15 point 5): both are among those present here.
    data = minutes_uc.MinutesInput("正式1", "正式2", "讨论并表决接收张某为预备党员", "同意", vote=vote)
    return minutes_uc.record_minutes(session, b.secretary, meeting.id, data, now=now, cfg=CFG)


def _vote(yes, kind=VoteKind.DECISION, written=0):
    return quorum.VoteInput(True, kind, yes, written)


def test_rule_16_more_than_half_is_strictly_more():
    """§1.2: "超过半数", strictly: 10 → 6 (5 is not enough), 9 → 5; four fifths of 10 → 9 (rule 15)."""
    assert quorum.least_more_than(10) == 6 and quorum.least_more_than(9) == 5
    assert not quorum.more_than(5, 10) and quorum.more_than(6, 10)
    assert quorum.least_more_than(10, 4, 5) == 9 and not quorum.more_than(8, 10, 4, 5)


def test_rule_10_and_20_six_of_ten_full_members_make_the_quorum(session, org, branch):
    """Rule 10: 10 正式党员 should attend with a vote; 6 present is more than half, the vote counts and
    6 yes pass it. Rule 20: the minutes keep 应到/实到 split into 正式/预备. Nobody is flagged."""
    m = _meeting(session, branch)
    _present(session, m, branch.full[:6] + branch.probationary)
    saved = _record(session, branch, m, _vote(6))
    assert (saved.expected_full, saved.expected_probationary) == (10, 2)
    assert (saved.present_full, saved.present_probationary) == (6, 2)
    assert saved.expected_count == 12 and saved.present_count == 8
    assert (saved.voting_base, saved.voting_present) == (10, 6)
    assert saved.vote_held and saved.votes_for == 6 and saved.quorum_met and saved.vote_passed
    assert not saved.needs_reconvene and sent(session, f"minutes:{m.id}:void") == []


def test_rule_10_and_12_five_full_members_are_no_quorum_whoever_else_came(session, org, branch):
    """Rule 10/12: 5 of 10 正式党员 is not more than half; the 2 预备党员 in the room (7 people, more than
    half of the 12 invited) do not count, having no vote. The vote is saved as it happened, marked as
    needing a 补开, and the branch's secretaries and the committee's 组织委员 are told in Chinese."""
    m = _meeting(session, branch)
    _present(session, m, branch.full[:5] + branch.probationary)
    saved = _record(session, branch, m, _vote(5))
    assert (saved.voting_base, saved.voting_present) == (10, 5)
    assert saved.quorum_met is False and saved.vote_passed is False
    assert saved.needs_reconvene and saved.reconvene_pending
    flags = sent(session, f"minutes:{m.id}:void")
    assert {f.person_id for f in flags} == {branch.secretary.id, branch.deputy.id, org.reviewer.id}
    text = flags[0].payload["text"]
    assert "城南社区党支部" in text and "有表决权党员5人" in text and "10人的半数（至少需6人）" in text
    assert "补开" in text and flags[0].payload["title"].startswith("表决无效，需补开")
    # The secretary sees it in the month's list.
    _, rows = meetings_uc.month_overview(
        session, branch.secretary, month=date(2026, 5, 1), now=LATER, cfg=CFG
    )
    assert "表决无效，需补开" in rows[0][1]
    # Saving the same minutes again does not tell anyone twice.
    _record(session, branch, m, _vote(5), now=LATER + timedelta(minutes=5))
    assert len(sent(session, f"minutes:{m.id}:void")) == 3


def test_rule_10_a_motion_needs_yes_from_more_than_half_of_those_who_should_attend(session, org, branch):
    """Rule 10: yes must exceed half of the 10 who SHOULD attend with a vote, not of the 8 present:
    5 yes is a majority of the room and still fails; 6 passes."""
    m = _meeting(session, branch)
    _present(session, m, branch.full[:8])
    failed = _record(session, branch, m, _vote(5))
    assert failed.quorum_met and failed.vote_passed is False and not failed.needs_reconvene
    passed = _record(session, branch, m, _vote(6), now=LATER + timedelta(minutes=1))
    assert passed.vote_passed is True


def test_rule_13_exempt_members_are_left_out_of_the_base_unless_they_come(session, org, branch):
    """Rule 13 (and rule 50): a member exempt from organisational life (Person.attendance_exempt_reason)
    is not invited and not in the base: 11 正式党员 on the roll, a base of 10. One who comes anyway is
    counted, present and in the base (中组部: 本人参加会议的，计算在应到会人数之内)."""
    m = _meeting(session, branch)
    head = minutes_uc.minutes_headcount(session, m)
    assert head.voting_base == 10 and head.expected_full == 10
    everyone = branch.full + [branch.exempt]
    away = quorum.headcount(session, m, everyone, {p.id for p in branch.full[:6]})
    came = quorum.headcount(session, m, everyone, {p.id for p in branch.full[:5]} | {branch.exempt.id})
    assert (away.voting_base, away.voting_present) == (10, 6)
    assert (came.voting_base, came.voting_present) == (11, 6)


def test_rule_11_a_branch_committee_needs_more_than_half_of_its_members(session, org, branch):
    """Rule 11: the 支委会 of 5 委员 may proceed with 3 present; with 2 it may not decide, and a decision
    taken anyway is flagged like a 党员大会's and needs a 补开."""
    ok = _meeting(session, branch, types=("支委会",))
    _present(session, ok, branch.full[:3])
    saved = _record(session, branch, ok, _vote(3))
    assert (saved.voting_base, saved.voting_present) == (5, 3) and saved.quorum_met
    assert saved.vote_passed is None and not saved.needs_reconvene  # rule 11 sets a quorum only
    short = _meeting(session, branch, types=("支委会",), start=START + timedelta(days=1))
    _present(session, short, branch.full[:2])
    void = _record(session, branch, short, _vote(2), now=LATER + timedelta(days=1))
    assert void.quorum_met is False and void.needs_reconvene
    (flag,) = [f for f in sent(session, f"minutes:{short.id}:void") if f.person_id == org.reviewer.id]
    assert "到会委员2人" in flag.payload["text"] and "支部委员5人的半数（至少需3人）" in flag.payload["text"]
    assert "第十二条" in flag.payload["text"]


def test_rule_15_an_election_needs_more_than_four_fifths(session, org, branch):
    """Rule 15: 8 of 10 present is enough to decide but not to elect (more than 4/5 means 9)."""
    m = _meeting(session, branch)
    _present(session, m, branch.full[:8])
    election = _record(session, branch, m, _vote(8, VoteKind.ELECTION))
    assert (
        election.vote_kind == VoteKind.ELECTION and election.quorum_met is False and election.needs_reconvene
    )
    assert "五分之四（至少需9人）" in sent(session, f"minutes:{m.id}:void")[0].payload["text"]
    _present(session, m, branch.full[8:9])
    fixed = _record(session, branch, m, _vote(8, VoteKind.ELECTION), now=LATER + timedelta(minutes=1))
    assert fixed.quorum_met and fixed.vote_passed and not fixed.needs_reconvene
    # The correction is told to the same people.
    assert {f.person_id for f in sent(session, f"minutes:{m.id}:void-cleared")} == {
        branch.secretary.id, branch.deputy.id, org.reviewer.id,
    }  # fmt: skip


def test_rule_14_written_votes_count_as_votes_not_as_attendance(session, org, branch):
    """Rule 14: for 接收预备党员, absent members' written opinions count as votes: 6 present + 1 written
    allows 7 yes; they never make up a quorum, and cannot outnumber the absent."""
    m = _meeting(session, branch)
    _present(session, m, branch.full[:6])
    saved = _record(session, branch, m, _vote(7, written=1))
    assert saved.written_votes == 1 and saved.votes_for == 7 and saved.vote_passed
    with pytest.raises(Refused, match="最多7票"):
        _record(session, branch, m, _vote(8, written=1))
    with pytest.raises(Refused, match="不能多于未到会"):
        _record(session, branch, m, _vote(6, written=5))


def test_votes_that_cannot_be_are_refused_and_change_nothing(session, org, branch):
    """A vote on a meeting that is not a 党员大会 or 支委会, a missing or impossible yes count: refused in
    Chinese before anything is written."""
    lecture = _meeting(session, branch, types=("党课",))
    _present(session, lecture, branch.full[:6])
    with pytest.raises(Refused, match="支部党员大会或支委会"):
        _record(session, branch, lecture, _vote(6))
    congress = _meeting(session, branch, start=START + timedelta(days=1))
    _present(session, congress, branch.full[:6])
    with pytest.raises(Refused, match="赞成票数"):
        _record(
            session,
            branch,
            congress,
            quorum.VoteInput(True, VoteKind.DECISION, None),
            now=LATER + timedelta(days=1),
        )
    with pytest.raises(Refused, match="最多6票"):
        _record(session, branch, congress, _vote(7), now=LATER + timedelta(days=1))
    committee = _meeting(session, branch, types=("支委会",), start=START + timedelta(days=2))
    with pytest.raises(Refused, match="选举只能"):
        _record(session, branch, committee, _vote(0, VoteKind.ELECTION), now=LATER + timedelta(days=2))
    assert session.scalar(select(func.count()).select_from(Minutes)) == 0
    # Without a vote, a lecture's minutes still keep 应到/实到 (rule 20) and no quorum verdict.
    plain = _record(session, branch, lecture)
    assert plain.present_full == 6 and plain.quorum_met is None and not plain.vote_held


def test_a_later_meeting_with_its_quorum_is_the_reconvening(session, org, branch):
    """The 补开: the flag stays until a later 党员大会 of the branch reaches its quorum; a 支委会 does not
    reconvene a 党员大会."""
    first = _meeting(session, branch)
    _present(session, first, branch.full[:4])
    void = _record(session, branch, first, _vote(4))
    assert void.reconvene_pending
    committee = _meeting(session, branch, types=("支委会",), start=START + timedelta(days=3))
    _present(session, committee, branch.full[:5])
    _record(session, branch, committee, now=LATER + timedelta(days=3))
    assert void.reconvene_pending
    again = _meeting(session, branch, types=("党员大会", "主题党日"), start=START + timedelta(days=7))
    _present(session, again, branch.full[:7])
    _record(session, branch, again, _vote(7), now=LATER + timedelta(days=7))
    assert void.reconvened_by_id == again.id and not void.reconvene_pending
    _, rows = meetings_uc.month_overview(
        session, branch.secretary, month=date(2026, 5, 1), now=LATER + timedelta(days=7), cfg=CFG
    )
    assert "已补开" in {m.id: s for m, s in rows}[first.id]


def test_the_form_sends_the_vote_as_json_or_multipart_strings():
    """The minutes form posts JSON, or multipart (all strings) when photos go along."""
    assert quorum.vote_from_form({}) == quorum.VoteInput()
    assert quorum.vote_from_form({"vote_held": "false", "votes_for": "x"}) == quorum.VoteInput()
    assert quorum.vote_from_form({"vote_held": True, "votes_for": 6}) == _vote(6)
    assert quorum.vote_from_form(
        {"vote_held": "true", "vote_kind": "election", "votes_for": " 9 ", "written_votes": ""}
    ) == _vote(9, VoteKind.ELECTION)
    with pytest.raises(Refused, match="整数"):
        quorum.vote_from_form({"vote_held": "true", "votes_for": "六"})
    with pytest.raises(Refused, match="刷新"):
        quorum.vote_from_form({"vote_held": "true", "vote_kind": "secret"})


def test_rule_20_the_minutes_form_shows_the_counts_and_flags_a_void_vote(session_factory, session, org):
    """The H5 minutes form (rule 20): 应到/实到 split 正式/预备 and the quorum before saving; a vote posted
    without its quorum (as JSON, or multipart strings with a photo) is saved, answered with the 补开
    warning, and the page then shows the 补开 banner."""
    from io import BytesIO

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from PIL import Image

    from bot.web.meetings import build_meetings_router
    from tests.meetings.test_web import CORE, Clock, FakeIdentity, login

    ident, clock = FakeIdentity(), Clock(START - timedelta(days=2))
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(
        build_meetings_router(session_factory, {"dingtalk": ident}, CORE, cfg=CFG, clock=clock)
    )
    client = TestClient(app)
    m = meetings_uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="会议室", topic="表决",
        now=clock.now, cfg=CFG,
    )  # fmt: skip
    _present(session, m, [org.secretary, org.deputy, org.alice])
    session.commit()
    clock.now = LATER
    login(client, ident, "wangsj")
    page = client.get(f"/h5/meetings/{m.id}/minutes").text
    assert "应到6人（正式党员6人、预备党员0人），实到3人（正式党员3人、预备党员0人）" in page
    assert "有表决权的正式党员应到6人，实到3人；表决须超过半数到会（至少4人）：未达到" in page
    assert "赞成票至少4票" in page and 'name="vote_held"' in page
    form = {"chair": "王书记", "recorder": "李副书记", "topics": "表决接收预备党员"}
    refused = client.post(f"/h5/meetings/{m.id}/minutes", json={**form, "vote_held": True})
    assert refused.status_code == 400 and "赞成票数" in refused.json()["error"]
    r = client.post(f"/h5/meetings/{m.id}/minutes", json={**form, "vote_held": True, "votes_for": 3})
    assert r.status_code == 200 and "表决无效，需要补开" in r.json()["message"]
    assert "上级党委组织委员" in r.json()["message"]
    assert "需要补开" in client.get(f"/h5/meetings/{m.id}/minutes").text
    png = BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(png, format="PNG")
    multipart = {**form, "vote_held": "true", "vote_kind": "decision", "votes_for": "3", "written_votes": ""}
    r = client.post(f"/h5/meetings/{m.id}/minutes", data=multipart,
                    files=[("photos", ("p.png", png.getvalue(), "image/png"))])  # fmt: skip
    assert r.status_code == 200, r.text
    session.expire_all()
    saved = session.scalars(select(Minutes)).one()
    assert saved.vote_held and saved.votes_for == 3 and saved.needs_reconvene
    assert {f.person_id for f in sent(session, f"minutes:{m.id}:void")} == {
        org.secretary.id, org.deputy.id, org.reviewer.id,
    }  # fmt: skip
