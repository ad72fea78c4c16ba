"""Wake-up benchmark: from a WeCom callback's arrival to the reply's send call, web and relay apart.

Members send 帮助 through the sandbox (which encrypts and POSTs it to the web process's callback URL,
recording the moment); the web process answers through the outbox; a relay process sends the reply
(recorded by the sandbox when the send call arrives). The latency is the difference of the two records,
both on the sandbox's clock. Each client waits for its reply before sending the next message.

Layouts: "split" is a web process and a relay process (on PostgreSQL the relay LISTENs and the web's
commit NOTIFYs; on SQLite the relay has only its poll, once a second), "one" is web and relay in one
process (the dispatcher wakes the relay directly: SQLite's supported layout).

    .venv/bin/python bench/wakeup.py --database both
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from sqlalchemy import insert, select  # noqa: E402

from bench.relay import scratch_database  # noqa: E402
from bench.summary import emit  # noqa: E402
from bot.cli.serve import Service, demo_settings, sandbox_fixture  # noqa: E402
from config import demo  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.org import ChatAccount, OrgUnit, Person, Platform, UnitKind  # noqa: E402
from sandbox.testing import running_sandbox  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(session_factory, n: int) -> None:
    with session_factory() as s, s.begin():
        branch = OrgUnit(kind=UnitKind.BRANCH, name="压测支部", path="/")
        s.add(branch)
        s.flush()
        s.execute(insert(Person), [{"name": f"党员{i}", "branch_id": branch.id} for i in range(n)])
        ids = list(s.scalars(select(Person.id).order_by(Person.id)))
        s.execute(
            insert(ChatAccount),
            [
                {
                    "person_id": p,
                    "platform": Platform.WECOM,
                    "corp_id": demo.WECOM_CORP_ID,
                    "account_id": f"w{p}",
                }
                for p in ids
            ],
        )


def serve_process(roles: list[str], url: str, sandbox_url: str, port: int, ready, stop) -> None:
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    engine = make_engine(url)
    service = Service(
        demo_settings(url, sandbox_url, f"http://127.0.0.1:{port}"),
        make_sessionmaker(engine),
        set(roles),
        port=port,
    )
    if service.app is not None:
        service.start_web_thread()
    if service.relay is not None:
        service.relay.start()
        listener = service.relay._listener
        if listener is not None:
            listener.ready.wait(10)
    ready.release()
    stop.wait()
    service.stop()
    engine.dispose()


def client(sb, user: str, messages: int, since: int, errors: list) -> None:
    last = since
    try:
        for _ in range(messages):
            result = sb.deliver_wecom(user, "帮助")
            if not result.get("delivered"):
                raise RuntimeError(f"callback not answered: {result}")
            found = sb.wait_for_outbox("wecom", since=last, where=lambda e: user in e["to"], timeout=30)
            last = found[0]["seq"]
    except Exception as exc:
        errors.append(exc)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run(kind: str, layout: str, clients_list: list[int], messages: int) -> list[dict]:
    results = []
    with scratch_database(kind) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        session_factory = make_sessionmaker(engine)
        seed(session_factory, max(clients_list) + 1)
        port = free_port()
        with running_sandbox() as sb:
            with session_factory() as s:
                sb.load_fixture(sandbox_fixture(s, callback_url=f"http://127.0.0.1:{port}/wecom/callback"))
            ctx = multiprocessing.get_context("spawn")
            ready, stop = ctx.Semaphore(0), ctx.Event()
            groups = [["web"], ["relay"]] if layout == "split" else [["web", "relay"]]
            procs = [
                ctx.Process(target=serve_process, args=(roles, url, sb.url, port, ready, stop))
                for roles in groups
            ]
            for p in procs:
                p.start()
            try:
                for _ in procs:
                    if not ready.acquire(timeout=60):
                        raise RuntimeError("a process did not start")
                with session_factory() as s:
                    users = list(s.scalars(select(ChatAccount.account_id).order_by(ChatAccount.id)))
                sb.deliver_wecom(users[0], "帮助")  # warm-up: tokens, connections, first queries
                sb.wait_for_outbox("wecom", where=lambda e: e["to"] == [users[0]], timeout=30)
                for clients in clients_list:
                    start_seq = max((e["seq"] for e in sb.inbound() + sb.outbox()), default=0)
                    errors: list = []
                    # WeCom allows 30 messages a minute to one member (the relay defers the 31st): stay under.
                    each = min(25, max(1, messages // clients))
                    chosen = users[-1:] if clients == 1 else users[:clients]
                    threads = [
                        threading.Thread(target=client, args=(sb, user, each, start_seq, errors))
                        for user in chosen
                    ]
                    started = time.perf_counter()
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    elapsed = time.perf_counter() - started
                    if errors:
                        raise errors[0]
                    latencies = []
                    inbound = [e for e in sb.inbound("wecom", since=start_seq) if e.get("kind") == "text"]
                    outbound = sb.outbox("wecom", since=start_seq)
                    for user in chosen:
                        ins = sorted((e for e in inbound if e.get("from") == user), key=lambda e: e["seq"])
                        outs = sorted((e for e in outbound if user in e["to"]), key=lambda e: e["seq"])
                        latencies += [(o["time"] - i["time"]) * 1000 for i, o in zip(ins, outs, strict=True)]
                    results.append(
                        {
                            "database": kind,
                            "layout": layout,
                            "clients": clients,
                            "n": len(latencies),
                            "p50": statistics.median(latencies),
                            "p99": percentile(latencies, 99),
                            "max": max(latencies),
                            "elapsed": elapsed,
                        }
                    )
            finally:
                stop.set()
                for p in procs:
                    p.join(30)
        engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--layout", choices=["split", "one", "both"], default="both")
    parser.add_argument("--clients", default="1,32")
    parser.add_argument(
        "--messages", type=int, default=64, help="messages per run, spread over the clients (at most 25 each)"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    layouts = ["split", "one"] if args.layout == "both" else [args.layout]
    clients = [int(c) for c in args.clients.split(",")]
    print("wake-up benchmark: WeCom callback arrival → reply's send call (sandbox clock), web and relay")
    for kind in kinds:
        for layout in layouts:
            for r in run(kind, layout, clients, args.messages):
                print(
                    f"  {r['database']:<10} {r['layout']:<5} clients={r['clients']:<3} n={r['n']:<4}"
                    f" p50={r['p50']:7.1f} ms  p99={r['p99']:7.1f} ms  max={r['max']:7.1f} ms"
                    f"  ({r['elapsed']:.1f} s)"
                )
                emit("wakeup", r["database"], f"callback → reply sent p99, {r['layout']}, {r['clients']} clients",
                     r["p99"], "ms")  # fmt: skip


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
