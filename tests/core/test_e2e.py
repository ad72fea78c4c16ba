"""End to end: the sandbox plays DingTalk and WeCom; the bot runs its real SDK adapters against it."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import dingtalk_stream
import httpx
from sqlalchemy import func, select

from bot.core.messages import Button, Card, CardUpdate, Text
from bot.core.router import Router
from models.inbox import InboundEvent
from models.outbox import DeliveryStatus, OutboxMessage
from tests.core.e2e import running_bot
from tests.core.helpers import make_org

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _sent_to(sb, platform: str, user: str) -> list[dict]:
    return [m for m in sb.outbox(platform=platform) if user in m.get("to", [])]


def _approval_router(log: list):
    router = Router("e2e-approval")

    @router.command("审批演示", help="发一张审批卡片")
    def send_card(ctx, _args):
        ctx.reply(
            Card(
                "请假申请",
                "党员0 申请请假（3月5日支部党员大会）",
                fields=(("事由", "出差"),),
                buttons=(Button("批准", action="e2e.approve", params={"leave": "7"}),),
                card_key="leave:7",
            )
        )

    @router.action("e2e.approve")
    def approve(ctx, params):
        log.append((ctx.person.name, params))
        ctx.reply(CardUpdate("leave:7", "请假申请", "已批准", status_label="已批准"))
        ctx.reply(Text(f"已批准请假 {params['leave']}"))

    @router.command("慢命令")
    def slow(ctx, _args):
        log.append("slow")
        time.sleep(0.4)
        ctx.reply(Text("慢慢处理完了"))

    return router


def test_dingtalk_message_in_reply_out_and_unbound_account(session_factory, database_url):
    make_org(session_factory)
    with running_bot(
        session_factory, database_url, extra_users=[("dingtalk", {"userid": "stranger", "name": "陌生人"})]
    ) as bot:
        pushed = bot.sb.push_dingtalk_message("wangshuji", "＠支部助手 帮助")
        assert pushed["ack"]["code"] == 200  # ACKed after the commit
        bot.sb.push_dingtalk_message("stranger", "我的")
        bot.sb.push_dingtalk_message("stranger", "未送达名单")
        bot.drain()
        help_msgs = _sent_to(bot.sb, "dingtalk", "wangshuji")  # one message per group of commands
        assert {m["api"] for m in help_msgs} == {"batchSend"}
        help_text = "\n".join(m["text"] for m in help_msgs)
        assert "未送达名单" in help_text and "我的" in help_text
        stranger = [m["text"] for m in _sent_to(bot.sb, "dingtalk", "stranger")]
        assert len(stranger) == 2 and stranger[0].startswith("未绑定") and "stranger" in stranger[0]
        assert "名册" in stranger[1]


def test_wecom_message_in_reply_out(session_factory, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        result = bot.sb.deliver_wecom("WangShuJi", "我的")
        assert result["delivered"] and result["status"] == 200
        bot.drain()
        (me,) = _sent_to(bot.sb, "wecom", "WangShuJi")
        assert "王书记" in me["text"] and "第一党支部" in me["text"]


def test_dingtalk_card_press_reaches_its_handler_and_updates_the_card(session_factory, database_url):
    make_org(session_factory)
    log: list = []
    with running_bot(session_factory, database_url, routers=[_approval_router(log)]) as bot:
        bot.sb.push_dingtalk_message("wangshuji", "审批演示")
        bot.drain()
        (card_msg,) = [m for m in _sent_to(bot.sb, "dingtalk", "wangshuji") if m.get("card_id")]
        button = card_msg["buttons"][0]
        assert button["text"] == "批准"
        ack = bot.sb.push_card_action(
            card_msg["card_id"], "wangshuji", button["params"], action_id=button["action_id"]
        )
        assert ack["ack"]["code"] == 200
        bot.drain()
        assert log == [("王书记", {"leave": "7"})]
        card = bot.sb.card(card_msg["card_id"])
        assert card["params"]["markdown"] == "已批准"
        assert any(m["text"] == "已批准请假 7" for m in _sent_to(bot.sb, "dingtalk", "wangshuji"))


def test_wecom_card_press_reaches_its_handler_and_updates_the_card(session_factory, database_url):
    make_org(session_factory)
    log: list = []
    with running_bot(session_factory, database_url, routers=[_approval_router(log)]) as bot:
        bot.sb.deliver_wecom("WangShuJi", "审批演示")
        bot.drain()
        (card_msg,) = [m for m in _sent_to(bot.sb, "wecom", "WangShuJi") if m.get("card_id")]
        key = card_msg["buttons"][0]["key"]
        pressed = bot.sb.press_wecom_button("WangShuJi", card_msg["card_id"], key)
        assert pressed["status"] == 200
        bot.drain()
        assert log == [("王书记", {"leave": "7"})]
        updates = [m for m in bot.sb.outbox(platform="wecom") if m["api"] == "update_template_card"]
        assert [u["card_id"] for u in updates] == [card_msg["card_id"]]


def test_wecom_retries_of_a_slow_answer_have_one_effect(session_factory, session, database_url):
    make_org(session_factory)
    log: list = []
    with running_bot(session_factory, database_url, routers=[_approval_router(log)]) as bot:
        result = bot.sb.deliver_wecom("WangShuJi", "慢命令", timeout=0.1, retries=3)
        assert result["attempts"] >= 2  # WeCom gave up waiting and retried
        time.sleep(0.6)  # let the first, slow delivery finish (the retries wait on its dedup row)
        bot.drain()
        assert log == ["slow"]
        assert [m["text"] for m in _sent_to(bot.sb, "wecom", "WangShuJi")] == ["慢慢处理完了"]


def test_a_dingtalk_redelivery_has_one_effect(session_factory, session, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        first = bot.sb.push_dingtalk_message("wangshuji", "我的")
        # The same frame again, through the SDK's own handler: what a re-push after a lost ACK does.
        handler = bot.service.platforms.stream.client.callback_handler_map[
            dingtalk_stream.ChatbotMessage.TOPIC
        ]
        frame = dingtalk_stream.CallbackMessage.from_dict(
            {
                "specVersion": "1.0",
                "type": "CALLBACK",
                "headers": {
                    "messageId": first["messageId"],
                    "topic": "/v1.0/im/bot/messages/get",
                    "time": "1",
                },
                "data": json.dumps(first["data"]),
            }
        )
        ack = asyncio.run(handler.raw_process(frame))
        assert ack.code == 200
        bot.drain()
        assert len(_sent_to(bot.sb, "dingtalk", "wangshuji")) == 1
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1


def test_a_forged_wecom_signature_is_refused_and_changes_nothing(session_factory, session, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        body = "<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[AAAA]]></Encrypt></xml>"
        forged = httpx.post(
            bot.url + "/wecom/callback",
            params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "n"},
            content=body,
            trust_env=False,
        )
        assert forged.status_code == 403
        bad_get = httpx.get(
            bot.url + "/wecom/callback",
            params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "n", "echostr": "AAAA"},
            trust_env=False,
        )
        assert bad_get.status_code == 403
        assert bot.sb.verify_wecom_url()["ok"] is True  # the real handshake passes
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_5xx_and_token_expiry_are_survived_and_delivered_once(session_factory, session, database_url):
    org = make_org(session_factory)
    with running_bot(session_factory, database_url, clock_start=START) as bot:
        bot.sb.push_dingtalk_message("wangshuji", "我的")
        bot.sb.deliver_wecom("member1", "我的")
        bot.drain()  # warms both tokens
        bot.sb.move_clock(7300)  # every token the bot holds is now expired on the server
        bot.sb.fault("/v1.0/robot/oToMessages/batchSend", http=502, times=1)
        bot.sb.fault("/cgi-bin/message/send", http=503, times=1)
        with session_factory() as s, s.begin():
            from bot.core import outbox

            outbox.enqueue_to_people(
                s,
                [org.secretary_id, org.member_ids[1]],
                Text("明天上午九点支部党员大会"),
                dedup_key="n1",
                now=START,
            )
        bot.drain()
        for platform, user in (("dingtalk", "wangshuji"), ("wecom", "member1")):
            got = [m for m in _sent_to(bot.sb, platform, user) if m["text"] == "明天上午九点支部党员大会"]
            assert len(got) == 1, (platform, got)
    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == "n1")))
    assert {r.status for r in rows} == {DeliveryStatus.SENT} and {r.attempts for r in rows} == {1}


def test_a_member_outside_the_visible_range_is_recorded_as_unreachable(
    session_factory, session, database_url
):
    org = make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        fixture = bot.sb.fixture()
        for platform in ("dingtalk", "wecom"):
            for u in fixture[platform]["users"]:
                if u["userid"] in ("member0", "member1"):
                    u["in_range"] = False
        bot.sb.load_fixture(fixture)
        with session_factory() as s, s.begin():
            from bot.core import outbox

            outbox.enqueue_to_people(
                s, [*org.member_ids, org.unbound_id], Text("通知"), dedup_key="n", now=START
            )
        bot.drain()
    session.expire_all()
    failed = {
        r.target: r.reason
        for r in session.scalars(select(OutboxMessage))
        if r.status == DeliveryStatus.FAILED
    }
    assert failed == {
        "member0": "账号不存在或不在应用可见范围内",
        "member1": "账号不存在或不在应用可见范围内",
        "": "未绑定钉钉或企业微信账号",
    }


def test_healthz_and_metrics(session_factory, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        health = httpx.get(bot.url + "/healthz", trust_env=False)
        assert health.status_code == 200
        assert health.json() | {} == health.json() and health.json()["stream"] == "connected"
        assert health.json()["database"] == "ok" and health.json()["relay_backlog"] == 0
        metrics = httpx.get(bot.url + "/metrics", trust_env=False).text
        assert "zhibu_outbox_backlog" in metrics and "zhibu_dingtalk_stream_connected 1.0" in metrics
        runner = bot.service.platforms.stream
    # After stop() the SDK's thread is gone even though 0.24.3 swallows the first cancel.
    assert not runner._thread.is_alive()


def test_h5_login_free_identity_on_both_platforms(session_factory, database_url):
    import pytest

    from bot.core.errors import IdentityError

    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        ding = bot.service.platforms.identities["dingtalk"]
        wecom = bot.service.platforms.identities["wecom"]
        assert ding.user_for_code(bot.sb.dingtalk_authcode("wangshuji")) == "wangshuji"
        assert wecom.user_for_code(bot.sb.wecom_oauth_code("WangShuJi")) == "WangShuJi"
        code = bot.sb.dingtalk_authcode("member0")
        assert ding.user_for_code(code) == "member0"
        with pytest.raises(IdentityError):
            ding.user_for_code(code)  # single use
        with pytest.raises(IdentityError):
            wecom.user_for_code("forged-code")
        url = wecom.authorize_url("http://127.0.0.1:8000/h5/checkin?m=1", state="s1")
        assert url.startswith(bot.sb.wecom_oauth_base + "?appid=") and "&agentid=" in url
        assert "scope=snsapi_base" in url and url.endswith("#wechat_redirect")
