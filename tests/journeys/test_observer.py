"""马超, 观察员 appointed by 城关镇党委, in the chat page on DingTalk and on WeCom (issue #15): the branches
assigned to him, the notice of a meeting with 我要列席 (the secretary hears he is coming), the evaluation
form opened from the notice after the meeting, the 整改 it asks for reported done by the secretary in
chat, and 销号 from the card that asks him, which keeps its content."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.journeys.conftest import pytestmark  # noqa: F401 - the browser mark and the Chromium check
from tests.journeys.steps import schedule

OBSERVER, SECRETARY = "machao01", "wangjianguo01"
SCORES = {
    "prep": "14",
    "procedure": "18",
    "attendance": "13",
    "content": "20",
    "record": "7",
    "followup": "12",
}


def test_observer_journey(demo):
    tz = demo.bot.service.settings.tz
    ma, wang = demo.person(OBSERVER), demo.person(SECRETARY)

    # The assignment: the branches he observes, with their coming meetings.
    mine = ma.say("我的支部")
    assert "东风村党支部" in mine and "幸福社区党支部" in mine
    ma.shot("observer-branches")

    # A meeting in one of them: the notice comes, he says he will attend, the secretary is told.
    start = (demo.now().astimezone(tz) + timedelta(days=1)).replace(hour=15, minute=0)
    schedule(wang, title="支部党员大会", kind="支部党员大会", starts_at=start, topic="讨论发展党员")
    demo.advance(timedelta(minutes=5))
    demo.run_job("observers.notices")
    notice = ma.wait_for("讨论发展党员")
    # One list per run, soonest first, each meeting with its number and its form's link.
    line = re.search(r"编号(\d+)：([^\n]*讨论发展党员[^\n]*)", notice.inner_text())
    assert line and "11月24日（周二）15:00" in line[2], notice.inner_text()
    number = line[1]
    ma.shot("observer-notice", row=notice)
    assert "已告知东风村党支部书记" in ma.say(f"我要列席 {number}")
    assert "观察员马超将列席" in wang.wait_for("观察员马超将列席").inner_text()

    # After the meeting: 填写评价 next to it in the notice opens the form; a 整改 is asked for.
    demo.advance_to(start + timedelta(hours=2))
    # The 填写评价 on that meeting's line (DingTalk shows a list, WeCom plain lines).
    form = ma.follow(notice.locator(f'a[href*="%2Fobservers%2F{number}%2Fform"]', has_text="填写评价"))
    form.locator("#score_prep").wait_for()
    for key, value in SCORES.items():
        form.fill(f"#score_{key}", value)
    form.fill("#comment", "程序完整，会议记录缺少主持人签名")
    form.select_option("#outcome", "correct")
    correct_by = (start + timedelta(days=14)).strftime("%Y-%m-%d")
    form.fill("#correct_by", correct_by)
    form.fill("#issues", "补齐会议记录主持人签名")
    ma.shot("observer-form", form)
    form.click("#submit")
    form.wait_for_selector("#result.ok")
    assert "84/100 分" in form.text_content("#result")
    form.close()

    # The secretary sees the 整改 with its number and reports it done in chat.
    listing = wang.say("整改")
    number = re.search(r"#(\d+) 补齐会议记录主持人签名", listing)
    assert number, listing
    reported = wang.say(f"整改完成 #{number[1]} 已请主持人补签")
    assert "等待观察员确认" in reported

    # 销号 from the card that asks him; the card keeps what was done.
    assert "已确认销号" in ma.press("确认销号", "整改确认")
    card = ma.card("整改确认").inner_text()
    assert "补齐会议记录主持人签名" in card and "已请主持人补签" in card
    ma.shot("observer-closed", row=ma.latest("已确认销号"))
    assert "观察员已确认整改销号" in wang.wait_for("已确认整改销号").inner_text()
    assert "补齐会议记录主持人签名" not in ma.say("整改")
