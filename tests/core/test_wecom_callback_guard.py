"""/wecom/callback against what an attacker can send before any signature is checked: stale or replayed
timestamps, forged signatures (compared in constant time), a signed message without a sender, and bodies
far larger than anything WeCom sends, the last measured on a real server process's memory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import httpx
import pytest
import xmltodict
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from wechatpy.enterprise import WeChatCrypto

from bot.core.dispatcher import Dispatcher
from bot.core.router import Routes
from bot.platforms.wecom import callback
from bot.platforms.wecom.callback import build_router
from bot.platforms.wiring import Platforms
from bot.web.app import create_app
from bot.web.limits import CALLBACK_LIMIT, ROSTER_UPLOAD_LIMIT
from config import demo
from models.inbox import InboundEvent
from models.outbox import OutboxMessage
from tests.core.helpers import CONFIG, make_org

TEXT_MSG = (
    "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
    "<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的]]></Content>"
    "<MsgId>{msg_id}</MsgId><AgentID>1</AgentID></xml>"
)


def _crypto() -> WeChatCrypto:
    return WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)


def _signed(xml: str, timestamp: int) -> tuple[dict, str]:
    """A callback as WeCom sends it: query parameters and the encrypted envelope."""
    envelope = _crypto().encrypt_message(xml, "nonce1", timestamp)
    fields = xmltodict.parse(envelope)["xml"]
    params = {"msg_signature": fields["MsgSignature"], "timestamp": fields["TimeStamp"], "nonce": "nonce1"}
    body = f"<xml><ToUserName><![CDATA[{demo.WECOM_CORP_ID}]]></ToUserName><Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>"
    return params, body


@pytest.fixture
def web(session_factory):
    make_org(session_factory)
    dispatcher = Dispatcher(session_factory, Routes([]), CONFIG)
    wall = SimpleNamespace(now=time.time())
    router = build_router(
        token=demo.WECOM_TOKEN,
        encoding_aes_key=demo.WECOM_ENCODING_AES_KEY,
        corp_id=demo.WECOM_CORP_ID,
        dispatcher=dispatcher,
        wall_clock=lambda: wall.now,
    )
    app = create_app(session_factory, platforms=Platforms(wecom_router=router))
    return TestClient(app), wall


def _counts(session_factory) -> tuple[int, int]:
    with session_factory() as s:
        return (
            s.scalar(select(func.count()).select_from(InboundEvent)),
            s.scalar(select(func.count()).select_from(OutboxMessage)),
        )


def test_a_fresh_signed_message_is_handled(web, session_factory):
    client, wall = web
    params, body = _signed(
        TEXT_MSG.format(corp=demo.WECOM_CORP_ID, user="member1", ts=1, msg_id=1), int(wall.now)
    )
    assert client.post("/wecom/callback", params=params, content=body).status_code == 200
    assert _counts(session_factory)[0] == 1


@pytest.mark.parametrize("skew", [-3600, -301, 301, 86400 * 3])
def test_a_replayed_or_far_future_timestamp_is_refused(web, session_factory, skew):
    """A capture replayed later is correctly signed; only its timestamp gives it away."""
    client, wall = web
    params, body = _signed(
        TEXT_MSG.format(corp=demo.WECOM_CORP_ID, user="member1", ts=1, msg_id=2), int(wall.now)
    )
    wall.now += -skew  # our clock moves instead of the message's: the same thing
    r = client.post("/wecom/callback", params=params, content=body)
    assert r.status_code == 403
    assert _counts(session_factory) == (0, 0)
    echo = _crypto().encrypt_message("hello", "n", int(wall.now) + skew)
    fields = xmltodict.parse(echo)["xml"]
    get = client.get(
        "/wecom/callback",
        params={
            "msg_signature": fields["MsgSignature"],
            "timestamp": fields["TimeStamp"],
            "nonce": "n",
            "echostr": fields["Encrypt"],
        },
    )
    assert get.status_code == 403


def test_signatures_are_compared_in_constant_time(web, monkeypatch):
    client, wall = web
    compared = []
    real = callback.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(callback.hmac, "compare_digest", spy)
    params, body = _signed(
        TEXT_MSG.format(corp=demo.WECOM_CORP_ID, user="member1", ts=1, msg_id=3), int(wall.now)
    )
    forged = {**params, "msg_signature": "0" * 40}
    assert client.post("/wecom/callback", params=forged, content=body).status_code == 403
    assert compared and compared[-1][1] == b"0" * 40


def test_a_signed_message_without_a_sender_is_refused_cleanly(web, session_factory):
    """It used to reach the dispatcher, whose apology failed on a NULL outbox target."""
    client, wall = web
    xml = TEXT_MSG.format(corp=demo.WECOM_CORP_ID, user="", ts=1, msg_id=4)
    params, body = _signed(xml, int(wall.now))
    r = client.post("/wecom/callback", params=params, content=body)
    assert r.status_code == 400 and "sender" in r.text
    event = (
        f"<xml><ToUserName><![CDATA[{demo.WECOM_CORP_ID}]]></ToUserName><CreateTime>1</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
        "<EventKey><![CDATA[x]]></EventKey><TaskId><![CDATA[t]]></TaskId><AgentID>1</AgentID></xml>"
    )
    params, body = _signed(event, int(wall.now))
    assert client.post("/wecom/callback", params=params, content=body).status_code == 400
    assert _counts(session_factory) == (0, 0)


def test_a_body_over_the_callback_limit_is_refused_before_it_is_read(web, session_factory):
    client, wall = web
    params, body = _signed(
        TEXT_MSG.format(corp=demo.WECOM_CORP_ID, user="member1", ts=1, msg_id=5), int(wall.now)
    )
    padded = body + " " * CALLBACK_LIMIT
    r = client.post("/wecom/callback", params=params, content=padded)
    assert r.status_code == 413 and "过大" in r.json()["detail"]
    assert _counts(session_factory) == (0, 0)


def test_a_browser_sending_too_much_reads_a_chinese_page(web):
    """A form over its route's limit posted by a browser (a roster file too big for the console's upload)
    is answered with a page, not JSON; the refusal is the same 413 either way."""
    client, _ = web
    too_big = b"x" * (ROSTER_UPLOAD_LIMIT + 1)
    page = client.post("/console/people/roster/upload", content=too_big, headers={"Accept": "text/html"})
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "请求内容过大，已拒绝。" in page.text and "请返回上一页" in page.text
    script = client.post("/console/people/roster/upload", content=too_big)
    assert script.status_code == 413 and script.json() == {"detail": "请求内容过大，已拒绝。"}


# ---- a real server process: memory under large unauthenticated bodies ----------------------------

SERVER = textwrap.dedent(
    """
    import socket, sys
    import uvicorn
    from bot.core.dispatcher import Dispatcher
    from bot.core.router import Routes
    from bot.platforms.wecom.callback import build_router
    from bot.platforms.wiring import Platforms
    from bot.web.app import create_app
    from config import demo
    from models.base import Base
    from models.db import make_engine, make_sessionmaker
    from tests.core.helpers import CONFIG

    engine = make_engine(sys.argv[1])
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    router = build_router(token=demo.WECOM_TOKEN, encoding_aes_key=demo.WECOM_ENCODING_AES_KEY,
                          corp_id=demo.WECOM_CORP_ID, dispatcher=Dispatcher(factory, Routes([]), CONFIG))
    app = create_app(factory, platforms=Platforms(wecom_router=router))
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")).run(sockets=[sock])
    """
)


def _peak_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def _send_big_body(port: int, total: int, chunked: bool) -> bytes:
    """Stream `total` bytes at the callback as fast as loopback takes them; the server's answer."""
    head = "POST /wecom/callback?msg_signature=x&timestamp=1&nonce=n HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n"
    chunk = b"<" * (1024 * 1024)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            for _ in range(total // len(chunk)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: exactly what it should do
        try:
            return sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            return b""


@pytest.mark.timeout(300)
def test_large_unauthenticated_bodies_do_not_grow_the_process(tmp_path, database_url):
    """Four 150 MB bodies took the process from 190 MB to 1.3 GB; a 300 MB one stalled /healthz."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the body limit is the web layer's; one database is enough")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, database_url], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        port = int(proc.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        first = httpx.get(base + "/healthz", trust_env=False)
        assert first.status_code == 200, first.text
        before = _peak_kb(proc.pid)
        answers = [_send_big_body(port, 150 * 1024 * 1024, chunked=i % 2 == 1) for i in range(4)]
        health = httpx.get(base + "/healthz", trust_env=False, timeout=10)
        growth_mb = (_peak_kb(proc.pid) - before) / 1024
    finally:
        proc.terminate()
        proc.wait(10)
    for answer in answers:
        assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert any(a.startswith(b"HTTP/1.1 413") for a in answers)
    assert health.status_code == 200 and json.loads(health.text)["database"] == "ok"
    # A generous bound for a shared machine: the old code grew by gigabytes.
    assert growth_mb < 64, f"the server's peak memory grew by {growth_mb:.0f} MB"
