"""The demo organisation (`zhibu demo`'s seed, its last-month digests) with the bot and the sandbox on
loopback and an injected clock, and a headless Chromium: started once per journey module and platform.

Journeys run on SQLite only: they walk what people see through the chat page, not SQL (the features'
own tests run on both databases). On the WeCom run the deployment prefers WeCom, so people who have
both accounts (everyone in the demo) are reached there, as in a WeCom-only county.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.serve import DEMO_HISTORY_MONTHS, demo_monthly
from bot.core import outbox
from config import demo as demo_ids
from config import use_settings
from models.db import make_engine, make_sessionmaker, unit_of_work
from models.seed import seed
from scheduler.jobs import all_jobs
from scheduler.runner import latest_fire, run_job
from tests.core.e2e import Harness, running_bot
from tests.journeys.driver import ARGS, CHROMIUM, Person

# Mon 23 November 2026, 10:00 in Shanghai: last month's 月积分 is out, December's plan is due on the 25th.
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(600),  # a whole journey, with the demo's start, on a busy CI machine
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@dataclass
class Demo:
    bot: Harness
    browser: object
    platform: str
    session_factory: sessionmaker[Session]

    def person(self, account: str) -> Person:
        return Person(self, account)

    def deliver(self, done, page, what: str, timeout: float = 20.0) -> None:
        """Send what the bot queued until `done()` holds on the page. The chat page polls the sandbox
        every second; this waits for the page, never for the clock (which only the journey moves)."""
        deadline = time.monotonic() + timeout
        while True:
            self.bot.drain()
            if done():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f}s for {what}")
            page.wait_for_timeout(200)

    def now(self) -> datetime:
        return self.bot.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.bot.clock.sleep(delta.total_seconds())

    def advance_to(self, moment: datetime) -> None:
        self.bot.clock.sleep(max((moment - self.now()).total_seconds(), 0))

    def run_job(self, name: str) -> None:
        """Run a scheduled job for its latest period at the injected clock's now, as the scheduler would."""
        spec = next(j for j in all_jobs(self.bot.service.core) if j.name == name)
        tz = self.bot.service.settings.tz
        fire = latest_fire(spec, tz, self.now(), within=timedelta(days=40))
        assert fire is not None, name
        result = run_job(
            self.session_factory, spec, now=self.now(), period=spec.period(fire), trigger="manual"
        )
        assert result.value == "ran", (name, result)
        self.bot.drain()


@pytest.fixture(scope="module", params=["dingtalk", "wecom"])
def demo(request, tmp_path_factory, _sqlite_migrated_template):
    from playwright.sync_api import sync_playwright

    platform = request.param
    path = tmp_path_factory.mktemp("journey") / "demo.db"
    shutil.copyfile(_sqlite_migrated_template, path)  # as `zhibu db upgrade` left it, built once per run
    database_url = f"sqlite:///{path}"
    engine = make_engine(database_url)
    session_factory = make_sessionmaker(engine)
    today = T0.astimezone(ZoneInfo("Asia/Shanghai")).date()
    with unit_of_work(session_factory) as s:
        seed(s, "demo", dingtalk_corp_id=demo_ids.DINGTALK_CORP_ID, wecom_corp_id=demo_ids.WECOM_CORP_ID,
             seed=2026, months=DEMO_HISTORY_MONTHS, today=today, now=T0)  # fmt: skip
    try:
        with running_bot(session_factory, database_url, clock_start=T0) as bot, sync_playwright() as pw:
            settings = bot.service.settings
            use_settings(settings)  # as `zhibu demo` does: jobs link to this bot, not the default port
            if platform == "wecom":
                outbox.configure_platforms(session_factory, ["wecom", "dingtalk"])
                # The bot checks a callback's timestamp against the real time, as WeCom keeps it; the
                # emulated WeCom server must not follow the journey's clock days ahead of it.
                bot.clock.listeners.clear()
            with unit_of_work(session_factory) as s:
                demo_monthly(s, settings, T0)
            bot.drain()
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield Demo(bot, browser, platform, session_factory)
            finally:
                browser.close()
    finally:
        use_settings(None)
        engine.dispose()
