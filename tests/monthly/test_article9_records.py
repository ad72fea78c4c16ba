"""The 自行脱党 watch's records that only people can make (党章第九条; domain.md §2 rules 32–34, E14–E15):
a branch's 书记, 副书记 or 组织委员 records 不做党所分配的工作 per member and month, and loss of contact,
by chat; everyone else, and bad input, are refused in Chinese and nothing is written.

The small county of conftest: 东门社区党支部 (b2) has 书记2, 党员2甲, 党员2乙; 河西村党支部 (b3) has 书记3,
党员3甲, 党员3乙; 组织委员1 serves 城关镇党委, above b1 and b2.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.monthly.chat import router
from handlers.monthly.watch import parse_month
from models.monthly import LostContact, WorkNotDone
from tests import harness
from tests.monthly.conftest import local


def m(year: int, month: int) -> date:
    return date(year, month, 1)


def test_e14_work_not_done_is_recorded_by_chat_and_refused_otherwise(session_factory, session, county):
    """党章第九条 (c), domain.md rule 32 / E14: the secretary records it per member and month with a
    reason; plain members, other branches, the committee, the member's own case and bad input are
    refused in Chinese and record nothing."""
    chat = harness.Chat(session_factory, [router], now=local(date(2026, 11, 20), 15))
    refusals = {
        (
            "m2a",
            "未做分配工作 党员2乙 2026-11 没有参加防汛值守",
        ): "只有本支部的书记、副书记或组织委员可以登记",
        (
            "c1org",
            "未做分配工作 党员2乙 2026-11 没有参加防汛值守",
        ): "只有本支部的书记、副书记或组织委员可以登记",
        ("sec1", "未做分配工作 党员2乙 2026-11 没有参加防汛值守"): "本支部没有找到党员“党员2乙”",
        ("sec2", "未做分配工作 书记2 2026-11 自己的"): "不能为自己登记",
        ("sec2", "未做分配工作 党员2乙 2026-13 没有参加"): "“2026-13”不是月份",
        ("sec2", "未做分配工作 党员2乙 下个月 没有参加"): "“下个月”不是月份",
        ("sec2", "未做分配工作 党员2乙 2026-12 没有参加"): "2026年12月还没有到",
        ("sec2", "未做分配工作 党员2乙 2025-06 没有参加"): "只能登记最近12个月的情况",
        ("sec2", "未做分配工作 党员2乙 2026-11"): "请写明原因",
        ("sec2", "未做分配工作 党员2乙"): "用法：未做分配工作 姓名 月份 原因",
        ("sec2", "未做分配工作 张无忌 2026-11 没有参加"): "本支部没有找到党员“张无忌”",
    }
    for (who, text), expected in refusals.items():
        assert expected in chat.say(who, text), (who, text)
    assert session.scalar(select(WorkNotDone.id)) is None

    reply = chat.say("sec2", "未做分配工作 党员2乙 2026-10 支部安排的防汛值守两次未到岗")
    assert "已登记：党员2乙2026年10月未做党组织分配的工作。" in reply and "防汛值守两次未到岗" in reply
    reply = chat.say("sec2", "未做分配工作 党员2乙 11月 入户走访任务没有完成")
    assert "已登记：党员2乙2026年11月未做党组织分配的工作" in reply
    assert "按目前的登记，党员2乙已连续2个月未做分配的工作（2026年10月起）" in reply
    assert "撤销未做分配工作 党员2乙 2026-11" in reply
    # Recording the same month again updates the reason.
    assert "已更新党员2乙2026年11月的登记" in chat.say(
        "sec2", "未做分配工作 党员2乙 2026年11月 入户走访一户未去"
    )
    listing = chat.say("sec2", "未做分配工作")
    assert (
        "东门社区党支部：未做分配工作登记" in listing
        and "党员2乙：2026年10月、11月（最近原因：入户走访一户未去）" in listing
    )
    # Withdrawn by mistake-correction: kept, but no longer counted.
    assert "已撤销党员2乙2026年10月" in chat.say("sec2", "撤销未做分配工作 党员2乙 2026-10")
    assert "没有找到党员2乙2026年10月" in chat.say("sec2", "撤销未做分配工作 党员2乙 2026-10")
    session.expire_all()
    rows = session.scalars(select(WorkNotDone).order_by(WorkNotDone.month)).all()
    assert [(r.month, r.withdrawn_at is not None, r.reason) for r in rows] == [
        (m(2026, 10), True, "支部安排的防汛值守两次未到岗"), (m(2026, 11), False, "入户走访一户未去"),
    ]  # fmt: skip
    assert rows[1].recorded_by_id == county.people["sec2"].id and rows[1].branch_id == county.b2.id


def test_e15_lost_contact_is_recorded_by_chat_and_restored(session_factory, session, county):
    """党员教育管理工作条例 第二十四条 (domain.md rule 34, E15): the branch records the first month without
    contact and how it searched; the reply says when the member will be listed for the 支部大会; the
    list shows the open records; 恢复联系 closes the record (kept, with who and when)."""
    chat = harness.Chat(session_factory, [router], now=local(date(2026, 6, 2), 10))
    refusals = {
        ("m3b", "失联 党员3甲 2026-05 电话停机"): "只有本支部的书记、副书记或组织委员可以登记",
        ("sec2", "失联 党员3甲 2026-05 电话停机"): "本支部没有找到党员“党员3甲”",
        ("sec3", "失联 党员3甲 2026-05"): "请写明寻找情况",
        ("sec3", "失联 党员3甲 明年 电话停机"): "“明年”不是月份",
        ("sec3", "失联 党员3甲 2026-07 电话停机"): "2026年7月还没有到",
        ("sec3", "恢复联系 党员3甲"): "党员3甲没有未结束的失联登记",
    }
    for (who, text), expected in refusals.items():
        assert expected in chat.say(who, text), (who, text)
    assert session.scalar(select(LostContact.id)) is None
    reply = chat.say("sec3", "失联 党员3甲 2026-05 电话停机，家属称外出务工后联系不上")
    assert "已登记：党员3甲自2026年5月起与党组织失去联系" in reply
    assert "如到2026年10月底仍没有音讯（失联满6个月）" in reply and "支部大会讨论决定" in reply
    assert "系统不作任何认定" in reply and "恢复联系 党员3甲" in reply
    assert "已更新党员3甲的失联登记：自2026年4月起" in chat.say("sec3", "失联 党员3甲 2026-04 电话停机")
    listing = chat.say("sec3", "失联")
    assert (
        "河西村党支部：失联党员登记" in listing and "党员3甲：自2026年4月起，已3个月（电话停机）" in listing
    )
    assert "目前没有失联登记" in chat.say("sec2", "失联")  # another branch's list is its own
    assert "已记录：党员3甲已恢复与党组织的联系，自2026年4月起的失联登记到此结束" in chat.say(
        "sec3", "恢复联系 党员3甲 本人回村，来支部说明了情况"
    )
    session.expire_all()
    (row,) = session.scalars(select(LostContact)).all()
    assert row.since == m(2026, 4) and row.restored_at is not None
    assert row.restored_by_id == county.people["sec3"].id and row.recorded_by_id == county.people["sec3"].id
    assert "目前没有失联登记" in chat.say("sec3", "失联")


def test_same_names_are_told_apart_by_phone(session_factory, session, county):
    """Two members of one branch with the same name: the name is refused with an example, the phone
    number (any spelling the roster accepts) records the right one."""
    twin = county.people["m2a"]
    twin.name, twin.phone = "党员2乙", "13800000021"
    county.people["m2b"].phone = "13800000022"
    session.commit()
    chat = harness.Chat(session_factory, [router], now=local(date(2026, 11, 20), 15))
    reply = chat.say("sec2", "未做分配工作 党员2乙 2026-11 值守未到岗")
    assert "本支部有2名党员叫“党员2乙”，请改用手机号" in reply
    assert "已登记：党员2乙2026年11月" in chat.say("sec2", "未做分配工作 138-0000-0022 2026-11 值守未到岗")
    assert session.scalar(select(WorkNotDone.person_id)) == county.people["m2b"].id


def test_month_forms():
    today = date(2026, 3, 15)
    assert parse_month("2026-11", today) == m(2026, 11)
    assert parse_month("2026.1", today) == m(2026, 1)
    assert parse_month("2026年02月", today) == m(2026, 2)
    assert parse_month("11月", today) == m(2025, 11)  # the latest November not after today
    assert parse_month("3月", today) == m(2026, 3)
    for bad in ("2026-13", "13月", "2026-0", "上个月", "", "2026"):
        assert parse_month(bad, today) is None, bad
