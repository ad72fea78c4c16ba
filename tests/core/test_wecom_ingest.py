"""The WeCom callback's ingest path as bench/ingest.py drives it: the message and its reply are committed
before the 200, a repeat delivery changes nothing, the whole POST takes one hop to the threadpool, and
once the statement cache is warm an event compiles no SQL (the dedup claim used to be compiled again
for every event)."""

from __future__ import annotations

import time
import traceback

import pytest
import xmltodict
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.sql.compiler import SQLCompiler
from wechatpy.enterprise import WeChatCrypto

from bot.core.dispatcher import Dispatcher, Outcome
from bot.core.errors import Refused
from bot.core.messages import Text, from_payload
from bot.core.router import Router, Routes
from bot.platforms.wecom import callback
from bot.platforms.wecom.callback import build_router
from bot.platforms.wiring import Platforms
from bot.web.app import create_app
from config import demo
from handlers import all_routers
from models.inbox import InboundEvent
from models.org import OrgUnit, Platform
from models.outbox import OutboxMessage
from tests.core.helpers import CONFIG, make_dispatcher, make_org, text_event

TEXT_MSG = (
    "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
    "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的]]></Content>"
    "<MsgId>{msg_id}</MsgId><AgentID>1</AgentID></xml>"
)


def _signed(user: str, msg_id: int) -> tuple[dict, str]:
    crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    xml = TEXT_MSG.format(corp=demo.WECOM_CORP_ID, user=user, msg_id=msg_id)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, "nonce1", int(time.time())))["xml"]
    params = {
        "msg_signature": envelope["MsgSignature"],
        "timestamp": envelope["TimeStamp"],
        "nonce": "nonce1",
    }
    return params, f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"


@pytest.fixture
def client(session_factory):
    make_org(session_factory)
    dispatcher = Dispatcher(session_factory, Routes(all_routers()), CONFIG)
    router = build_router(
        token=demo.WECOM_TOKEN,
        encoding_aes_key=demo.WECOM_ENCODING_AES_KEY,
        corp_id=demo.WECOM_CORP_ID,
        dispatcher=dispatcher,
    )
    return TestClient(create_app(session_factory, platforms=Platforms(wecom_router=router)))


def _committed(session_factory) -> tuple[int, list[str]]:
    """What another connection sees: the inbound rows and the queued replies' texts."""
    with session_factory() as s:
        events = s.scalar(select(func.count()).select_from(InboundEvent))
        replies = [
            from_payload(r.payload).text for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    return events, replies


def test_the_message_and_its_reply_are_committed_before_the_answer_and_a_repeat_adds_nothing(
    client, session_factory, monkeypatch
):
    hops = []
    real = callback.run_in_threadpool

    async def counting(fn, *args):
        hops.append(fn.__name__)
        return await real(fn, *args)

    monkeypatch.setattr(callback, "run_in_threadpool", counting)
    params, body = _signed("member1", 101)
    answer = client.post("/wecom/callback", params=params, content=body)
    assert answer.status_code == 200 and answer.text == ""
    # Verify, decrypt, dedup and handling: one trip to the threadpool for the whole POST.
    assert hops == ["handle"]
    events, replies = _committed(session_factory)
    assert events == 1
    assert len(replies) == 1 and "党员1" in replies[0] and "第一党支部" in replies[0]
    # WeCom delivers it again (its retry of an answer it did not see): answered, nothing added.
    assert client.post("/wecom/callback", params=params, content=body).status_code == 200
    assert _committed(session_factory) == (events, replies)


def test_a_database_that_refuses_the_claim_gets_a_503_so_wecom_retries(client, session_factory, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(Dispatcher, "_claim_event", staticmethod(broken))
    params, body = _signed("member1", 102)
    assert client.post("/wecom/callback", params=params, content=body).status_code == 503
    assert _committed(session_factory) == (0, [])


def test_a_warm_dispatch_compiles_no_sql_and_a_duplicate_runs_nothing(session_factory, engine):
    make_org(session_factory, members=4)  # member1 and member3 are on WeCom
    d = make_dispatcher(session_factory, all_routers())
    wecom = {"platform": Platform.WECOM}
    assert d.dispatch(text_event("我的", account="member1", event_id="w1", **wecom)) == Outcome.HANDLED
    compiled = []
    statements = []
    real_init = SQLCompiler.__init__

    def spy(self, *args, **kwargs):
        ours = [
            f
            for f in traceback.extract_stack()
            if "site-packages" not in f.filename and not f.filename.startswith("<")
        ]
        compiled.append(f"{ours[-2].filename.rsplit('/', 3)[-3:]}:{ours[-2].lineno}")
        real_init(self, *args, **kwargs)

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    SQLCompiler.__init__ = spy
    event.listen(engine, "before_cursor_execute", listener)
    try:
        # Another member, another message: every statement comes from the cache (the claim was
        # compiled for every event, and so were the SAVEPOINT and RELEASE around every handler).
        assert d.dispatch(text_event("我的", account="member3", event_id="w2", **wecom)) == Outcome.HANDLED
        handled = len(statements)
        assert compiled == []
        # The same message again: the claim finds it taken and nothing else runs.
        statements.clear()
        assert d.dispatch(text_event("我的", account="member3", event_id="w2", **wecom)) == Outcome.DUPLICATE
        assert len(statements) == 1 and "ON CONFLICT" in statements[0]
    finally:
        SQLCompiler.__init__ = real_init
        event.remove(engine, "before_cursor_execute", listener)
    assert handled > 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 2
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_refusal_undoes_the_handlers_writes_answers_once_and_its_repeat_is_a_duplicate(session_factory):
    """Without a savepoint per handler: the refused transaction is rolled back whole and the answer is
    queued behind the same dedup row in a second one."""
    make_org(session_factory)
    router = Router("refusing")

    @router.command("试试")
    def refuse(ctx, _args):
        ctx.session.add(OrgUnit(kind="branch", name="不该留下"))
        ctx.reply(Text("不该发出"))
        raise Refused("这个不行。")

    d = make_dispatcher(session_factory, [router])
    event = text_event("试试", account="member1", event_id="r1", platform=Platform.WECOM)
    assert d.dispatch(event) == Outcome.HANDLED
    assert d.dispatch(event) == Outcome.DUPLICATE
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == "不该留下")) == 0
        assert [from_payload(r.payload).text for r in s.scalars(select(OutboxMessage))] == ["这个不行。"]
        assert list(s.scalars(select(InboundEvent.outcome))) == ["handled"]
