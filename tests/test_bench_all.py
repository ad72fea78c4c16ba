"""bench/all.py reads each benchmark's SUMMARY lines (no benchmark is run here: they take minutes)."""

from __future__ import annotations

import importlib.util
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bench import summary

BENCH = Path(__file__).resolve().parents[1] / "bench"
# Every script but the runner and the helpers the benches share (their SUMMARY line, their load).
SCRIPTS = sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in {"all", "summary", "loadgen"})


def _all():
    spec = importlib.util.spec_from_file_location("bench_all", BENCH / "all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_emit_prints_a_line_parse_reads_back_among_free_text():
    out = io.StringIO()
    with redirect_stdout(out):
        print("== sqlite: county")
        emit_row = summary.emit("signin", "sqlite", "QR sign-in req/s", 400.0, "req/s", floor=500.0,
                                goal="≥ 0.8× bare", met=True)  # fmt: skip
        print("  worst p95 120 ms")
        summary.emit("observers", "postgresql", "slowest step", 1.5, "s")
    rows = summary.parse(out.getvalue())
    assert rows == [emit_row, {**dict.fromkeys(summary.FIELDS), "bench": "observers", "database": "postgresql",
                               "figure": "slowest step", "value": 1.5, "unit": "s", "goal": ""}]  # fmt: skip
    assert rows[0]["ratio"] == 0.8 and rows[0]["floor"] == 500.0
    assert rows[1]["floor"] is None and rows[1]["ratio"] is None  # no floor: no ratio either


def test_parse_fills_missing_fields_and_ignores_lines_that_only_mention_summary():
    text = 'SUMMARY {"bench": "x", "value": 2}\nno SUMMARY here\n  SUMMARY {"indented": 1}\n'
    assert summary.parse(text) == [{**dict.fromkeys(summary.FIELDS), "bench": "x", "value": 2}]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_bench_emits_a_summary_and_all_py_knows_it(name):
    """Each bench's emit(...) calls name it and pass the fields parse expects; all.py has flags for it."""
    source = (BENCH / f"{name}.py").read_text()
    assert "from bench.summary import emit" in source
    calls = re.findall(r'emit\(\s*"(\w+)"', source)
    assert calls and set(calls) == {name}
    assert name in _all().BENCHES


def test_plan_runs_each_database_apart_with_the_sizes_flags():
    bench_all = _all()
    runs = bench_all.plan(
        ["monthly", "ledgers_messages", "sandbox", "ingest"], ["sqlite", "postgresql"], "quick"
    )
    assert runs == [
        ("monthly", "sqlite", ["--databases", "sqlite", "--scale", "county", "--small", "demo"]),
        ("monthly", "postgresql", ["--databases", "postgresql", "--scale", "county", "--small", "demo"]),
        ("ledgers_messages", "postgresql", ["--rows", "200000", "--branches", "200", "--repeat", "2"]),
        ("sandbox", "-", []),
        ("ingest", "sqlite", ["--database", "sqlite", "--requests", "600", "--clients", "32"]),
        ("ingest", "postgresql", ["--database", "postgresql", "--requests", "600", "--clients", "32"]),
    ]
    # province differs from city only where a bench seeds by scale name
    assert bench_all.plan(["signin"], ["sqlite"], "province") == bench_all.plan(
        ["signin"], ["sqlite"], "city"
    )
    # and those run on PostgreSQL only: SQLite stops being sensible above a city
    assert bench_all.plan(["fees", "monthly"], ["sqlite", "postgresql"], "province") == [
        ("fees", "postgresql", ["--scale", "province"]),
        ("monthly", "postgresql", ["--databases", "postgresql", "--scale", "province"]),
    ]


def test_table_shows_no_floor_ratio_and_met():
    bench_all = _all()
    rows = [
        {"bench": "signin", "database": "sqlite", "figure": "QR sign-in", "value": 400.0, "unit": "req/s",
         "floor": 500.0, "ratio": 0.8, "goal": "≥ 0.8× bare", "met": True},
        {"bench": "wakeup", "database": "sqlite", "figure": "p99", "value": 12.5, "unit": "ms",
         "floor": None, "ratio": None, "goal": "", "met": None},
        {"bench": "seed", "database": "postgresql", "figure": "seed", "value": 45.0, "unit": "s",
         "floor": None, "ratio": None, "goal": "< 30 s", "met": False},
    ]  # fmt: skip
    lines = bench_all.table(rows).splitlines()
    assert lines[2] == "| signin | sqlite | QR sign-in | 400 req/s | 500 req/s | 0.80× | ≥ 0.8× bare | yes |"
    assert lines[3] == "| wakeup | sqlite | p99 | 12.50 ms | no floor |  |  |  |"
    assert lines[4].endswith("| < 30 s | NO |")


def test_a_run_without_summary_is_a_failed_row(tmp_path, monkeypatch):
    bench_all = _all()

    class Done:
        returncode = 2

    def fake_run(argv, **kw):
        kw["stdout"].write("Traceback …\n")
        return Done()

    monkeypatch.setattr(bench_all.subprocess, "run", fake_run)
    rows, info = bench_all.run_one("seed", "sqlite", [], tmp_path / "seed.log", 10)
    assert info["exit"] == 2
    assert len(rows) == 1 and rows[0]["figure"].startswith("FAILED: exit 2") and rows[0]["met"] is False


def test_a_run_fills_the_database_a_bench_left_empty(tmp_path, monkeypatch):
    bench_all = _all()

    class Done:
        returncode = 0

    def fake_run(argv, **kw):
        kw["stdout"].write("SUMMARY " + json.dumps({"bench": "ledgers", "database": "", "value": 3.0}) + "\n")
        return Done()

    monkeypatch.setattr(bench_all.subprocess, "run", fake_run)
    rows, _ = bench_all.run_one("ledgers", "postgresql", [], tmp_path / "l.log", 10)
    assert [r["database"] for r in rows] == ["postgresql"]
