"""李小红, a member of 东风村党支部, in the chat page on DingTalk and on WeCom (issue #15): the meeting
notice, signing in by reading the QR code, leave for the next meeting from its notice, the 补学 that
follows and its confirmation, the fee reminder, 已交, and the collector's confirmation naming each month."""

from __future__ import annotations

from datetime import timedelta

from tests.journeys.conftest import pytestmark  # noqa: F401 - the browser mark and the Chromium check
from tests.journeys.steps import schedule, signin_link

MEMBER, SECRETARY, COLLECTOR = "lixiaohong01", "wangjianguo01", "liuguilan01"


def test_member_journey(demo):
    tz = demo.bot.service.settings.tz
    li, wang = demo.person(MEMBER), demo.person(SECRETARY)
    day = demo.now().astimezone(tz)
    first = (day + timedelta(days=1)).replace(hour=15, minute=0)
    second = (day + timedelta(days=3)).replace(hour=15, minute=0)
    schedule(wang, title="支部党员大会", kind="支部党员大会", starts_at=first, topic="讨论发展党员")
    schedule(wang, title="党课", kind="党课", starts_at=second, topic="学习新修订的党纪处分条例")

    # The notice: when, where, what, and the two buttons.
    notice = li.wait_for("讨论发展党员")
    text = notice.inner_text()
    assert "会议通知" in text and "11月24日（周二）15:00" in text and "村党群服务中心" in text
    li.shot("member-notice", row=notice)

    # Sign in: the secretary shows the code, the member reads it with the phone and opens it.
    demo.advance_to(first - timedelta(minutes=10))
    page = li.open_url(signin_link(wang))
    page.wait_for_selector("#box[data-outcome='ok']")
    assert page.text_content("#title") == "签到成功"
    page.close()
    demo.advance(timedelta(hours=3))
    demo.run_job("meetings.close_windows")
    assert "补学" not in li.latest_text()

    # Leave for the next meeting, from its notice: a reason is one press; the secretary approves.
    answer = li.press("请假", "学习新修订的党纪处分条例")
    assert "请选择请假原因" in answer
    li.shot("member-leave-reasons", row=li.latest())
    assert "已提交" in li.press("出差在外", "请选择请假原因")
    wang.press("批准", "请假审批", answer=False)
    assert "已批准" in li.wait_for("已批准").inner_text()

    # The meeting happens without her; the 补学 task comes when the window closes.
    demo.advance_to(second + timedelta(hours=3))
    demo.run_job("meetings.close_windows")
    task = li.wait_for("补学任务").inner_text()
    assert "党课" in task and "补学完成" in task
    assert "等待书记确认" in li.say("补学完成 已学习党纪处分条例并写了心得")
    wang.press("确认", "补学确认：李小红", answer=False)
    assert "已确认完成" in li.wait_for("已确认完成").inner_text()

    # The fee reminder on the fee day; 已交 from it, and the next month paid ahead in words.
    for _ in range(40):
        if li.rows().filter(has_text="党费").count():
            break
        local = demo.now().astimezone(tz)
        demo.advance_to((local + timedelta(days=1)).replace(hour=0, minute=5))
        demo.run_job("fees.reminders")
        li.settle()
    reminder = li.latest("党费")
    li.shot("member-fee-reminder", row=reminder)
    assert "2026年12月党费交纳日" in reminder.inner_text()
    pay = li.open("已交", in_text="党费交纳提醒")
    pay.locator("#report").wait_for()  # the page knows her once the platform's identity step is done
    assert "李小红" in pay.text_content("#status") or "0.50" in pay.text_content("body")
    li.shot("member-fee-page", pay)
    pay.click("#report")
    pay.get_by_text("等待党费收缴员确认").wait_for()
    assert "2026年12月党费已交" in pay.text_content("body")
    pay.close()
    assert "2026年11月党费已交" in li.say("已交 11月")  # last month, forgotten, reported in words

    # The collector confirms both with one press; she hears once, of each month.
    liu = demo.person(COLLECTOR)
    pending = liu.say("党费确认")
    assert "李小红　2026年11月" in pending and "李小红　2026年12月" in pending
    assert "已确认 2 笔党费" in liu.press("全部确认")
    confirmation = li.wait_for("确认，谢谢").inner_text()
    assert "您2026年11月、2026年12月的党费（合计1.00 元）已由刘桂兰确认" in confirmation
    li.shot("member-fee-confirmed", row=li.latest("确认，谢谢"))
