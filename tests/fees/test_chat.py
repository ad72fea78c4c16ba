"""The chat side: the fees router through the chat harness (the real Dispatcher), read back from the outbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.core.dispatcher import Outcome
from handlers.fees import chat
from models.db import make_sessionmaker
from models.fees import FeePayment, PaymentStatus
from models.org import ChatAccount
from models.outbox import OutboxMessage
from tests import harness
from tests.fees.conftest import CORP, NOW


def _as(session, person, act) -> None:
    """`act(chat, account)` through the chat harness: the production Dispatcher, as a platform event
    goes (dedup, the person found by their account, the handler in a savepoint, one transaction)."""
    session.commit()  # what the test arranged is what the dispatcher's transaction sees
    account = session.scalar(select(ChatAccount.account_id).where(ChatAccount.person_id == person.id))
    bot = harness.Chat(make_sessionmaker(session.get_bind()), [chat.router], now=NOW, corp=CORP)
    assert act(bot, account).outcome == Outcome.HANDLED
    session.expire_all()


def say(session, person, text):
    _as(session, person, lambda bot, account: bot.say(account, text))


def press(session, person, action, params):
    _as(session, person, lambda bot, account: bot.press(account, action, **params))


def replies(session, person):
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dedup_key.startswith("reply:"), OutboxMessage.person_id == person.id)
        .order_by(OutboxMessage.id)
    )
    return [r.payload for r in rows]


def sent_to(session, person):
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == f"p:{person.id}").order_by(OutboxMessage.id)
    )
    return [r.payload for r in rows]


def test_paid_reports_and_the_collector_gets_then_updates_one_card(session, org):
    say(session, org.alice, "已交")
    [p] = session.scalars(select(FeePayment)).all()
    assert (p.person_id, p.month, p.status) == (org.alice.id, date(2026, 11, 1), PaymentStatus.REPORTED)
    assert "已记录" in replies(session, org.alice)[-1]["text"]
    [card] = sent_to(session, org.collector)
    assert card["kind"] == "card" and card["card_key"] == f"fee-pending:{org.branch.id}"
    assert "张三" in card["text"]
    assert [b["action"] for b in card["buttons"]] == ["fees.confirm", "fees.confirm_all"]
    assert sent_to(session, org.secretary) == []  # the branch has a collector: the secretary is spared

    say(session, org.bob, "已交")
    card, update = sent_to(session, org.collector)
    assert update["kind"] == "card_update" and "李四" in update["text"] and "张三" in update["text"]

    say(session, org.alice, "已交 11月 12月")
    assert session.scalar(select(FeePayment).where(FeePayment.month == date(2026, 12, 1))).amount == Decimal(
        "40.00"
    )
    assert "2026年12月" in replies(session, org.alice)[-1]["text"]


def test_bad_month_and_window_get_a_chinese_answer_and_change_nothing(session, org):
    say(session, org.alice, "已交 13月")
    say(session, org.alice, "已交 下个月吧")
    say(session, org.alice, "已交 2026年1月")
    texts = [r["text"] for r in replies(session, org.alice)]
    assert "没看懂月份" in texts[0] and "没看懂月份" in texts[1] and "补交" in texts[2]
    assert session.scalars(select(FeePayment)).all() == []


def test_confirm_card_and_role_checks(session, org):
    say(session, org.alice, "已交")
    say(session, org.collector, "已交")
    [pay_alice] = session.scalars(select(FeePayment).where(FeePayment.person_id == org.alice.id)).all()
    [pay_own] = session.scalars(select(FeePayment).where(FeePayment.person_id == org.collector.id)).all()

    say(session, org.alice, "党费确认")  # a member is not a collector
    assert "不是任何支部" in replies(session, org.alice)[-1]["text"]

    say(session, org.collector, "党费确认")
    card = replies(session, org.collector)[-1]
    assert card["kind"] == "card" and "张三" in card["text"] and "李收缴" in card["text"]

    press(session, org.collector, "fees.confirm", {"payment_id": str(pay_own.id)})
    assert "不能确认自己" in replies(session, org.collector)[-1]["text"]
    press(session, org.other_collector, "fees.confirm", {"payment_id": str(pay_alice.id)})
    assert "只有本支部" in replies(session, org.other_collector)[-1]["text"]
    press(session, org.alice, "fees.confirm_all", {"branch_id": str(org.branch.id)})
    press(session, org.collector, "fees.confirm", {"payment_id": "not-a-number"})
    session.refresh(pay_alice)
    session.refresh(pay_own)
    assert pay_alice.status == pay_own.status == PaymentStatus.REPORTED

    press(session, org.collector, "fees.confirm_all", {"branch_id": str(org.branch.id)})
    session.refresh(pay_alice)
    session.refresh(pay_own)
    assert (
        pay_alice.status == PaymentStatus.CONFIRMED and pay_alice.confirmed_by_person_id == org.collector.id
    )
    assert pay_own.status == PaymentStatus.REPORTED  # their own waits for the secretary
    assert "已确认 1 笔" in replies(session, org.collector)[-1]["text"]
    assert "已由李收缴确认" in sent_to(session, org.alice)[-1]["text"]

    press(session, org.secretary, "fees.confirm", {"payment_id": str(pay_own.id)})
    session.refresh(pay_own)
    assert pay_own.status == PaymentStatus.CONFIRMED and pay_own.confirmed_by_person_id == org.secretary.id


def test_status_and_unpaid_list(session, org):
    say(session, org.alice, "党费")
    status = replies(session, org.alice)[-1]
    assert "11月6日（周五）" in status["text"] and "40.00 元" in status["text"]

    say(session, org.bob, "已交")
    say(session, org.bob, "党费名单")
    assert (
        "只有" in replies(session, org.bob)[-1]["text"]
        or "不是任何支部" in replies(session, org.bob)[-1]["text"]
    )
    say(session, org.secretary, "党费名单")
    listing = replies(session, org.secretary)[-1]["text"]
    assert "张三" in listing and "赵六" in listing and "李四" not in listing  # bob reported: not unpaid
    assert "吴七" not in listing  # other branch
    assert "共 4 人未交，待确认 1 人" in listing


def test_unpaid_list_has_its_heading_where_the_title_is_not_shown(session, org):
    """Issue 15 (also seen): 党费名单 had no heading. DingTalk shows a markdown message's title only
    in the notification, so the list said neither whose nor which month it was; WeCom shows the title
    above the text, so the heading must not repeat it."""
    from bot.platforms.dingtalk import render as dingtalk
    from bot.platforms.wecom import render as wecom

    say(session, org.secretary, "党费名单")
    reply = replies(session, org.secretary)[-1]
    lines = reply["text"].split("\n")
    assert lines[0] == "**第一党支部 2026年11月**"
    assert lines[2] == "姓名　应交金额" and lines[3].startswith("张三")
    message = chat.Markdown(reply["title"], reply["text"])
    msg_key, param = dingtalk.sample(message, "http://127.0.0.1:8000")
    assert msg_key == "sampleMarkdown" and param["text"].startswith("**第一党支部 2026年11月**")
    shown = wecom.body(message, task_id="t", base_url="http://127.0.0.1:8000")["markdown"]["content"]
    assert shown.startswith("**党费未交名单**\n**第一党支部 2026年11月**")


def test_every_confirmed_month_reaches_the_member_even_on_a_fee_day(session, org):
    """Issue 15: 9. A member who reported 11月, 12月 and 1月 and whose collector pressed 全部确认
    heard only of 11月: each confirmation went out under the day's fee key, which the day's reminder
    had already used. Now one message names every month, under a key of exactly those payments."""
    from bot.core import outbox
    from bot.core.messages import Text
    from handlers.fees.arrears import fee_message_key

    outbox.enqueue_to_people(
        session, [org.alice.id], Text("请交党费"), dedup_key=fee_message_key(NOW.date()), now=NOW
    )
    session.commit()
    say(session, org.alice, "已交 11月 12月 2027年1月")
    assert len(session.scalars(select(FeePayment).where(FeePayment.person_id == org.alice.id)).all()) == 3
    press(session, org.collector, "fees.confirm_all", {"branch_id": str(org.branch.id)})
    notices = [m["text"] for m in sent_to(session, org.alice) if "确认" in m.get("text", "")]
    assert len(notices) == 1
    assert all(month in notices[0] for month in ("2026年11月", "2026年12月", "2027年1月"))
    assert "合计120.00 元" in notices[0].replace(" ", " ")
    # Another press that confirms nothing new sends nothing again.
    press(session, org.collector, "fees.confirm_all", {"branch_id": str(org.branch.id)})
    assert len([m for m in sent_to(session, org.alice) if "确认" in m.get("text", "")]) == 1
