"""已阅 / 已约谈 only from the people a notice was sent to: not from whoever may view the unit (the
lagging branch's own secretary, the committee's other leaders, 组织部), and never about oneself."""

from __future__ import annotations

from sqlalchemy import select

from models.meetings import MeetingType
from models.monthly import AckKind, Escalation, Ladder
from tests.monthly.conftest import comply, outbox, run_at
from tests.monthly.test_ladder import MONTHS, Chat, _month, _run, _who

JULY = MONTHS[0]


def _row(session, ladder, **where):
    stmt = select(Escalation).where(Escalation.ladder == ladder)
    for k, v in where.items():
        stmt = stmt.where(getattr(Escalation, k) == v)
    return session.scalars(stmt).one()


def test_only_the_addressees_of_a_branch_notice_acknowledge_it(session_factory, session, county, observers):
    _month(session, county, JULY, b3_lags=True)
    _run(session, JULY)
    esc = _row(session, Ladder.BRANCH, subject_id=county.b3.id)
    assert esc.detail["to"] == [county.people["c2org"].id]
    chat = Chat(session_factory, run_at(JULY))
    # The lagging branch's own secretary, the committee's secretary and 组织部 may all view 河西村,
    # but the notice was sent to the committee's 组织委员 only.
    for account in ("sec3", "c2sec", "staff"):
        reply = chat.press(account, id=str(esc.id), kind="interviewed")
        assert "不是发给您的" in reply[0]["text"], account
    session.expire_all()
    assert session.get(Escalation, esc.id).acknowledged_at is None
    chat.press("c2org", id=str(esc.id), kind="interviewed")
    session.expire_all()
    assert session.get(Escalation, esc.id).acknowledged_by_id == county.people["c2org"].id


def _absent_in_july(session, county, *names):
    for b in (county.b1, county.b2, county.b3, county.b4):
        comply(session, county, b, JULY, (MeetingType.THEME_DAY,), absent=names if b == county.b2 else ())
    session.commit()
    _run(session, JULY)


def _member_card(**kind):
    return {"ladder": "member_absence", "branch": "", "month": "2026-07", **kind}


def test_only_the_people_a_member_notice_went_to_acknowledge_it(session_factory, session, county, observers):
    _absent_in_july(session, county, "党员2乙")
    assert _who(session, f"monthly:member:member_absence:{county.b2.id}:2026-07") == {"书记2"}
    chat = Chat(session_factory, run_at(JULY))
    params = _member_card(branch=str(county.b2.id), kind="read")
    # The committee's 组织委员 may view 东门社区 but the 1-month step is the branch secretary's.
    assert "不是发给您的" in chat.press("c1org", **params)[0]["text"]
    row = _row(session, Ladder.MEMBER_ABSENCE, subject_id=county.people["m2b"].id)
    assert row.acknowledged_at is None
    assert "书记2" in chat.press("sec2", **params)[0]["text"]
    session.expire_all()
    assert session.get(Escalation, row.id).acknowledged_by_id == county.people["sec2"].id


def test_a_notice_about_the_secretary_goes_past_him(session_factory, session, county, observers):
    """书记2 misses July himself, with 党员2乙: his line goes to the committee's 组织委员 (东门社区 has no
    副书记), he acknowledges only 党员2乙's line, and never his own."""
    _absent_in_july(session, county, "书记2", "党员2乙")
    sec2, c1org = county.people["sec2"], county.people["c1org"]
    own = _row(session, Ladder.MEMBER_ABSENCE, subject_id=sec2.id)
    other = _row(session, Ladder.MEMBER_ABSENCE, subject_id=county.people["m2b"].id)
    assert own.detail["to"] == [c1org.id] and other.detail["to"] == [sec2.id]
    card = outbox(session, f"monthly:member:member_absence:{county.b2.id}:2026-07")
    assert {m.person_id for m in card} == {sec2.id, c1org.id}
    chat = Chat(session_factory, run_at(JULY))
    params = _member_card(branch=str(county.b2.id), kind="interviewed")
    chat.press("sec2", **params)
    session.expire_all()
    assert session.get(Escalation, other.id).acknowledged_by_id == sec2.id
    assert session.get(Escalation, own.id).acknowledged_at is None
    assert "已由书记2确认过" in chat.press("sec2", **params)[0]["text"]
    chat.press("c1org", **params)
    session.expire_all()
    assert session.get(Escalation, own.id).acknowledged_by_id == c1org.id
    assert session.get(Escalation, own.id).ack_kind == AckKind.INTERVIEWED


def test_the_subject_of_a_member_notice_is_refused_with_the_reason(
    session_factory, session, county, observers
):
    _absent_in_july(session, county, "书记2")
    own = _row(session, Ladder.MEMBER_ABSENCE, subject_id=county.people["sec2"].id)
    assert _who(session, f"monthly:member:member_absence:{county.b2.id}:2026-07") == {"组织委员1"}
    # Even if the line was addressed to him (a notice queued before this rule), he cannot confirm it.
    own.detail = {**own.detail, "to": [county.people["sec2"].id]}
    session.commit()
    chat = Chat(session_factory, run_at(JULY))
    reply = chat.press("sec2", **_member_card(branch=str(county.b2.id), kind="interviewed"))
    assert "说的是您本人" in reply[0]["text"]
    session.expire_all()
    assert session.get(Escalation, own.id).acknowledged_at is None
