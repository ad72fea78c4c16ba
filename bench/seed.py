"""Benchmark `zhibu seed`: county and city scales into fresh SQLite and PostgreSQL databases.

    .venv/bin/python bench/seed.py [--scales county city] [--databases sqlite postgresql]

SQLite is a temp file; PostgreSQL is a fresh schema in ZHIBU_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped afterwards. Targets (issue 2):
county < 30 s and city < 5 min on each database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

import models  # noqa: E402, F401 - registers every table
from bench.summary import emit  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from models.seed import SCALES, seed, table_counts  # noqa: E402

PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET = {"county": 30, "city": 300}


def run_one(scale: str, url: str) -> tuple[float, dict[str, int]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        seed(session, scale, dingtalk_corp_id="dingbench", wecom_corp_id="wwbench", today=date(2026, 11, 23))
    elapsed = time.perf_counter() - started
    with factory() as session:
        rows = table_counts(session)
    engine.dispose()
    return elapsed, rows


def sqlite(scale: str):
    with tempfile.TemporaryDirectory() as tmp:
        return run_one(scale, f"sqlite:///{tmp}/bench.db")


def postgresql(scale: str):
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in PG_URL else "?"
        return run_one(scale, f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales", nargs="+", default=["county", "city"], choices=[s for s in SCALES if s != "demo"]
    )
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    runners = {"sqlite": sqlite, "postgresql": postgresql}
    print(f"{'scale':<8} {'database':<11} {'seconds':>8} {'target':>7}  rows")
    results = []
    for scale in args.scales:
        for db in args.databases:
            elapsed, rows = runners[db](scale)
            ok = elapsed < TARGET[scale]
            results.append(ok)
            emit("seed", db, f"zhibu seed --scale {scale}", elapsed, "s", goal=f"< {TARGET[scale]} s", met=ok)
            per_table = ", ".join(f"{k}={v:,}" for k, v in rows.items())
            total = sum(rows.values())
            print(
                f"{scale:<8} {db:<11} {elapsed:>8.1f} {TARGET[scale]:>6}s  {per_table} "
                f"(total {total:,}, {total / elapsed:,.0f} rows/s) {'OK' if ok else 'TOO SLOW'}",
                flush=True,
            )
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
