"""Fixtures for the sandbox tests: a running sandbox, and the REAL SDK clients pointed at it.

No database is involved. The dingtalk-stream client runs on its own thread and event loop, as a service
would run it; its fixed 10 s / 3 s reconnect back-off is shortened for the tests by giving its module a
patched `asyncio` (only sleeps of exactly 3 or 10 seconds are shortened, so keepalive stays as it is).
"""

from __future__ import annotations

import asyncio
import threading
import time
import types
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import dingtalk_stream
import dingtalk_stream.card_replier
import dingtalk_stream.chatbot
import dingtalk_stream.stream
import pytest
from wechatpy.enterprise import WeChatClient, WeChatCrypto, parse_message

from config import demo
from sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as sb:
        yield sb


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """Poll until predicate() is truthy (for events that happen on other threads); returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------- dingtalk-stream


def point_dingtalk_stream_at(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    """platforms.md §2(d) option B: redirect the already-imported SDK, restored after the test."""
    monkeypatch.setattr(dingtalk_stream.utils, "DINGTALK_OPENAPI_ENDPOINT", base)
    for mod in (dingtalk_stream.stream, dingtalk_stream.chatbot, dingtalk_stream.card_replier):
        monkeypatch.setattr(mod, "DINGTALK_OPENAPI_ENDPOINT", base)
    monkeypatch.setattr(
        dingtalk_stream.DingTalkStreamClient, "OPEN_CONNECTION_API", base + "/v1.0/gateway/connections/open"
    )


class _FastBackoffAsyncio(types.SimpleNamespace):
    """asyncio for dingtalk_stream.stream, with the reconnect sleeps (10 s, 3 s) cut to 50 ms."""

    def __getattr__(self, name):
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay, result=None):
        if delay in (3, 10):
            delay = 0.05
        return await asyncio.sleep(delay, result)


class StreamClientThread:
    """A real DingTalkStreamClient on its own loop and thread, stopped with the double-cancel pattern."""

    def __init__(self, client: dingtalk_stream.DingTalkStreamClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="sdk-stream", daemon=True)
        self.task: asyncio.Task | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())
        self.loop.close()

    async def _main(self) -> None:
        self.task = asyncio.create_task(self.client.start())
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        finally:
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)

    def start(self) -> StreamClientThread:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        # 0.24.3 catches the first CancelledError in start() and sleeps; a cancel during that sleep escapes.
        deadline = time.monotonic() + timeout
        while self.thread.is_alive() and time.monotonic() < deadline:
            if self.task is not None:
                self.loop.call_soon_threadsafe(self.task.cancel)
            self.thread.join(0.02)
        assert not self.thread.is_alive(), "the stream client did not stop"


@pytest.fixture
def stream_client_factory(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch):
    point_dingtalk_stream_at(monkeypatch, sandbox.url)
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _FastBackoffAsyncio())
    started: list[StreamClientThread] = []

    def make(handlers: dict[str, dingtalk_stream.CallbackHandler], event_handler=None) -> StreamClientThread:
        client = dingtalk_stream.DingTalkStreamClient(
            dingtalk_stream.Credential(demo.DINGTALK_CLIENT_ID, demo.DINGTALK_CLIENT_SECRET)
        )
        for topic, handler in handlers.items():
            client.register_callback_handler(topic, handler)
        if event_handler is not None:
            client.register_all_event_handler(event_handler)
        runner = StreamClientThread(client).start()
        started.append(runner)
        return runner

    yield make
    for runner in started:
        runner.stop()


def wait_connected(sb: RunningSandbox, count: int = 1, timeout: float = 10.0) -> list[dict]:
    return wait_for(
        lambda: len(sb.connections()["open"]) >= count and sb.connections()["open"], timeout, "stream"
    )


# ---------------------------------------------------------------- wechatpy


def wecom_client(sb: RunningSandbox, secret: str = demo.WECOM_SECRET) -> WeChatClient:
    """platforms.md §3.3: wechatpy pointed at the sandbox with the documented six-line subclass."""

    class SandboxWeComClient(WeChatClient):
        API_BASE_URL = sb.wecom_api_base

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
            )

    client = SandboxWeComClient(demo.WECOM_CORP_ID, secret)
    client.oauth.OAUTH_BASE_URL = sb.wecom_oauth_base
    return client


# ---------------------------------------------------------------- a WeCom app stub


class StubBot:
    """A minimal WeCom app: wechatpy decrypts, answers with an encrypted passive reply; can be made slow."""

    def __init__(self):
        self.crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
        self.messages = []
        self.delays: list[float] = []
        self.pages: list[str] = []
        self.reply_override: bytes | None = None
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _q(self):
                return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

            def do_GET(self):
                q = self._q()
                if "echostr" not in q:  # one of the app's H5 pages
                    bot.pages.append(self.path)
                    self._answer("<!doctype html><meta charset='utf-8'><h1>已打开</h1>".encode())
                    return
                plain = bot.crypto.check_signature(
                    q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]
                )
                self._answer(plain.encode() if isinstance(plain, str) else plain)

            def do_POST(self):
                q = self._q()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delay = bot.delays.pop(0) if bot.delays else 0
                xml = bot.crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
                msg = parse_message(xml)
                bot.messages.append(msg)
                if delay:
                    time.sleep(delay)
                if msg.type == "text":
                    reply = (f"<xml><ToUserName><![CDATA[{msg.source}]]></ToUserName><FromUserName><![CDATA[{demo.WECOM_CORP_ID}]]></FromUserName>"
                             f"<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[收到：{msg.content}]]></Content></xml>")  # fmt: skip
                else:
                    reply = "<xml><MsgType><![CDATA[update_button]]></MsgType><Button><ReplaceName><![CDATA[已处理]]></ReplaceName></Button></xml>"
                if bot.reply_override is not None:
                    self._answer(bot.reply_override)
                    return
                self._answer(bot.crypto.encrypt_message(reply, q["nonce"], q["timestamp"]).encode())

            def _answer(self, data: bytes):
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sandbox gave up waiting

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/wecom/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_bot(sandbox: RunningSandbox) -> Iterator[StubBot]:
    """A WeCom app (wechatpy's crypto) registered as the fixture's callback URL."""
    bot = StubBot()
    fixture = sandbox.fixture()
    fixture["wecom"]["callback_url"] = bot.url
    sandbox.load_fixture(fixture)
    yield bot
    bot.close()
