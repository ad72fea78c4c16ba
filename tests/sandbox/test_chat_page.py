"""The chat page in headless Chromium, with a real dingtalk-stream client as the bot: a person's message reaches
the client, the client's replies and cards show up as bubbles, and a card button press reaches the client."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dingtalk_stream
import httpx
import pytest
from dingtalk_stream import AckMessage, CardReplier, ChatbotMessage

from config import demo
from tests.sandbox.conftest import wait_connected, wait_for

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pg = browser.new_page()
            pg.set_default_timeout(10_000)
            yield pg
        finally:
            browser.close()


class Bot(dingtalk_stream.ChatbotHandler):
    """Replies to text; sends an interactive card when asked for one."""

    def __init__(self):
        super().__init__()
        self.received: list[ChatbotMessage] = []

    async def process(self, callback):
        incoming = ChatbotMessage.from_dict(callback.data)
        self.received.append(incoming)
        text = incoming.text.content.strip()
        if text == "卡片":
            buttons = [
                {"text": "我已阅读", "actionId": "read", "params": {"action": "read", "notice": "n-7"}}
            ]
            CardReplier(self.dingtalk_client, incoming).create_and_send_card(
                "sandbox.standard",
                {
                    "title": "支部大会通知",
                    "markdown": "本周五 **19:00** 在党员活动室",
                    "buttons": json.dumps(buttons),
                },
            )
        else:
            self.reply_markdown("回复", f"收到：{text}\n\n![图表](/_sandbox/static/nothing.png)", incoming)
        return AckMessage.STATUS_OK, "OK"


class Clicks(dingtalk_stream.CallbackHandler):
    def __init__(self):
        super().__init__()
        self.clicks: list[dingtalk_stream.CardCallbackMessage] = []

    async def process(self, callback):
        self.clicks.append(dingtalk_stream.CardCallbackMessage.from_dict(callback.data))
        return AckMessage.STATUS_OK, {"cardData": {"cardParamMap": {"status": "张三已阅读"}}}


def test_chat_page_round_trip_with_the_real_sdk(sandbox, stream_client_factory, page):
    bot, clicks = Bot(), Clicks()
    stream_client_factory({ChatbotMessage.TOPIC: bot, dingtalk_stream.Card_Callback_Router_Topic: clicks})
    wait_connected(sandbox)

    page.goto(sandbox.url + "/?platform=dingtalk")
    page.get_by_text("书记（1）").wait_for()  # people are grouped by role
    page.click('[data-user="zhangsan"]')
    page.get_by_text("钉钉机器人在线").wait_for()
    page.fill("#composer-input", "你好")
    page.press("#composer-input", "Enter")

    wait_for(lambda: bot.received, what="the message at the SDK client")
    assert bot.received[0].sender_staff_id == "zhangsan" and bot.received[0].text.content == "你好"
    page.locator(".row.in .bubble", has_text="你好").wait_for()
    reply = page.locator(".row.out .bubble", has_text="收到：你好")
    reply.wait_for()
    assert (
        reply.locator("img").get_attribute("src") == "/_sandbox/static/nothing.png"
    )  # markdown image rendered

    page.fill("#composer-input", "卡片")
    page.click("#send")
    card = page.locator(".card", has_text="支部大会通知")
    card.wait_for()
    assert "19:00" in card.inner_text()
    card.get_by_role("button", name="我已阅读").click()

    wait_for(lambda: clicks.clicks, what="the card callback at the SDK client")
    click = clicks.clicks[0]
    assert click.user_id == "zhangsan"
    assert click.content["cardPrivateData"] == {
        "actionIds": ["read"],
        "params": {"action": "read", "notice": "n-7"},
    }
    page.locator(".card", has_text="张三已阅读").wait_for()  # the ACK's cardData updated the card
    page.get_by_text("点击了卡片按钮「我已阅读」").wait_for()


def test_chat_page_sends_a_multi_line_message_on_enter(sandbox, stream_client_factory, page):
    """The composer is a textarea as in DingTalk/WeCom: Shift+Enter starts a new line (nothing is sent),
    Enter sends the whole message with its line breaks, and the bubble shows them."""
    bot = Bot()
    stream_client_factory({ChatbotMessage.TOPIC: bot})
    wait_connected(sandbox)
    page.goto(sandbox.url + "/?platform=dingtalk")
    page.click('[data-user="zhangsan"]')
    page.get_by_text("钉钉机器人在线").wait_for()
    box = page.locator("#composer-input")
    assert box.evaluate("el => el.tagName") == "TEXTAREA"
    box.fill("申报项目")
    box.press("Shift+Enter")
    page.keyboard.insert_text("名称：老旧小区停车难")
    box.press("Shift+Enter")
    page.keyboard.insert_text("节点：3月31日 完成摸底")
    assert box.input_value() == "申报项目\n名称：老旧小区停车难\n节点：3月31日 完成摸底"  # not sent yet
    box.press("Enter")
    wait_for(lambda: bot.received, what="the message at the SDK client")
    assert [m.text.content for m in bot.received] == [
        "申报项目\n名称：老旧小区停车难\n节点：3月31日 完成摸底"
    ]
    assert box.input_value() == ""
    bubble = page.locator(".row.in .bubble", has_text="名称：老旧小区停车难")
    bubble.wait_for()
    assert bubble.inner_text().splitlines()[-3:] == [
        "申报项目",
        "名称：老旧小区停车难",
        "节点：3月31日 完成摸底",
    ]


def test_chat_page_says_when_the_bot_is_offline(sandbox, page):
    page.goto(sandbox.url + "/?platform=dingtalk&user=lisi")
    page.get_by_text("钉钉机器人不在线").wait_for()
    page.fill("#composer-input", "有人吗")
    page.press("#composer-input", "Enter")
    page.locator("#toast", has_text="机器人当前没有连接").wait_for()


class H5Page:
    """A bot H5 page on another port that gets the person's identity through the dd shim."""

    def __init__(self, sandbox_url: str):
        html = f"""<!doctype html><meta charset="utf-8"><script src="{sandbox_url}/_sandbox/dd-shim.js"></script>
<div id="out">waiting</div><script>
dd.ready(function () {{
  dd.runtime.permission.requestAuthCode({{corpId: "{demo.DINGTALK_CORP_ID}",
    onSuccess: function (r) {{ document.getElementById("out").textContent = "code:" + r.code; }},
    onFail: function (e) {{ document.getElementById("out").textContent = "fail:" + e.errorMessage; }} }});
}});
</script>""".encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/h5/checkin"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_dd_shim_gives_a_page_the_code_of_the_person_played(sandbox, page):
    h5 = H5Page(sandbox.url)
    try:
        # Opening a link from the chat page goes through /_sandbox/open, which records who is browsing.
        page.goto(f"{sandbox.url}/_sandbox/open?platform=dingtalk&user=sunqi&url={h5.url}")
        out = page.locator("#out", has_text="code:")
        out.wait_for()
        code = out.inner_text().removeprefix("code:")
        token = httpx.get(f"{sandbox.url}/gettoken", params={"appkey": demo.DINGTALK_CLIENT_ID,
                                                              "appsecret": demo.DINGTALK_CLIENT_SECRET}).json()  # fmt: skip
        info = httpx.post(f"{sandbox.url}/topapi/v2/user/getuserinfo", params={"access_token": token["access_token"]},
                          json={"code": code}).json()  # fmt: skip
        assert info["result"]["userid"] == "sunqi"
        page.goto(f"{h5.url}?sandbox_user=wujiu")  # outside the visible range: the JSAPI fails
        page.locator("#out", has_text="fail:").wait_for()
    finally:
        h5.close()


def test_chat_page_on_wecom_with_cards_and_oauth_links(sandbox, stub_bot, page):
    from urllib.parse import parse_qs, quote, urlsplit

    from tests.sandbox.conftest import wecom_client

    page.goto(sandbox.url + "/?platform=wecom")
    page.click('[data-user="lisi"]')
    page.fill("#composer-input", "请假")
    page.press("#composer-input", "Enter")
    page.locator(".row.out .bubble", has_text="收到：请假").wait_for()  # the app's encrypted passive reply
    assert stub_bot.messages[0].source == "lisi" and stub_bot.messages[0].content == "请假"

    client = wecom_client(sandbox)
    card = {"card_type": "button_interaction", "main_title": {"title": "补学任务", "desc": "请在本周内完成"},
            "task_id": "makeup-9", "button_list": [{"text": "已完成", "style": 1, "key": "done:9"}]}  # fmt: skip
    client.message.send(
        demo.WECOM_AGENT_ID, ["lisi"], msg={"msgtype": "template_card", "template_card": card}
    )
    authorize = (f"{sandbox.wecom_oauth_base}?appid={demo.WECOM_CORP_ID}&redirect_uri={quote(stub_bot.url.replace('/wecom/callback', '/h5/form'))}"
                 "&response_type=code&scope=snsapi_base&state=f1#wechat_redirect")  # fmt: skip
    client.message.send_text_card(
        demo.WECOM_AGENT_ID, ["lisi"], "观察评价表", "请填写本次会议的评价", authorize, "填写"
    )

    shown = page.locator(".card", has_text="补学任务")
    shown.wait_for()
    shown.get_by_role("button", name="已完成").click()
    shown.locator(".card-done", has_text="已处理").wait_for()  # the app answered update_button
    event = stub_bot.messages[-1]._data
    assert (
        event["Event"] == "template_card_event"
        and event["EventKey"] == "done:9"
        and event["TaskId"] == "makeup-9"
    )

    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="填写").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    target = urlsplit(popup.url)
    assert target.path == "/h5/form" and parse_qs(target.query)["state"] == ["f1"]
    code = parse_qs(target.query)["code"][0]
    assert (
        client.get("auth/getuserinfo", params={"code": code})["userid"] == "lisi"
    )  # the person being played


def test_the_chat_page_has_its_own_icon(sandbox):
    """Without one the browser asks for /favicon.ico and logs a 404 on every visit (issue 15)."""
    import httpx

    page = httpx.get(sandbox.url + "/", trust_env=False).text
    assert 'rel="icon" href="data:image/svg+xml,' in page
