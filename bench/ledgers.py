"""Benchmark the 台账 (#17) pages and files on a seeded organisation with 12 months of history.

    .venv/bin/python bench/ledgers.py [--scale county] [--databases sqlite postgresql] [--repeat 3]

Seeds as bench/console.py does (models.seed, the closed months' scores stored, the last month's unit
ladders run), then asks each ledger through the real routes (TestClient) as 组织部, REPEAT times after
one warm-up, and prints per request: server time (p50 / max), the size of the answer, the rows of the
largest sheet where it is an .xlsx (rows per second), the statements it issued, and the peak Python
memory of one request (tracemalloc, which slows the measured request, so it is taken separately).

Goals of #17: a branch's yearly .docx under 2 s; a county's yearly meetings .xlsx under 60 s and
300 MB (the county export is not built yet: a committee's is the largest file measured here).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from openpyxl import load_workbook  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from bench.console import CORE, NOW, PG_URL, prepare, viewers  # noqa: E402
from bot.web.console import build_console  # noqa: E402
from bot.web.console.deps import COOKIE  # noqa: E402
from handlers.console.sessions import ConsoleConfig, open_session  # noqa: E402
from models.db import make_engine, unit_of_work  # noqa: E402
from models.org import OrgUnit  # noqa: E402


def requests(committee: int, branch: int, county: int) -> list[tuple[str, str]]:
    return [
        ("支部 纪实台账 页面（全年）", f"/console/ledgers/{branch}/meetings?period=2026"),
        ("支部 纪实台账 .docx（全年）", f"/console/ledgers/{branch}/meetings.docx?period=2026"),
        ("支部 纪实台账 .xlsx（全年）", f"/console/ledgers/{branch}/meetings.xlsx?period=2026"),
        ("支部 党费台账 页面（全年）", f"/console/ledgers/{branch}/fees?period=2026"),
        ("党委 党费台账 .xlsx（全年）", f"/console/ledgers/{committee}/fees.xlsx?period=2026"),
        ("党委 月积分台账 页面（季度）", f"/console/ledgers/{committee}/scores?period=2026-Q4"),
        ("全县 月积分台账 .xlsx（全年）", f"/console/ledgers/{county}/scores.xlsx?period=2026"),
        ("全县 党费台账 页面（当月）", f"/console/ledgers/{county}/fees?period=2026-11"),
        ("党委 观察员台账 页面（全年）", f"/console/ledgers/{committee}/observers?period=2026"),
        ("党委 观察员台账 .docx（全年）", f"/console/ledgers/{committee}/observers.docx?period=2026"),
        ("全县 观察员台账 .xlsx（全年）", f"/console/ledgers/{county}/observers.xlsx?period=2026"),
    ]


def largest_sheet(body: bytes) -> int:
    wb = load_workbook(io.BytesIO(body), read_only=True)
    return max(sum(1 for _ in ws.iter_rows()) for ws in wb.worksheets)  # write-only files have no dimension


def bench(url: str, scale: str, repeat: int, name: str) -> None:
    engine, factory = prepare(url, scale)
    who = viewers(factory)
    staff, committee, branch, _ = who["组织部"]
    with factory() as session:
        county = session.get(OrgUnit, committee).parent_id or committee
    app = FastAPI()
    build_console(app, factory, {}, CORE, clock=lambda: NOW)
    with unit_of_work(factory) as session:
        token = open_session(session, staff, "bench", now=NOW, cfg=ConsoleConfig())
    client = TestClient(app)
    client.cookies.set(COOKIE, token)
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a, **k: count.__setitem__(0, count[0] + 1))
    print(f"\n== {name}: {scale}")
    print(
        f"  {'request':<28} {'p50 s':>7} {'max s':>7} {'KB':>7} {'rows':>7} {'rows/s':>8} {'stmts':>6} {'peak MB':>8}"
    )
    for label, path in requests(committee, branch, county):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        times = []
        for _ in range(repeat):
            count[0] = 0
            t = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t)
        stmts = count[0]
        tracemalloc.start()
        client.get(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows = largest_sheet(r.content) if path.split("?")[0].endswith(".xlsx") else 0
        p50 = statistics.median(times)
        rate = f"{rows / p50:8.0f}" if rows else f"{'':>8}"
        print(f"  {label:<28} {p50:7.2f} {max(times):7.2f} {len(r.content) / 1024:7.0f} {rows or '':>7} {rate} "
              f"{stmts:>6} {peak / 2**20:8.1f}", flush=True)  # fmt: skip
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="county", choices=["demo", "county", "city"])
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name in args.databases:
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                bench(f"sqlite:///{tmp}/ledgers.db", args.scale, args.repeat, name)
            continue
        admin = make_engine(PG_URL)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in PG_URL else "?"
            bench(f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}", args.scale, args.repeat, name)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
