"""The JSON endpoints behind the chat page (no browser): group chats, images, links opened as a person."""

from __future__ import annotations

import io
import json

import dingtalk_stream
import httpx
from dingtalk_stream import AckMessage, ChatbotMessage

from config import demo
from tests.sandbox.conftest import wait_connected, wait_for, wecom_client

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 16


def chat(sb, platform, user, conversation="single"):
    params = {"platform": platform, "user": user, "conversation": conversation}
    return httpx.get(f"{sb.url}/_sandbox/chat", params=params).json()["items"]


def test_group_chat_is_shared_by_its_members(sandbox, stream_client_factory):
    received = []

    class Bot(dingtalk_stream.ChatbotHandler):
        async def process(self, callback):
            msg = ChatbotMessage.from_dict(callback.data)
            received.append(msg)
            self.reply_text("好的", msg)
            return AckMessage.STATUS_OK, "OK"

    stream_client_factory({ChatbotMessage.TOPIC: Bot()})
    wait_connected(sandbox)
    cid = sandbox.fixture()["dingtalk"]["groups"][0]["openConversationId"]
    sent = httpx.post(f"{sandbox.url}/_sandbox/chat/send",
                      json={"platform": "dingtalk", "user": "zhangsan", "conversation": cid, "text": "开会了"})  # fmt: skip
    assert sent.status_code == 200
    wait_for(lambda: received, what="group message")
    assert received[0].conversation_type == "2" and received[0].is_in_at_list
    items = wait_for(
        lambda: len(chat(sandbox, "dingtalk", "lisi", cid)) == 2 and chat(sandbox, "dingtalk", "lisi", cid)
    )
    assert items[0]["dir"] == "in" and items[0]["from_name"] == "张三" and items[0]["text"] == "开会了"
    assert items[1]["dir"] == "out" and items[1]["text"] == "好的"
    assert chat(sandbox, "dingtalk", "lisi") == []  # lisi's 1:1 chat with the bot is separate
    outsider = httpx.post(f"{sandbox.url}/_sandbox/chat/send",
                          json={"platform": "dingtalk", "user": "wujiu", "text": "你好"})  # fmt: skip
    assert outsider.status_code == 409 and "可见范围" in outsider.json()["reason"]


def test_images_uploaded_by_the_bot_are_shown(sandbox):
    client = wecom_client(sandbox)
    media_id = client.media.upload("image", ("qr.png", io.BytesIO(PNG), "image/png"))["media_id"]
    client.message.send_image(demo.WECOM_AGENT_ID, ["wangwu"], media_id)
    (item,) = chat(sandbox, "wecom", "wangwu")
    assert item["msgtype"] == "image" and item["images"] == [f"/_sandbox/media/{media_id}"]
    assert httpx.get(sandbox.url + item["images"][0]).content == PNG

    token = httpx.get(f"{sandbox.url}/gettoken", params={"appkey": demo.DINGTALK_CLIENT_ID,
                                                          "appsecret": demo.DINGTALK_CLIENT_SECRET}).json()  # fmt: skip
    upload = httpx.post(f"{sandbox.url}/media/upload", params={"access_token": token["access_token"]},
                        data={"type": "image"}, files={"media": ("chart.png", PNG, "image/png")}).json()  # fmt: skip
    ding_token = httpx.post(f"{sandbox.url}/v1.0/oauth2/accessToken", json={
        "appKey": demo.DINGTALK_CLIENT_ID, "appSecret": demo.DINGTALK_CLIENT_SECRET}).json()["accessToken"]  # fmt: skip
    httpx.post(f"{sandbox.url}/v1.0/robot/oToMessages/batchSend", headers={"x-acs-dingtalk-access-token": ding_token},
               json={"robotCode": demo.DINGTALK_ROBOT_CODE, "userIds": ["wangwu"], "msgKey": "sampleImageMsg",
                     "msgParam": json.dumps({"photoURL": upload["media_id"]})}).raise_for_status()  # fmt: skip
    (item,) = chat(sandbox, "dingtalk", "wangwu")
    assert item["images"] == [f"/_sandbox/media/{upload['media_id']}"]


def test_open_link_remembers_who_is_browsing(sandbox):
    resp = httpx.get(f"{sandbox.url}/_sandbox/open",
                     params={"platform": "wecom", "user": "zhaoliu", "url": "http://127.0.0.1:9/h5"})  # fmt: skip
    assert resp.status_code == 302 and resp.headers["location"] == "http://127.0.0.1:9/h5"
    assert resp.cookies["sandbox_wecom_user"] == "zhaoliu" and resp.cookies["sandbox_user"] == "zhaoliu"
    assert resp.cookies["sandbox_platform"] == "wecom"
    bad = httpx.get(f"{sandbox.url}/_sandbox/open", params={"url": "javascript:alert(1)"})
    assert bad.status_code == 400
