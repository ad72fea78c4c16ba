"""Benchmark the 台账 (#17) pages and files on a seeded organisation with 12 months of history.

    .venv/bin/python bench/ledgers.py [--scale county] [--databases sqlite postgresql] [--repeat 3]

Seeds as bench/console.py does (models.seed, the closed months' scores stored, the last month's unit
ladders run), then asks each ledger through the real routes (TestClient) as 组织部, REPEAT times after
one warm-up, and prints per request: server time (p50 / max), the size of the answer, the rows of the
largest sheet where it is an .xlsx (rows per second), the statements it issued, and the peak Python
memory of one request (tracemalloc, which slows the measured request, so it is taken separately).

Goals of #17: a branch's yearly .docx under 2 s; a county's yearly meetings .xlsx under 60 s and
300 MB. A committee's or county's file is built in the background (handlers.ledgers.exports). After the
requests, each in a fresh Python process (python bench/ledgers.py --export URL [direct]) so that its
peak memory (VmHWM: the whole process, interpreter and libraries included) is its own:
- BACKGROUND (the largest committee's 纪实 and 党费 files, the county's 观察员 (Excel and Word) and 消息
  files, the county being the committee's parent where the seed has one): 组织部 asks for the file on the page
  and one worker turn (run_once) claims, builds and stores it, as a web process does;
- 全县: the same build over one county block of the seed (models.seed.synthetic has no county unit:
  its committees are roots; at county scale the block is the whole county, ~1,300 branches), read-only.
Each prints branches, rows, seconds, rows per second, statements, the file's size and the memory.

    .venv/bin/python bench/ledgers.py --kept-schema cbench_city   # PostgreSQL only, read-only
    .venv/bin/python bench/ledgers.py --databases sqlite --county-only --sqlite-file /tmp/county.db

--background observers.docx (LEDGER.FORMAT…) measures only those background files after seeding.
--observers-county measures the county's 观察员台账 files (Excel and Word) on bench/observers.py's
county (its seed: ~1,300 branches, 115 observers, two October meetings a branch and a form for a third
of them, a tenth with 责令纠正), put under one county unit (the seed's committees are roots) and each form
given the 太湖县 评价表's six items, as the worker builds them for 组织部 (the models.seed county has no
observers, so BACKGROUND's 全县 观察员 files are near empty there).
--kept-schema measures only the 全县 build, against a county- or city-scale schema kept by
bench/console.py --keep NAME (NAME_county, NAME_city; at city scale its first county block); nothing is
written there, so the half-hour seed of a city is reused as it is. --county-only measures only the 全县
build after seeding; with --sqlite-file the SQLite seed is kept in that file and, when it exists,
reused without seeding again (the build only reads it).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
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
from sqlalchemy import event, select, text  # noqa: E402

from bench.console import CORE, NOW, PG_URL, prepare, viewers  # noqa: E402
from bench.summary import emit  # noqa: E402
from bot.web.console import build_console  # noqa: E402
from bot.web.console.deps import COOKIE  # noqa: E402
from handlers.console.scope import scope_of  # noqa: E402
from handlers.console.sessions import ConsoleConfig, open_session  # noqa: E402
from handlers.ledgers import exports  # noqa: E402
from handlers.ledgers.meetings import branches_in, units_meetings_ledgers  # noqa: E402
from handlers.ledgers.meetings_export import write_units_meetings_xlsx  # noqa: E402
from handlers.ledgers.period import parse_period  # noqa: E402
from handlers.meetings.types import meetings_config  # noqa: E402
from models.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from models.exports import READY, LedgerExport  # noqa: E402
from models.org import OrgUnit, UnitKind  # noqa: E402

BLOCK = 30  # committees per county in models.seed.synthetic


def requests(committee: int, branch: int, county: int) -> list[tuple[str, str]]:
    return [
        ("支部 纪实台账 页面（全年）", f"/console/ledgers/{branch}/meetings?period=2026"),
        ("支部 纪实台账 .docx（全年）", f"/console/ledgers/{branch}/meetings.docx?period=2026"),
        ("支部 纪实台账 .xlsx（全年）", f"/console/ledgers/{branch}/meetings.xlsx?period=2026"),
        ("支部 党费台账 页面（全年）", f"/console/ledgers/{branch}/fees?period=2026"),
        ("党委 党费台账 页面（全年）", f"/console/ledgers/{committee}/fees?period=2026"),
        ("党委 月积分台账 页面（季度）", f"/console/ledgers/{committee}/scores?period=2026-Q4"),
        ("全县 月积分台账 .xlsx（全年）", f"/console/ledgers/{county}/scores.xlsx?period=2026"),
        ("全县 党费台账 页面（当月）", f"/console/ledgers/{county}/fees?period=2026-11"),
        ("党委 观察员台账 页面（全年）", f"/console/ledgers/{committee}/observers?period=2026"),
        ("支部 观察员台账 .docx（全年）", f"/console/ledgers/{branch}/observers.docx?period=2026"),
        ("支部 观察员台账 .xlsx（全年）", f"/console/ledgers/{branch}/observers.xlsx?period=2026"),
        ("支部 消息台账 .xlsx（全年）", f"/console/ledgers/{branch}/messages.xlsx?period=2026"),
    ]


# The files of a unit above a branch, each asked for on the page and built by one worker turn in a
# process of its own: (label, "committee" | "county", ledger, format).
BACKGROUND = [
    ("党委 纪实台账 .xlsx（后台任务，全年）", "committee", "meetings", "xlsx"),
    ("党委 党费台账 .xlsx（后台任务，全年）", "committee", "fees", "xlsx"),
    ("全县 观察员台账 .xlsx（后台任务，全年）", "county", "observers", "xlsx"),
    ("全县 观察员台账 .docx（后台任务，全年）", "county", "observers", "docx"),
    ("全县 消息台账 .xlsx（后台任务，全年）", "county", "messages", "xlsx"),
]


def largest_sheet(body: bytes) -> int:
    wb = load_workbook(io.BytesIO(body), read_only=True)
    return max(sum(1 for _ in ws.iter_rows()) for ws in wb.worksheets)  # write-only files have no dimension


def bench(
    url: str, scale: str, repeat: int, name: str, *, county_only: bool = False, only: list[str] | None = None
) -> None:
    """`only`: just these background files ("observers.docx", …: ledger.format), no page requests."""
    engine, factory = prepare(url, scale)
    if county_only:
        engine.dispose()
        print(f"\n== {name}: {scale}, one county block's file")
        print_export("全县 纪实台账 .xlsx（生成，全年）", export_in_subprocess(url, "direct"))
        return
    who = viewers(factory)
    staff, committee, branch, _ = who["组织部"]
    with factory() as session:
        county = session.get(OrgUnit, committee).parent_id or committee
    app = FastAPI()
    console = build_console(app, factory, {}, CORE, clock=lambda: NOW)
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
    for label, path in [] if only else requests(committee, branch, county):
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
    for label, where, ledger, fmt in BACKGROUND:
        if only and f"{ledger}.{fmt}" not in only:
            continue
        unit = committee if where == "committee" else county
        r = client.post(f"/console/ledgers/{unit}/exports", data={
            "csrf_token": console.csrf(token), "ledger": ledger, "format": fmt, "period": "2026"},
            follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, (r.status_code, r.text[:200])
        print_export(label, export_in_subprocess(url))  # the queue's only row: this one
    engine.dispose()
    if not only:
        print_export("全县 纪实台账 .xlsx（生成，全年）", export_in_subprocess(url, "direct"))


def observers_county(url: str, name: str) -> None:
    """The county's yearly 观察员台账 .xlsx and .docx on bench/observers.py's county (see the module)."""
    from bench.observers import arrange
    from handlers.ledgers.period import parse_period as period_of
    from models.base import Base
    from models.observers import Observation
    from models.org import OrgUnit as Unit
    from models.org import Person, Role, RoleAssignment

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    t = time.perf_counter()
    with factory() as session:
        made = arrange(session, "county")
    items = [{"key": str(i), "label": label, "max": top, "score": top - 2, "comment": ""}
             for i, (label, top) in enumerate([("会前准备", 15), ("程序规范", 20), ("到会情况", 15), ("内容质量", 25),
                                               ("记录规范", 10), ("议定事项落实/整改", 15)])]  # fmt: skip
    with unit_of_work(factory) as session:
        county = Unit(name="太湖县委", kind=UnitKind.COMMITTEE, path="", active=True)
        session.add(county)
        session.flush()
        county.path = f"/{county.id}/"
        roots = (Unit.parent_id.is_(None), Unit.id != county.id)
        session.execute(text("UPDATE org_unit SET path = :p || substr(path, 2) WHERE id != :c"),
                        {"p": county.path, "c": county.id})  # fmt: skip
        session.query(Unit).filter(*roots).update({Unit.parent_id: county.id}, synchronize_session=False)
        session.query(Observation).update({Observation.items: items}, synchronize_session=False)
        staff = Person(name="组织部干事", active=True)
        session.add(staff)
        session.flush()
        session.add(RoleAssignment(person_id=staff.id, org_unit_id=county.id, role=Role.ORG_STAFF))
        session.flush()
        county_id, staff_id = county.id, staff.id
    print(f"\n== {name}: observers' county ({made}), arranged in {time.perf_counter() - t:.0f} s", flush=True)
    for fmt in ("xlsx", "docx"):
        with unit_of_work(factory) as session:
            exports.request_export(session, scope_of(session, staff_id), session.get(Unit, county_id),
                                   exports.export_key("observers", fmt), period_of("2026", NOW.date().replace(day=1)),
                                   now=NOW)  # fmt: skip
        print_export(f"全县 观察员台账 .{fmt}（后台任务，全年）", export_in_subprocess(url))
    engine.dispose()


def export_in_subprocess(url: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--export", url, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_export(label: str, m: dict) -> None:
    print(f"  {label}: {m['branches']} {m.get('what', 'branches')}, {m['rows']} rows in {m['seconds']:.1f} s "
          f"({m['rows'] / m['seconds']:.0f} rows/s), {m['kb'] / 1024:.1f} MB file, {m['stmts']} statements; "
          f"peak memory {m['peak_mb']:.0f} MB (process; {m['base_mb']:.0f} MB before the build); "
          f"{m['cpu_s']:.1f} s of this process's CPU", flush=True)  # fmt: skip
    # the goal of #17 (bench/all.py fills in the database this run was given)
    if label.startswith("全县 纪实台账"):
        emit("ledgers", "", f"全县 yearly meetings .xlsx, {m['branches']} branches (peak {m['peak_mb']:.0f} MB)",
             m["seconds"], "s", goal="< 60 s and < 300 MB", met=m["seconds"] < 60 and m["peak_mb"] < 300)  # fmt: skip


def measure_export(url: str, direct: bool) -> dict:
    """In a process of its own: the queued export built and stored by one worker turn (or, `direct`,
    the county file's build alone, read-only, for the largest county block at `url`)."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a, **k: count.__setitem__(0, count[0] + 1))
    base = peak_rss_mb()
    t, cpu = time.perf_counter(), time.process_time()  # CPU: the fairer figure on a loaded machine
    what = "branches"
    if direct:
        rows, branches, size = build_directly(factory)
    else:
        built = exports.run_once(factory, core=CORE, clock=lambda: NOW, worker="bench")
        with factory() as session:
            row = session.get(LedgerExport, built)
            assert row is not None and row.status == READY, (built, row and row.reason)
            rows, branches, size = row.rows, row.total, row.size
            what = {"meetings": "branches", "messages": "messages"}.get(row.ledger, "part")
            if exports.is_word(row.ledger):  # rows: the document's table rows
                what = "part (Word; rows = table rows)"
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = peak_rss_mb()
    engine.dispose()
    return {"rows": rows, "branches": branches, "what": what, "kb": size / 1024, "seconds": seconds,
            "stmts": count[0], "peak_mb": peak, "base_mb": base, "cpu_s": cpu}  # fmt: skip


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (Linux keeps ru_maxrss across exec, so a child
    started by a big parent would report the parent's), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_directly(factory) -> tuple[int, int, int]:
    """The county's file as the worker builds it, read-only: the branches of one county block of
    models.seed.synthetic (its first BLOCK committees, which are roots: the seed has no county unit
    above them; at county scale that is the whole county), in 组织部's scope."""
    cfg = meetings_config(CORE)
    with factory() as session:
        roots = session.scalars(
            select(OrgUnit).where(OrgUnit.parent_id.is_(None), OrgUnit.kind == UnitKind.COMMITTEE)
            .order_by(OrgUnit.id).limit(BLOCK)
        ).all()  # fmt: skip
        scope = scope_of(session, viewers(factory)["组织部"][0])
        ids = [bid for root in roots for bid, _ in branches_in(session, scope, root)]
        month = NOW.date().replace(day=1)
        period = parse_period("2026", month)
        ledgers = units_meetings_ledgers(session, scope, ids, period, now=NOW, cfg=cfg, current_month=month)
        with tempfile.TemporaryFile() as out:
            rows = write_units_meetings_xlsx(out, ledgers, cfg.tz, caption="全县")
            return rows, len(ids), out.tell()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="county", choices=["demo", "county", "city"])
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export", nargs="+", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--kept-schema", metavar="NAME", help="PostgreSQL: a schema kept by bench/console.py (read-only)"
    )
    parser.add_argument(
        "--county-only",
        action="store_true",
        help="only the 全县 file's build (no page requests, no 党委 job)",
    )
    parser.add_argument(
        "--sqlite-file",
        metavar="PATH",
        help="SQLite: seed into PATH and keep it; a seeded PATH is reused as it is",
    )
    parser.add_argument(
        "--observers-county",
        action="store_true",
        help="the county's 观察员台账 files on bench/observers.py's data",
    )
    parser.add_argument(
        "--background",
        nargs="+",
        metavar="LEDGER.FORMAT",
        help="only these background files after seeding (e.g. observers.docx), no page requests",
    )
    args = parser.parse_args()
    if args.export:
        print(json.dumps(measure_export(args.export[0], direct="direct" in args.export[1:])))
        return
    if args.kept_schema:
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options={quote(f'-csearch_path={args.kept_schema}')}"
        print(f"\n== postgresql: {args.kept_schema}, one county block's file, read-only")
        print_export("全县 纪实台账 .xlsx（生成，全年）", export_in_subprocess(url, "direct"))
        return
    for name in args.databases:
        if args.observers_county and name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                observers_county(f"sqlite:///{tmp}/observers.db", name)
            continue
        if args.observers_county:
            admin = make_engine(PG_URL)
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in PG_URL else "?"
                observers_county(f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}", name)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
            continue
        if name == "sqlite" and args.sqlite_file:
            kept = Path(args.sqlite_file).resolve()
            url = f"sqlite:///{kept}"
            if kept.exists() and args.county_only:  # seeded before: the build reads it, writes nothing
                print(f"\n== sqlite: {kept}, one county block's file, read-only")
                print_export("全县 纪实台账 .xlsx（生成，全年）", export_in_subprocess(url, "direct"))
            else:
                bench(url, args.scale, args.repeat, name, county_only=args.county_only, only=args.background)
            continue
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                bench(f"sqlite:///{tmp}/ledgers.db", args.scale, args.repeat, name,
                      county_only=args.county_only, only=args.background)  # fmt: skip
            continue
        admin = make_engine(PG_URL)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in PG_URL else "?"
            bench(f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}", args.scale, args.repeat, name,
                  county_only=args.county_only, only=args.background)  # fmt: skip
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
