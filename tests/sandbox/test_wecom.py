"""wechatpy 1.8.18 (unmodified, with the documented base-URL subclass) against the sandbox, and the callback
side: the sandbox's own WeCom crypto interoperating with wechatpy's WeChatCrypto both ways."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from wechatpy.enterprise import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

from config import demo
from sandbox.wecom_crypto import WeComCipher, signature
from tests.sandbox.conftest import wecom_client

CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "交周报", "desc": "截止 明天 09:00"},
    "task_id": "rem-42-1",
    "button_list": [
        {"text": "已完成", "style": 1, "key": "done:r-42"},
        {"text": "推迟", "style": 2, "key": "snooze:r-42"},
    ],
}


def test_token_fetch_and_bad_secret(sandbox):
    client = wecom_client(sandbox)
    token = client.access_token
    assert token and client.access_token == token
    with pytest.raises(WeChatClientException) as exc:
        wecom_client(sandbox, secret="wrong").access_token  # noqa: B018
    assert exc.value.errcode == 40001


def test_message_send_reports_invalid_users_and_81013(sandbox):
    client = wecom_client(sandbox)
    res = client.message.send_text(demo.WECOM_AGENT_ID, ["zhangsan", "ghost", "wujiu"], "明晚七点支部大会")
    assert res["errcode"] == 0 and set(res["invaliduser"].split("|")) == {
        "ghost",
        "wujiu",
    }  # unknown, out of range
    out = sandbox.outbox(platform="wecom")
    assert out[0]["to"] == ["zhangsan"] and out[0]["text"] == "明晚七点支部大会"
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_text(demo.WECOM_AGENT_ID, ["ghost", "wujiu"], "无人可达")
    assert exc.value.errcode == 81013
    with pytest.raises(WeChatClientException) as exc:
        client.message.send_text(demo.WECOM_AGENT_ID, [f"u{i}" for i in range(1001)], "太多了")
    assert exc.value.errcode != 0


def test_template_card_returns_a_single_use_response_code(sandbox):
    client = wecom_client(sandbox)
    res = client.message.send(
        demo.WECOM_AGENT_ID, ["lisi"], msg={"msgtype": "template_card", "template_card": CARD}
    )
    code = res["response_code"]
    assert code
    with pytest.raises(WeChatClientException):  # task_id is unique per app
        client.message.send(
            demo.WECOM_AGENT_ID, ["lisi"], msg={"msgtype": "template_card", "template_card": CARD}
        )
    body = {"userids": ["lisi"], "agentid": int(demo.WECOM_AGENT_ID), "response_code": code,
            "button": {"replace_name": "已完成"}}  # fmt: skip
    assert client.post("message/update_template_card", data=body)["errcode"] == 0
    assert sandbox.card("rem-42-1")["replaced_name"] == "已完成"
    with pytest.raises(WeChatClientException):
        client.post("message/update_template_card", data=body)


def test_response_code_expires_after_72_hours(sandbox):
    client = wecom_client(sandbox)
    res = client.message.send(
        demo.WECOM_AGENT_ID,
        ["lisi"],
        msg={"msgtype": "template_card", "template_card": {**CARD, "task_id": "t2"}},
    )
    sandbox.move_clock(72 * 3600 + 1)
    body = {"userids": ["lisi"], "agentid": int(demo.WECOM_AGENT_ID), "response_code": res["response_code"],
            "button": {"replace_name": "已完成"}}  # fmt: skip
    with pytest.raises(WeChatClientException):  # the old token expired too; wechatpy refreshes it by itself
        client.post("message/update_template_card", data=body)
    assert sandbox.counters()["calls"]["GET /cgi-bin/gettoken"] == 2


def test_duplicate_check_suppresses_a_repeat(sandbox):
    client = wecom_client(sandbox)
    msg = {
        "msgtype": "text",
        "text": {"content": "同一条"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 600,
    }
    client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=msg)
    client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=msg)
    assert len(sandbox.outbox(platform="wecom")) == 1
    sandbox.move_clock(601)
    client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=msg)
    assert len(sandbox.outbox(platform="wecom")) == 2
    assert sandbox.counters()["wecom_duplicates_suppressed"] == 1


def test_oauth_authorize_redirects_with_a_single_use_code(sandbox):
    client = wecom_client(sandbox)
    url = client.oauth.authorize_url("http://127.0.0.1:9/h5/checkin?x=1", state="s1")
    assert url.startswith(sandbox.wecom_oauth_base) and url.endswith("#wechat_redirect")
    # httpx's params= would replace the query, so add the sandbox's user selector by hand.
    resp = httpx.get(url.replace("#wechat_redirect", "&sandbox_user=zhaoliu"), follow_redirects=False)
    assert resp.status_code == 302
    target = urlsplit(resp.headers["location"])
    assert target.path == "/h5/checkin"
    query = parse_qs(target.query)
    assert query["x"] == ["1"] and query["state"] == ["s1"]
    code = query["code"][0]
    assert client.get("auth/getuserinfo", params={"code": code})["userid"] == "zhaoliu"
    with pytest.raises(WeChatClientException) as exc:
        client.get("auth/getuserinfo", params={"code": code})
    assert exc.value.errcode == 40029
    # wechatpy's own helper uses the legacy endpoint.
    assert client.oauth.get_user_info(sandbox.wecom_oauth_code("sunqi"))["UserId"] == "sunqi"
    # The user may also come from the cookie the chat page sets.
    resp = httpx.get(url, cookies={"sandbox_wecom_user": "lisi"}, follow_redirects=False)
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    assert client.get("auth/getuserinfo", params={"code": code})["userid"] == "lisi"


def test_oauth_code_expires_after_five_minutes(sandbox):
    client = wecom_client(sandbox)
    client.access_token  # noqa: B018
    code = sandbox.wecom_oauth_code("zhangsan")
    sandbox.move_clock(301)
    with pytest.raises(WeChatClientException):
        client.get("auth/getuserinfo", params={"code": code})


def test_directory_reads(sandbox):
    client = wecom_client(sandbox)
    assert client.user.get("zhangsan")["name"] == "张三"
    with pytest.raises(WeChatClientException) as exc:
        client.user.get("ghost")
    assert exc.value.errcode == 60111
    with pytest.raises(WeChatClientException) as exc:
        client.user.get("wujiu")
    assert exc.value.errcode == 60011
    users = client.user.list(1, simple=True)
    assert {u["userid"] for u in users} >= {"zhangsan", "lisi"} and "wujiu" not in {
        u["userid"] for u in users
    }
    assert client.department.get()[0]["id"] == 1


# ---------------------------------------------------------------- crypto interop


def test_wechatpy_decrypts_what_the_sandbox_encrypted():
    cipher = WeComCipher(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    xml = "<xml><ToUserName><![CDATA[c]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，支部]]></Content><MsgId>1</MsgId><AgentID>1000002</AgentID></xml>"
    body, sig = cipher.envelope(xml, timestamp="1700000000", nonce="n1", agent_id=demo.WECOM_AGENT_ID)
    crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    assert crypto.decrypt_message(body, sig, "1700000000", "n1") == xml
    echo = cipher.encrypt("echo-123")
    assert crypto.check_signature(signature(demo.WECOM_TOKEN, "1", "2", echo), "1", "2", echo) == "echo-123"


def test_the_sandbox_decrypts_what_wechatpy_encrypted():
    crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    reply = crypto.encrypt_message("<xml><Content><![CDATA[好的]]></Content></xml>", "nonce9", "1700000001")
    cipher = WeComCipher(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    assert cipher.open_reply(reply) == "<xml><Content><![CDATA[好的]]></Content></xml>"
    tampered = reply.replace("nonce9", "nonce8")
    with pytest.raises(ValueError):
        cipher.open_reply(tampered)


# ---------------------------------------------------------------- callbacks to a bot


def test_url_verification_handshake(sandbox, stub_bot):
    assert sandbox.verify_wecom_url()["ok"] is True


def test_text_message_and_passive_reply(sandbox, stub_bot):
    result = sandbox.deliver_wecom("wangwu", "请假")
    assert result["delivered"] and result["attempts"] == 1
    msg = stub_bot.messages[0]
    assert msg.type == "text" and msg.source == "wangwu" and msg.content == "请假"
    assert result["reply"]["fields"]["Content"] == "收到：请假"
    out = sandbox.outbox(platform="wecom")
    assert out[0]["api"] == "passive_reply" and out[0]["to"] == ["wangwu"] and out[0]["text"] == "收到：请假"


def test_card_click_reaches_the_bot_and_update_button_applies(sandbox, stub_bot):
    client = wecom_client(sandbox)
    client.message.send(
        demo.WECOM_AGENT_ID, ["lisi"], msg={"msgtype": "template_card", "template_card": CARD}
    )
    result = sandbox.press_wecom_button("lisi", "rem-42-1", "done:r-42")
    event = stub_bot.messages[0]
    data = event._data
    assert data["Event"] == "template_card_event" and data["EventKey"] == "done:r-42"
    assert data["TaskId"] == "rem-42-1" and data["CardType"] == "button_interaction"
    assert data["ResponseCode"] == result["response_code"]
    assert sandbox.card("rem-42-1")["replaced_name"] == "已处理"
    # The click's ResponseCode works once with update_template_card.
    body = {"userids": ["lisi"], "agentid": int(demo.WECOM_AGENT_ID), "response_code": data["ResponseCode"],
            "button": {"replace_name": "已完成"}}  # fmt: skip
    assert client.post("message/update_template_card", data=body)["errcode"] == 0


def test_a_slow_callback_is_retried(sandbox, stub_bot):
    stub_bot.delays = [3.0]  # the first attempt answers long after the (shortened) timeout
    result = sandbox.deliver_wecom("zhaoliu", "慢一点", timeout=1.0)
    assert result["delivered"] and result["attempts"] == 2
    assert result["errors"] == ["timeout after 1s"]
    assert len(stub_bot.messages) == 2 and stub_bot.messages[0].id == stub_bot.messages[1].id  # same MsgId
    assert sandbox.counters()["wecom_callback_attempts"] == 2


def test_an_unreachable_callback_is_tried_four_times(sandbox):
    result = sandbox.deliver_wecom("zhaoliu", "有人吗", callback_url="http://127.0.0.1:9/none", timeout=0.3)
    assert result["delivered"] is False and result["attempts"] == 4
    assert sandbox.counters()["wecom_callback_failures"] == 1


def test_a_badly_signed_passive_reply_is_reported(sandbox, stub_bot):
    stub_bot.reply_override = (
        b"<xml><Encrypt><![CDATA[abcd]]></Encrypt><MsgSignature><![CDATA[forged]]></MsgSignature>"
        b"<TimeStamp>1</TimeStamp><Nonce><![CDATA[n]]></Nonce></xml>"
    )
    result = sandbox.deliver_wecom("wangwu", "你好")
    assert result["delivered"] and "signature" in result["reply"]["error"]
    assert sandbox.counters()["wecom_reply_errors"] == 1
    assert sandbox.outbox() == []  # nothing the member would see
    stub_bot.reply_override = b"success"  # WeCom's "no reply"
    assert sandbox.deliver_wecom("wangwu", "再试")["reply"] is None
