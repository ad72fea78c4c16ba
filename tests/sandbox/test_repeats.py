"""How the emulated platforms answer a repeated send (#18 item 9): DingTalk refuses a second card under an
outTrackId it holds (param.cardAlreadyExist, delivering nothing); WeCom's duplicate check answers an
identical request within its interval as a success and delivers nothing, before it would refuse an
interaction card's used task_id. Through wechatpy and plain HTTP, as the senders call them."""

from __future__ import annotations

import httpx
import pytest
from wechatpy.exceptions import WeChatClientException

from config import demo
from tests.sandbox.conftest import wecom_client
from tests.sandbox.test_limits_and_faults import ding_token


def _card(sandbox, token: str, out_track_id: str, title: str) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}/v1.0/card/instances/createAndDeliver",
        headers={"x-acs-dingtalk-access-token": token},
        json={
            "cardTemplateId": "tpl.schema",
            "outTrackId": out_track_id,
            "callbackType": "STREAM",
            "cardData": {"cardParamMap": {"title": title}},
            "openSpaceId": "dtv1.card//IM_ROBOT.wangwu",
            "imRobotOpenSpaceModel": {"supportForward": True},
            "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT"},
        },
    )


def test_dingtalk_refuses_a_second_card_under_the_same_out_track_id(sandbox):
    token = ding_token(sandbox)
    first = _card(sandbox, token, "zb-7-abc", "支部党员大会通知")
    assert first.status_code == 200 and first.json()["result"]["deliverResults"][0]["success"]
    again = _card(sandbox, token, "zb-7-abc", "支部党员大会通知（改）")
    assert again.status_code == 400
    assert again.json()["code"] == "param.cardAlreadyExist" and again.json()["requestid"]
    assert len(sandbox.outbox(platform="dingtalk")) == 1
    assert sandbox.counters()["dingtalk_cards_already_exist"] == 1
    # Another id is another card.
    assert _card(sandbox, token, "zb-8-abc", "支部党员大会通知").status_code == 200


CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "支部党员大会通知"},
    "task_id": "zb-9-abc",
    "button_list": [{"text": "参加", "style": 1, "key": "rsvp:9"}],
}


def test_wecom_suppresses_an_identical_interaction_card_and_answers_as_the_first_time(sandbox):
    client = wecom_client(sandbox)
    msg = {
        "msgtype": "template_card",
        "template_card": CARD,
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 4 * 3600,
    }
    first = client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=msg)
    again = client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=msg)
    assert again["errcode"] == 0 and again["response_code"] == first["response_code"]
    assert again["msgid"] == first["msgid"]
    assert len(sandbox.outbox(platform="wecom")) == 1
    assert sandbox.counters()["wecom_duplicates_suppressed"] == 1
    # Past the interval the check no longer applies, and the used task_id is refused.
    sandbox.move_clock(4 * 3600 + 1)
    with pytest.raises(WeChatClientException) as refused:
        client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=msg)
    assert refused.value.errcode == 40058 and "task_id" in refused.value.errmsg
    # Without the check a repeat is refused at once; another recipient is another request.
    plain = {"msgtype": "template_card", "template_card": {**CARD, "task_id": "zb-10-abc"}}
    client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=plain)
    with pytest.raises(WeChatClientException):
        client.message.send(demo.WECOM_AGENT_ID, ["wangwu"], msg=plain)
    assert len(sandbox.outbox(platform="wecom")) == 2


def test_a_held_answer_comes_after_the_call_was_taken(sandbox):
    """slow_answers: the platform takes the call at once and answers late (the window a killed sender
    dies in). Time here is real: the hold is what is measured."""
    sandbox.configure(slow_answers={"/cgi-bin/message/send": 0.5})
    client = wecom_client(sandbox)
    client.fetch_access_token()
    with httpx.Client() as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post(
                f"{sandbox.url}/cgi-bin/message/send",
                params={"access_token": client.access_token},
                json={"touser": "wangwu", "agentid": demo.WECOM_AGENT_ID, "msgtype": "text",
                      "text": {"content": "会议通知"}},
                timeout=0.2,
            )  # fmt: skip
    assert [e["to"] for e in sandbox.outbox(platform="wecom")] == [["wangwu"]]
