"""How fast the sandbox answers: what a benchmark that delivers through it can expect.

Runs the sandbox in-process (its own thread), then measures with the real clients:
  1. DingTalk batchSend calls per second (httpx, one connection, QPS limit lifted),
  2. WeCom message/send calls per second (wechatpy),
  3. Stream round trips per second: control-API push → the real dingtalk-stream client → ACK,
  4. WeCom callbacks per second: encrypt → POST to a wechatpy-based app stub → verify + decrypt its reply.
Bounded: each part runs a fixed number of calls (a few seconds in all).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import dingtalk_stream  # noqa: E402
import httpx  # noqa: E402
import pytest  # noqa: E402
from dingtalk_stream import AckMessage, ChatbotMessage  # noqa: E402

from bench.summary import emit  # noqa: E402
from config import demo  # noqa: E402
from sandbox.testing import running_sandbox  # noqa: E402
from tests.sandbox.conftest import (  # noqa: E402
    StreamClientThread,
    StubBot,
    point_dingtalk_stream_at,
    wait_connected,
    wecom_client,
)

N = 500


def rate(n: int, seconds: float, figure: str = "") -> str:
    if figure:
        emit("sandbox", "-", figure, n / seconds, "/s")
    return f"{n / seconds:8.0f}/s  ({n} in {seconds:.2f} s)"


def main() -> None:
    with running_sandbox() as sb:
        sb.configure(
            dingtalk_qps=1_000_000, wecom_per_member_per_minute=1_000_000, wecom_per_member_per_hour=1_000_000
        )

        with httpx.Client(trust_env=False) as http:
            body = {"appKey": demo.DINGTALK_CLIENT_ID, "appSecret": demo.DINGTALK_CLIENT_SECRET}
            token = http.post(f"{sb.url}/v1.0/oauth2/accessToken", json=body).json()["accessToken"]
            send = {"robotCode": demo.DINGTALK_ROBOT_CODE, "userIds": ["zhangsan", "lisi"], "msgKey": "sampleText",
                    "msgParam": json.dumps({"content": "提醒"})}  # fmt: skip
            t = time.perf_counter()
            for _ in range(N):
                http.post(f"{sb.url}/v1.0/robot/oToMessages/batchSend", json=send,
                          headers={"x-acs-dingtalk-access-token": token}).raise_for_status()  # fmt: skip
            print("DingTalk batchSend          ", rate(N, time.perf_counter() - t, "DingTalk batchSend"))

        client = wecom_client(sb)
        client.access_token  # noqa: B018
        t = time.perf_counter()
        for _ in range(N):
            client.message.send_text(demo.WECOM_AGENT_ID, ["zhangsan"], "提醒")
        print("WeCom message/send (wechatpy)", rate(N, time.perf_counter() - t, "WeCom message/send"))

        class Quiet(dingtalk_stream.ChatbotHandler):
            async def process(self, callback):
                return AckMessage.STATUS_OK, "OK"

        mp = pytest.MonkeyPatch()
        point_dingtalk_stream_at(mp, sb.url)
        stream = dingtalk_stream.DingTalkStreamClient(
            dingtalk_stream.Credential(demo.DINGTALK_CLIENT_ID, demo.DINGTALK_CLIENT_SECRET)
        )
        stream.register_callback_handler(ChatbotMessage.TOPIC, Quiet())
        runner = StreamClientThread(stream).start()
        try:
            wait_connected(sb)
            laps = []
            t = time.perf_counter()
            for i in range(N // 2):
                lap = time.perf_counter()
                assert sb.push_dingtalk_message("zhangsan", f"第{i}条")["ack"] is not None
                laps.append(time.perf_counter() - lap)
            print("Stream push → SDK → ACK     ", rate(N // 2, time.perf_counter() - t, "Stream push → SDK → ACK"),
                  f" median {statistics.median(laps) * 1000:.1f} ms")  # fmt: skip
        finally:
            runner.stop()
            mp.undo()

        bot = StubBot()
        try:
            fixture = sb.fixture()
            fixture["wecom"]["callback_url"] = bot.url
            sb.load_fixture(fixture)
            t = time.perf_counter()
            for i in range(N // 2):
                assert sb.deliver_wecom("lisi", f"第{i}条")["delivered"]
            print(
                "WeCom encrypted callback    ",
                rate(N // 2, time.perf_counter() - t, "WeCom encrypted callback"),
            )
        finally:
            bot.close()


if __name__ == "__main__":
    main()
