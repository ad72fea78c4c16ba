"""Run every benchmark in bench/ and print one table of their final figures against their floors.

    .venv/bin/python bench/all.py [--scale city|province] [--quick] [--only NAME ...]
                                  [--databases sqlite postgresql] [--json PATH] [--logs DIR]

Each bench runs in a subprocess of its own, once per database (so one failing or slow run does not
take the others with it, and the peak memory a bench reports is its own), with the flags of the chosen
scale; `--quick` runs them at county scale with small sizes, to see the whole set in about a quarter of
an hour. Every bench ends with `SUMMARY {json}` lines (bench/summary.py), which are read here rather
than the free text above them; a run's whole output is kept in --logs (default: a temp directory).

The table: bench, database, figure, value, floor (what the same work costs bare: a bare endpoint,
hand-written SQL, the platforms' rate limits; "no floor" where the bench has none), ratio (value /
floor), goal and whether it was met. A run that fails or prints no SUMMARY line is a row saying so.
PostgreSQL is ZHIBU_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.summary import parse  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = ("sqlite", "postgresql")

# Per bench: how to ask for one database (None: the bench has no database, run once), and its flags
# for each size. "quick" is county scale with small counts; "province" differs from "city" only where a
# bench seeds an organisation by scale name, and those run on PostgreSQL only.
Flags = Callable[[str], list[str]]


def _databases(db: str) -> list[str]:
    return ["--databases", db]


def _database(db: str) -> list[str]:
    return ["--database", db]


BENCHES: dict[str, dict] = {
    "seed": {
        "db": _databases,
        "quick": ["--scales", "county"],
        "city": ["--scales", "city"],
        "province": ["--scales", "province"],
    },
    "monthly": {
        "db": _databases,
        "quick": ["--scale", "county", "--small", "demo"],
        "city": ["--scale", "city"],
        "province": ["--scale", "province"],
    },
    "console": {
        "db": _databases,
        "quick": ["--scale", "county", "--small", "demo", "--repeat", "5"],
        "city": ["--scale", "city"],
    },
    "ledgers": {
        "db": _databases,
        "quick": ["--scale", "county", "--county-only"],
        "city": ["--scale", "county", "--repeat", "3"],
    },
    "ledgers_messages": {
        "db": lambda db: [] if db == "postgresql" else None,  # PostgreSQL only
        "quick": ["--rows", "200000", "--branches", "200", "--repeat", "2"],
        "city": [],
    },
    "api_reads": {
        "db": _databases,
        "quick": ["--scale", "county", "--repeat", "5"],
        "city": ["--scale", "city"],
    },
    "observers": {"db": _databases, "quick": ["--scale", "county"], "city": ["--scale", "city"]},
    "fees": {
        "db": lambda db: [],  # the database comes from ZHIBU_BENCH_DATABASE_URL (unset: SQLite)
        "quick": ["--scale", "county"],  # a sample under 1,000 fits in the limits' first second
        "city": ["--scale", "city"],
        "province": ["--scale", "province"],
    },
    "signin": {"db": _databases, "quick": ["--members", "500", "--clients", "32"], "city": []},
    "ingest": {"db": _database, "quick": ["--requests", "600", "--clients", "32"], "city": []},
    "relay": {"db": _database, "quick": ["--recipients", "1000"], "city": []},
    "wakeup": {"db": _database, "quick": ["--messages", "32", "--clients", "1,8"], "city": []},
    "retention": {
        "db": _database,
        "quick": ["--old", "30000", "--recent", "5000", "--people", "1000"],
        "city": [],
    },
    "sandbox": {"db": None, "quick": [], "city": []},
}


def plan(names: list[str], databases: list[str], size: str) -> list[tuple[str, str, list[str]]]:
    """(bench, database, argv) for every run, in the order given."""
    runs = []
    for name in names:
        spec = BENCHES[name]
        flags = spec.get(size, spec["city"])
        if spec["db"] is None:
            runs.append((name, "-", flags))
            continue
        for db in databases:
            if size == "province" and "province" in spec and db != "postgresql":
                continue  # SQLite stops being sensible above a city (`zhibu check` warns): not measured there
            db_flags = spec["db"](db)
            if db_flags is not None:
                runs.append((name, db, [*db_flags, *flags]))
    return runs


def run_one(name: str, db: str, flags: list[str], log: Path, timeout: float) -> tuple[list[dict], dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    if name == "fees":
        env.pop("ZHIBU_TEST_DATABASE_URL", None)
        env.pop("ZHIBU_BENCH_DATABASE_URL", None)
        if db == "postgresql":
            env["ZHIBU_BENCH_DATABASE_URL"] = PG_URL
    argv = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *flags]
    started = time.perf_counter()
    with log.open("w") as out:
        out.write(" ".join(argv) + "\n")
        out.flush()
        try:
            code = subprocess.run(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    seconds = time.perf_counter() - started
    rows = parse(log.read_text(errors="replace"))
    for row in rows:  # a bench that runs one database at a time may leave it to the caller
        row["database"] = row["database"] or db
    if not rows or code != 0:
        problem = f"exit {code}" if code != 0 else "no SUMMARY line"
        rows.append({"bench": name, "database": db, "figure": f"FAILED: {problem} (see {log})", "value": None,
                     "unit": "", "floor": None, "ratio": None, "goal": "", "met": False})  # fmt: skip
    return rows, {"bench": name, "database": db, "argv": flags, "exit": code, "seconds": round(seconds, 1)}


def _num(x: float | None) -> str:
    if x is None:
        return ""
    if isinstance(x, int) or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"


def table(rows: list[dict]) -> str:
    """The summary as a Markdown table (readable in a terminal, pasteable into the README)."""
    lines = [
        "| bench | database | figure | value | floor | ratio | goal | met? |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        value = f"{_num(r['value'])} {r['unit']}".strip()
        floor = "no floor" if r["floor"] is None else f"{_num(r['floor'])} {r['unit']}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        lines.append(f"| {r['bench']} | {r['database']} | {r['figure']} | {value} | {floor} | {ratio} | "
                     f"{r['goal']} | {met} |")  # fmt: skip
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=["city", "province"], default="city")
    parser.add_argument("--quick", action="store_true", help="county scale, small sizes (about 15 minutes)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), metavar="NAME", help="these benches only")
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write the summary (and the runs) here as JSON"
    )
    parser.add_argument("--logs", type=Path, metavar="DIR", help="keep each run's output here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one run may take")
    args = parser.parse_args()
    size = "quick" if args.quick else args.scale
    logs = args.logs or Path(tempfile.mkdtemp(prefix="bench-all-"))
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    rows, runs = [], []
    for name, db, flags in plan(args.only or list(BENCHES), args.databases, size):
        print(f"{name} ({db}) {' '.join(flags)} …", end=" ", flush=True)
        got, info = run_one(name, db, flags, logs / f"{name}-{db}.log", args.timeout)
        print(f"{info['seconds']:.0f} s, exit {info['exit']}", flush=True)
        rows += got
        runs.append(info)
    load_after = os.getloadavg()
    head = (f"bench/all.py {'--quick (county scale)' if args.quick else f'--scale {args.scale}'}, "
            f"{started:%Y-%m-%d %H:%M} UTC, {machine()}, load average {load_before[0]:.2f} at the start and "
            f"{load_after[0]:.2f} at the end; logs in {logs}")  # fmt: skip
    print(f"\n{head}\n\n{table(rows)}")
    no_floor = sorted({r["bench"] for r in rows if r["floor"] is None and r["value"] is not None})
    print(f"\nno floor: {', '.join(no_floor) or 'none'}")
    if args.json:
        args.json.write_text(json.dumps({
            "started": started.isoformat(), "size": size, "machine": machine(),
            "load_average": {"start": load_before, "end": load_after}, "rows": rows, "runs": runs,
        }, ensure_ascii=False, indent=2))  # fmt: skip
    sys.exit(0 if all(r["exit"] == 0 for r in runs) else 1)


if __name__ == "__main__":
    main()
