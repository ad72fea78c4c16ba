"""Relay benchmark: 10,000 recipients of a digest-like message through the sandbox at the real limits.

Reports the elapsed time against the minimum the platform limits allow (DingTalk: 20 users per
batchSend, 20 calls per second per API; WeCom: 1,000 users per message/send) and the violations as
the sandbox saw them: its rate-limit counters (throttled calls, silently dropped WeCom messages) and,
from the calls it recorded with their times, the most DingTalk sends in any second and the most
messages to one WeCom member in any minute. Each relay is its own process (spawned), as in production;
with --relays N they share the work and the limits through the database (PostgreSQL only).

    .venv/bin/python bench/relay.py                                   # SQLite, one relay
    .venv/bin/python bench/relay.py --database postgresql             # PostgreSQL at 127.0.0.1:5432/test
    .venv/bin/python bench/relay.py --database postgresql --relays 1,2,4
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from sqlalchemy import insert, select, text  # noqa: E402

from bench.summary import emit  # noqa: E402
from bot.cli.common import core_config  # noqa: E402
from bot.cli.serve import demo_settings  # noqa: E402
from bot.core import outbox  # noqa: E402
from bot.core.messages import Button, Card  # noqa: E402
from bot.core.ratelimit import RateLimit  # noqa: E402
from bot.core.relay import Relay  # noqa: E402
from bot.platforms.wiring import build_platforms  # noqa: E402
from config import demo  # noqa: E402
from handlers import all_feeders  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.org import ChatAccount, OrgUnit, Person, Platform, UnitKind  # noqa: E402
from models.outbox import DeliveryStatus, OutboxMessage  # noqa: E402
from sandbox.testing import running_sandbox  # noqa: E402

PG_BASE = os.environ.get("ZHIBU_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def scratch_database(kind: str):
    """A fresh empty database: a temporary SQLite file or a throw-away PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed_people(session_factory, n: int, platform: Platform) -> list[int]:
    corp = demo.DINGTALK_CORP_ID if platform == Platform.DINGTALK else demo.WECOM_CORP_ID
    with session_factory() as s, s.begin():
        branch = OrgUnit(kind=UnitKind.BRANCH, name=f"压测支部-{platform}", path="/")
        s.add(branch)
        s.flush()
        s.execute(insert(Person), [{"name": f"党员{i}", "branch_id": branch.id} for i in range(n)])
        ids = list(s.scalars(select(Person.id).where(Person.branch_id == branch.id).order_by(Person.id)))
        s.execute(
            insert(ChatAccount),
            [
                {"person_id": pid, "platform": platform, "corp_id": corp, "account_id": f"u{pid}"}
                for pid in ids
            ],
        )
    return ids


def fixture_for(ids: list[int], platform: Platform) -> dict:
    settings = demo_settings("sqlite://", "http://x", "http://x")
    users = [{"userid": f"u{pid}", "name": f"党员{pid}"} for pid in ids]
    if platform == Platform.DINGTALK:
        return {
            "dingtalk": {
                "corp_id": demo.DINGTALK_CORP_ID,
                "app": {
                    "client_id": settings.dingtalk.client_id,
                    "client_secret": demo.DINGTALK_CLIENT_SECRET,
                    "robot_code": demo.DINGTALK_ROBOT_CODE,
                },
                "users": users,
            }
        }
    return {
        "wecom": {
            "corp_id": demo.WECOM_CORP_ID,
            "agent_id": demo.WECOM_AGENT_ID,
            "secret": demo.WECOM_SECRET,
            "token": demo.WECOM_TOKEN,
            "encoding_aes_key": demo.WECOM_ENCODING_AES_KEY,
            "users": users,
        }
    }


def minimum_seconds(recipients: int, platform: Platform, qps: int) -> float:
    """The least time the limits allow: calls beyond the first window's burst wait a second per `qps`."""
    if platform == Platform.DINGTALK:
        calls = math.ceil(recipients / 20)
        return max(0, math.ceil(calls / qps) - 1)
    return 0.0  # 10 message/send calls sit far below WeCom's company-wide API limit


def settings_for(url: str, sandbox_url: str, platform: Platform):
    settings = demo_settings(url, sandbox_url, "http://127.0.0.1:8000")
    only = {"dingtalk": settings.dingtalk} if platform == Platform.DINGTALK else {"wecom": settings.wecom}
    return settings.model_copy(
        update={"dingtalk": type(settings.dingtalk)(), "wecom": type(settings.wecom)()} | only
    )


def relay_process(index: int, url: str, sandbox_url: str, platform: str, ready, go, done) -> None:
    """One relay process, running before the work is queued as a deployed relay is: it polls the empty
    queue, then, once `go` says the work is queued, sends until nothing is left queued by anyone."""
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    engine = make_engine(url)
    session_factory = make_sessionmaker(engine)
    settings = settings_for(url, sandbox_url, Platform(platform))
    platforms = build_platforms(settings, None, stream=False)
    # With the features' feeders, as `zhibu serve` builds a relay: each cycle starts by asking them.
    relay = Relay(
        session_factory, platforms.senders, name=f"bench{index}", feeders=all_feeders(core_config(settings))
    )
    # As a relay that has been running: DingTalk's access token cached (fetched once per two hours, not per
    # burst), its rate windows asked once (their statements compiled: a process's first take took 60-110 ms
    # against 20-30 ms, and the first window's calls wait for the takes before them), and its first poll
    # of the empty queue made (its database connection open, its claim's statement prepared) before it
    # says it is ready. The work is queued after that, and the clock starts with it: every claim of a row
    # counts. The windows are asked for a key of this process's own, which no call of the run shares.
    for sender in platforms.senders:
        api = getattr(sender, "api", None)
        if api is not None and hasattr(api, "token"):
            api.token()
    now = datetime.now(UTC)
    warm = relay.windows.take(now, ("api", platform, f"bench-warm-{index}"), (RateLimit(1, 1.0),), [], ())
    relay.windows.release(warm.slot, now)
    sent, polled = 0, False
    while True:
        result = relay.run_once(ahead=True)  # as the relay's own loop runs it (run_forever)
        sent += result.sent
        if not polled:
            polled = True
            ready.release()
        if result.claimed == 0:
            if not go.is_set():
                time.sleep(0.02)  # polling the empty queue, as between bursts (NOTIFY wakes a real relay)
                continue
            with session_factory() as s:
                left = s.scalar(
                    select(OutboxMessage.id).where(
                        OutboxMessage.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
                    )
                )
            if left is None:
                break
            time.sleep(0.02)
    finished = time.time()  # the sandbox's clock is the wall clock: the breakdown compares the two
    platforms.close()
    engine.dispose()
    done.put((index, sent, finished))


def most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def run(kind: str, platform: Platform, recipients: int, qps: int, relays: int = 1) -> dict:
    with scratch_database(kind) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        session_factory = make_sessionmaker(engine)
        ids = seed_people(session_factory, recipients, platform)
        with running_sandbox(fixture_for(ids, platform)) as sb:
            sb.configure(dingtalk_qps=qps, wecom_per_member_per_minute=30, wecom_per_member_per_hour=1000)
            now = datetime.now(UTC)
            digest = Card(
                "三月党建月报",
                "本月会议 3/4 次，出勤率 92%，党费交纳率 97%。点击查看全部排名和未完成事项。",
                fields=(("排名", "第 3 名"), ("待办", "2 项")),
                buttons=(Button("查看详情", url="/digest/2026-03"),),
            )
            ctx = multiprocessing.get_context("spawn")
            ready, go, done = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
            procs = [
                ctx.Process(target=relay_process, args=(i, url, sb.url, platform.value, ready, go, done))
                for i in range(relays)
            ]
            for p in procs:
                p.start()
            for _ in procs:
                ready.acquire()  # every relay running and polling the empty queue
            # The clock starts as the work is queued, just before its commit (from which the relays may claim
            # it): the time to write 10,000 rows is the queueing side's, the commit and all after it count.
            with session_factory() as s, s.begin():
                outbox.enqueue_to_people(s, ids, digest, dedup_key="digest:2026-03", now=now)
                s.flush()
                started, go_at = time.perf_counter(), time.time()
            go.set()
            reports = [done.get(timeout=3600) for _ in procs]
            elapsed = time.perf_counter() - started
            per_relay = {index: sent for index, sent, _ in reports}
            finished = max(at for _, _, at in reports)
            for p in procs:
                p.join()
            counters = sb.counters()
            calls = sb.outbox()
            delivered = sum(len(m["to"]) for m in calls)
        engine.dispose()
    minimum = minimum_seconds(recipients, platform, qps)
    per_member: dict[str, list[float]] = defaultdict(list)
    times = sorted(c["time"] for c in calls)
    for c in calls:
        for user in c["to"]:
            per_member[user].append(c["time"])
    return {
        "database": kind,
        "platform": platform.value,
        "relays": relays,
        "per_relay": [per_relay[i] for i in range(relays)],
        "recipients": recipients,
        "delivered": delivered,
        "elapsed": elapsed,
        "minimum": minimum,
        "rate_share": (minimum / elapsed) if minimum else None,
        "throttled": counters["rate_limited_total"],
        "dropped": counters["wecom_dropped_total"],
        "busiest_second": most_in_any_window([c["time"] for c in calls], 1.0),
        "busiest_member_minute": max((most_in_any_window(ts, 60.0) for ts in per_member.values()), default=0),
        # Where the time over the minimum goes (seconds): from `go` to the first send, the sends' own span,
        # and from the last send until the last relay finished.
        "first_send": times[0] - go_at if times else None,
        "span": times[-1] - times[0] if times else None,
        "tail": finished - times[-1] if times else None,
        # The mean time between a call and the one `qps` calls later: the window plus what each one adds.
        "window": (
            (times[-1] - times[0]) / ((len(times) - 1) / qps)
            if len(times) > qps and platform == Platform.DINGTALK
            else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--qps", type=int, default=20, help="DingTalk per-API QPS the sandbox enforces")
    parser.add_argument(
        "--relays", default="1", help="relay processes, or a list to compare (1,2,4); >1 needs PostgreSQL"
    )
    parser.add_argument("--platform", choices=["dingtalk", "wecom", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    counts = [int(n) for n in args.relays.split(",")]
    platforms = [Platform.DINGTALK, Platform.WECOM] if args.platform == "both" else [Platform(args.platform)]
    print(
        f"relay benchmark: {args.recipients} recipients of one digest card, DingTalk {args.qps} QPS per API"
    )
    for kind in kinds:
        for n in counts:
            if n > 1 and kind == "sqlite":
                print(f"  sqlite: {n} relays skipped (several relay processes need PostgreSQL)")
                continue
            for platform in platforms:
                r = run(kind, platform, args.recipients, args.qps, n)
                share = (
                    f"{r['rate_share'] * 100:.1f}% of the allowed rate"
                    if r["rate_share"]
                    else "limit not binding"
                )
                print(
                    f"  {r['database']:<10} {r['platform']:<8} relays={n} delivered {r['delivered']:>6}/"
                    f"{r['recipients']}  in {r['elapsed']:6.2f} s (minimum {r['minimum']:.0f} s; {share})"
                    f"  sandbox: throttled={r['throttled']} dropped={r['dropped']}"
                    f" busiest second={r['busiest_second']} busiest member-minute={r['busiest_member_minute']}"
                    f"  sent per relay={r['per_relay']}"
                )
                if r["first_send"] is not None:
                    window = f", {r['window']:.4f} s per {args.qps} calls" if r["window"] else ""
                    print(
                        f"    go to first send {r['first_send']:.3f} s, sends span {r['span']:.3f} s{window},"
                        f" last send to done {r['tail']:.3f} s"
                    )
                emit("relay", r["database"], f"{r['platform']} {r['recipients']} recipients, relays={n} "
                     "(the platform's rate limit as floor)", r["elapsed"], "s", floor=r["minimum"] or None,
                     goal="all delivered, none dropped",
                     met=r["delivered"] == r["recipients"] and r["dropped"] == 0)  # fmt: skip


if __name__ == "__main__":
    main()
