"""Benchmark QR sign-in: 4,000 members of one meeting signing in as fast as 64 concurrent clients can.

    .venv/bin/python bench/signin.py [--databases sqlite postgresql] [--members 4000] [--clients 64] [--rounds 16]

Each member's H5 session is already established (the signed cookie /h5/meetings/session would set),
so the measured path is the sign-in POST (bot/web/meetings.py, a plain Starlette route): the pages'
guard (content type, cookie, CSRF), the token check, then one statement (handlers/meetings/signin.py,
_SIGN_IN_AT_ONCE): the attendance insert for an invitee inside the window, marked as due a chat receipt,
returning what the page shows. The receipts are queued as the relays queue them (handlers.all_feeders,
behind the same one-writer lock on SQLite), and that work is counted as the sign-in's: each slice of
sign-ins ends with a request that queues every receipt it made due, inside the slice's time and server
CPU. The baseline is a bare endpoint on the same stack (FastAPI sync route, the same uvicorn server and
session factory, and on SQLite the same one-writer lock) that inserts one row. Beside it, for
comparison only, the same insert on a plain Starlette route, as the sign-in POST is routed (sign-in/lean):
what the sign-in's own work costs with the routing alike. All three are warmed before the
measurement (a bare and a lean request; one member's scan and its receipt, not counted), so none pays
its statements' first compilation inside it. The server runs in its own process so the client's event
loop does not share its GIL. The three endpoints' requests are sent in alternating slices (--rounds), so
load from anything else on the machine weighs on all alike; 16 slices of 250 keep a burst of it from
tipping the ratio as much as 8 did. The clients are a few lines of HTTP/1.1 on asyncio
(bench/loadgen.py), not httpx, whose own cost per request was larger than the server's and set both
rates; the server process's CPU per request is printed beside them.
Goal (issue 22 item 4): sign-in ≥ 0.8× the bare throughput, with zero lost and zero duplicate
attendance rows, and a receipt queued for each.

SQLite is a temp file; PostgreSQL is a fresh schema in ZHIBU_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text  # noqa: E402

import models  # noqa: E402, F401 - registers every table
from bench.loadgen import Post, fire, pct, server_cpu  # noqa: E402
from bench.summary import emit  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker, one_writer, unit_of_work  # noqa: E402

PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-0123456789abcdef"
CORP = "dingbenchcorp"
GOAL = 0.8  # issue 22 item 4: sign-in at least 0.8× the bare endpoint
START = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)  # the window is open now

BARE = MetaData()
bare_table = Table("bench_bare", BARE, Column("id", Integer, primary_key=True), Column("who", String(32)))


def arrange(url: str, members: int) -> tuple[int, list[int]]:
    from handlers.meetings.meetings import create_meeting
    from handlers.meetings.types import DEFAULT_CONFIG
    from models.org import ChatAccount, OrgUnit, Person, Platform, Role, RoleAssignment, UnitKind, set_path

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    BARE.create_all(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        committee = OrgUnit(kind=UnitKind.COMMITTEE, name="基准党委")
        s.add(committee)
        s.flush()
        set_path(committee, None)
        branch = OrgUnit(kind=UnitKind.BRANCH, name="基准党支部", parent_id=committee.id)
        s.add(branch)
        s.flush()
        set_path(branch, committee)
        conn = s.connection()
        conn.execute(
            insert(Person.__table__),
            [{"name": f"党员{i:04d}", "branch_id": branch.id, "status": "full", "fee_category": "employed",
              "is_mobile": False, "active": True} for i in range(members)],
        )  # fmt: skip
        ids = list(s.scalars(select(Person.id).order_by(Person.id)))
        conn.execute(
            insert(ChatAccount.__table__),
            [
                {"person_id": pid, "platform": Platform.DINGTALK, "corp_id": CORP, "account_id": f"u{pid}"}
                for pid in ids
            ],
        )
        s.add(RoleAssignment(person_id=ids[0], org_unit_id=branch.id, role=Role.SECRETARY))
        m = create_meeting(
            s, branch_id=branch.id, types=["party_congress"], starts_at=START, place="礼堂", topic="基准",
            now=datetime.now(UTC), cfg=DEFAULT_CONFIG, notify=False,
        )  # fmt: skip
        meeting_id = m.id
    engine.dispose()
    return meeting_id, ids


def serve(url: str, port: int, ready) -> None:
    """The server process: the meetings router plus the two floors (bare, lean), on one uvicorn worker."""
    from zoneinfo import ZoneInfo

    import uvicorn
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    from bot.core.context import CoreConfig
    from bot.web.meetings import build_meetings_router
    from handlers import all_feeders

    engine = (
        make_engine(url, pool_size=64, max_overflow=0) if url.startswith("postgresql") else make_engine(url)
    )
    factory = make_sessionmaker(engine)
    app = FastAPI()
    core = CoreConfig(
        tz=ZoneInfo("Asia/Shanghai"), public_base_url=f"http://127.0.0.1:{port}", secret_key=SECRET
    )
    app.include_router(build_meetings_router(factory, {}, core))
    feeders = all_feeders(core)  # what `zhibu serve` gives its relays

    @app.post("/bench/receipts")
    def receipts():
        # What a relay's cycle does first (bot.core.relay.Relay._feed), until nothing is due.
        queued = 0
        while True:
            n = 0
            for feed in feeders:
                with one_writer(factory), unit_of_work(factory) as s:
                    n += feed(s, datetime.now(UTC))
            if not n:
                return {"queued": queued}
            queued += n

    def insert_one(who: str) -> None:
        # Behind the same one-writer lock as the sign-in on SQLite (the same stack): without it the bare
        # inserts collide in SQLite's busy handler, and the floor was 640-770 a second instead of ~1,000.
        with one_writer(factory), unit_of_work(factory) as s:
            s.execute(insert(bare_table).values(who=who))

    @app.post("/bare/{who}")
    def bare(who: str):
        insert_one(who)
        return {"ok": True}

    async def bare_lean(request):
        # The same insert on a plain Starlette route, as the sign-in POST is routed: the floor without
        # FastAPI's own cost, printed beside the goal's floor for comparison.
        await run_in_threadpool(insert_one, request.path_params["who"])
        return JSONResponse({"ok": True})

    app.add_route("/lean/{who}", bare_lean, methods=["POST"])
    ready.set()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=300,
        backlog=4096,
    )


async def interleaved(
    base: str,
    waves: dict[str, list[Post]],
    clients: int,
    rounds: int,
    server: int,
    then: dict[str, Post] | None = None,
) -> dict[str, tuple[float, list[float], list, float]]:
    """Each wave cut into `rounds` slices, sent in turns (A B C, then C B A, …), so every endpoint meets the
    same load from whatever else shares the machine; the times of a wave's slices are summed, and so is
    the CPU the server process (pid `server`) spent on them. `then[name]`, a request sent after each of
    that wave's slices, is counted in the slice (the sign-ins' receipts)."""
    out: dict[str, tuple[float, list[float], list, float]] = {name: (0.0, [], [], 0.0) for name in waves}
    names = list(waves)
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            reqs = waves[name]
            size = -(-len(reqs) // rounds)
            cpu = server_cpu(server)
            elapsed, lat, answers = await fire(base, reqs[i * size : (i + 1) * size], clients)
            if then and name in then:
                elapsed += (await fire(base, [then[name]], 1))[0]
            total, lats, answered, spent = out[name]
            out[name] = (total + elapsed, lats + lat, answered + answers, spent + server_cpu(server) - cpu)
    return out


def run(label: str, url: str, members: int, clients: int, rounds: int) -> dict:
    from bot.web.h5 import COOKIE, CSRF_HEADER, csrf_token, session_token
    from handlers.meetings.signin import make_token, receipt_key
    from handlers.meetings.types import DEFAULT_CONFIG
    from models.meetings import Attendance
    from models.outbox import DeliveryStatus, OutboxMessage

    meeting_id, ids = arrange(url, members + 1)
    *ids, warm = ids  # one member signs in before the measurement, as the bare endpoint's warm-up
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=serve, args=(url, port, ready), daemon=True)
    proc.start()
    ready.wait(30)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.post(base + "/bare/warmup", trust_env=False)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        now = datetime.now(UTC)
        token = make_token(SECRET, meeting_id, START + DEFAULT_CONFIG.signin_closes_after)

        def page_headers(person_id: int) -> dict[str, str]:
            # What the sign-in page sends: the session cookie and, as zbPost does, its CSRF token.
            cookie = session_token(SECRET, person_id, now)
            return {
                "Content-Type": "application/json",
                "Cookie": f"{COOKIE}={cookie}",
                CSRF_HEADER: csrf_token(SECRET, cookie),
            }

        body = json.dumps({"t": token}).encode()
        signins = [(f"/h5/meetings/{meeting_id}/signin", page_headers(pid), body) for pid in ids]
        bares = [(f"/bare/p{pid}", {"Content-Type": "application/json"}, b"{}") for pid in ids]
        leans = [(f"/lean/p{pid}", {"Content-Type": "application/json"}, b"{}") for pid in ids]
        results = {}
        feed = ("/bench/receipts", {"Content-Type": "application/json"}, b"{}")
        # Warm every path alike: the bare endpoint had a request above; the sign-in's first statements
        # (and the receipts') are compiled here, not in its first measured slice.
        warm_scan = (f"/h5/meetings/{meeting_id}/signin", page_headers(warm), body)
        warm_lean = ("/lean/warmup", {"Content-Type": "application/json"}, b"{}")
        assert [a[0] for a in asyncio.run(fire(base, [warm_lean, warm_scan, feed], 1))[2]] == [200] * 3
        waves = asyncio.run(
            interleaved(
                base,
                {"bare": bares, "lean": leans, "signin": signins},
                clients,
                rounds,
                proc.pid,
                then={"signin": feed},
            )
        )
        for name, (elapsed, lat, answers, cpu) in waves.items():
            answers = [
                (status, json.loads(content) if status == 200 else content) for status, content in answers
            ]
            errors = [a for a in answers if a[0] != 200]
            results[name] = {
                "rps": len(answers) / elapsed, "p50": pct(lat, 50), "p99": pct(lat, 99), "errors": len(errors),
                "cpu_ms": cpu / len(answers) * 1000,
                "outcomes": {o: sum(1 for a in answers if a[0] == 200 and a[1].get("outcome") == o) for o in ("ok", "late", "already")},
            }  # fmt: skip
            if errors:
                print(f"  {label} {name}: first error {errors[0]}")
        # A second wave of the same scans must add nothing.
        asyncio.run(interleaved(base, {"again": signins[:500]}, clients, 1, proc.pid, then={"again": feed}))
        engine = make_engine(url)
        with engine.connect() as conn:
            measured = (Attendance.meeting_id == meeting_id, Attendance.person_id != warm)
            rows = conn.scalar(select(func.count()).select_from(Attendance).where(*measured))
            distinct = conn.scalar(select(func.count(func.distinct(Attendance.person_id))).where(*measured))
            bare_rows = conn.scalar(select(func.count()).select_from(bare_table)) - 2  # minus the warm-ups
            receipts = conn.execute(
                select(func.count(), func.count(func.distinct(OutboxMessage.person_id))).where(
                    OutboxMessage.dedup_key == receipt_key(meeting_id),
                    OutboxMessage.status == DeliveryStatus.QUEUED,
                    OutboxMessage.person_id != warm,
                )
            ).one()
            due = conn.scalar(select(func.count()).select_from(Attendance).where(Attendance.receipt_due))
        engine.dispose()
        results["rows"] = {"attendance": rows, "distinct": distinct, "lost": members - distinct,
                           "duplicates": rows - distinct, "bare": bare_rows, "receipts": receipts[0],
                           "receipts_lost": members - receipts[1], "receipts_due": due}  # fmt: skip
        return results
    finally:
        proc.terminate()
        proc.join(10)


def whole(rows: dict) -> bool:
    """Every member signed in once, and has one receipt queued."""
    return rows["lost"] == rows["duplicates"] == rows["receipts_lost"] == rows["receipts_due"] == 0 and (
        rows["receipts"] == rows["attendance"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--members", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument(
        "--rounds", type=int, default=16, help="slices each endpoint's requests are cut into, sent in turns"
    )
    args = parser.parse_args()
    summary = []
    for db in args.databases:
        if db == "sqlite":
            tmp = tempfile.mkdtemp()
            url, cleanup = f"sqlite:///{tmp}/bench.db", None
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in PG_URL else "?"
            url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"

            def cleanup(schema=schema, admin=admin):
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

        try:
            print(f"{db}: {args.members} members, {args.clients} concurrent clients …", flush=True)
            r = run(db, url, args.members, args.clients, args.rounds)
        finally:
            if cleanup:
                cleanup()
        ratio = r["signin"]["rps"] / r["bare"]["rps"]
        ok = ratio >= GOAL and whole(r["rows"])
        summary.append((db, r, ratio, ok))
    print()
    print(
        f"{'database':<11}{'endpoint':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'server CPU ms/req':>19}"
    )
    for db, r, ratio, ok in summary:
        for name in ("bare", "lean", "signin"):
            x = r[name]
            print(
                f"{db:<11}{name:<9}{x['rps']:>9.0f}{x['p50']:>9.1f}{x['p99']:>9.1f}{x['errors']:>8}{x['cpu_ms']:>19.2f}"
            )
        rows = r["rows"]
        print(
            f"{'':<11}sign-in/bare = {ratio:.2f} (goal ≥ {GOAL:.2f}); outcomes {r['signin']['outcomes']}; attendance rows "
            f"{rows['attendance']}, lost {rows['lost']}, duplicates {rows['duplicates']}; receipts {rows['receipts']}, "
            f"lost {rows['receipts_lost']}, still due {rows['receipts_due']}; floors' rows {rows['bare']} "
            f"→ {'PASS' if ok else 'FAIL'}"
        )
        lean = r["signin"]["rps"] / r["lean"]["rps"]
        print(
            f"{'':<11}sign-in/lean = {lean:.2f} (against the same insert on a plain Starlette route, as the sign-in is routed)"
        )
    for db, r, ratio, _ok in summary:
        emit("signin", db, "QR sign-in req/s (bare one-row endpoint as floor)", r["signin"]["rps"], "req/s",
             floor=r["bare"]["rps"], goal="≥ 0.8× bare, none lost or duplicated",
             met=ratio >= GOAL and whole(r["rows"]))  # fmt: skip


if __name__ == "__main__":
    main()
