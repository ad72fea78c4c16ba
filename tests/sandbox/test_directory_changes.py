"""/_sandbox/directory/change: a member leaves, comes back or changes, and the corp tells the app in its
own wire format (a contact EVENT over the Stream, an encrypted change_contact callback), read here by the
unmodified SDKs; the directory itself changes too (sends to a member who left are refused)."""

from __future__ import annotations

import dingtalk_stream
import pytest
from dingtalk_stream import AckMessage, ChatbotMessage
from wechatpy.exceptions import WeChatClientException
from wechatpy.messages import UnknownMessage

from config import demo
from sandbox.testing import SandboxError
from tests.sandbox.conftest import wait_connected, wecom_client
from tests.sandbox.test_dingtalk_stream import EchoBot


def test_dingtalk_leave_and_join_push_contact_events(sandbox, stream_client_factory):
    seen = []

    class Events(dingtalk_stream.EventHandler):
        async def process(self, event):
            seen.append(
                (event.headers.event_type, event.headers.event_id, event.headers.event_corp_id, event.data)
            )
            return AckMessage.STATUS_OK, "OK"

    stream_client_factory({ChatbotMessage.TOPIC: EchoBot()}, event_handler=Events())
    wait_connected(sandbox)
    left = sandbox.change_directory("dingtalk", "leave", "lisi", repeat=2)
    assert left["delivered"] and left["deliveries"] == 2 and all(a["code"] == 200 for a in left["acks"])
    (kind, event_id, corp, data), again = seen
    assert kind == "user_leave_org" and corp == demo.DINGTALK_CORP_ID
    assert data["userId"] == ["lisi"] and int(data["timeStamp"]) > 0
    assert again[:2] == (kind, event_id)  # the same event, delivered twice
    assert "lisi" not in [u["userid"] for u in sandbox.fixture()["dingtalk"]["users"]]

    sandbox.change_directory("dingtalk", "join", "lisi")
    assert seen[-1][0] == "user_add_org" and seen[-1][3]["userId"] == ["lisi"]
    sandbox.change_directory("dingtalk", "update", "lisi", name="李四（新）")
    kind, _, _, data = seen[-1]
    assert kind == "user_modify_org" and data["diffInfo"]["userid"] == "lisi"
    assert data["diffInfo"]["prev"]["name"] == "李四" and data["diffInfo"]["curr"]["name"] == "李四（新）"


def test_wecom_changes_reach_the_app_encrypted_and_change_the_directory(sandbox, stub_bot):
    client = wecom_client(sandbox)

    def send(userid):
        return client.message.send(
            demo.WECOM_AGENT_ID, [userid], msg={"msgtype": "text", "text": {"content": "hi"}}
        )

    assert not send("lisi").get("invaliduser")  # found before the change: the change must be seen
    result = sandbox.change_directory("wecom", "leave", "lisi")
    assert result["delivered"] and result["status"] == 200
    msg = stub_bot.messages[-1]
    assert isinstance(msg, UnknownMessage)  # wechatpy 1.8.18 has no class for change_contact
    data = msg._data
    assert (data["Event"], data["ChangeType"], data["UserID"], data["FromUserName"]) == (
        "change_contact",
        "delete_user",
        "lisi",
        "sys",
    )
    with pytest.raises(WeChatClientException) as refused:  # no longer in the directory
        send("lisi")
    assert refused.value.errcode == 81013

    sandbox.change_directory("wecom", "join", "lisi")
    assert stub_bot.messages[-1]._data["ChangeType"] == "create_user"
    assert not send("lisi").get("invaliduser")
    sandbox.change_directory("wecom", "update", "lisi", new_userid="lisi2", mobile="13900000001")
    data = stub_bot.messages[-1]._data
    assert (data["ChangeType"], data["UserID"], data["NewUserID"], data["Mobile"]) == (
        "update_user",
        "lisi",
        "lisi2",
        "13900000001",
    )
    assert not send("lisi2").get("invaliduser")
    with pytest.raises(WeChatClientException) as renamed:  # the old userid is nobody now
        send("lisi")
    assert renamed.value.errcode == 81013

    twice = sandbox.change_directory("wecom", "leave", "lisi2", repeat=2)
    assert twice["deliveries"] == 2 and len(stub_bot.messages) == 5
    assert stub_bot.messages[-1]._data == stub_bot.messages[-2]._data  # the same event twice


def test_bad_directory_changes_are_refused_with_a_reason(sandbox):
    cases = [
        ({"platform": "slack", "change": "leave", "userid": "lisi"}, 400, "platform"),
        ({"platform": "wecom", "change": "fire", "userid": "lisi"}, 400, "change must be"),
        ({"platform": "wecom", "change": "leave", "userid": "nobody"}, 404, "not in the wecom directory"),
        ({"platform": "wecom", "change": "join", "userid": "lisi"}, 409, "already"),
        ({"platform": "wecom", "change": "join", "userid": "newbie"}, 404, "give a name"),
        ({"platform": "dingtalk", "change": "update", "userid": "lisi", "new_userid": "x"}, 400, "DingTalk"),
        ({"platform": "wecom", "change": "update", "userid": "lisi", "new_userid": "wangwu"}, 409, "taken"),
        ({"platform": "wecom", "change": "leave", "userid": "lisi", "repeat": 9}, 400, "repeat"),
    ]
    for body, status, reason in cases:
        try:
            sandbox._call("POST", "/_sandbox/directory/change", json=body)
        except SandboxError as exc:
            assert exc.status == status and reason in exc.body["error"], body
        else:
            raise AssertionError(f"accepted: {body}")
    # Refusals changed nothing.
    assert "lisi" in [u["userid"] for u in sandbox.fixture()["wecom"]["users"]]


def test_a_member_who_left_is_not_found_by_phone_until_back(sandbox, stub_bot):
    fixture = sandbox.fixture()
    fixture["wecom"]["users"][1]["mobile"] = "13900000002"  # lisi
    sandbox.load_fixture(fixture)
    client = wecom_client(sandbox)
    assert client.post("user/getuserid", data={"mobile": "13900000002"})["userid"] == "lisi"
    sandbox.change_directory("wecom", "leave", "lisi")
    with pytest.raises(WeChatClientException):
        client.post("user/getuserid", data={"mobile": "13900000002"})
    sandbox.change_directory("wecom", "join", "lisi")
    assert client.post("user/getuserid", data={"mobile": "13900000002"})["userid"] == "lisi"
