"""A person in the sandbox's chat page, in headless Chromium: type, press a card's button, open a link,
read the latest reply, take a screenshot. The journey tests are written with these verbs only, so each
step is what a person does on the page; the bot's outbox is sent by the harness's relay (on the injected
clock) while the page waits for the answer.
"""

from __future__ import annotations

import os
import re
from io import BytesIO
from pathlib import Path

import httpx
import zxingcpp
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
# A plain desktop browser: the demo's pages must work without a DingTalk or WeCom client.
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36"
# ZHIBU_GUIDE_SHOTS=1 writes the guides' screenshots to docs/img/ (CI leaves the committed ones alone).
GUIDE_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
WAIT_MS = 20_000


def guide_shots() -> bool:
    return os.environ.get("ZHIBU_GUIDE_SHOTS") == "1"


def decode_qr(png: bytes) -> str:
    """What a phone's camera reads from the image: a real decoder, not our own encoder's input."""
    (result,) = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
    return result.text


class Person:
    """One member played in the chat page on one platform, in a browser context of their own."""

    def __init__(self, demo, account: str) -> None:
        self.demo = demo
        self.account = account
        self.context = demo.browser.new_context(
            user_agent=DESKTOP_UA, viewport={"width": 1100, "height": 820}, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.page.goto(f"{demo.bot.sb.url}/?platform={demo.platform}&user={account}")
        self.page.locator(".chat-head .who").wait_for()

    # ---- reading

    def rows(self):
        return self.page.locator("#messages .row.out")

    def latest(self, has_text: str | None = None):
        """The latest message from the bot (with `has_text`, the latest such one)."""
        rows = self.rows() if has_text is None else self.rows().filter(has_text=has_text)
        return rows.last

    def latest_text(self, has_text: str | None = None) -> str:
        return self.latest(has_text).inner_text()

    def wait_for(self, text: str):
        """Wait until a message from the bot containing `text` is on the page (sending what is queued)."""
        rows = self.rows().filter(has_text=text)
        self.demo.deliver(lambda: rows.count() > 0, self.page, f"a message with {text!r} for {self.account}")
        return rows.last

    def _timeline(self) -> int:
        """How many messages the sandbox holds for this chat (what the page will show)."""
        q = {"platform": self.demo.platform, "user": self.account, "conversation": "single"}
        resp = httpx.get(f"{self.demo.bot.sb.url}/_sandbox/chat", params=q, trust_env=False, timeout=30)
        return len(resp.json()["items"])

    def settle(self) -> None:
        """Send whatever is queued and let the page show all of it, so the next answer is not mixed up
        with a notice that was still on its way."""
        self.demo.bot.drain()
        rows = self.page.locator("#messages .row")
        self.demo.deliver(lambda: rows.count() >= self._timeline(), self.page, f"{self.account}'s page")

    def _answer(self, mine, what: str):
        """The bot's first message after the person's own (a message or a press)."""
        answer = mine.locator("xpath=following-sibling::div[contains(@class, 'out')][1]")
        self.demo.deliver(lambda: answer.count() > 0, self.page, what)
        return answer

    # ---- doing

    def say(self, text: str) -> str:
        """Type into the composer, press Enter, return the bot's answer."""
        self.settle()
        before = self.page.locator("#messages .row.in").count()
        self.page.fill("#composer-input", text)
        self.page.press("#composer-input", "Enter")
        mine = self.page.locator("#messages .row.in").nth(before)
        mine.wait_for()
        return self._answer(mine, f"an answer to {text!r}").inner_text()

    def press(self, label: str, card_has: str | None = None, *, answer: bool = True) -> str:
        """Press a button on the latest card (the latest with `card_has`); return the bot's answer, or
        with answer=False the card itself once the press has updated it."""
        self.settle()
        # The card by its id: an update may change the very text it was found by.
        card_id = self.card(card_has).get_attribute("data-card")
        card = self.page.locator(f'#messages .card[data-card="{card_id}"]').last
        before, old = self.page.locator("#messages .row.in").count(), card.inner_text()
        card.get_by_role("button", name=label, exact=True).click()
        mine = self.page.locator("#messages .row.in").nth(before)
        mine.wait_for()
        if not answer:
            self.demo.deliver(lambda: card.inner_text() != old, self.page, f"the card after {label!r}")
            return card.inner_text()
        return self._answer(mine, f"an answer to pressing {label!r}").inner_text()

    def card(self, has_text: str | None = None):
        cards = self.page.locator("#messages .row.out .card")
        if has_text is not None:
            cards = cards.filter(has_text=has_text)
        cards.last.wait_for()
        return cards.last

    def open(self, label: str | re.Pattern, in_text: str | None = None):
        """Click a link in the latest message (the latest with `in_text`): it opens in a new tab of the
        same browser, as the person being played. Returns the new page."""
        return self.follow(self.latest(in_text).get_by_role("link", name=label).last)

    def follow(self, link):
        """Click this link (a Playwright locator) and return the tab it opens."""
        with self.context.expect_page() as opened:
            link.click()
        page = opened.value
        page.set_default_timeout(WAIT_MS)
        page.wait_for_load_state()
        return page

    def open_url(self, url: str):
        """Open an address the person got some other way (a QR code read with the phone), as them."""
        page = self.context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(
            f"{self.demo.bot.sb.url}/_sandbox/open?platform={self.demo.platform}&user={self.account}&url={url}"
        )
        page.wait_for_load_state()
        return page

    def image(self, row) -> bytes:
        """The bytes of the (first) image shown in a message, fetched as the browser fetched them."""
        src = row.locator("img").first.get_attribute("src")
        base = self.demo.bot.sb.url
        url = src if src.startswith("http") else base + src
        resp = httpx.get(url, trust_env=False, timeout=30)
        assert resp.status_code == 200, (url, resp.status_code)
        return resp.content

    def shot(self, name: str, page=None, *, row=None) -> None:
        """Keep a screenshot for the guides (docs/img/<name>.png) when ZHIBU_GUIDE_SHOTS=1: one message
        (`row`), an opened page, or else the chat as the person sees it. Only on the DingTalk run, so
        each guide has one picture per step."""
        if not guide_shots() or self.demo.platform != "dingtalk":
            return
        GUIDE_DIR.mkdir(parents=True, exist_ok=True)
        path = GUIDE_DIR / f"{name}.png"
        # The page's "已点击…" toast of an earlier press would cover part of the picture.
        self.page.evaluate("document.getElementById('toast').classList.remove('show')")
        if row is not None:
            row.screenshot(path=path)
        elif page is not None:
            page.screenshot(path=path)
        else:
            self.settle()
            self.page.locator("main.chat").screenshot(path=path)
        _shrink(path)

    def close(self) -> None:
        self.context.close()


def _shrink(path: Path) -> None:
    """Keep committed screenshots small: a palette PNG is a fraction of the size and reads the same."""
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
