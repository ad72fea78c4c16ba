"""已阅 / 已约谈 only from the people a notice was sent to: not from whoever may view the unit (the
lagging branch's own secretary, the committee's other leaders, 组织部), and never about oneself."""

from __future__ import annotations

from sqlalchemy import select

from handlers.monthly import strings
from handlers.monthly.chat import router
from handlers.monthly.ladder import ACK_ACTION
from models.meetings import MeetingType
from models.monthly import AckKind, Escalation, Ladder
from tests.harness import Chat
from tests.monthly.conftest import BASE, comply, outbox, run_at
from tests.monthly.test_ladder import MONTHS, _month, _run, _who

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
    chat = Chat(session_factory, [router], now=run_at(JULY))
    # The lagging branch's own secretary, the committee's secretary and 组织部 may all view 河西村,
    # but the notice was sent to the committee's 组织委员 only.
    for account in ("sec3", "c2sec", "staff"):
        reply = chat.press(account, ACK_ACTION, id=str(esc.id), kind="interviewed").replies
        assert "不是发给您的" in reply[0]["text"], account
    session.expire_all()
    assert session.get(Escalation, esc.id).acknowledged_at is None
    chat.press("c2org", ACK_ACTION, id=str(esc.id), kind="interviewed")
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
    chat = Chat(session_factory, [router], now=run_at(JULY))
    params = _member_card(branch=str(county.b2.id), kind="read")
    # The committee's 组织委员 may view 东门社区 but the 1-month step is the branch secretary's.
    assert "不是发给您的" in chat.press("c1org", ACK_ACTION, **params).replies[0]["text"]
    row = _row(session, Ladder.MEMBER_ABSENCE, subject_id=county.people["m2b"].id)
    assert row.acknowledged_at is None
    assert "书记2" in chat.press("sec2", ACK_ACTION, **params).replies[0]["text"]
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
    chat = Chat(session_factory, [router], now=run_at(JULY))
    params = _member_card(branch=str(county.b2.id), kind="interviewed")
    chat.press("sec2", ACK_ACTION, **params)
    session.expire_all()
    assert session.get(Escalation, other.id).acknowledged_by_id == sec2.id
    assert session.get(Escalation, own.id).acknowledged_at is None
    assert "已由书记2确认过" in chat.press("sec2", ACK_ACTION, **params).replies[0]["text"]
    chat.press("c1org", ACK_ACTION, **params)
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
    chat = Chat(session_factory, [router], now=run_at(JULY))
    reply = chat.press(
        "sec2", ACK_ACTION, **_member_card(branch=str(county.b2.id), kind="interviewed")
    ).replies
    assert "说的是您本人" in reply[0]["text"]
    session.expire_all()
    assert session.get(Escalation, own.id).acknowledged_at is None


def _rendered(payload: dict) -> list[str]:
    """The updated card as each platform shows it: DingTalk's card markdown, WeCom's template card."""
    from bot.core.messages import CardUpdate, from_payload
    from bot.platforms.dingtalk.render import card_params
    from bot.platforms.wecom.render import update_body

    update = from_payload(payload)
    assert isinstance(update, CardUpdate)
    wecom = update_body(update, task_id="t1", base_url=BASE)["template_card"]
    return [card_params(update, BASE)["markdown"], wecom["sub_title_text"]]


def test_an_acknowledged_unit_notice_keeps_its_content(session_factory, session, county, observers):
    """Issue 15: 8. 已约谈 used to replace the card by one line; the updated card is the notice as
    sent (unit, rule, rank, what was missing) with who pressed and when in place of the request."""
    _month(session, county, JULY, b3_lags=True)
    _run(session, JULY)
    esc = _row(session, Ladder.BRANCH, subject_id=county.b3.id)
    sent = outbox(session, esc.detail["dedup_key"])[0].payload["text"]
    reply = (
        Chat(session_factory, [router], now=run_at(JULY))
        .press("c2org", ACK_ACTION, id=str(esc.id), kind="interviewed")
        .replies
    )
    assert reply[0]["kind"] == "card_update" and reply[0]["card_key"] == f"esc:{esc.id}"
    for text in _rendered(reply[0]):
        for part in (
            "河西村党支部",
            "支部当月落后，请党委组织委员督促整改",
            "主题党日：已开0次，应开1次",
            "在农村类支部中排第2名（共2个）",
            "得分",
        ):
            assert part in text, (part, text)
        assert "组织委员2于8月1日 09:00确认“已约谈”" in text and "点击下方按钮" not in text
    # Everything the notice said is still there, word for word, before the state line.
    assert reply[0]["text"].startswith(sent.removesuffix(strings.ESC_ASK).rstrip())


def test_an_acknowledged_member_notice_keeps_every_line(session_factory, session, county, observers):
    _absent_in_july(session, county, "党员2甲", "党员2乙")
    key = f"monthly:member:member_absence:{county.b2.id}:2026-07"
    sent = outbox(session, key)[0].payload["text"]
    reply = (
        Chat(session_factory, [router], now=run_at(JULY))
        .press("sec2", ACK_ACTION, **_member_card(branch=str(county.b2.id), kind="read"))
        .replies
    )
    assert reply[0]["kind"] == "card_update"
    for text in _rendered(reply[0]):
        assert "党员2甲" in text and "党员2乙" in text and "连续1个月" in text
        assert "书记2" in text and "已阅" in text and "点击下方按钮" not in text
    assert reply[0]["text"].startswith(sent.removesuffix(strings.MEMBER_ASK).rstrip())
