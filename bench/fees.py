"""Benchmark: fee-day reminders for a city-scale organisation (300,000 members, 20% unpaid).

  .venv/bin/python bench/fees.py [--scale city|county|province] [--deliver-sample 1000]

1. Seeds the organisation with models.seed (bulk inserts) and marks 80% of the members paid for
   November 2026 (one INSERT … SELECT).
2. Times the selection alone (who is unpaid, grouped by card) and then the job that selects and
   queues them (bot.core.outbox), and a second run of the job (idempotent: nothing new).
3. Delivery: the reminder is one link card for everyone (its 已交 opens the H5 page), which the
   relay sends to many recipients per call: DingTalk batchSend 20 users per call at its per-app QPS
   (20/s), WeCom message/send 1,000 users per call at 10,000 calls/min. The minimum those limits
   allow for the queued rows is computed; then a
   sample of the rows is delivered for real by the relay through the sandbox (the unmodified SDK
   clients over loopback HTTP) on a manual clock, and its virtual duration is compared with the
   minimum for the sample.

The database is PostgreSQL when ZHIBU_BENCH_DATABASE_URL (or ZHIBU_TEST_DATABASE_URL) is set, in a
fresh schema dropped afterwards; otherwise a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Numeric, func, literal, select, text, update  # noqa: E402

import models  # noqa: E402, F401 - registers every table
from bench.summary import emit  # noqa: E402
from bot.core.ratelimit import ManualClock  # noqa: E402
from bot.core.relay import Relay  # noqa: E402
from config import demo  # noqa: E402
from config.settings import DEFAULT_TIMEZONE, DingTalkSettings, Settings, WeComSettings  # noqa: E402
from handlers.fees import arrears, jobs  # noqa: E402
from models.base import Base, UTCDateTime  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.fees import FeePayment, PaymentMethod, PaymentStatus  # noqa: E402
from models.org import ChatAccount, Person  # noqa: E402
from models.outbox import DeliveryStatus, OutboxMessage  # noqa: E402
from models.seed import seed  # noqa: E402

FEE_DAY = date(2026, 11, 6)
MONTH = date(2026, 11, 1)
JOB_AT = datetime(2026, 11, 5, 16, 5, tzinfo=UTC)  # 00:05 Shanghai on the fee day
TZ = ZoneInfo(DEFAULT_TIMEZONE)  # the zone the times above are written in (settings.timezone's default)
SEND_AT = datetime(2026, 11, 6, 1, 0, tzinfo=UTC)  # 09:00 Shanghai

DINGTALK_CALLS_PER_SECOND = 20  # batchSend: per-app API limit (platforms.md §5)
DINGTALK_USERS_PER_CALL = 20
WECOM_CALLS_PER_SECOND = 10000 / 60  # message/send, company-wide per-API figure
WECOM_USERS_PER_CALL = 1000


def database() -> tuple[str, callable]:
    base = os.environ.get("ZHIBU_BENCH_DATABASE_URL") or os.environ.get("ZHIBU_TEST_DATABASE_URL")
    if base:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"

        def cleanup():
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        return url, cleanup
    tmp = tempfile.mkdtemp()
    return f"sqlite:///{tmp}/bench.db", lambda: None


def minimum_seconds(by_platform: Counter) -> float:
    # The two platforms send in parallel; each is bound by its own API limit. Every reminder of the
    # day has the same content, so the calls are the recipients over the per-call maximum.
    return max(
        math.ceil(by_platform.get("dingtalk", 0) / DINGTALK_USERS_PER_CALL) / DINGTALK_CALLS_PER_SECOND,
        math.ceil(by_platform.get("wecom", 0) / WECOM_USERS_PER_CALL) / WECOM_CALLS_PER_SECOND,
    )


def deliver_sample(factory, sample: int) -> dict:
    from bot.platforms.wiring import build_platforms
    from sandbox.testing import running_sandbox

    with factory() as s, s.begin():
        ids = list(
            s.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == DeliveryStatus.QUEUED, OutboxMessage.dedup_key.startswith("fee:")
                )
                .order_by(OutboxMessage.id)
                .limit(sample)
            )
        )
        # Only the sample is due; the rest waits, so the relay's drain ends with the sample.
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == DeliveryStatus.QUEUED, OutboxMessage.id.not_in(ids))
            .values(next_attempt_at=SEND_AT + timedelta(days=365))
        )
        rows = s.execute(
            select(OutboxMessage.platform, OutboxMessage.target, ChatAccount.person_id)
            .join(
                ChatAccount,
                (ChatAccount.account_id == OutboxMessage.target)
                & (ChatAccount.platform == OutboxMessage.platform),
            )
            .where(OutboxMessage.id.in_(ids))
        ).all()
    by_platform = Counter(p for p, _t, _pid in rows)
    fixture_users = {"dingtalk": [], "wecom": []}
    for platform, target, pid in rows:
        fixture_users[platform].append({"userid": target, "name": f"党员{pid}"})
    fixture = {
        "dingtalk": {
            "corp_id": demo.DINGTALK_CORP_ID,
            "app": {"client_id": demo.DINGTALK_CLIENT_ID, "client_secret": demo.DINGTALK_CLIENT_SECRET},
            "users": fixture_users["dingtalk"],
        },
        "wecom": {
            "corp_id": demo.WECOM_CORP_ID,
            "agent_id": demo.WECOM_AGENT_ID,
            "secret": demo.WECOM_SECRET,
            "users": [{**u, "department": [1]} for u in fixture_users["wecom"]],
        },
    }
    with running_sandbox(fixture) as sb:
        settings = Settings(
            demo=True,
            dingtalk=DingTalkSettings(
                client_id=demo.DINGTALK_CLIENT_ID,
                client_secret=demo.DINGTALK_CLIENT_SECRET,
                robot_code=demo.DINGTALK_ROBOT_CODE,
                corp_id=demo.DINGTALK_CORP_ID,
                openapi_endpoint=sb.url,
                oapi_endpoint=sb.url,
            ),
            wecom=WeComSettings(
                corp_id=demo.WECOM_CORP_ID,
                agent_id=demo.WECOM_AGENT_ID,
                secret=demo.WECOM_SECRET,
                api_base=sb.wecom_api_base,
                oauth_base=sb.wecom_oauth_base,
            ),
        )
        platforms = build_platforms(settings, None, stream=False)
        last = [SEND_AT]

        def follow(now: datetime) -> None:
            sb.move_clock((now - last[0]).total_seconds())
            last[0] = now

        clock = ManualClock(SEND_AT, listeners=[follow])
        relay = Relay(factory, platforms.senders, clock=clock)
        started = time.perf_counter()
        result = relay.drain(max_cycles=100_000)
        wall = time.perf_counter() - started
        counters = sb.counters()
        platforms.close()
    return {
        "rows": len(ids),
        "by_platform": by_platform,
        "sent": result.sent,
        "failed": result.failed,
        "virtual": (clock.now() - SEND_AT).total_seconds(),
        "wall": wall,
        "minimum": minimum_seconds(by_platform),
        "rate_limited": counters.get("rate_limited_total", counters),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="city", choices=["city", "county", "province"])
    parser.add_argument(
        "--deliver-sample", type=int, default=1000, help="rows delivered through the sandbox (0: skip)"
    )
    args = parser.parse_args()

    url, cleanup = database()
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        factory = make_sessionmaker(engine)
        print(f"database: {engine.dialect.name}; scale: {args.scale}")

        t = time.perf_counter()
        with factory() as s, s.begin():
            seed(
                s,
                args.scale,
                dingtalk_corp_id=demo.DINGTALK_CORP_ID,
                wecom_corp_id=demo.WECOM_CORP_ID,
                now=datetime(2025, 1, 1, tzinfo=UTC),
            )
            members = s.scalar(select(func.count()).select_from(Person).where(Person.branch_id.is_not(None)))
        print(f"seeded {members:,} members in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        with factory() as s, s.begin():
            paid = select(
                Person.id,
                Person.branch_id,
                literal(MONTH),
                literal(Decimal("1.00"), Numeric(12, 2)),
                literal(SEND_AT - timedelta(days=2), UTCDateTime()),
                literal(PaymentMethod.BULK_IMPORT.value),
                literal(PaymentStatus.CONFIRMED.value),
                literal(""),
                literal(SEND_AT, UTCDateTime()),
                literal(SEND_AT, UTCDateTime()),
            ).where(Person.branch_id.is_not(None), Person.id % 5 != 0)
            cols = [
                "person_id",
                "branch_id",
                "month",
                "amount",
                "paid_at",
                "method",
                "status",
                "note",
                "created_at",
                "updated_at",
            ]
            s.execute(FeePayment.__table__.insert().from_select(cols, paid))
            n_paid = s.scalar(select(func.count()).select_from(FeePayment))
        print(f"marked {n_paid:,} paid for {MONTH:%Y-%m} in {time.perf_counter() - t:.1f} s")
        if engine.dialect.name == "postgresql":
            # Fresh bulk loads have no statistics yet (autovacuum would analyse them in production);
            # without them the planner picks nested loops over "empty" tables.
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))

        with factory() as s, s.begin():
            t = time.perf_counter()
            batches = arrears.reminder_batches(s, FEE_DAY)
            select_s = time.perf_counter() - t
            s.rollback()
        selected = sum(len(b.person_ids) for b in batches)
        print(f"selection: {selected:,} unpaid members in {len(batches):,} card groups: {select_s:.2f} s")

        with factory() as s, s.begin():
            t = time.perf_counter()
            queued = jobs.fee_day_reminders(s, FEE_DAY, JOB_AT, TZ)
            job_s = time.perf_counter() - t
        print(f"job (select + queue): {queued:,} outbox rows in {job_s:.2f} s ({queued / job_s:,.0f} rows/s)")

        with factory() as s, s.begin():
            t = time.perf_counter()
            again = jobs.fee_day_reminders(s, FEE_DAY, JOB_AT, TZ)
            rerun_s = time.perf_counter() - t
        print(f"second run of the job: {again} new rows in {rerun_s:.2f} s")

        with factory() as s:
            t = time.perf_counter()
            counts = arrears.arrears_counts(s, MONTH, tz=TZ)
            arrears_s = time.perf_counter() - t
        at3 = sum(1 for a in counts.values() if a.months >= 3)
        print(
            f"arrears_counts for the whole organisation ({len(counts):,} members in a run, {at3:,} at 3+): {arrears_s:.2f} s"
        )

        with factory() as s:
            by_platform = Counter(
                dict(
                    s.execute(
                        select(OutboxMessage.platform, func.count())
                        .where(
                            OutboxMessage.dedup_key.startswith("fee:"),
                            OutboxMessage.status == DeliveryStatus.QUEUED,
                        )
                        .group_by(OutboxMessage.platform)
                    ).all()
                )
            )
            unreachable = s.scalar(
                select(func.count()).where(
                    OutboxMessage.dedup_key.startswith("fee:"), OutboxMessage.status == DeliveryStatus.FAILED
                )
            )
        minimum = minimum_seconds(by_platform)
        print(
            f"queued per platform: {dict(by_platform)}; unreachable (no account): {unreachable:,}\n"
            f"minimum delivery time the limits allow (one link card; DingTalk {DINGTALK_USERS_PER_CALL} users "
            f"per call at {DINGTALK_CALLS_PER_SECOND}/s, WeCom {WECOM_USERS_PER_CALL} per call at "
            f"{WECOM_CALLS_PER_SECOND:.0f}/s, in parallel): "
            f"{minimum:,.0f} s = {minimum / 60:.1f} min"
        )

        if args.deliver_sample:
            r = deliver_sample(factory, args.deliver_sample)
            print(
                f"sandbox delivery of a sample of {r['rows']:,} rows {dict(r['by_platform'])}: "
                f"sent {r['sent']:,}, failed {r['failed']:,}; virtual time {r['virtual']:.1f} s vs the "
                f"limits' minimum {r['minimum']:.1f} s ({r['virtual'] / r['minimum']:.2f}x); wall {r['wall']:.1f} s; "
                f"sandbox rate-limit refusals: {r['rate_limited']}"
            )
            if r["minimum"]:
                ratio = r["virtual"] / r["minimum"]
                print(f"extrapolated full delivery at the sample's ratio: {minimum * ratio / 60:.1f} min")
                emit("fees", engine.dialect.name, f"sample of {r['rows']:,} reminders delivered, virtual time "
                     "(the platforms' limits as floor)", r["virtual"], "s", floor=r["minimum"],
                     goal="all sent", met=r["failed"] == 0)  # fmt: skip
        emit("fees", engine.dialect.name, f"fee-day job, {queued:,} reminders queued ({args.scale})", job_s, "s",
             goal="< 120 s", met=job_s < 120)  # fmt: skip
    finally:
        engine.dispose()
        cleanup()


if __name__ == "__main__":
    main()
