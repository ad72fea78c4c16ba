"""The unmodified dingtalk-stream 0.24.3 client against the sandbox: token, Stream connect/ACK/reconnect,
replies through the sessionWebhook, proactive sends, and a card with its button callback."""

from __future__ import annotations

import json

import dingtalk_stream
import httpx
from dingtalk_stream import AckMessage, CardReplier, ChatbotMessage

from config import demo
from tests.sandbox.conftest import wait_connected, wait_for


class EchoBot(dingtalk_stream.ChatbotHandler):
    def __init__(self):
        super().__init__()
        self.received: list[ChatbotMessage] = []

    async def process(self, callback):
        incoming = ChatbotMessage.from_dict(callback.data)
        self.received.append(incoming)
        self.reply_text(f"收到：{incoming.text.content.strip()}", incoming)
        return AckMessage.STATUS_OK, "OK"


class CardClicks(dingtalk_stream.CallbackHandler):
    def __init__(self):
        super().__init__()
        self.clicks: list[dingtalk_stream.CardCallbackMessage] = []
        self.raw: list[dict] = []

    async def process(self, callback):
        self.raw.append(callback.data)
        self.clicks.append(dingtalk_stream.CardCallbackMessage.from_dict(callback.data))
        return AckMessage.STATUS_OK, {"cardData": {"cardParamMap": {"status": "已完成"}}}


def test_sdk_fetches_a_token_and_caches_it(sandbox, stream_client_factory):
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(demo.DINGTALK_CLIENT_ID, demo.DINGTALK_CLIENT_SECRET)
    )
    token = client.get_access_token()
    assert token and client.get_access_token() == token
    assert sandbox.counters()["calls"]["POST /v1.0/oauth2/accessToken"] == 1
    wrong = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(demo.DINGTALK_CLIENT_ID, "nope"))
    assert wrong.get_access_token() is None
    # The oapi token endpoint serves the same app.
    resp = httpx.get(
        f"{sandbox.url}/gettoken", params={"appkey": demo.DINGTALK_CLIENT_ID, "appsecret": "nope"}
    )
    assert resp.status_code == 200 and resp.json()["errcode"] != 0


def test_bot_message_reaches_the_sdk_and_the_reply_reaches_the_outbox(sandbox, stream_client_factory):
    bot = EchoBot()
    stream_client_factory({ChatbotMessage.TOPIC: bot})
    conn = wait_connected(sandbox)[0]
    assert {"type": "CALLBACK", "topic": ChatbotMessage.TOPIC} in conn["subscriptions"]

    result = sandbox.push_dingtalk_message("zhangsan", "你好")
    assert result["ack"]["code"] == 200
    assert result["ack"]["data"] == {"response": "OK"}
    msg = bot.received[0]
    assert msg.sender_staff_id == "zhangsan" and msg.sender_nick == "张三"
    assert msg.conversation_type == "1" and msg.text.content == "你好"
    assert msg.robot_code == demo.DINGTALK_ROBOT_CODE
    out = sandbox.wait_for_outbox("dingtalk", where=lambda e: e["api"] == "sendBySession")
    assert out[0]["api"] == "sendBySession" and out[0]["to"] == ["zhangsan"]
    assert out[0]["text"] == "收到：你好"
    assert out[0]["raw"]["body"]["at"] == {"atUserIds": ["zhangsan"]}


def test_group_messages_need_an_at_and_keep_the_leading_space(sandbox, stream_client_factory):
    bot = EchoBot()
    stream_client_factory({ChatbotMessage.TOPIC: bot})
    wait_connected(sandbox)
    cid = sandbox.fixture()["dingtalk"]["groups"][0]["openConversationId"]
    refused = sandbox.push_dingtalk_message("lisi", "大家好", conversation=cid, at_bot=False, check=False)
    assert refused["delivered"] is False and "not_at_bot" in refused["reason"]
    sandbox.push_dingtalk_message("lisi", "本月学习安排", conversation=cid)
    msg = bot.received[0]
    assert msg.conversation_type == "2" and msg.conversation_id == cid
    assert msg.text.content == " 本月学习安排"
    out = wait_for(lambda: sandbox.outbox(platform="dingtalk"), what="group reply")
    assert out[0]["conversation"] == cid and "lisi" in out[0]["to"]


def test_missing_ack_is_recorded_as_null(sandbox, stream_client_factory):
    class Raises(dingtalk_stream.ChatbotHandler):
        async def process(self, callback):
            raise RuntimeError("handler bug")

    stream_client_factory({ChatbotMessage.TOPIC: Raises()})
    wait_connected(sandbox)
    result = sandbox.push_dingtalk_message("wangwu", "在吗", wait=0.5)
    assert result["delivered"] is True and result["ack"] is None
    assert sandbox.counters()["stream_missing_acks"] == 1
    assert sandbox.inbound()[0]["ack"] is None


def test_ping_is_acked_with_the_opaque_echoed(sandbox, stream_client_factory):
    stream_client_factory({ChatbotMessage.TOPIC: EchoBot()})
    wait_connected(sandbox)
    result = sandbox.system("ping", opaque="opaque-123")
    assert result["ack"]["code"] == 200 and result["ack"]["data"] == {"opaque": "opaque-123"}


def test_reconnects_after_a_disconnect_frame(sandbox, stream_client_factory):
    bot = EchoBot()
    stream_client_factory({ChatbotMessage.TOPIC: bot})
    first = wait_connected(sandbox)[0]["connectionId"]
    ack = sandbox.system("disconnect")["ack"]
    assert ack["data"] == {"reason": "connection is expired"}

    def reconnected():
        conns = sandbox.connections()
        return conns["open"] and conns["open"][0]["connectionId"] != first and conns

    conns = wait_for(reconnected, what="reconnect after disconnect")
    closes = [e for e in conns["log"] if e["event"] == "close" and e["connectionId"] == first]
    assert closes[0]["code"] == 1000  # the SDK closes cleanly after ACKing disconnect
    sandbox.push_dingtalk_message("zhangsan", "还在吗")
    assert bot.received[-1].text.content == "还在吗"


def test_reconnects_after_an_abnormal_close(sandbox, stream_client_factory):
    bot = EchoBot()
    stream_client_factory({ChatbotMessage.TOPIC: bot})
    first = wait_connected(sandbox)[0]["connectionId"]
    dropped = sandbox.drop_stream()
    assert dropped["dropped"] == [first] and dropped["code"] == 1011
    wait_for(
        lambda: any(c["connectionId"] != first for c in sandbox.connections()["open"]),
        what="reconnect after 1011",
    )
    sandbox.push_dingtalk_message("zhaoliu", "重连后")
    assert bot.received[-1].text.content == "重连后"


def test_a_ticket_is_single_use(sandbox):
    body = {
        "clientId": demo.DINGTALK_CLIENT_ID,
        "clientSecret": demo.DINGTALK_CLIENT_SECRET,
        "subscriptions": [{"type": "CALLBACK", "topic": ChatbotMessage.TOPIC}],
    }
    opened = httpx.post(f"{sandbox.url}/v1.0/gateway/connections/open", json=body).json()
    assert opened["endpoint"] == sandbox.url.replace("http://", "ws://") + "/connect"
    import websockets.sync.client as ws_client
    from websockets.exceptions import InvalidStatus

    with ws_client.connect(f"{opened['endpoint']}?ticket={opened['ticket']}"):
        pass
    try:
        ws_client.connect(f"{opened['endpoint']}?ticket={opened['ticket']}")
    except InvalidStatus as exc:
        assert exc.response.status_code == 401
    else:
        raise AssertionError("a used ticket was accepted")
    bad = httpx.post(f"{sandbox.url}/v1.0/gateway/connections/open", json={**body, "clientSecret": "x"})
    assert bad.status_code == 401


def test_events_are_repushed_until_acked(sandbox, stream_client_factory):
    seen: list[str] = []

    class FlakyEvents(dingtalk_stream.EventHandler):
        async def process(self, event):
            seen.append(event.headers.message_id)
            if len(seen) == 1:
                raise RuntimeError("first delivery fails: no ACK")
            return AckMessage.STATUS_OK, "OK"

    stream_client_factory({ChatbotMessage.TOPIC: EchoBot()}, event_handler=FlakyEvents())
    wait_connected(sandbox)
    result = sandbox.push_event("user_add_org", {"userId": ["lisi"]}, wait=1.0)
    assert result["attempts"] == 2 and result["ack"]["code"] == 200
    assert len(seen) == 2 and seen[0] == seen[1]  # the same messageId, re-pushed
    assert sandbox.counters()["event_repushes"] == 1


def test_card_push_and_button_callback(sandbox, stream_client_factory):
    clicks = CardClicks()
    runner = stream_client_factory(
        {ChatbotMessage.TOPIC: EchoBot(), dingtalk_stream.Card_Callback_Router_Topic: clicks}
    )
    wait_connected(sandbox)
    incoming = dingtalk_stream.chatbot.reply_specified_single_chat("lisi", "李四")
    buttons = [{"text": "已完成", "actionId": "done", "params": {"action": "done", "reminder": "r-42"}}]
    card_id = CardReplier(runner.client, incoming).create_and_send_card(
        "sandbox.standard",
        {"title": "交党费提醒", "markdown": "本月党费请于 **15 日** 前交纳", "buttons": json.dumps(buttons)},
    )
    assert card_id
    out = sandbox.outbox(platform="dingtalk")
    assert out[-1]["api"] == "card/deliver" and out[-1]["to"] == ["lisi"] and out[-1]["card_id"] == card_id
    assert out[-1]["title"] == "交党费提醒" and out[-1]["buttons"][0]["action_id"] == "done"

    result = sandbox.push_card_action(
        card_id, "lisi", {"action": "done", "reminder": "r-42"}, action_id="done"
    )
    assert result["ack"]["code"] == 200
    click = clicks.clicks[0]
    assert (
        click.card_instance_id == card_id
        and click.user_id == "lisi"
        and click.corp_id == demo.DINGTALK_CORP_ID
    )
    assert click.content == {
        "cardPrivateData": {"actionIds": ["done"], "params": {"action": "done", "reminder": "r-42"}}
    }
    assert clicks.raw[0]["spaceType"] == "im" and json.loads(clicks.raw[0]["value"]) == click.content
    # The ACK's cardData updated the card in place.
    assert sandbox.card(card_id)["params"]["status"] == "已完成"


def test_create_and_deliver_in_a_group_and_put_card_data(sandbox, stream_client_factory):
    runner = stream_client_factory({ChatbotMessage.TOPIC: EchoBot()})
    wait_connected(sandbox)
    cid = sandbox.fixture()["dingtalk"]["groups"][0]["openConversationId"]
    replier = CardReplier(runner.client, dingtalk_stream.chatbot.reply_specified_group_chat(cid))
    card_id = replier.create_and_deliver_card("sandbox.standard", {"title": "支部大会通知"})
    out = sandbox.outbox(platform="dingtalk")[-1]
    assert out["api"] == "card/createAndDeliver" and out["conversation"] == cid
    replier.put_card_data(card_id, {"title": "支部大会通知（已改期）"})
    assert sandbox.card(card_id)["params"]["title"] == "支部大会通知（已改期）"
    assert sandbox.outbox(platform="dingtalk")[-1]["api"] == "card/update"


def test_an_event_answered_later_is_pushed_again(sandbox, stream_client_factory):
    answers = iter([{"status": "LATER"}, {"status": "SUCCESS"}])

    class Later(dingtalk_stream.EventHandler):
        async def raw_process(self, event_message):
            ack = await super().raw_process(event_message)
            ack.data = next(answers)  # the documented {"status": …} ACK shape
            return ack

        async def process(self, event):
            return AckMessage.STATUS_OK, "OK"

    stream_client_factory({ChatbotMessage.TOPIC: EchoBot()}, event_handler=Later())
    wait_connected(sandbox)
    result = sandbox.push_event("chat_update_title", {"chatId": "c1"}, wait=2)
    assert result["attempts"] == 2 and result["ack"]["data"] == {"status": "SUCCESS"}


def test_a_malformed_card_ack_does_not_break_the_connection(sandbox, stream_client_factory):
    class OddAck(dingtalk_stream.CallbackHandler):
        async def process(self, callback):
            return AckMessage.STATUS_OK, {"cardData": "not an object", "privateData": ["nor", "this"]}

    bot = EchoBot()
    runner = stream_client_factory(
        {ChatbotMessage.TOPIC: bot, dingtalk_stream.Card_Callback_Router_Topic: OddAck()}
    )
    wait_connected(sandbox)
    incoming = dingtalk_stream.chatbot.reply_specified_single_chat("wangwu", "王五")
    card_id = CardReplier(runner.client, incoming).create_and_send_card("t", {"title": "通知"})
    assert sandbox.push_card_action(card_id, "wangwu")["ack"]["code"] == 200
    assert sandbox.card(card_id)["params"] == {"title": "通知"}
    sandbox.push_dingtalk_message("wangwu", "还连着吗")
    assert bot.received[-1].text.content == "还连着吗"
