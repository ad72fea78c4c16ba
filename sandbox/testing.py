"""Start the sandbox for a test or the demo, and drive it through its control API.

from sandbox.testing import running_sandbox

with running_sandbox() as sb:                 # a free port on 127.0.0.1, its own thread and loop
    sb.url                                     # "http://127.0.0.1:PORT": point DingTalk/WeCom settings here
    sb.push_dingtalk_message("zhangsan", "帮助")
    sb.outbox(platform="dingtalk")
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx

from sandbox.server import BackgroundServer


class SandboxError(RuntimeError):
    """The control API refused a request; .status and .body say why."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sandbox answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxClient:
    """A small client of /_sandbox. Every method returns the decoded JSON answer."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    # Settings a service under test needs (platforms.md §6.1).
    @property
    def dingtalk_openapi_endpoint(self) -> str:
        return self.url

    @property
    def dingtalk_oapi_endpoint(self) -> str:
        return self.url

    @property
    def wecom_api_base(self) -> str:
        return self.url + "/cgi-bin/"

    @property
    def wecom_oauth_base(self) -> str:
        return self.url + "/connect/oauth2/authorize"

    @property
    def dingtalk_login_base(self) -> str:
        return self.url

    @property
    def wecom_login_base(self) -> str:
        return self.url

    def _call(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kw) -> Any:
        resp = self.http.request(method, path, **kw)
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        if resp.status_code not in ok:
            raise SandboxError(resp.status_code, body)
        return body

    # ---- DingTalk

    def push_dingtalk_message(
        self,
        user: str,
        text: str,
        conversation: str = "single",
        *,
        at_bot: bool = True,
        wait: float = 5.0,
        check: bool = True,
    ) -> dict:
        """A member's message to the bot (1:1, or a group cid). Returns {messageId, ack|None, data, …}.

        With check=False a refused push (no connection, group message without @bot) returns its reason instead
        of raising.
        """
        body = {"kind": "bot_message", "from": user, "text": text, "conversation": conversation,
                "at_bot": at_bot, "wait": wait}  # fmt: skip
        return self._call(
            "POST", "/_sandbox/dingtalk/push", json=body, ok=(200,) if check else (200, 400, 409)
        )

    def push_card_action(
        self, out_track_id: str, user: str, params: dict | None = None, *, action_id: str = "button",
        wait: float = 5.0,
    ) -> dict:  # fmt: skip
        """A member pressing a button on a DingTalk card: a Stream CALLBACK on /v1.0/card/instances/callback."""
        body = {"kind": "card_action", "outTrackId": out_track_id, "userId": user, "params": params or {},
                "actionId": action_id, "wait": wait}  # fmt: skip
        return self._call("POST", "/_sandbox/dingtalk/push", json=body)

    def push_event(self, event_type: str, data: dict, *, wait: float = 5.0) -> dict:
        body = {"kind": "event", "eventType": event_type, "data": data, "wait": wait}
        return self._call("POST", "/_sandbox/dingtalk/push", json=body, ok=(200, 409))

    def system(self, topic: str, **kw) -> dict:
        """A SYSTEM frame: topic "ping" or "disconnect"."""
        return self._call("POST", "/_sandbox/dingtalk/system", json={"topic": topic, **kw}, ok=(200, 409))

    def drop_stream(self, code: int = 1011) -> dict:
        """Close every stream connection abnormally (the SDK then reconnects after its back-off)."""
        return self._call("POST", "/_sandbox/dingtalk/drop", json={"code": code})

    def connections(self) -> dict:
        return self._call("GET", "/_sandbox/dingtalk/connections")

    def dingtalk_authcode(self, user: str) -> str:
        return self._call("POST", "/_sandbox/dingtalk/authcode", json={"userid": user})["code"]

    # ---- WeCom

    def deliver_wecom(self, user: str, text: str, **kw) -> dict:
        """A member's text message, encrypted and POSTed to the bot's callback URL. Returns the delivery result
        ({delivered, attempts, status, reply: {xml, fields}|None, errors})."""
        return self._call(
            "POST", "/_sandbox/wecom/deliver", json={"user": user, "type": "text", "text": text, **kw}
        )

    def press_wecom_button(self, user: str, task_id: str, event_key: str, **kw) -> dict:
        """A member pressing a template_card button: an encrypted template_card_event to the bot."""
        body = {"user": user, "type": "template_card_event", "task_id": task_id, "event_key": event_key, **kw}
        return self._call("POST", "/_sandbox/wecom/deliver", json=body)

    def verify_wecom_url(self, callback_url: str | None = None) -> dict:
        return self._call(
            "POST", "/_sandbox/wecom/verify_url", json={"callback_url": callback_url} if callback_url else {}
        )

    def wecom_oauth_code(self, user: str) -> str:
        return self._call("POST", "/_sandbox/wecom/oauth_code", json={"userid": user})["code"]

    # ---- directories

    def change_directory(
        self,
        platform: str,
        change: str,
        userid: str,
        *,
        new_userid: str | None = None,
        mobile: str | None = None,
        name: str | None = None,
        repeat: int = 1,
        wait: float = 5.0,
        check: bool = True,
    ) -> dict:
        """Change a member in the corp's directory ("leave", "join" or "update") and push the platform's
        event: DingTalk's user_leave_org / user_add_org / user_modify_org EVENT over the Stream, WeCom's
        encrypted change_contact (delete_user / create_user / update_user) to the callback URL. `repeat`
        delivers the same event that many times. Returns the delivery ({delivered, ack(s) | result(s)})."""
        body = {"platform": platform, "change": change, "userid": userid, "new_userid": new_userid,
                "mobile": mobile, "name": name, "repeat": repeat, "wait": wait}  # fmt: skip
        return self._call(
            "POST",
            "/_sandbox/directory/change",
            json={k: v for k, v in body.items() if v is not None},
            ok=(200,) if check else (200, 400, 404, 409),
        )

    # ---- observation and control

    def outbox(self, platform: str | None = None, since: int | None = None) -> list[dict]:
        params = {k: v for k, v in {"platform": platform, "since": since}.items() if v is not None}
        return self._call("GET", "/_sandbox/outbox", params=params)

    def wait_for_outbox(
        self,
        platform: str | None = None,
        *,
        since: int | None = None,
        count: int = 1,
        where=None,
        timeout: float = 10.0,
    ) -> list[dict]:
        """Poll until at least `count` sent messages (optionally those for which where(entry) is true) exist,
        for senders that deliver from another thread; returns them. Raises TimeoutError with what was seen."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.outbox(platform, since) if where is None or where(e)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"expected {count} message(s) in the sandbox outbox, found {len(found)}")
            time.sleep(0.02)

    def inbound(self, platform: str | None = None, since: int | None = None) -> list[dict]:
        params = {k: v for k, v in {"platform": platform, "since": since}.items() if v is not None}
        return self._call("GET", "/_sandbox/inbound", params=params)

    def card(self, card_id: str) -> dict:
        return self._call("GET", f"/_sandbox/cards/{card_id}")

    def fault(
        self,
        path: str,
        *,
        times: int = 1,
        http: int | None = None,
        errcode: int | None = None,
        errmsg: str | None = None,
        body: Any = None,
        delay: float | None = None,
        method: str | None = None,
    ) -> dict:
        """Make the next `times` calls to `path` fail: an HTTP status (+ body), an errcode in the API's own error
        shape (42001, 40014, 45009, 90002 …), or a delay (a timeout, then 504)."""
        spec = {"path": path, "times": times, "http": http, "errcode": errcode, "errmsg": errmsg, "body": body,
                "delay": delay, "method": method}  # fmt: skip
        return self._call("POST", "/_sandbox/faults", json={k: v for k, v in spec.items() if v is not None})

    def move_clock(self, seconds: float) -> dict:
        return self._call("POST", "/_sandbox/clock", json={"advance": seconds})

    def configure(self, **settings) -> dict:
        """Change limits and timeouts, e.g. configure(dingtalk_qps=2, wecom_callback_timeout=0.5)."""
        return self._call("POST", "/_sandbox/config", json=settings)

    def reset(self) -> dict:
        return self._call("POST", "/_sandbox/reset")

    def counters(self) -> dict:
        return self._call("GET", "/_sandbox/counters")

    def load_fixture(self, fixture: dict) -> dict:
        return self._call("POST", "/_sandbox/fixture", json=fixture)

    def fixture(self) -> dict:
        return self._call("GET", "/_sandbox/fixture")


class RunningSandbox(SandboxClient):
    """What running_sandbox() yields: a SandboxClient plus the server it controls."""

    def __init__(self, server: BackgroundServer) -> None:
        super().__init__(server.url)
        self.server = server


@contextlib.contextmanager
def running_sandbox(
    fixture: dict | None = None, port: int = 0, host: str = "127.0.0.1"
) -> Iterator[RunningSandbox]:
    server = BackgroundServer(fixture, host=host, port=port)
    server.start()
    client = RunningSandbox(server)
    try:
        yield client
    finally:
        client.close()
        server.stop()
