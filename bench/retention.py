"""Retention benchmark: how long one run of the retention job (one batch of each table, one transaction)
holds its tables when years of ledger have piled up.

Builds a scratch database with --old settled outbox rows older than the window (spread over --people
members, each with a newer row so all of them may go), --recent rows inside it and as many old inbound
dedup marks, then runs handlers.retention.purge batch after batch until nothing is left, timing each
run's transaction. Floor: every run's transaction under 1 s (a chat reply waits at most that long on
SQLite's one writer; PostgreSQL locks only the deleted rows).

    .venv/bin/python bench/retention.py                          # SQLite
    .venv/bin/python bench/retention.py --database postgresql    # PostgreSQL at 127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402

import models  # noqa: E402, F401
from bench.summary import emit  # noqa: E402
from config.rules import RetentionRules  # noqa: E402
from handlers.retention import purge  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.inbox import InboundEvent  # noqa: E402
from models.org import Person  # noqa: E402
from models.outbox import DeliveryStatus, OutboxMessage  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2028, 1, 1, tzinfo=UTC)
FLOOR_SECONDS = 1.0


def fill(engine, *, old: int, recent: int, people: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Person), [{"name": f"党员{i}"} for i in range(people)])
        ids = list(conn.scalars(select(Person.id)))
        chunk = 20_000
        total = old + recent
        for start in range(0, total, chunk):
            rows = []
            for n in range(start, min(start + chunk, total)):
                at = (
                    NOW - timedelta(days=800) + timedelta(seconds=n * 40)
                    if n < old
                    else NOW - timedelta(days=30)
                )
                rows.append(
                    {
                        "dedup_key": f"k{n}",
                        "recipient": f"p:{ids[n % people]}",
                        "platform": "dingtalk",
                        "target": f"u{n % people}",
                        "person_id": ids[n % people],
                        "payload": {"kind": "text", "text": "通知"},
                        "content_hash": "h",
                        "status": DeliveryStatus.SENT if n % 10 else DeliveryStatus.FAILED,
                        "next_attempt_at": at,
                        "created_at": at,
                        "sent_at": at if n % 10 else None,
                    }
                )
            conn.execute(insert(OutboxMessage), rows)
        for start in range(0, old, chunk):
            conn.execute(
                insert(InboundEvent),
                [
                    {"platform": "wecom", "event_id": f"e{n}", "received_at": NOW - timedelta(days=60)}
                    for n in range(start, min(start + chunk, old))
                ],
            )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--old", type=int, default=300_000)
    parser.add_argument("--recent", type=int, default=50_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=RetentionRules().batch_size)
    args = parser.parse_args()

    schema = None
    if args.database == "postgresql":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG}?options={quote(f'-csearch_path={schema}')}"
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'retention.db'}"
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        fill(engine, old=args.old, recent=args.recent, people=args.people)
        print(
            f"filled {args.old + args.recent:,} outbox rows and {args.old:,} dedup marks in {time.perf_counter() - started:.0f} s"
        )
        factory = make_sessionmaker(engine)
        keep = RetentionRules(batch_size=args.batch)
        runs, deleted = [], 0
        while True:
            t0 = time.perf_counter()
            with factory() as session, session.begin():
                done = purge(session, NOW, keep)
            runs.append(time.perf_counter() - t0)
            deleted += done.outbox + done.inbound
            if done.outbox == 0 and done.inbound == 0:
                break
        with engine.connect() as conn:
            left = conn.scalar(select(func.count()).select_from(OutboxMessage))
        print(
            f"{args.database}: {len(runs)} runs of ≤{args.batch:,} rows per table deleted {deleted:,} rows; "
            f"per run median {statistics.median(runs) * 1000:.0f} ms, max {max(runs) * 1000:.0f} ms "
            f"(floor: every run under {FLOOR_SECONDS * 1000:.0f} ms); {left:,} outbox rows kept "
            f"(expected {args.recent:,}: the window, which holds every member's newest)"
        )
        print("OK" if max(runs) < FLOOR_SECONDS else "BELOW FLOOR")
        emit("retention", args.database, f"longest purge run, {args.old + args.recent:,} outbox rows",
             max(runs) * 1000, "ms", goal=f"every run < {FLOOR_SECONDS * 1000:.0f} ms",
             met=max(runs) < FLOOR_SECONDS)  # fmt: skip
    finally:
        engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
