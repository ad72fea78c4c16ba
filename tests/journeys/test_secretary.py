"""王建国, 东风村党支部书记, in the chat page on DingTalk and on WeCom (issue #15): December's plan from
the plan card's form, a meeting from 安排会议's form, the sign-in QR read by a real decoder and opened
as a member would, 代签 for a member who cannot scan, the window closing (the host counted present and
told who was missing), the minutes from chat, a 补学 confirmed from its card, and Monday's 待办 whose line
opens the page that does it."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from tests.journeys.conftest import pytestmark  # noqa: F401 - the browser mark and the Chromium check
from tests.journeys.driver import decode_qr

SECRETARY, MEMBER, ABSENT = "wangjianguo01", "lixiaohong01", "zhaodashan01"


def test_secretary_journey(demo):
    tz = demo.bot.service.settings.tz
    wang = demo.person(SECRETARY)

    # Plan: the card says what is due; its button opens the form in the same browser.
    card = wang.say("月度计划")
    assert "2026年12月组织生活计划" in card and "未提交" in card
    wang.shot("secretary-plan-card")
    form = wang.open("填写计划")
    asked: list[str] = []
    form.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    # The form says what December requires; she plans each one, a 党小组会 for each group.
    required = form.text_content("#required")
    wang.shot("secretary-plan-form", form)
    wanted = [(kind, int(n)) for kind, n in re.findall(r"([^：、。]+?)(\d+)次", required)]
    assert ("支委会", 1) in wanted and ("党小组会", 2) in wanted, required
    day = 1
    for kind, n in wanted:
        for i in range(n):
            if day > 1:
                form.click("#add")
            item = form.locator("#items .item").last
            item.get_by_label(kind, exact=True).check()
            item.locator("[name=starts_at]").fill(f"2026-12-{day + 1:02d}T15:00")
            item.locator("[name=place]").fill("村党群服务中心")
            item.locator("[name=topic]").fill(f"{kind}：学习党的二十届四中全会精神")
            if kind == "党小组会":
                item.locator("[name=group_id]").select_option(index=i + 1)
            day += 1
    form.click("#submit")
    form.wait_for_selector("#result.ok")
    assert not asked, asked  # nothing required was left out, so nothing to confirm
    form.close()
    assert "待审核" in wang.say("月度计划")

    # A meeting for tomorrow 15:00 from 安排会议's form; the members get the notice.
    start = (demo.now().astimezone(tz) + timedelta(days=1)).replace(hour=15, minute=0)
    wang.say("安排会议")
    form = wang.open("打开会议表单")
    form.fill("[name=title]", "支部党员大会")
    form.get_by_label("支部党员大会").check()
    form.fill("[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    form.fill("[name=place]", "村党群服务中心")
    form.fill("[name=topic]", "讨论发展党员")
    form.click("#submit")
    form.wait_for_selector("#result.ok")
    assert "通知已发给12名党员" in form.text_content("#result")
    form.close()
    li = demo.person(MEMBER)
    assert "11月24日（周二）15:00" in li.wait_for("讨论发展党员").inner_text()

    # Ten minutes before the start: 签到码. A real decoder reads the image; the member opens what it says.
    demo.advance_to(start - timedelta(minutes=10))
    wang.say("签到码")
    link = decode_qr(wang.image(wang.rows().filter(has=wang.page.locator("img")).last))
    assert urlsplit(link).path.endswith("/signin")
    wang.shot("secretary-signin-code")
    signed = li.open_url(link)
    signed.wait_for_selector("#box[data-outcome='ok']")
    assert "李小红，您已签到" in signed.text_content("#message")
    li.shot("member-signed-in", signed)
    signed.close()
    # 代签 for a member whose phone is flat; the live list shows the two.
    assert "已为刘桂兰代签（原因：手机没电）" in wang.say("代签 刘桂兰 手机没电")
    sheet = wang.say("签到情况")
    assert "代签1人" in sheet
    wang.shot("secretary-attendance")

    # The window closes: the host who chaired it is present, and is told who was missing.
    demo.advance(timedelta(hours=3))
    demo.run_job("meetings.close_windows")
    summary = wang.wait_for("实到").inner_text()
    assert "赵大山" in summary
    assert wang.rows().filter(has_text="补学任务：支部党员大会").count() == 0
    assert "王建国" not in wang.say("签到情况").split("未签到")[-1]

    # The minutes, from chat: the reply's button opens the minutes form of that meeting.
    waiting = wang.say("会议记录")
    number = re.search(r"#(\d+) 11月24日（周二）15:00 支部党员大会", waiting)
    assert number, waiting
    wang.shot("secretary-minutes-list", row=wang.latest())
    form = wang.open(re.compile(rf"[#＃]{number[1]} 填写会议记录"))  # WeCom's markdown shows a full-width ＃
    form.wait_for_selector("#headcount")
    assert "支部党员大会" in form.content()
    form.fill("[name=recorder]", "刘桂兰")
    form.fill("[name=topics]", "讨论确定发展对象人选")
    form.fill("[name=decisions]", "同意将张某列为发展对象")
    wang.shot("secretary-minutes-form", form)
    form.click("#submit")
    form.wait_for_selector("#result.ok")
    assert "会议记录已保存" in form.text_content("#result")
    form.close()

    # 补学: an absent member reports it; the secretary confirms from the card, which keeps its content.
    zhao = demo.person(ABSENT)
    assert "等待书记确认" in zhao.say("补学完成 已自学会议材料并写了心得")
    confirmed = wang.press("确认", "补学确认", answer=False)
    assert "已确认" in confirmed and "已自学会议材料并写了心得" in confirmed
    wang.shot("secretary-makeup-confirmed", row=wang.card("补学确认"))
    assert "已确认完成" in zhao.wait_for("已确认完成").inner_text()

    # Monday 08:30: 本周待办. Its button lists the meetings waiting for minutes, each opening its form.
    local = demo.now().astimezone(tz)
    demo.advance_to((local + timedelta(days=7 - local.weekday())).replace(hour=8, minute=30))
    demo.run_job("monthly.todo")
    todo = wang.wait_for("本周待办")
    # The seeded history leaves 东风村 other meetings without minutes, so the button is the list's (one
    # meeting alone would get a 填写会议记录 link instead): a reshuffled demo history fails here, by name.
    waiting_line = re.search(r"(\d+)次会议待填记录", todo.inner_text())
    assert waiting_line and int(waiting_line[1]) >= 2, todo.inner_text()
    wang.shot("secretary-todo", row=todo)
    waiting = wang.press("待填记录的会议", "本周待办")
    assert "待填写记录的会议" in waiting and "支部党员大会" not in waiting  # its minutes are in
    page = wang.open("填写会议记录", in_text="待填写记录的会议")
    page.wait_for_selector("#headcount")
    assert urlsplit(page.url).path.endswith("/minutes")
