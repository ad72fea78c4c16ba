"""Benchmark the JSON API's read endpoints on a county-sized organisation.

    .venv/bin/python bench/api_reads.py [--scale county] [--databases sqlite postgresql] [--repeat 20]

Seeds the organisation (30 committees, ~1,300 branches, ~30,000 members at county scale) into a
temp SQLite file and a fresh PostgreSQL schema (ZHIBU_BENCH_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test, dropped afterwards), then times each endpoint
in-process through FastAPI's TestClient, one request at a time, for an all-scope token and a
committee token. Prints p50 / p95 / max in milliseconds per endpoint. No targets are asserted: it is
there to catch a pathological query (the whole-tree endpoint, the subtree counts, the scope joins).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

import models  # noqa: E402, F401 - registers every table
from bench.summary import emit  # noqa: E402
from bot.web.api import build_api_router  # noqa: E402
from models.api_token import issue_token  # noqa: E402
from models.base import Base, utcnow  # noqa: E402
from models.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from models.org import OrgUnit, Person, UnitKind  # noqa: E402
from models.seed import seed  # noqa: E402

PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def run(url: str, scale: str, repeat: int) -> list[tuple[str, list[float]]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        seed(session, scale, dingtalk_corp_id="ding-bench", wecom_corp_id="ww-bench", today=date(2026, 3, 1))
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
    with unit_of_work(factory) as session:
        committee = session.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE).limit(1)).one()
        branch_id = session.scalar(
            select(Person.branch_id)
            .where(Person.branch_id.is_not(None))
            .group_by(Person.branch_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        _, everything = issue_token(session, name="bench-all", scope_unit=None, now=utcnow())
        _, scoped = issue_token(session, name="bench-committee", scope_unit=committee, now=utcnow())
        counts = (
            session.scalar(select(func.count(OrgUnit.id))),
            session.scalar(select(func.count(Person.id))),
        )
    print(f"  {counts[0]} units, {counts[1]} people", flush=True)

    app = FastAPI()
    app.include_router(build_api_router(factory))
    client = TestClient(app)
    cases = [
        ("all: /org/tree", everything, "/api/v1/org/tree", {}),
        ("all: /units?limit=200", everything, "/api/v1/units", {"limit": 200}),
        (
            "all: /units?kind=branch&offset=1000",
            everything,
            "/api/v1/units",
            {"kind": "branch", "offset": 1000},
        ),
        ("all: /people?limit=200", everything, "/api/v1/people", {"limit": 200}),
        ("all: /people?limit=50&offset=20000", everything, "/api/v1/people", {"limit": 50, "offset": 20000}),
        ("all: /people?branch_id=<largest>", everything, "/api/v1/people", {"branch_id": branch_id}),
        ("all: /role-assignments?limit=200", everything, "/api/v1/role-assignments", {"limit": 200}),
        ("all: /deliveries", everything, "/api/v1/deliveries", {}),
        ("committee: /org/tree", scoped, "/api/v1/org/tree", {}),
        ("committee: /people?limit=200", scoped, "/api/v1/people", {"limit": 200}),
        ("committee: /people?name=王", scoped, "/api/v1/people", {"name": "王"}),
    ]
    results = []
    for label, token, path, params in cases:
        headers = {"Authorization": f"Bearer {token}"}
        response = client.get(path, params=params, headers=headers)  # warm-up, and a sanity check
        assert response.status_code == 200, (label, response.status_code, response.text[:200])
        timings = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(path, params=params, headers=headers)
            timings.append((time.perf_counter() - t0) * 1000)
        results.append((label, timings))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="county")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for database in args.databases:
        print(f"== {database}, scale {args.scale}", flush=True)
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results = run(f"sqlite:///{tmp}/bench.db", args.scale, args.repeat)
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in PG_URL else "?"
            try:
                results = run(
                    f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}", args.scale, args.repeat
                )
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        print(f"  {'endpoint':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        worst = ("", 0.0)
        for label, timings in results:
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            print(f"  {label:<42} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f}")
            worst = max(worst, (label, p95), key=lambda w: w[1])
        emit("api_reads", database, f"worst endpoint p95, {args.scale}: {worst[0]}", worst[1], "ms")


if __name__ == "__main__":
    main()
