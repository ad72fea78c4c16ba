"""Benchmark the console's 总览 pages at city scale with 12 months of history.

    .venv/bin/python bench/console.py [--scale city] [--small county] [--databases sqlite postgresql] [--repeat 20]

For each database and for two scales (the small one to show the statement counts do not grow with
the number of branches), it seeds the organisation with 12 months of meetings history (models.seed:
plans, meetings, sign-ins, leave, 补学, minutes), stores the 11 closed months' scores as the monthly
job does (the last one with its unit ladders, so there are escalations), then requests each page as
组织部 (the whole tree), the largest committee's 书记 and a branch's 书记, in process through the real
routes (TestClient), REPEAT times after one warm-up, and prints per page:

- server p50 / p95: the time inside the app (a middleware around the route, so the client's own
  overhead is left out), which the goal (p95 < 300 ms on PostgreSQL) is about;
- floor p95: the same request's SQL statements, captured with their parameters, run bare on the
  DBAPI connection (fetching every row) — what the database alone costs for that page;
- p95/floor: how many times the database's own cost the page takes (fairer than the absolute
  figure on a loaded machine);
- cold: the page's first request in the process. The console keeps each month's whole-organisation
  figures in memory (handlers.console.overview.MonthCache), so the first look at a month pays for
  building them (scoring it, for the current month) and every later request, whoever the viewer,
  reads them. `zhibu serve` builds this month and the last in the background at start-up
  (ConsoleApp.warm), and so does the bench before its first request: "warm" is how long that took
  (what a viewer in that window waits at most), "cold" the first request after it; the statements
  are those of a request after the first;
- statements: how many the page issued, at each scale ("same" when equal).

The databases are a temp SQLite file and fresh PostgreSQL schemas in ZHIBU_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped afterwards. With --keep NAME the PostgreSQL
schemas are NAME_county, NAME_city (…) instead: seeded on the first run, kept, and measured again as
they are on later runs (seeding the city takes about half an hour, so a change can be measured again in
minutes); drop them with `DROP SCHEMA NAME_city CASCADE` when done.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

import models  # noqa: E402, F401 - registers every table and the history generators
from bench.summary import emit  # noqa: E402
from bot.core.context import CoreConfig  # noqa: E402
from bot.web.console import build_console  # noqa: E402
from bot.web.console.deps import COOKIE  # noqa: E402
from handlers.common.dates import add_months  # noqa: E402
from handlers.console.sessions import ConsoleConfig, open_session  # noqa: E402
from handlers.meetings.types import meetings_config  # noqa: E402
from handlers.monthly import ladder, service  # noqa: E402
from handlers.monthly.config import monthly_config  # noqa: E402
from handlers.monthly.recipients import RoleBook  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from models.meetings import Meeting  # noqa: E402
from models.org import OrgUnit, Person, Role, RoleAssignment, UnitKind  # noqa: E402
from models.seed import seed  # noqa: E402

PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 20 November, 10:00 in Shanghai
TODAY = date(2026, 11, 20)
MONTHS = 12
CLOSED = date(2026, 10, 1)  # the last closed month: its scores stored, its ladders run
CORE = CoreConfig(tz=TZ, public_base_url="https://zhibu.example", secret_key="bench-console")


class Capture:
    """Every statement the engine runs while `on`, with its parameters (for the bare replay)."""

    def __init__(self, engine) -> None:
        self.on = False
        self.statements: list[tuple[str, object, bool]] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            self.statements.append((statement, parameters, executemany))

    def take(self) -> list[tuple[str, object, bool]]:
        out, self.statements = self.statements, []
        return out


def analyse(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ANALYZE " + ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)))


def prepare(url: str, scale: str) -> tuple:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('org_unit')")).scalar() is not None:
                units = conn.execute(select(func.count()).select_from(OrgUnit)).scalar()
                print(f"  {scale}: reusing the kept schema ({units} units)", flush=True)
                return engine, make_sessionmaker(engine)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    t = time.perf_counter()
    with unit_of_work(factory) as session:
        res = seed(session, scale, dingtalk_corp_id="dingbench", wecom_corp_id="wwbench", months=MONTHS,
                   today=TODAY, now=NOW)  # fmt: skip
    seeded = time.perf_counter() - t
    if engine.dialect.name == "postgresql":
        # A fresh bulk load has no statistics yet (autovacuum would analyse it in production); without
        # them the planner picks nested loops over "empty" tables and the ladders' queries take minutes.
        analyse(engine)
    t = time.perf_counter()
    mcfg, cfg = monthly_config(CORE), meetings_config(CORE)
    # The monthly job has run on each closed month's 1st: scores stored; the last one's unit ladders
    # too, so there are escalations to count (the member ladders add nothing the pages read otherwise).
    for i in range(MONTHS - 1, 0, -1):
        month = add_months(CLOSED, -(i - 1))
        run_at = datetime(*add_months(month, 1).timetuple()[:3], 1, 0, tzinfo=UTC)
        with unit_of_work(factory) as session:
            scores, _ = service.compute_and_store(session, month, now=run_at, mcfg=mcfg, cfg=cfg)
            if month == CLOSED:
                roles = {Role.ORG_STAFF, *mcfg.committee_leader_roles, *mcfg.branch_manager_roles}
                for preset in (mcfg.committee_ladder, mcfg.branch_ladder):
                    roles |= {r for rung in preset.rungs for r in rung.roles}
                book = RoleBook(session, roles)
                ladder.run_unit_ladders(session, scores, now=run_at, mcfg=mcfg, book=book, send=False)
    scored = time.perf_counter() - t
    if engine.dialect.name == "postgresql":
        analyse(engine)
    print(f"  {scale}: {res.rows.get('org_unit', 0)} units, {res.rows.get('person', 0)} people, "
          f"{res.rows.get('meeting', 0)} meetings, {res.rows.get('attendance', 0)} sign-ins; seeded in "
          f"{seeded:.0f} s, {MONTHS - 1} months scored and stored in {scored:.0f} s", flush=True)  # fmt: skip
    return engine, factory


def viewers(factory) -> dict[str, tuple[int, int | None, int | None, int | None]]:
    """role → (person, their committee or None, a branch in scope, a meeting of that branch last month)."""
    with factory() as session:
        staff = session.scalar(
            select(RoleAssignment.person_id)
            .where(RoleAssignment.role == Role.ORG_STAFF, RoleAssignment.org_unit_id.is_(None))
            .limit(1)
        )
        # The committee with the most branches under it, and its 书记.
        branches = select(OrgUnit.id).where(OrgUnit.kind == UnitKind.BRANCH).subquery()
        committees = session.execute(
            select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == UnitKind.COMMITTEE)
        ).all()
        sizes = dict(
            session.execute(
                select(OrgUnit.parent_id, func.count())
                .where(OrgUnit.id.in_(select(branches.c.id)))
                .group_by(OrgUnit.parent_id)
            ).all()
        )
        committee = max(committees, key=lambda c: sizes.get(c[0], 0))[0]
        c_sec = session.scalar(
            select(RoleAssignment.person_id)
            .where(RoleAssignment.org_unit_id == committee, RoleAssignment.role == Role.SECRETARY)
            .limit(1)
        )
        branch = session.scalar(
            select(OrgUnit.id)
            .where(OrgUnit.parent_id == committee, OrgUnit.kind == UnitKind.BRANCH)
            .order_by(OrgUnit.id)
            .limit(1)
        )
        b_sec = session.scalar(
            select(RoleAssignment.person_id)
            .where(RoleAssignment.org_unit_id == branch, RoleAssignment.role == Role.SECRETARY)
            .limit(1)
        ) or session.scalar(select(Person.id).where(Person.branch_id == branch).limit(1))
        lo = datetime(2026, 9, 30, 16, tzinfo=UTC)
        meeting = session.scalar(
            select(Meeting.id)
            .where(Meeting.branch_id == branch, Meeting.starts_at >= lo)
            .order_by(Meeting.starts_at)
            .limit(1)
        )
        if c_sec is None:  # the seed always names one; a bench without it would measure nothing
            raise SystemExit("no committee secretary in the seed")
        with unit_of_work(factory) as s:
            ra = s.scalar(
                select(RoleAssignment).where(
                    RoleAssignment.person_id == b_sec, RoleAssignment.org_unit_id == branch
                )
            )
            if ra is None:
                s.add(RoleAssignment(person_id=b_sec, org_unit_id=branch, role=Role.SECRETARY))
    return {"组织部": (staff, committee, branch, meeting), "党委书记": (c_sec, committee, branch, meeting),
            "支部书记": (b_sec, None, branch, meeting)}  # fmt: skip


def pages(role: str, committee: int | None, branch: int, meeting: int | None) -> list[tuple[str, str]]:
    out = [("总览 本月（实时）", "/console/"), ("总览 上月（已发布）", "/console/?month=2026-10")]
    if committee is not None:
        out += [("党委 上月", f"/console/units/{committee}?month=2026-10"),
                ("党委 本月", f"/console/units/{committee}")]  # fmt: skip
    out += [
        ("支部 上月", f"/console/units/{branch}?month=2026-10"),
        ("支部 本月", f"/console/units/{branch}"),
    ]
    if meeting is not None:
        out.append(("会议", f"/console/meetings/{meeting}"))
    return out


def replay(engine, statements) -> float:
    """The captured statements run bare on one DBAPI connection, every row fetched: seconds."""
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        t = time.perf_counter()
        cur = raw.cursor()
        for statement, params, many in statements:
            if many:
                cur.executemany(statement, params)
            else:
                cur.execute(statement, params)
                if cur.description is not None:
                    cur.fetchall()
        cur.close()
        elapsed = time.perf_counter() - t
        raw.rollback()
    return elapsed


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.95))]


def measure(engine, factory, repeat: int) -> dict[tuple[str, str], dict]:
    app = FastAPI()
    console = build_console(app, factory, {}, CORE, clock=lambda: NOW)
    t = time.perf_counter()
    console.warm().join()
    print(f"    warm: this month and the last built in {time.perf_counter() - t:.1f} s", flush=True)
    server: list[float] = []

    @app.middleware("http")
    async def timing(request: Request, call_next):
        t = time.perf_counter()
        response = await call_next(request)
        server.append(time.perf_counter() - t)
        return response

    capture = Capture(engine)
    out = {}
    for role, (person, committee, branch, meeting) in viewers(factory).items():
        with unit_of_work(factory) as session:
            token = open_session(session, person, "bench", now=NOW, cfg=ConsoleConfig())
        client = TestClient(app)
        client.cookies.set(COOKIE, token)
        for label, path in pages(role, committee, branch, meeting):
            server.clear()
            r = client.get(path)  # warm-up, and a sanity check
            assert r.status_code == 200, (role, path, r.status_code, r.text[:300])
            cold = server[-1]
            capture.on = True
            client.get(path)
            capture.on = False
            statements = capture.take()
            server.clear()
            for _ in range(repeat):
                client.get(path)
            times = list(server)
            floor = [replay(engine, statements) for _ in range(max(5, repeat // 2))]
            out[(role, label)] = {"p50": statistics.median(times), "p95": p95(times), "floor": p95(floor),
                                  "cold": cold, "statements": len(statements)}  # fmt: skip
    return out


def bench(url_for, scale: str, small: str, repeat: int, name: str) -> None:
    results = {}
    for label in (small, scale):
        engine, factory = prepare(url_for(label), label)
        results[label] = measure(engine, factory, repeat)
        engine.dispose()
    big, little = results[scale], results[small]
    print(f"\n== {name}: {scale} (statements at {small} in brackets)")
    print(
        f"  {'viewer':<6} {'page':<14} {'server p50':>10} {'p95 ms':>8} {'floor p95':>10} {'p95/floor':>9} "
        f"{'cold':>6} {'statements':>12}"
    )
    worst = 0.0
    for key, r in big.items():
        s = little.get(key, {}).get("statements")
        same = "same" if s == r["statements"] else f"({s})"
        worst = max(worst, r["p95"])
        ratio = r["p95"] / r["floor"] if r["floor"] else float("nan")
        print(f"  {key[0]:<6} {key[1]:<14} {r['p50'] * 1000:10.0f} {r['p95'] * 1000:8.0f} "
              f"{r['floor'] * 1000:10.0f} {ratio:9.1f} {r['cold'] * 1000:6.0f} {r['statements']:>7} {same:>5}")  # fmt: skip
    constant = all(little.get(k, {}).get("statements") == v["statements"] for k, v in big.items())
    print(f"  worst p95 {worst * 1000:.0f} ms (goal < 300 ms on PostgreSQL); statements "
          f"{'constant' if constant else 'DIFFERENT'} between {small} and {scale}")  # fmt: skip
    key, r = max(big.items(), key=lambda item: item[1]["p95"])
    emit("console", name, f"worst page p95, {scale} ({key[0]} {key[1]}; its SQL replayed bare as floor)",
         r["p95"] * 1000, "ms", floor=r["floor"] * 1000 or None, goal="< 300 ms on PostgreSQL, statements constant",
         met=r["p95"] < 0.3 and constant)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="city", choices=["county", "city"])
    parser.add_argument("--small", default=None, choices=["demo", "county"])
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="PostgreSQL: seed into (or reuse) the schemas NAME_<scale> and keep them",
    )
    args = parser.parse_args()
    small = args.small or ("county" if args.scale == "city" else "demo")
    if small == args.scale:
        parser.error("--small must be smaller than --scale")
    for name in args.databases:
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                bench(
                    lambda label, tmp=tmp: f"sqlite:///{tmp}/{label}.db", args.scale, small, args.repeat, name
                )
            continue
        schemas: list[str] = []
        admin = make_engine(PG_URL)

        def url_for(label: str, admin=admin, schemas=schemas, keep=args.keep) -> str:
            schema = f"{keep}_{label}" if keep else f"bench_{uuid.uuid4().hex[:10]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            if not keep:
                schemas.append(schema)
            sep = "&" if "?" in PG_URL else "?"
            return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"

        try:
            bench(url_for, args.scale, small, args.repeat, name)
        finally:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
