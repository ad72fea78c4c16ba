"""Benchmark 月积分 at city scale: every score, rank, ladder and digest of one month.

    .venv/bin/python bench/monthly.py [--scale city|county|province] [--small demo|county]
                                      [--databases sqlite postgresql] [--keep SCHEMA]

For each database: seeds the organisation with one month of meetings history (models.seed with
months=1: plans, meetings, sign-ins, leave, 补学, minutes; at province the organisation only, both
sizes alike, with October as its start month: a month of history for 3 million members is hours of
seeding on this machine, so the meeting-dependent numbers are zero there while the members, all unpaid,
are a full load), then for October 2026
1. times compute + rank + store of every score, the ladders (rows only, nothing queued) and the
   digest cards for every recipient (texts built, nothing queued; chart PNGs are drawn when the
   platform fetches them, so a sample is timed per chart);
2. counts SQL statements with a before_cursor_execute listener — for the big scale and a small one,
   to show the count does not grow with the number of branches;
3. measures the peak resident memory of a fresh process that runs the same month (what the monthly
   job's process needs; the seeding's memory is not in it);
4. runs one hand-written SQL aggregation of the same month's core numbers per branch (members,
   unpaid, held meetings, theme days, attendance, plan, 补学) as the floor, and reports the ratio of
   the medians of REPEATS warm runs of each (compute+rank and the floor, in turn);
5. times compute+rank again, in the same turns, with the cyclic garbage collector paused: the
   score no longer pauses it (issue #13 point 7), and this shows what the collector costs it.

Before it measures, the process settles its heap as `zhibu serve` and `zhibu run-job` do at start
(bot.cli.common.settle_heap): what start-up left is out of the collector's full passes.

The database is a temp SQLite file and a fresh PostgreSQL schema in ZHIBU_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped afterwards. Goal (issue #22 item 3): scores and ranks within 2× of the floor at city scale.
On a machine shared with other work, wall times swing with the load; the CPU time of this process
is printed beside them (on SQLite it holds the queries too, so the two sides compare; on PostgreSQL
the floor's work is the server's).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

import models  # noqa: E402, F401 - registers every table and the history generators
from bench.summary import emit  # noqa: E402
from bot.cli.common import settle_heap  # noqa: E402
from handlers.meetings.types import MeetingsConfig  # noqa: E402
from handlers.monthly import chart, digest, ladder, ranking, service  # noqa: E402
from handlers.monthly.config import MonthlyConfig  # noqa: E402
from handlers.monthly.recipients import RoleBook  # noqa: E402
from models import startmonth  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from models.org import Role  # noqa: E402
from models.seed import SCALES, SeedResult, existing_organisation, seed  # noqa: E402

PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPEATS = 5
MONTH = date(2026, 10, 1)
TODAY = date(2026, 10, 31)  # the seed writes history for the month holding `today`
NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 09:00 Shanghai on the 1st: the job's time
MCFG = MonthlyConfig()
CFG = MeetingsConfig()  # the defaults, as the job's settings give them

# The floor: the same month's core numbers per branch in one statement (bounds are bound parameters).
# Meetings an observer ordered reconvened (责令重开) count for nothing, as in the scores.
FLOOR_SQL = """
WITH m AS (
  SELECT id, branch_id FROM meeting WHERE status = 'scheduled' AND starts_at >= :lo AND starts_at < :hi
    AND id NOT IN (SELECT meeting_id FROM observation WHERE outcome = 'reopen')
),
held AS (
  SELECT m.branch_id, COUNT(*) AS kinds,
         SUM(CASE WHEN k.type = 'theme_day' THEN 1 ELSE 0 END) AS theme_days,
         SUM(CASE WHEN mi.submitted_at IS NOT NULL THEN 1 ELSE 0 END) AS recorded
  FROM m JOIN meeting_kind k ON k.meeting_id = m.id LEFT JOIN minutes mi ON mi.meeting_id = m.id
  GROUP BY m.branch_id
),
att AS (
  SELECT m.branch_id, COUNT(*) AS total,
         SUM(CASE WHEN a.status IN ('present', 'late') THEN 1 ELSE 0 END) AS present
  FROM m JOIN attendance a ON a.meeting_id = m.id GROUP BY m.branch_id
),
mk AS (
  SELECT m.branch_id, COUNT(*) AS total, SUM(CASE WHEN t.status = 'confirmed' THEN 1 ELSE 0 END) AS done
  FROM makeup_task t JOIN meeting m ON m.id = t.meeting_id
  WHERE t.due_on >= :mlo AND t.due_on < :mhi GROUP BY m.branch_id
),
mem AS (
  SELECT branch_id, COUNT(*) AS members,
         SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM fee_payment f WHERE f.person_id = person.id AND f.month = :mlo
                                   AND f.status IN ('reported', 'confirmed')) THEN 1 ELSE 0 END) AS unpaid
  FROM person WHERE active AND branch_id IS NOT NULL GROUP BY branch_id
)
SELECT u.id, mem.members, mem.unpaid, held.kinds, held.theme_days, held.recorded, att.present, att.total,
       p.status, p.submitted_at, mk.total, mk.done
FROM org_unit u
LEFT JOIN mem ON mem.branch_id = u.id
LEFT JOIN held ON held.branch_id = u.id
LEFT JOIN att ON att.branch_id = u.id
LEFT JOIN mk ON mk.branch_id = u.id
LEFT JOIN monthly_plan p ON p.branch_id = u.id AND p.month = :mlo
WHERE u.kind = 'branch' AND u.active
"""


class Counter:
    def __init__(self, engine) -> None:
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs) -> None:
        self.n += 1

    @contextmanager
    def measure(self):
        start = self.n
        box = {}
        yield box
        box["statements"] = self.n - start


def month_run(session, *, send_digests: bool = False) -> dict:
    """Scores, ranks, stored rows, ladder rows and every digest card: the work of the monthly job."""
    out = {}
    t = time.perf_counter()
    scores = service.score_month(session, MONTH, now=NOW, mcfg=MCFG, cfg=CFG)
    out["compute_rank_s"] = time.perf_counter() - t
    t = time.perf_counter()
    stored = ranking.store(session, scores, NOW)
    out["store_s"] = time.perf_counter() - t
    t = time.perf_counter()
    roles = {
        Role.ORG_STAFF,
        *MCFG.committee_leader_roles,
        *MCFG.branch_manager_roles,
        Role.ORGANIZATION_MEMBER,
    }
    book = RoleBook(session, roles)
    ladder.run_unit_ladders(session, scores, now=NOW, mcfg=MCFG, book=book, send=False)
    ladder.run_member_ladders(session, scores, now=NOW, mcfg=MCFG, cfg=CFG, book=book, send=False)
    out["ladders_s"] = time.perf_counter() - t
    t = time.perf_counter()
    out["digest_cards"] = digest.send_digests(
        session, MONTH, now=NOW, mcfg=MCFG, cfg=CFG, base_url="https://zhibu.example", secret="bench",
        book=book, send=send_digests, explanations={u.unit_id: u.explanation for u in scores.all()},
    )  # fmt: skip
    out["digests_s"] = time.perf_counter() - t
    out["branches"] = len(scores.branches)
    out["committees"] = len(scores.committees)
    out["lagging"] = sum(s.lagging for s in scores.all())
    out["stored"] = (stored.inserted, stored.updated, stored.unchanged)
    return out


def floor(session) -> tuple[float, int]:
    lo = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    hi = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    if session.get_bind().dialect.name == "sqlite":
        lo, hi = lo.replace(tzinfo=None), hi.replace(tzinfo=None)
    t = time.perf_counter()
    rows = session.execute(
        text(FLOOR_SQL), {"lo": lo, "hi": hi, "mlo": MONTH, "mhi": date(2026, 11, 1)}
    ).all()
    return time.perf_counter() - t, len(rows)


def bench_database(url: str, scale: str, small: str, name: str, keep: str | None = None) -> None:
    results = {}
    for label in (small, scale):
        small_schema = f"bench_{uuid.uuid4().hex[:10]}"
        if label == scale and keep and name == "postgresql":
            engine = make_engine(_kept(keep))
        elif label == scale:
            engine = make_engine(url)
        elif name == "postgresql":
            engine = make_engine(_pg(small_schema))
        else:
            engine = make_engine(url.replace("bench.db", "small.db"))
        Base.metadata.create_all(engine)
        factory = make_sessionmaker(engine)
        t = time.perf_counter()
        with unit_of_work(factory) as session:
            if existing_organisation(session)[1]:  # a kept schema seeded by an earlier run (--keep)
                res = SeedResult(scale=SCALES[label], rows={"person": existing_organisation(session)[1]})
                for table in ("meeting", "attendance"):
                    res.rows[table] = session.scalar(text(f"SELECT count(*) FROM {table}"))
            else:
                history = 0 if scale == "province" else 1
                res = seed(session, label, dingtalk_corp_id="dingbench", wecom_corp_id="wwbench",
                           months=history, today=TODAY, now=NOW)  # fmt: skip
                if not history:  # without history the start month is November: score October all the same
                    startmonth.set_start_month(session, MONTH)
        seeded = time.perf_counter() - t
        if name == "postgresql":
            # A fresh bulk load has no statistics yet (autovacuum analyses it in production, at a
            # moment of its own): without them the planner may pick nested loops over "empty"
            # tables, and the floor took 7-9 s for the county against 2.6 s for the city.
            # Only this schema's tables (the search path): others may be benchmarking in the same database.
            with engine.begin() as conn:
                conn.execute(text("ANALYZE " + ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)))
        # This process now stands where the scheduler's does after `zhibu serve` started it: its
        # start-up heap (and here the seed's leftovers) out of the collector's full passes.
        settle_heap()
        counter = Counter(engine)
        with unit_of_work(factory) as session, counter.measure() as box:
            t = time.perf_counter()
            run = month_run(session)
            run["total_s"] = time.perf_counter() - t
        run["statements"] = box["statements"]
        run["cold_total_s"] = run["total_s"]
        with unit_of_work(factory) as session:  # warm: SQL compiled, pages cached — what a rerun costs
            t = time.perf_counter()
            warm = month_run(session)
            warm["total_s"] = time.perf_counter() - t
        run.update({k: v for k, v in warm.items() if k.endswith("_s")})
        # The goal's ratio: the median of REPEATS warm runs of each side, taken in turn, so that a
        # burst of load on this shared machine moves both and one outlier moves neither.
        compute_runs, floor_runs, paused_runs, compute_cpu, floor_cpu = [], [], [], [], []
        for _ in range(REPEATS if scale != "province" else 3):
            with factory() as session:
                t, c = time.perf_counter(), time.process_time()
                service.score_month(session, MONTH, now=NOW, mcfg=MCFG, cfg=CFG)
                compute_runs.append(time.perf_counter() - t)
                compute_cpu.append(time.process_time() - c)
            with factory() as session:
                c = time.process_time()
                floor_s, floor_rows = floor(session)
                floor_runs.append(floor_s)
                floor_cpu.append(time.process_time() - c)
            with factory() as session:
                gc.disable()  # this process only, for the comparison: the score itself never pauses it
                try:
                    t = time.perf_counter()
                    service.score_month(session, MONTH, now=NOW, mcfg=MCFG, cfg=CFG)
                    paused_runs.append(time.perf_counter() - t)
                finally:
                    gc.enable()
        run.update(compute_runs=compute_runs, floor_runs=floor_runs, paused_runs=paused_runs,
                   floor_rows=floor_rows, seed_s=seeded, rows=res.rows,
                   compute_rank_s=statistics.median(compute_runs), floor_s=statistics.median(floor_runs),
                   paused_s=statistics.median(paused_runs), compute_cpu_s=statistics.median(compute_cpu),
                   floor_cpu_s=statistics.median(floor_cpu))  # fmt: skip
        if label == scale:
            run["peak_mb"] = _peak_in_fresh_process(engine.url.render_as_string(hide_password=False))
            with factory() as session:
                data = digest.load(session, MONTH, CFG, with_details=False)
                sample = list(data.branches_of)[:5] + list(data.rows)[:15]
                t = time.perf_counter()
                for uid in sample:
                    digest.chart_for(data, uid)
                run["chart_ms"] = (time.perf_counter() - t) / len(sample) * 1000
        results[label] = run
        engine.dispose()
        if name == "postgresql" and label == small:
            _drop(small_schema)
    big, little = results[scale], results[small]
    print(f"\n== {name}")
    for label, r in ((small, little), (scale, big)):
        print(f"{label:<7} branches {r['branches']:>6}  members {r['rows'].get('person', 0):>7}  "
              f"meetings {r['rows'].get('meeting', 0):>6}  attendance {r['rows'].get('attendance', 0):>8}  "
              f"(seeded in {r['seed_s']:.0f} s)")  # fmt: skip
        print(f"        statements {r['statements']:>4}   first run {r['cold_total_s']:.2f} s; "
              f"rerun {r['total_s']:6.2f} s = compute+rank "
              f"{r['compute_rank_s']:.2f} + store {r['store_s']:.2f} + ladders {r['ladders_s']:.2f} + "
              f"digests {r['digests_s']:.2f} ({r['digest_cards']} cards)   floor {r['floor_s']:.2f} s "
              f"({r['floor_rows']} rows)")  # fmt: skip
    ratio = big["compute_rank_s"] / big["floor_s"] if big["floor_s"] else float("inf")
    print(f"{scale}:   compute+rank runs {', '.join(f'{x:.2f}' for x in big['compute_runs'])} s; "
          f"floor runs {', '.join(f'{x:.2f}' for x in big['floor_runs'])} s (medians below)")  # fmt: skip
    print(f"{scale}:   {big['committees']} committees, {big['lagging']} lagging units; peak memory "
          f"{big['peak_mb']:.0f} MB; chart {big['chart_ms']:.0f} ms each (drawn on fetch)")  # fmt: skip
    print(f"goal:   compute+rank {big['compute_rank_s']:.2f} s vs floor {big['floor_s']:.2f} s = {ratio:.1f}× "
          f"(goal ≤ 2×); whole month {big['total_s']:.1f} s; statements {little['statements']} "
          f"({small}) vs {big['statements']} ({scale}) — "
          f"{'constant' if little['statements'] == big['statements'] else 'DIFFERENT'}")  # fmt: skip
    print(f"cpu:    compute+rank {big['compute_cpu_s']:.2f} s vs floor {big['floor_cpu_s']:.2f} s of this process's "
          f"CPU (medians){'' if name == 'sqlite' else ' — the floor runs in the server'}; load "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    paused = big["paused_s"]
    print(f"gc:     compute+rank {big['compute_rank_s']:.2f} s with the collector running vs "
          f"{paused:.2f} s paused (runs {', '.join(f'{x:.2f}' for x in big['paused_runs'])} s) = "
          f"{paused / big['floor_s'] if big['floor_s'] else float('inf'):.1f}× the floor; "
          f"the collector costs {100 * (big['compute_rank_s'] / paused - 1):+.0f}%")  # fmt: skip
    emit("monthly", name, f"scores and ranks, {scale} (hand-written SQL floor)", big["compute_rank_s"], "s",
         floor=big["floor_s"], goal="≤ 2× floor", met=ratio <= 2)  # fmt: skip
    limit = {"province": 120, "city": 10}.get(scale)  # issue #22: a city's month < 10 s, a province's < 2 min
    emit("monthly", name, f"whole month first run, {scale}", big["cold_total_s"], "s",
         goal=f"< {limit} s at {scale}" if limit else "", met=None if limit is None else big["cold_total_s"] < limit)  # fmt: skip
    emit("monthly", name, f"whole month rerun, {scale}", big["total_s"], "s",
         goal=f"< {limit} s at {scale}" if limit else "", met=None if limit is None else big["total_s"] < limit)  # fmt: skip
    emit("monthly", name, f"peak memory of a month's run, {scale}", big["peak_mb"], "MB",
         goal="< 2,000 MB at province" if scale == "province" else "",
         met=big["peak_mb"] < 2000 if scale == "province" else None)  # fmt: skip
    emit("monthly", name, f"statements per run, {small} → {scale}", big["statements"], "statements",
         goal=f"same as {small} ({little['statements']})", met=little["statements"] == big["statements"])  # fmt: skip


def _month_in_child(url: str, out) -> None:
    engine = make_engine(url)
    settle_heap()  # as the scheduler's process, started by `zhibu serve`, does before any job
    with unit_of_work(make_sessionmaker(engine)) as session:
        month_run(session)
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put(peak / 1e6 if sys.platform == "darwin" else peak / 1e3)  # bytes on macOS, kB on Linux


def _peak_in_fresh_process(url: str) -> float:
    """Peak resident memory (MB) of a new interpreter that runs the month once: the monthly job's own
    process, without this one's seed and earlier runs in its heap."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_month_in_child, args=(url, out))
    child.start()
    child.join()  # one float in the queue fits the pipe's buffer: the child does not wait on it
    if child.exitcode != 0:
        raise SystemExit(f"the month's run in a fresh process failed (exit {child.exitcode})")
    return out.get(timeout=10)


_schemas: list[str] = []


def _pg(url_schema: str) -> str:
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{url_schema}"'))
    admin.dispose()
    _schemas.append(url_schema)
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={url_schema}')}"


def _kept(schema: str) -> str:
    """A URL on a schema that outlives the run (--keep): made if missing, never dropped, so that the
    next run measures the same seed without the city's half hour of seeding."""
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


def _drop(schema: str | None = None) -> None:
    """Drop one schema made by _pg, or all of them."""
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        for name in [schema] if schema else list(_schemas):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            _schemas.remove(name)
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="city", choices=["county", "city", "province"])
    parser.add_argument(
        "--small", choices=["demo", "county"], help="the smaller seed (default: county for a city, else demo)"
    )
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--keep",
        metavar="SCHEMA",
        help="PostgreSQL: seed the big scale into this schema and keep it; a later run with the same "
        "SCHEMA reuses its seed (drop it by hand when done); its 'first run' then re-runs a stored month, "
        "which can take a statement fewer than the small scale's fresh one",
    )
    args = parser.parse_args()
    # Two runs of one seed would share its database and seed it twice.
    args.small = args.small or ("county" if args.scale in ("city", "province") else "demo")
    if args.small == args.scale:
        parser.error("--small must be smaller than --scale")
    chart.cjk_font_path()  # fail early and clearly without a CJK font
    for name in args.databases:
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                bench_database(f"sqlite:///{tmp}/bench.db", args.scale, args.small, name)
        else:
            try:
                bench_database(_pg(f"bench_{uuid.uuid4().hex[:10]}"), args.scale, args.small, name, args.keep)
            finally:
                _drop()


if __name__ == "__main__":
    main()
