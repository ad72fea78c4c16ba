"""Benchmark the 消息台账 (#17 item 5) page query on a county-sized delivery ledger (PostgreSQL).

    .venv/bin/python bench/ledgers_messages.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--rows 2000000] [--branches 1300] [--repeat 5]

Builds, in a schema of its own (dropped after), a county of `branches` branches under 20 committees with
30 people each and `rows` outbox rows spread evenly over 2026 (2% 未送达, kinds mixed), then times
handlers.ledgers.messages.messages_ledger as 组织部 for the county, a committee and a branch, over the year
and over its first quarter, with the status and kind filters, and the first and a later keyset page.
Prints p50 / max in milliseconds and the statements issued; nothing is asserted (speed targets live here).
Then the county's file of the year as the background export builds it (snapshot, all_lines a chunk at a
time, write_messages_xlsx streamed into a temporary file): seconds, rows per second, statements, the
file's size and this process's peak memory (VmHWM; the seed is SQL run by the server, so the process
holds no rows of its own before the build).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import sessionmaker

from bench.summary import emit
from handlers.console.scope import Scope
from handlers.ledgers import messages
from handlers.ledgers.period import LedgerPeriod
from models.base import Base
from models.org import OrgUnit

TZ = ZoneInfo("Asia/Shanghai")
KEYS = ["meeting:%s:notice", "fee:d%s", "reply:e%s:0", "monthly:digest:%s:m", "leave:%s:told",
        "observers:attend:%s:1", "plan:%s:r1"]  # fmt: skip


def seed(engine, schema: str, rows: int, branches: int) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        conn.execute(text(f"SET search_path TO {schema}"))
        Base.metadata.create_all(conn)
        conn.execute(
            text(
                "INSERT INTO org_unit (id, name, kind, active, path) VALUES (1, '县委', 'committee', true, '/1/')"
            )
        )
        conn.execute(text(
            "INSERT INTO org_unit (id, name, kind, active, parent_id, path) "
            "SELECT 1 + g, '党委' || g, 'committee', true, 1, '/1/' || (1 + g) || '/' FROM generate_series(1, 20) g"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO org_unit (id, name, kind, active, parent_id, path, category) "
            "SELECT 100 + g, '支部' || g, 'branch', true, 2 + (g % 20), '/1/' || (2 + (g % 20)) || '/' || (100 + g) || '/', "
            "'community' FROM generate_series(1, :b) g"
        ), {"b": branches})  # fmt: skip
        conn.execute(text(
            "INSERT INTO person (id, name, branch_id, active, status, fee_category, is_mobile) "
            "SELECT g, '党员' || g, 101 + (g % :b), true, 'full', 'salaried', false FROM generate_series(1, :n) g"
        ), {"b": branches, "n": branches * 30})  # fmt: skip
        keys = "ARRAY[" + ",".join(f"'{k}'" for k in KEYS) + "]"
        conn.execute(text(
            "INSERT INTO outbox_message (dedup_key, recipient, platform, corp_id, target_kind, target, person_id, "
            "branch_id, payload, content_hash, status, attempts, next_attempt_at, created_at, sent_at, reason) "
            f"SELECT replace(({keys})[1 + g % 7], '%s', (g / 7)::text), 'p:' || (1 + g % :n), "
            "CASE WHEN g % 50 = 0 THEN '' ELSE 'dingtalk' END, 'corp', 'user', 'u' || (1 + g % :n), 1 + g % :n, "
            "101 + ((1 + g % :n) % :b), '{\"kind\": \"text\", \"text\": \"通知\"}', 'h' || (g % 7), "
            "CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'sent' END, 1, t, t, "
            "CASE WHEN g % 50 = 0 THEN NULL ELSE t END, CASE WHEN g % 50 = 0 THEN '未绑定钉钉或企业微信账号' END "
            "FROM (SELECT g, timestamptz '2026-01-01 00:00+08' + (g::float / :rows) * interval '365 days' AS t "
            "FROM generate_series(1, :rows) g) s"
        ), {"n": branches * 30, "b": branches, "rows": rows})  # fmt: skip
        conn.execute(text("ANALYZE"))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--branches", type=int, default=1300)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--schema", help="reuse (or seed and keep) this schema, for EXPLAIN and reruns")
    args = ap.parse_args()
    schema = args.schema or f"msgbench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(args.url, connect_args={"options": f"-csearch_path={schema}"})
    statements = [0]
    factory = sessionmaker(engine)
    staff = Scope(person_id=0, everything=True, roots=(), observed=(), title="组织部")
    year, q1 = LedgerPeriod(date(2026, 1, 1), 12), LedgerPeriod(date(2026, 1, 1), 3)
    try:
        with engine.connect() as conn:
            kept = conn.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema})
        if not kept:
            t0 = time.perf_counter()
            seed(engine, schema, args.rows, args.branches)
            print(f"seeded {args.rows:,} rows, {args.branches} branches in {time.perf_counter() - t0:.0f} s")
        event.listen(
            engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1)
        )
        with factory() as s:
            county, committee, branch = (
                s.scalars(select(OrgUnit).where(OrgUnit.id == i)).one() for i in (1, 2, 101)
            )
            later = s.scalar(text("SELECT id FROM outbox_message ORDER BY id DESC OFFSET 500000 LIMIT 1"))
        cases = [
            ("county, year", county, year, {}), ("county, Q1 (the oldest rows)", county, q1, {}),
            ("county, year, 未送达", county, year, {"status": "failed"}),
            ("county, year, kind 党费", county, year, {"kind": messages.KIND_BY_KEY["fees"]}),
            ("county, year, a later page", county, year, {"before": later}),
            ("committee, year", committee, year, {}), ("committee, Q1, 未送达", committee, q1, {"status": "failed"}),
            ("branch, year", branch, year, {}), ("branch, Q1, 未送达", branch, q1, {"status": "failed"}),
        ]  # fmt: skip
        print(f"{'page':34} {'p50 ms':>8} {'max ms':>8} {'rows':>5} {'stmts':>5}")
        worst = ("", 0.0)
        for name, unit, period, kw in cases:
            times = []
            for _ in range(args.repeat + 1):
                with factory() as s:
                    unit = s.merge(unit, load=False)
                    statements[0] = 0
                    t = time.perf_counter()
                    led = messages.messages_ledger(s, staff, unit, period, tz=TZ, **kw)
                    times.append((time.perf_counter() - t) * 1000)
            times = times[1:]
            print(
                f"{name:34} {statistics.median(times):8.1f} {max(times):8.1f} {len(led.rows):5} {statements[0]:5}"
            )
            worst = max(worst, (name, statistics.median(times)), key=lambda w: w[1])
        emit(
            "ledgers_messages",
            "postgresql",
            f"slowest page p50, {args.rows:,} rows: {worst[0]}",
            worst[1],
            "ms",
        )
        with factory() as s:
            county = s.merge(county, load=False)
            statements[0] = 0
            t = time.perf_counter()
            below, total = messages.snapshot(s, staff, county, year, tz=TZ)
            with tempfile.TemporaryFile() as out:
                lines = messages.all_lines(s, staff, county, year, tz=TZ, before=below)
                rows = messages.write_messages_xlsx(out, lines, county, year, TZ)
                size = out.tell()
            seconds = time.perf_counter() - t
        print(f"county's file of the year: {rows:,} rows of {total:,} in {seconds:.1f} s "
              f"({rows / seconds:,.0f} rows/s), {statements[0]} statements, {size / 2**20:.1f} MB, "
              f"peak memory {peak_rss_mb():.0f} MB (process)")  # fmt: skip
        emit("ledgers_messages", "postgresql", f"county's yearly file, {rows:,} rows", seconds, "s")
    finally:
        if not args.schema:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    main()
