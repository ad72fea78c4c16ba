"""WeCom callback ingest benchmark: encrypted text messages per second through /wecom/callback, beside its floor.

Concurrent clients POST WeCom-encrypted, signed "我的" messages (10% of them repeated, as WeCom's
retries would be) to the bot's real callback route; each is verified, decrypted, deduplicated and
handled (the inbound row, the member and roles looked up, a reply queued in the outbox).

The floor is a bare endpoint in the same server process (the same app, middleware, uvicorn server
and session factory) that takes the same envelopes, decrypts each with the same wechatpy
WeChatCrypto (which checks the signature) and inserts one row into a bare table, nothing else. Both
run in one invocation, at 1 client and at --clients, bare first; the ratio callback/bare is the
figure to watch (the machine is shared, so absolute rates move from run to run), with the server
process's CPU per message beside it. The server runs in its own process so the clients' event loop
does not share its GIL, and the clients are a few lines of HTTP/1.1 on asyncio (bench/loadgen.py).

    .venv/bin/python bench/ingest.py                        # SQLite
    .venv/bin/python bench/ingest.py --database postgresql  # PostgreSQL at 127.0.0.1:5432/test
    .venv/bin/python bench/ingest.py --database both
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import httpx  # noqa: E402
from fastapi import Request  # noqa: E402 - at module level: the bare route's annotation names it
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select  # noqa: E402
from wechatpy.enterprise import WeChatCrypto  # noqa: E402

from bench.loadgen import Post, fire, pct, server_cpu  # noqa: E402
from bench.relay import scratch_database, seed_people  # noqa: E402
from bench.summary import emit  # noqa: E402
from config import demo  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.inbox import InboundEvent  # noqa: E402
from models.org import Platform  # noqa: E402
from models.outbox import OutboxMessage  # noqa: E402

GOAL = 0.5  # issue 22, item 5: the callback at least half the bare endpoint's rate

BARE = MetaData()
bare_table = Table(
    "bench_bare_ingest",
    BARE,
    Column("id", Integer, primary_key=True),
    Column("nonce", String(64)),
    Column("size", Integer),
)


def build_requests(user_ids: list[str], n: int, duplicate_share: float, first_id: int = 0) -> list[tuple[dict, bytes]]:  # fmt: skip
    crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)
    rng = random.Random(7 + first_id)
    unique = int(n * (1 - duplicate_share))
    # Signed now: the callback refuses a timestamp outside its five-minute replay window.
    now = int(time.time())
    bodies = []
    for i in range(first_id, first_id + unique):
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


def serve(url: str, port: int, ready) -> None:
    """The server process: the bot's web app (its WeCom callback) plus the bare endpoint, one uvicorn worker."""
    import uvicorn
    from fastapi.responses import PlainTextResponse
    from starlette.concurrency import run_in_threadpool

    from bot.cli.serve import Service, demo_settings
    from models.db import unit_of_work

    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    settings = demo_settings(url, "http://127.0.0.1:9", f"http://127.0.0.1:{port}")
    settings = settings.model_copy(update={"dingtalk": type(settings.dingtalk)()})
    service = Service(settings, factory, {"web"}, port=port)
    crypto = WeChatCrypto(demo.WECOM_TOKEN, demo.WECOM_ENCODING_AES_KEY, demo.WECOM_CORP_ID)

    def bare_ingest(body: bytes, signature: str, timestamp: str, nonce: str) -> None:
        # decrypt_message parses the envelope and checks its signature before it decrypts.
        xml = crypto.decrypt_message(body, signature, timestamp, nonce)
        with unit_of_work(factory) as s:
            s.execute(insert(bare_table).values(nonce=nonce, size=len(xml)))

    @service.app.post("/bench/bare-ingest", include_in_schema=False)
    async def bare(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = ""):
        body = await request.body()
        await run_in_threadpool(bare_ingest, body, msg_signature, timestamp, nonce)
        return PlainTextResponse("")

    service.start_background()  # whatever a web process runs beside its routes
    ready.set()
    try:
        uvicorn.run(
            service.app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=300,
            backlog=4096,
        )
    finally:
        service.stop()


def posts(path: str, requests: list[tuple[dict, bytes]]) -> list[Post]:
    """The signed envelopes as POSTs to `path`, their signature in the query as WeCom sends it."""
    return [(f"{path}?{urlencode(params)}", {"Content-Type": "text/xml"}, body) for params, body in requests]


def count(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {
            "events": conn.scalar(select(func.count()).select_from(InboundEvent)),
            "replies": conn.scalar(select(func.count()).select_from(OutboxMessage)),
            "bare": conn.scalar(select(func.count()).select_from(bare_table)),
        }
    engine.dispose()
    return counts


def run(kind: str, n: int, clients: int) -> dict:
    """{(endpoint, clients): {rps, p50, p99, errors}} plus the rows written, for one database."""
    with scratch_database(kind) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        BARE.create_all(engine)
        ids = seed_people(make_sessionmaker(engine), 500, Platform.WECOM)
        engine.dispose()
        users = [f"u{pid}" for pid in ids]
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        ready = multiprocessing.Event()
        proc = multiprocessing.Process(target=serve, args=(url, port, ready), daemon=True)
        proc.start()
        ready.wait(60)
        base = f"http://127.0.0.1:{port}"
        for _ in range(400):
            try:
                httpx.get(base + "/healthz", trust_env=False)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        results: dict = {}
        sent = 0
        nonces: set[str] = set()  # the distinct messages the callback was sent
        try:
            # Warm up both routes, the threadpool and the connection pool.
            warm = build_requests(users, 60, 0.0, first_id=sent)
            sent += len(warm)
            asyncio.run(fire(base, posts("/bench/bare-ingest", warm), 8))
            asyncio.run(fire(base, posts("/wecom/callback", warm), 8))
            nonces.update(params["nonce"] for params, _ in warm)
            for c in (1, clients):
                size = n if c > 1 else max(100, n // 5)
                # The same envelopes to both endpoints, signed just now (the callback's replay window).
                requests = build_requests(users, size, 0.1, first_id=sent)
                sent += size
                nonces.update(params["nonce"] for params, _ in requests)
                for name, path in (("bare", "/bench/bare-ingest"), ("callback", "/wecom/callback")):
                    cpu = server_cpu(proc.pid)
                    elapsed, latencies, answers = asyncio.run(fire(base, posts(path, requests), c))
                    errors = sum(1 for status, _ in answers if status != 200)
                    results[(name, c)] = {
                        "cpu_ms": (server_cpu(proc.pid) - cpu) / size * 1000,
                        "rps": size / elapsed,
                        "p50": pct(latencies, 50),
                        "p99": pct(latencies, 99),
                        "errors": errors,
                    }
        finally:
            proc.terminate()
            proc.join(10)
        results["rows"] = count(url)
        results["unique"] = len(nonces)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--requests", type=int, default=3000, help="requests per endpoint at --clients")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(
        f"WeCom callback ingest: {args.requests} encrypted messages (10% repeats) at {args.clients} clients, "
        f"{max(100, args.requests // 5)} at 1 client; bare decrypt-and-insert endpoint first as the floor",
        flush=True,
    )
    summary = []
    for kind in kinds:
        r = run(kind, args.requests, args.clients)
        summary.append((kind, r))
    print()
    print(
        f"{'database':<11}{'clients':>8}  {'endpoint':<9}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'server CPU ms/msg':>19}"
    )
    for kind, r in summary:
        for c in (1, args.clients):
            for name in ("bare", "callback"):
                x = r[(name, c)]
                print(
                    f"{kind:<11}{c:>8}  {name:<9}{x['rps']:>9.1f}{x['p50']:>9.1f}{x['p99']:>9.1f}{x['errors']:>8}"
                    f"{x['cpu_ms']:>19.2f}"
                )
            ratio = r[("callback", c)]["rps"] / r[("bare", c)]["rps"]
            print(f"{'':<11}{'':>8}  callback/bare = {ratio:.2f} (goal ≥ {GOAL:.2f})")
        rows = r["rows"]
        print(
            f"{'':<11}handled once: {rows['events']} inbound rows for {r['unique']} distinct messages, "
            f"{rows['replies']} replies queued; bare rows {rows['bare']}"
        )
    for kind, r in summary:
        for c in (1, args.clients):
            cb, bare = r[("callback", c)], r[("bare", c)]
            ok = cb["errors"] == 0 and r["rows"]["events"] == r["unique"] == r["rows"]["replies"]
            emit("ingest", kind, f"WeCom callback msg/s, {c} client{'s' if c > 1 else ''} (p50 {cb['p50']:.0f} ms, p99 {cb['p99']:.0f} ms; bare p99 {bare['p99']:.0f} ms)",
                 cb["rps"], "msg/s", floor=bare["rps"], goal=f"≥ {GOAL}× a bare decrypt-and-insert endpoint, each message handled once",
                 met=ok and cb["rps"] >= GOAL * bare["rps"])  # fmt: skip


if __name__ == "__main__":
    main()
