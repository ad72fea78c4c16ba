"""zhibu serve / run-job from the command line: start-up refusals, graceful SIGTERM, one run per period."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.common import YOUNG_COLLECTION_THRESHOLD, settle_heap

ROOT = Path(__file__).resolve().parents[2]


def _env(database_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}
    env |= {"ZHIBU_DATABASE_URL": database_url, **extra}
    return env


def test_serve_refuses_the_default_secret_key(database_url, monkeypatch):
    monkeypatch.setenv("ZHIBU_DATABASE_URL", database_url)
    monkeypatch.delenv("ZHIBU_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", "--role", "relay"])
    assert result.exit_code != 0 and "ZHIBU_SECRET_KEY" in result.output


def test_serve_refuses_an_out_of_date_schema(database_url, monkeypatch):
    monkeypatch.setenv("ZHIBU_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "a-long-enough-production-secret")
    result = CliRunner().invoke(app, ["serve", "--role", "relay"])
    assert result.exit_code != 0 and "zhibu db upgrade" in result.output


def test_unknown_role_and_unknown_job_get_a_clear_answer(migrated_url, monkeypatch):
    monkeypatch.setenv("ZHIBU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "a-long-enough-production-secret")
    result = CliRunner().invoke(app, ["serve", "--role", "worker"])
    assert result.exit_code != 0 and "未知角色" in result.output
    result = CliRunner().invoke(app, ["run-job", "no_such_job"])
    assert result.exit_code != 0 and "没有名为" in result.output


def test_sigterm_stops_the_relay_and_scheduler_roles_cleanly(migrated_url):
    if not migrated_url.startswith("sqlite"):
        pytest.skip("one database is enough to check process signals")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--role", "relay,scheduler"],
        cwd=ROOT,
        env=_env(migrated_url, ZHIBU_SECRET_KEY="a-long-enough-production-secret"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and "已启动" not in line:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "已启动" in line, line
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "已停止" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run_job_runs_a_period_once(migrated_url, session_factory, monkeypatch):
    from sqlalchemy import func, select

    from models.outbox import OutboxMessage
    from scheduler import jobs
    from tests.core import sample_jobs
    from tests.core.helpers import make_org

    monkeypatch.setenv("ZHIBU_DATABASE_URL", migrated_url)
    monkeypatch.setattr(jobs, "JOB_MODULES", (sample_jobs,))
    make_org(session_factory)
    assert gc.get_freeze_count() == 0
    first = CliRunner().invoke(app, ["run-job", "hello_monthly", "--period", "2026-08"])
    # The job ran in a process set as a server's (start-up's heap frozen; tests/conftest.py undoes it).
    assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
    again = CliRunner().invoke(app, ["run-job", "hello_monthly", "--period", "2026-08"])
    assert first.exit_code == 0 and "已运行" in first.output
    assert again.exit_code == 0 and "之前已经运行过" in again.output
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 5  # 4 with accounts + 1 unbound


def test_every_job_result_has_a_chinese_line():
    from bot.cli.serve import TEXT
    from scheduler.runner import RunResult

    assert set(TEXT["job"]) == {r.value for r in RunResult}


def test_serve_settles_the_heap_after_building_its_parts_and_before_running_them(migrated_url, monkeypatch):
    from bot.cli import serve as serve_module

    seen = []

    class Recording:
        def __init__(self, *args, **kwargs):
            seen.append(("built", gc.get_freeze_count()))

        def run(self, on_ready=None):
            seen.append(("run", gc.get_freeze_count() > 0, gc.get_threshold()[0]))

    monkeypatch.setenv("ZHIBU_DATABASE_URL", migrated_url)
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "a-long-enough-production-secret")
    monkeypatch.setattr(serve_module, "Service", Recording)
    result = CliRunner().invoke(app, ["serve", "--role", "relay"])
    assert result.exit_code == 0, result.output
    assert seen == [("built", 0), ("run", True, YOUNG_COLLECTION_THRESHOLD)]


def test_a_settled_heap_still_collects_cycles_by_itself():
    """Young passes still run, less often: cyclic garbage made after start-up is freed once enough is
    allocated, with no gc.collect() (which would free it even with the collector disabled)."""

    class Node:
        pass

    settle_heap()
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    kept = [[] for _ in range(3 * YOUNG_COLLECTION_THRESHOLD)]  # net allocations: a young pass must run
    assert gone() is None and len(kept) == 3 * YOUNG_COLLECTION_THRESHOLD
