"""Realism: token and code expiry on the sandbox's movable clock, rate limits, injected faults, and how each API
reports bad input, unknown users and users outside the app's visible range."""

from __future__ import annotations

import json

import dingtalk_stream
import httpx
import pytest
from dingtalk_stream import AckMessage, ChatbotMessage
from wechatpy.exceptions import APILimitedException, WeChatClientException

from config import demo
from sandbox.testing import SandboxError
from tests.sandbox.conftest import wait_connected, wecom_client

BATCH = "/v1.0/robot/oToMessages/batchSend"


def ding_token(sb) -> str:
    body = {"appKey": demo.DINGTALK_CLIENT_ID, "appSecret": demo.DINGTALK_CLIENT_SECRET}
    return httpx.post(f"{sb.url}/v1.0/oauth2/accessToken", json=body).json()["accessToken"]


def oapi_token(sb) -> str:
    params = {"appkey": demo.DINGTALK_CLIENT_ID, "appsecret": demo.DINGTALK_CLIENT_SECRET}
    return httpx.get(f"{sb.url}/gettoken", params=params).json()["access_token"]


def batch_send(sb, token: str | None, user_ids, text="提醒", **extra) -> httpx.Response:
    body = {"robotCode": demo.DINGTALK_ROBOT_CODE, "userIds": user_ids, "msgKey": "sampleText",
            "msgParam": json.dumps({"content": text}), **extra}  # fmt: skip
    headers = {"x-acs-dingtalk-access-token": token} if token else {}
    return httpx.post(sb.url + BATCH, json=body, headers=headers)


# ---------------------------------------------------------------- DingTalk


def test_batch_send_validates_and_reports_unknown_users(sandbox):
    token = ding_token(sandbox)
    resp = batch_send(sandbox, token, ["zhangsan", "ghost", "wujiu"])
    assert resp.status_code == 200
    assert sorted(resp.json()["invalidStaffIdList"]) == ["ghost", "wujiu"] and resp.json()["processQueryKey"]
    out = sandbox.outbox(platform="dingtalk")[0]
    assert (
        out["to"] == ["zhangsan"] and out["text"] == "提醒" and out["raw"]["body"]["msgKey"] == "sampleText"
    )

    too_many = batch_send(sandbox, token, [f"u{i}" for i in range(21)])
    assert too_many.status_code == 400 and set(too_many.json()) == {"code", "message", "requestid"}
    not_a_string = batch_send(sandbox, token, ["zhangsan"], msgParam={"content": "x"})
    assert not_a_string.status_code == 400 and "msgParam" in not_a_string.json()["message"]
    missing = batch_send(sandbox, None, ["zhangsan"])
    assert missing.status_code == 401 and missing.json()["code"] == "InvalidAuthentication"
    assert batch_send(sandbox, "forged", ["zhangsan"]).status_code == 401


def test_group_message_size_limit(sandbox):
    token = ding_token(sandbox)
    cid = sandbox.fixture()["dingtalk"]["groups"][0]["openConversationId"]
    headers = {"x-acs-dingtalk-access-token": token}
    body = {"robotCode": demo.DINGTALK_ROBOT_CODE, "openConversationId": cid, "msgKey": "sampleMarkdown",
            "msgParam": json.dumps({"title": "t", "text": "字" * 5001}, ensure_ascii=False)}  # fmt: skip
    resp = httpx.post(f"{sandbox.url}/v1.0/robot/groupMessages/send", json=body, headers=headers)
    assert resp.status_code == 400 and "15000" in resp.json()["message"]
    body["msgParam"] = json.dumps({"title": "会议", "text": "![二维码](http://127.0.0.1:8000/qr.png)"})
    assert (
        httpx.post(f"{sandbox.url}/v1.0/robot/groupMessages/send", json=body, headers=headers).status_code
        == 200
    )
    out = sandbox.outbox()[0]
    assert out["conversation"] == cid and out["images"] == ["http://127.0.0.1:8000/qr.png"]


def test_tokens_expire_with_the_clock(sandbox, stream_client_factory):
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(demo.DINGTALK_CLIENT_ID, demo.DINGTALK_CLIENT_SECRET)
    )
    token = client.get_access_token()
    assert batch_send(sandbox, token, ["lisi"]).status_code == 200
    sandbox.move_clock(7201)
    expired = batch_send(sandbox, token, ["lisi"])
    assert expired.status_code == 401 and expired.json()["code"] == "InvalidAuthentication"
    assert batch_send(sandbox, ding_token(sandbox), ["lisi"]).status_code == 200
    otoken = oapi_token(sandbox)
    sandbox.move_clock(7201)
    resp = httpx.post(
        f"{sandbox.url}/topapi/v2/user/get", params={"access_token": otoken}, json={"userid": "lisi"}
    )
    assert resp.status_code == 200 and resp.json()["errcode"] == 42001


def test_session_webhook_expires(sandbox, stream_client_factory):
    class Quiet(dingtalk_stream.ChatbotHandler):
        async def process(self, callback):
            return AckMessage.STATUS_OK, "OK"

    stream_client_factory({ChatbotMessage.TOPIC: Quiet()})
    wait_connected(sandbox)
    hook = sandbox.push_dingtalk_message("zhangsan", "hi")["session_webhook"]
    assert httpx.post(hook, json={"msgtype": "text", "text": {"content": "在"}}).json()["errcode"] == 0
    sandbox.move_clock(91 * 60)
    late = httpx.post(hook, json={"msgtype": "text", "text": {"content": "迟到"}})
    assert late.status_code == 200 and late.json()["errcode"] != 0
    assert len(sandbox.outbox()) == 1


def test_dingtalk_qps_limit_per_api(sandbox):
    token = ding_token(sandbox)
    sandbox.configure(dingtalk_qps_per_api={BATCH: 2})
    statuses = [batch_send(sandbox, token, ["lisi"]).status_code for _ in range(3)]
    assert statuses == [200, 200, 403]
    limited = batch_send(sandbox, token, ["lisi"])
    assert limited.json()["code"] == "Forbidden.AccessDenied.QpsLimitForApi"
    counters = sandbox.counters()
    assert counters["rate_limited"][BATCH] == 2 and counters["rate_limited_total"] == 2
    assert counters["calls"][f"POST {BATCH}"] == 4
    sandbox.move_clock(1.5)
    assert batch_send(sandbox, token, ["lisi"]).status_code == 200
    # oapi answers the same limit in its own shape: HTTP 200 with an errcode.
    sandbox.configure(dingtalk_qps_per_api={"/topapi/v2/user/get": 1})
    otoken = oapi_token(sandbox)
    answers = [
        httpx.post(
            f"{sandbox.url}/topapi/v2/user/get", params={"access_token": otoken}, json={"userid": "lisi"}
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["errcode"] for a in answers] == [0, 90002]


def test_h5_auth_codes_are_single_use_and_expire(sandbox):
    token = oapi_token(sandbox)
    url = f"{sandbox.url}/topapi/v2/user/getuserinfo"
    code = sandbox.dingtalk_authcode("wangwu")
    first = httpx.post(url, params={"access_token": token}, data={"code": code}).json()  # form body
    assert (
        first["errcode"] == 0 and first["result"]["userid"] == "wangwu" and first["result"]["name"] == "王五"
    )
    again = httpx.post(url, params={"access_token": token}, json={"code": code}).json()
    assert again["errcode"] != 0
    code = sandbox.dingtalk_authcode("wangwu")
    sandbox.move_clock(301)
    token = oapi_token(sandbox)
    assert httpx.post(url, params={"access_token": token}, json={"code": code}).json()["errcode"] != 0
    with pytest.raises(SandboxError) as exc:
        sandbox.dingtalk_authcode("wujiu")  # outside the app's visible range: the JSAPI fails
    assert exc.value.status == 403


def test_dd_shim_is_served_with_the_current_user(sandbox):
    resp = httpx.get(f"{sandbox.url}/_sandbox/dd-shim.js", cookies={"sandbox_dingtalk_user": "lisi"})
    assert resp.status_code == 200 and "javascript" in resp.headers["content-type"]
    assert '"user": "lisi"' in resp.text and "requestAuthCode" in resp.text


def test_work_notice_once_a_day_for_identical_content(sandbox):
    token = oapi_token(sandbox)
    url = f"{sandbox.url}/topapi/message/corpconversation/asyncsend_v2"
    body = {"agent_id": demo.DINGTALK_AGENT_ID, "userid_list": "zhangsan,lisi,ghost",
            "msg": {"msgtype": "text", "text": {"content": "本月主题党日"}}}  # fmt: skip
    first = httpx.post(url, params={"access_token": token}, json=body).json()
    second = httpx.post(
        url, params={"access_token": token}, json={**body, "userid_list": "lisi,wangwu"}
    ).json()
    assert first["errcode"] == 0 and second["errcode"] == 0  # the API "succeeds" either way
    result_url = f"{sandbox.url}/topapi/message/corpconversation/getsendresult"
    r1 = httpx.post(result_url, params={"access_token": token}, json={"agent_id": demo.DINGTALK_AGENT_ID,
                                                                      "task_id": first["task_id"]}).json()  # fmt: skip
    r2 = httpx.post(result_url, params={"access_token": token}, json={"agent_id": demo.DINGTALK_AGENT_ID,
                                                                      "task_id": second["task_id"]}).json()  # fmt: skip
    assert r1["send_result"]["invalid_user_id_list"] == ["ghost"]
    assert r2["send_result"]["forbidden_user_id_list"] == ["lisi"]
    assert [o["to"] for o in sandbox.outbox()] == [["zhangsan", "lisi"], ["wangwu"]]
    sandbox.move_clock(24 * 3600)
    token = oapi_token(sandbox)
    third = httpx.post(url, params={"access_token": token}, json={**body, "userid_list": "lisi"}).json()
    assert third["errcode"] == 0 and sandbox.outbox()[-1]["to"] == ["lisi"]


# ---------------------------------------------------------------- WeCom


def test_wecom_per_member_limits_drop_silently_but_count(sandbox):
    client = wecom_client(sandbox)
    sandbox.configure(wecom_per_member_per_minute=2, wecom_per_member_per_hour=3)
    for i in range(3):
        res = client.message.send_text(
            demo.WECOM_AGENT_ID, ["zhaoliu", "sunqi"] if i == 2 else ["zhaoliu"], f"第{i}条"
        )
        assert res["errcode"] == 0
    out = sandbox.outbox(platform="wecom")
    assert out[2]["to"] == ["sunqi"] and out[2]["dropped"] == ["zhaoliu"]
    sandbox.move_clock(61)
    client.message.send_text(demo.WECOM_AGENT_ID, ["zhaoliu"], "第四条")  # minute is fresh: 3rd this hour
    client.message.send_text(demo.WECOM_AGENT_ID, ["zhaoliu"], "第五条")  # over the hourly limit
    out = sandbox.outbox(platform="wecom")
    assert out[3]["to"] == ["zhaoliu"] and out[4]["to"] == [] and out[4]["dropped"] == ["zhaoliu"]
    counters = sandbox.counters()
    assert counters["wecom_dropped"] == {"zhaoliu": 2} and counters["wecom_dropped_total"] == 2


def test_token_expired_fault_fires_n_times_then_stops(sandbox):
    client = wecom_client(sandbox)
    client.access_token  # noqa: B018
    sandbox.fault("/cgi-bin/message/send", errcode=42001, times=2)
    assert (
        client.message.send_text(demo.WECOM_AGENT_ID, ["lisi"], "x")["errcode"] == 0
    )  # wechatpy refetches twice
    counters = sandbox.counters()
    assert (
        counters["calls"]["GET /cgi-bin/gettoken"] == 3
        and counters["faults_fired"]["/cgi-bin/message/send"] == 2
    )
    assert sandbox._call("GET", "/_sandbox/faults") == []


def test_rate_limit_and_http_faults(sandbox):
    client = wecom_client(sandbox)
    sandbox.fault("/cgi-bin/message/send", errcode=45009, times=1)
    with pytest.raises(APILimitedException):
        client.message.send_text(demo.WECOM_AGENT_ID, ["lisi"], "x")
    sandbox.fault("/cgi-bin/message/send", http=503, times=1)
    with pytest.raises(WeChatClientException):
        client.message.send_text(demo.WECOM_AGENT_ID, ["lisi"], "x")
    assert client.message.send_text(demo.WECOM_AGENT_ID, ["lisi"], "x")["errcode"] == 0
    token = ding_token(sandbox)
    sandbox.fault(BATCH, errcode=90002, times=1)
    limited = batch_send(sandbox, token, ["lisi"])
    assert limited.status_code == 403 and "90002" in limited.json()["message"]
    sandbox.fault("/topapi/v2/user/get", errcode=90002, times=1)
    otoken = oapi_token(sandbox)
    resp = httpx.post(
        f"{sandbox.url}/topapi/v2/user/get", params={"access_token": otoken}, json={"userid": "lisi"}
    )
    assert resp.status_code == 200 and resp.json()["errcode"] == 90002
    assert httpx.post(f"{sandbox.url}/topapi/v2/user/get", params={"access_token": otoken},
                      json={"userid": "lisi"}).json()["result"]["name"] == "李四"  # fmt: skip


def test_timeout_fault(sandbox):
    token = ding_token(sandbox)
    sandbox.fault(BATCH, delay=1.0, times=1)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(sandbox.url + BATCH, json={}, headers={"x-acs-dingtalk-access-token": token}, timeout=0.2)
    assert batch_send(sandbox, token, ["lisi"]).status_code == 200


def test_faults_are_always_finite(sandbox):
    for bad in (
        {"path": BATCH, "http": 500},
        {"path": BATCH, "http": 500, "times": 0},
        {"path": BATCH, "times": 1},
    ):
        with pytest.raises(SandboxError) as exc:
            sandbox._call("POST", "/_sandbox/faults", json=bad)
        assert exc.value.status == 400


def test_wait_for_outbox_times_out_with_what_it_saw(sandbox):
    with pytest.raises(TimeoutError, match="found 0"):
        sandbox.wait_for_outbox("wecom", timeout=0.1)


def test_reset_forgets_observations(sandbox):
    token = ding_token(sandbox)
    batch_send(sandbox, token, ["lisi"])
    sandbox.move_clock(100)
    sandbox.reset()
    assert sandbox.outbox() == [] and sandbox.counters()["calls"] == {}
    assert batch_send(sandbox, token, ["lisi"]).status_code == 200  # issued tokens survive a reset


def test_fixture_replacement(sandbox):
    fixture = sandbox.fixture()
    fixture["dingtalk"]["users"].append({"userid": "newbie", "name": "新党员", "role": "预备党员"})
    sandbox.load_fixture(fixture)
    token = ding_token(sandbox)
    assert batch_send(sandbox, token, ["newbie"]).json()["invalidStaffIdList"] == []
    with pytest.raises(SandboxError) as exc:
        sandbox.load_fixture({"wecom": {"corp_id": "x"}})
    assert exc.value.status == 422


def test_control_api_refuses_bad_input_with_a_reason(sandbox):
    bad = [
        ("/_sandbox/dingtalk/push", {"kind": "bot_message", "from": "zhangsan", "text": "x", "wait": "soon"}),
        ("/_sandbox/dingtalk/push", {"kind": "nope"}),
        ("/_sandbox/dingtalk/drop", {"code": 99}),
        (
            "/_sandbox/wecom/deliver",
            {"user": "lisi", "text": "x", "callback_url": "http://127.0.0.1:9/", "retries": -1},
        ),
        ("/_sandbox/wecom/deliver", {"user": "ghost", "text": "x"}),
        ("/_sandbox/config", {"dingtalk_qps_per_api": {"/x": "fast"}}),
        ("/_sandbox/config", {"no_such_setting": 1}),
        ("/_sandbox/clock", {"advance": -5}),
    ]
    before = sandbox.counters()
    for path, body in bad:
        resp = httpx.post(sandbox.url + path, json=body)
        assert resp.status_code == 400, (path, body, resp.text)
        assert resp.json()["error"]
    assert sandbox.counters() == before and sandbox.inbound() == []
