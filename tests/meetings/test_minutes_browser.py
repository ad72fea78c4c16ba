"""The minutes form in headless Chromium (issue #14 point 2; domain.md rules 10 and 20): the secretary
sees 应到/实到 split 正式/预备 and whether the quorum is reached, ticks 进行了表决, types the yes count,
sees the verdict before saving, saves through the page's own CSRF-carrying post, and is told of the 补开.

Set ZHIBU_SCREENSHOT_DIR to keep a screenshot of the filled form and of the page after saving.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.meetings import meetings as meetings_uc
from models.meetings import Attendance, AttendanceMethod, AttendanceStatus, Minutes
from models.org import Person
from tests.core.e2e import running_bot
from tests.meetings.test_browser import (
    ARGS,
    CFG,
    CHROMIUM,
    _page,
    pytestmark,  # noqa: F401 - the browser mark and the Chromium check
)
from tests.meetings.test_e2e import DING_UA, T0, _arrange, _wire


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("ZHIBU_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_rule_10_minutes_form_shows_the_quorum_and_flags_a_void_vote_in_chromium(
    session_factory, database_url, browser
):
    org = _arrange(session_factory)
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        _wire(bot)
        with session_factory() as s, s.begin():
            secretary = s.get(Person, org.secretary.id)
            m = meetings_uc.schedule_meeting(
                s, secretary, types=["党员大会"], starts_at=T0 + timedelta(minutes=10), place="会议室",
                topic="讨论接收预备党员", now=T0, cfg=CFG,
            )  # fmt: skip
            for p in (org.secretary, org.deputy, org.alice):
                s.add(Attendance(meeting_id=m.id, person_id=p.id, status=AttendanceStatus.PRESENT,
                                 method=AttendanceMethod.QR, at=m.starts_at))  # fmt: skip
        bot.clock.sleep(3600)
        page = _page(browser, DING_UA, {"sandbox_dingtalk_user": "wangsj"})
        page.goto(f"{bot.url}/h5/meetings/{m.id}/minutes")
        # The first visit identifies the secretary through the (shimmed) JSAPI, then shows the form.
        page.wait_for_selector("#headcount")
        assert "应到6人（正式党员6人、预备党员0人），实到3人" in page.text_content("#headcount")
        assert "至少4人）：未达到" in page.text_content("#quorum-decision")
        assert page.is_hidden("#vote-fields")
        # A recorder who did not scan counts as present once saved: the counts follow what is typed.
        page.fill("[name=recorder]", "赵委员")
        page.wait_for_function("document.querySelector('#headcount').textContent.includes('实到4人')")
        assert "至少4人）：已达到" in page.text_content("#quorum-decision")
        # Recorded by one of the three present instead: back to 3 and no quorum.
        page.fill("[name=recorder]", "李副书记")
        page.wait_for_function("document.querySelector('#headcount').textContent.includes('实到3人')")
        assert "至少4人）：未达到" in page.text_content("#quorum-decision")
        page.check("[name=vote_held]")
        assert page.is_visible("#vote-fields")
        page.fill("[name=votes_for]", "3")
        assert "表决无效" in page.text_content("#vote-verdict")
        page.fill("[name=decisions]", "同意接收张某为预备党员")
        _shot(page, "minutes-form.png")
        page.click("#submit")
        page.wait_for_selector("#result.ok")
        assert "表决无效，需要补开" in page.text_content("#result")
        _shot(page, "minutes-saved.png")
        with session_factory() as s:
            saved = s.scalars(select(Minutes)).one()
            assert saved.vote_held and saved.votes_for == 3 and saved.needs_reconvene
        page.reload()
        page.wait_for_selector("#reconvene")
        assert "需要补开" in page.text_content("#reconvene")
        assert page.is_checked("[name=vote_held]") and page.input_value("[name=votes_for]") == "3"
