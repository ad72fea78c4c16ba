"""WeCom callback ingest benchmark: encrypted text messages per second through /wecom/callback.

32 concurrent clients POST WeCom-encrypted, signed "我的" messages (10% of them repeated, as WeCom's
retries would be) to the bot's real callback route; each is verified, decrypted, deduplicated and
dispatched (one transaction: inbound row, lookup of the member and roles, a reply in the outbox).

    .venv/bin/python bench/ingest.py                        # SQLite
    .venv/bin/python bench/ingest.py --database postgresql  # PostgreSQL at 127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from wechatpy.enterprise import WeChatCrypto  # noqa: E402

from bench.relay import scratch_database, seed_people  # noqa: E402
from bench.summary import emit  # noqa: E402
from bot.cli.serve import Service, demo_settings  # noqa: E402
from config import demo  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.inbox import InboundEvent  # noqa: E402
from models.org import Platform  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402


def build_requests(user_ids: list[str], n: int, duplicate_share: float) -> list[tuple[dict, bytes]]:
    crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    rng = random.Random(7)
    unique = int(n * (1 - duplicate_share))
    # Signed now: the callback refuses a timestamp outside its five-minute replay window.
    now = int(time.time())
    bodies = []
    for i in range(unique):
        user = rng.choice(user_ids)
        xml = (
            f"<xml><ToUserName><![CDATA[{demo.WECOM_CORP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的]]></Content>"
            f"<MsgId>{7000000000000000 + i}</MsgId><AgentID>{demo.WECOM_AGENT_ID}</AgentID></xml>"
        )
        nonce, timestamp = f"n{i}", str(now)
        encrypted = crypto.encrypt_message(xml, nonce, timestamp)
        signature = encrypted.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
        bodies.append(
            ({"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, encrypted.encode())
        )
    requests = bodies + [rng.choice(bodies) for _ in range(n - unique)]
    rng.shuffle(requests)
    return requests


async def fire(url: str, requests: list, clients: int) -> tuple[float, list[float], int]:
    queue: asyncio.Queue = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            while not queue.empty():
                params, body = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(url, params=params, content=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, errors


def run(kind: str, n: int, clients: int) -> dict:
    with scratch_database(kind) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        session_factory = make_sessionmaker(engine)
        ids = seed_people(session_factory, 500, Platform.WECOM)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        port = sock.getsockname()[1]
        settings = demo_settings(url, "http://127.0.0.1:9", f"http://127.0.0.1:{port}")
        settings = settings.model_copy(update={"dingtalk": type(settings.dingtalk)()})
        service = Service(settings, session_factory, {"web"}, port=port)
        service.start_web_thread(sock)
        requests = build_requests([f"u{pid}" for pid in ids], n, 0.1)
        # Warm up the route, the threadpool and the connection pool.
        asyncio.run(fire(f"http://127.0.0.1:{port}/wecom/callback", requests[:50], 8))
        elapsed, latencies, errors = asyncio.run(
            fire(f"http://127.0.0.1:{port}/wecom/callback", requests, clients)
        )
        service.stop()
        sock.close()
        with session_factory() as s:
            events = s.scalar(select(func.count()).select_from(InboundEvent))
            replies = s.scalar(select(func.count()).select_from(OutboxMessage))
        engine.dispose()
    latencies.sort()
    return {
        "database": kind,
        "requests": n,
        "per_second": n / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "events": events,
        "replies": replies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"WeCom callback ingest: {args.requests} encrypted messages (10% repeats), {args.clients} clients")
    for kind in kinds:
        r = run(kind, args.requests, args.clients)
        print(
            f"  {r['database']:<10} {r['per_second']:7.1f} msg/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
            f"  errors={r['errors']}  handled once={r['events']} (unique incl. warm-up)  replies queued={r['replies']}"
        )
        emit("ingest", r["database"], f"WeCom callback msg/s, {args.clients} clients (p99 {r['p99_ms']:.0f} ms)",
             r["per_second"], "msg/s", goal="≥ 0.5× a bare decrypt-and-insert endpoint (no floor yet)")  # fmt: skip


if __name__ == "__main__":
    main()
