"""Steps other people take in someone's journey, done the way they do them in the chat page."""

from __future__ import annotations

from datetime import datetime

from tests.journeys.driver import Person, decode_qr


def schedule(secretary: Person, *, title: str, kind: str, starts_at: datetime, topic: str) -> None:
    """The secretary's 安排会议: the card's button opens the meeting form, filled and sent."""
    secretary.say("安排会议")
    form = secretary.open("打开会议表单")
    form.fill("[name=title]", title)
    form.get_by_label(kind).check()
    form.fill("[name=starts_at]", starts_at.strftime("%Y-%m-%dT%H:%M"))
    form.fill("[name=place]", "村党群服务中心")
    form.fill("[name=topic]", topic)
    form.click("#submit")
    form.wait_for_selector("#result.ok")
    form.close()


def signin_link(secretary: Person) -> str:
    """签到码 in chat, and what a phone's camera reads from the image the bot sent."""
    secretary.say("签到码")
    return decode_qr(secretary.image(secretary.rows().filter(has=secretary.page.locator("img")).last))
