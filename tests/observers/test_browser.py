"""The evaluation form in headless Chromium, against the running bot and the sandbox: the dd shim plays
DingTalk's JSAPI; a submission that fails validation keeps everything typed and marks the bad field;
the corrected one is saved."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.observers import Observation
from tests.core.e2e import running_bot
from tests.meetings.test_browser import ARGS, CHROMIUM
from tests.meetings.test_e2e import DING_UA
from tests.observers.conftest import build_world, make_meeting
from tests.observers.test_e2e import T0, _wire

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


SCORES = {
    "prep": "14",
    "procedure": "18",
    "attendance": "13",
    "content": "22",
    "record": "9",
    "followup": "12",
}


def test_the_form_keeps_what_was_typed_on_a_validation_error(session_factory, database_url, browser):
    with session_factory() as s, s.begin():
        world = build_world(s)
        meeting_id = make_meeting(s, world, T0 - timedelta(hours=2)).id
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        _wire(bot)
        ctx = browser.new_context(user_agent=DING_UA)
        ctx.add_cookies(
            [{"name": "sandbox_dingtalk_user", "value": "qiangc", "domain": "127.0.0.1", "path": "/"}]
        )
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{bot.url}/h5/observers/{meeting_id}/form")
        # The identify page gets a code from the (emulated) JSAPI, sets the cookie and reloads into the form.
        page.wait_for_selector("#score_prep")
        assert "党内组织生活观察质量评价表" in page.content()
        for key, value in SCORES.items():
            page.fill(f"#score_{key}", value)
        page.fill("#score_content", "30")  # above the item's 25
        page.fill("#comment_content", "联系实际不够")
        page.fill("#comment", "程序完整，讨论不够深入")
        page.select_option("#outcome", "correct")
        page.fill("#correct_by", "2026-12-10")
        page.fill("#issues", "补充讨论记录")
        page.click("#submit")
        page.wait_for_selector("#result.bad")
        assert "“内容质量”的得分 30 超出范围，应为 0–25 分" in page.text_content("#result")
        assert "bad-field" in page.get_attribute("#score_content", "class")
        # Nothing was lost: every field still holds what the observer typed.
        assert page.input_value("#score_content") == "30"
        assert page.input_value("#score_prep") == "14"
        assert page.input_value("#comment_content") == "联系实际不够"
        assert page.input_value("#comment") == "程序完整，讨论不够深入"
        assert page.input_value("#outcome") == "correct"
        assert page.input_value("#issues") == "补充讨论记录"
        with session_factory() as s:
            assert s.scalar(select(Observation.id)) is None
        page.fill("#score_content", "20")
        page.click("#submit")
        page.wait_for_selector("#result.ok")
        assert "86/100 分，等次 B，结论：责令纠正" in page.text_content("#result")
        with session_factory() as s:
            obs = s.scalars(select(Observation)).one()
            assert (obs.total, obs.comment, [r.text for r in obs.rectifications]) == (
                86, "程序完整，讨论不够深入", ["补充讨论记录"],
            )  # fmt: skip
        # Reopened later, the form shows the saved answers.
        page.goto(f"{bot.url}/h5/observers/{meeting_id}/form")
        page.wait_for_selector("#score_content")
        assert page.input_value("#score_content") == "20"
        assert page.input_value("#issues") == "补充讨论记录"
        assert not page.is_hidden("#correct_by")
