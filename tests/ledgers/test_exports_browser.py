"""A county's 组织生活纪实台账 built in the background, in headless Chromium at 1366×768: 组织部 presses
生成台账 on the county's hub, sees the file queued, then running with its progress (the worker is held
after two of the four branches until the page has shown it), then 下载, and the file is read back.
The worker is the product's (ExportWorker, as `zhibu serve` runs it) on the page's fixed clock.
SQLite only: the export's SQL runs on both databases in test_exports.py and test_exports_ledgers.py.
Then the 观察员台账 and 消息台账 cards of the same hub, whose county files are built the same way."""

from __future__ import annotations

import io
import os
import threading

import pytest
from openpyxl import load_workbook

from bot.core.context import CoreConfig
from handlers.ledgers import exports
from tests.console.test_overview import NOW, SECRET, TZ
from tests.console.test_overview_browser import browser, free_port, open_as, shots  # noqa: F401
from tests.journeys.driver import CHROMIUM
from tests.ledgers.test_ledgers_browser import site  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


def test_a_county_file_is_built_in_the_background_with_its_progress_and_downloaded(
    browser,  # noqa: F811
    site,  # noqa: F811
    shots,  # noqa: F811
    monkeypatch,
):
    base, factory, lorg = site
    c = lorg.org.county
    page, errors = open_as(browser, site, lorg.id("staff"))
    page.goto(f"{base}/console/ledgers/{c.county.id}?period=2026")
    page.locator("h1", has_text="宿松县委 台账").wait_for()
    page.locator("#export-meetings").click()
    row = page.locator("#exports-meetings .export").first
    row.locator(".state", has_text="排队中").wait_for()
    page.screenshot(path=str(shots / "ledgers-export-queued.png"))

    # The worker holds after the second branch until the page has shown that progress.
    shown, held = threading.Event(), threading.Event()
    real = exports._progress

    def progress(f, job, done, total, **kw):
        real(f, job, done, total, **kw)
        if done == 2:
            held.set()
            assert shown.wait(60), "the page never showed 2/4"

    monkeypatch.setattr(exports, "_progress", progress)
    monkeypatch.setattr(exports, "PROGRESS_EVERY_SECONDS", 0)
    worker = exports.ExportWorker(
        factory, CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET), clock=lambda: NOW
    )  # as tests.console.test_overview.console_app builds the page's core
    worker.start()
    try:
        assert held.wait(60)
        row.locator(".state", has_text="正在生成：已完成 2/4 个党支部").wait_for()
        assert row.locator("progress").get_attribute("value") == "2"
        page.screenshot(path=str(shots / "ledgers-export-running.png"))
        shown.set()
        row.locator("a.download", has_text="下载").wait_for()
        assert row.get_attribute("data-status") == "ready"
        page.screenshot(path=str(shots / "ledgers-export-ready.png"))
        with page.expect_download() as info:
            row.locator("a.download").click()
    finally:
        shown.set()
        worker.stop()
    download = info.value
    assert download.suggested_filename == "宿松县委-组织生活纪实台账-2026年.xlsx"
    wb = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    names = {r[0] for r in wb["会议"].iter_rows(min_row=3, values_only=True)}
    assert {"城关社区党支部", "东门社区党支部", "河西村党支部"} <= names
    assert "十月支部党员大会" in [r[4] for r in wb["会议"].iter_rows(min_row=3, values_only=True)]
    assert not errors, errors


def test_the_observers_and_messages_cards_build_the_countys_files_in_the_background(
    browser,  # noqa: F811
    site,  # noqa: F811
    shots,  # noqa: F811
):
    """The hub's 观察员台账 and 消息台账 cards: no direct Excel for the county, 生成台账 instead; both files
    queued, built by the worker, their rows polled to 下载 and read back."""
    from models.db import unit_of_work
    from tests.ledgers.test_messages import craft

    base, factory, lorg = site
    c = lorg.org.county
    with unit_of_work(factory) as session:
        sent = craft(session, lorg)
    page, errors = open_as(browser, site, lorg.id("staff"))
    page.goto(f"{base}/console/ledgers/{c.county.id}?period=2026")
    page.locator("h1", has_text="宿松县委 台账").wait_for()
    for ledger in ("observers", "messages"):
        card = page.locator(f"#ledger-{ledger}")
        assert card.locator(f'a[href*="{ledger}.xlsx"]').count() == 0
        card.locator(f"#export-{ledger}").click()
        page.locator(f"#exports-{ledger} .export .state", has_text="排队中").first.wait_for()
    page.screenshot(path=str(shots / "ledgers-export-observers-messages-queued.png"))

    worker = exports.ExportWorker(
        factory, CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET), clock=lambda: NOW
    )
    worker.start()
    files = {}
    try:
        for ledger in ("observers", "messages"):
            row = page.locator(f"#exports-{ledger} .export").first
            row.locator("a.download", has_text="下载").wait_for()
            with page.expect_download() as info:
                row.locator("a.download").click()
            files[ledger] = info.value
        page.screenshot(path=str(shots / "ledgers-export-observers-messages-ready.png"))
    finally:
        worker.stop()
    assert files["observers"].suggested_filename == "宿松县委-观察员台账-2026年.xlsx"
    wb = load_workbook(io.BytesIO(open(files["observers"].path(), "rb").read()))
    assert wb.sheetnames[:2] == ["观察员分工", "观察记录"]
    assert [r[1] for r in wb["观察记录"].iter_rows(min_row=3, values_only=True)] == ["城关社区党支部"] * 2
    assert files["messages"].suggested_filename == "宿松县委-消息台账-2026年.xlsx"
    wb = load_workbook(io.BytesIO(open(files["messages"].path(), "rb").read()))
    ids = {r[0] for r in wb["消息"].iter_rows(min_row=3, values_only=True)}
    assert set(sent.rows.values()) <= ids  # the whole year's: September's notice too
    assert not errors, errors
