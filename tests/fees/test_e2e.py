"""End to end through the sandbox and the real DingTalk adapters: the fee-day reminders (many members
per call), 已交 on the page the reminder links to, the collector's card, 确认 — and never a second fee
message to the member that day."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import select

from config import demo
from handlers.fees import jobs
from models.fees import FeePayment, PaymentStatus
from models.org import ChatAccount, OrgUnit, Person, Platform, Role, RoleAssignment, UnitKind, set_path
from tests.core.e2e import running_bot
from tests.fees.conftest import TZ
from tests.web import open_session

T0 = datetime(2026, 11, 5, 16, 5, tzinfo=UTC)  # 00:05 on Fri 2026-11-06 (the fee day) in Shanghai
FEE_DAY = datetime(2026, 11, 6).date()


def _arrange(session_factory) -> dict[str, int]:
    with session_factory() as s, s.begin():
        committee = OrgUnit(kind=UnitKind.COMMITTEE, name="湖滨区直属机关党委")
        s.add(committee)
        s.flush()
        set_path(committee, None)
        branch = OrgUnit(kind=UnitKind.BRANCH, name="第一党支部", parent_id=committee.id)
        s.add(branch)
        s.flush()
        set_path(branch, committee)
        ids = {}
        for account, name, base in (
            ("wangsj", "王书记", "8000"),
            ("lisj", "李收缴", "3000"),
            ("zhangsan", "张三", "4000"),
        ):
            p = Person(name=name, branch_id=branch.id, fee_base=Decimal(base), created_at=T0)
            s.add(p)
            s.flush()
            s.add(
                ChatAccount(
                    person_id=p.id,
                    platform=Platform.DINGTALK,
                    corp_id=demo.DINGTALK_CORP_ID,
                    account_id=account,
                )
            )
            ids[account] = p.id
        s.add(RoleAssignment(person_id=ids["wangsj"], org_unit_id=branch.id, role=Role.SECRETARY))
        s.add(RoleAssignment(person_id=ids["lisj"], org_unit_id=branch.id, role=Role.FEE_COLLECTOR))
    return ids


def _to(bot, user):
    return [m for m in bot.sb.outbox(platform="dingtalk") if user in m.get("to", [])]


def _cards(bot, user, title_part):
    return [m for m in _to(bot, user) if m.get("card_id") and title_part in str(m)]


def _press(bot, user, card, label):
    button = next(b for b in card["buttons"] if label in b["text"])
    ack = bot.sb.push_card_action(card["card_id"], user, button["params"], action_id=button["action_id"])
    assert ack["ack"]["code"] == 200
    bot.drain()


def test_reminder_paid_confirm_through_the_sandbox(session_factory, database_url):
    ids = _arrange(session_factory)
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        with session_factory() as s, s.begin():
            assert jobs.fee_day_reminders(s, FEE_DAY, bot.clock.now(), TZ) == 3
        bot.drain()  # held until 09:00, then sent
        assert bot.clock.now() >= datetime(2026, 11, 6, 1, 0, tzinfo=UTC)
        # One batchSend call for all three: the reminder is a link card, not a callback card.
        [reminders] = [m for m in bot.sb.outbox(platform="dingtalk") if "党费交纳提醒" in str(m)]
        assert reminders["api"] == "batchSend" and set(reminders["to"]) == {"wangsj", "lisj", "zhangsan"}
        [button] = reminders["buttons"]
        assert button["text"] == "已交" and button["url"] == f"{bot.url}/h5/fees/pay/2026-11"

        # 张三 opens it in DingTalk: the page gets a login-free auth code and opens the H5 session.
        with httpx.Client(base_url=bot.url) as browser:
            code = bot.sb.dingtalk_authcode("zhangsan")
            assert (
                open_session(browser, "/h5/fees/session", {"platform": "dingtalk", "code": code}).status_code
                == 200
            )
            page = browser.get(button["url"])
            assert page.status_code == 200 and "我已交纳2026年11月党费" in page.text and "张三" in page.text
            assert "每月应交：40.00 元" in page.text
            done = browser.post(button["url"])
            assert done.status_code == 200 and "等待党费收缴员确认" in done.text
        with session_factory() as s:
            pay = s.scalar(select(FeePayment).where(FeePayment.person_id == ids["zhangsan"]))
            assert pay.status == PaymentStatus.REPORTED
        bot.drain()
        [pending] = _cards(bot, "lisj", "待确认党费")
        assert "张三" in str(pending)

        _press(bot, "lisj", pending, "确认 张三")
        with session_factory() as s:
            pay = s.scalar(select(FeePayment).where(FeePayment.person_id == ids["zhangsan"]))
            assert pay.status == PaymentStatus.CONFIRMED and pay.confirmed_by_person_id == ids["lisj"]
        # The confirmation reaches the member although the reminder came the same day (issue 15: 9).
        bot.drain()
        fee_messages = [m for m in _to(bot, "zhangsan") if "党费" in str(m)]
        assert len(fee_messages) == 2, [(m.get("title"), m.get("text")) for m in fee_messages]
        assert "已由" in str(fee_messages[-1]) and "2026年11月" in str(fee_messages[-1])

        bot.sb.push_dingtalk_message("zhangsan", "党费")
        bot.drain()
        status = [m for m in _to(bot, "zhangsan") if "我的党费" in str(m)]
        assert status and "已确认" in str(status[-1])
