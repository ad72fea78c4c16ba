"""Benchmark the observers' periodic work at county scale (太湖县: ~1,300 branches, 115 observers).

    .venv/bin/python bench/observers.py [--scale county|city] [--databases sqlite postgresql]

For each database: seeds the organisation, adds two meetings per branch in October 2026, assigns 115
observers (one per ~11 branches, never their own), writes a form for a third of October's meetings
(a tenth with 责令纠正 items), then times:
1. the notice job as of 1 October, cold (every card new) and warm (nothing new: what every 5-minute
   run costs once the cards are out);
2. the three figures the monthly scoring reads for October;
3. coverage of the half-year and the coverage reminders;
4. every observer's yearly record and the .xlsx export.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import load_workbook  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

import models  # noqa: E402, F401 - registers every table and the history generators
from bench.summary import emit  # noqa: E402
from handlers.observers import coverage, notices, record, scoring  # noqa: E402
from handlers.observers.export import export_xlsx  # noqa: E402
from handlers.observers.forms import TAIHU  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import make_engine, make_sessionmaker  # noqa: E402
from models.meetings import Meeting, MeetingKind  # noqa: E402
from models.observers import Observation, ObserverAssignment, Outcome, Rectification  # noqa: E402
from models.org import OrgUnit, Person, UnitKind  # noqa: E402
from models.seed import bulk_insert, seed  # noqa: E402

PG_URL = os.environ.get("ZHIBU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CFG = TAIHU
OCT_1 = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 1 Oct 00:00 Shanghai
NOV_1 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
OBSERVERS = 115


def timed(label: str, fn, results: dict):
    t = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - t
    return value


def arrange(session, scale: str) -> dict:
    seed(
        session,
        scale,
        dingtalk_corp_id="dingbench",
        wecom_corp_id="wwbench",
        today=date(2026, 10, 31),
        now=NOV_1,
    )
    session.commit()
    rng = random.Random(7)
    branches = list(
        session.scalars(select(OrgUnit.id).where(OrgUnit.kind == UnitKind.BRANCH).order_by(OrgUnit.id))
    )
    # October's meetings: a 主题党日 and a 支委会 or 党员大会 per branch, by plain inserts, so both databases
    # get the same rows without the seed's own history.
    rows, kinds = [], []
    for i, branch_id in enumerate(branches):
        for j, kind in enumerate(("theme_day", rng.choice(["branch_committee", "party_congress"]))):
            starts = OCT_1 + timedelta(days=rng.randint(1, 29), hours=1 + 6 * j)
            mid = 2 * i + j + 1
            rows.append({"id": mid, "branch_id": branch_id, "title": "组织生活", "topic": "学习", "place": "活动室",
                         "starts_at": starts, "status": "scheduled", "version": 1, "created_at": NOV_1,
                         "updated_at": NOV_1})  # fmt: skip
            kinds.append({"meeting_id": mid, "type": kind})
    bulk_insert(session, Meeting.__table__, rows)
    bulk_insert(session, MeetingKind.__table__, kinds)
    session.commit()
    people = list(session.execute(select(Person.id, Person.branch_id).where(Person.branch_id.is_not(None))))
    observers = rng.sample(people, OBSERVERS)
    links = []
    for i, branch_id in enumerate(branches):
        observer_id, own = observers[i % OBSERVERS]
        if own == branch_id:
            observer_id, own = observers[(i + 1) % OBSERVERS]
        links.append({"observer_id": observer_id, "branch_id": branch_id, "active": True})
    bulk_insert(session, ObserverAssignment.__table__, links)
    session.commit()
    by_branch = {r["branch_id"]: r["observer_id"] for r in links}
    meetings = list(session.execute(select(Meeting.id, Meeting.branch_id, Meeting.starts_at)))
    forms, rects = [], []
    obs_id = 1
    for mid, bid, starts in meetings:
        if rng.random() > 1 / 3:
            continue
        correct = rng.random() < 0.1
        total = rng.randint(55, 100)
        forms.append({
            "id": obs_id, "meeting_id": mid, "observer_id": by_branch[bid], "branch_id": bid,
            "meeting_starts_at": starts, "preset": "taihu", "items": [], "total": total, "max_total": 100,
            "grade": CFG.form.grade(total), "comment": "", "outcome": (Outcome.CORRECT if correct else Outcome.PASS).value,
            "correct_by": starts.date() + timedelta(days=14) if correct else None, "reopen_by": None,
            "submitted_at": starts + timedelta(days=1), "edited_at": None, "on_time": True, "revision": 1,
            "created_at": NOV_1, "updated_at": NOV_1,
        })  # fmt: skip
        if correct:
            rects.append({"observation_id": obs_id, "branch_id": bid, "text": "补齐记录", "due_on": starts.date() + timedelta(days=14),
                          "status": "open", "reopen_count": 0, "created_at": NOV_1, "updated_at": NOV_1})  # fmt: skip
        obs_id += 1
    bulk_insert(session, Observation.__table__, forms)
    bulk_insert(session, Rectification.__table__, rects)
    session.commit()
    return {
        "branches": len(branches),
        "meetings": len(meetings),
        "forms": len(forms),
        "rectifications": len(rects),
    }


def run(url: str, scale: str) -> dict:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    out: dict = {}
    try:
        with factory() as s:
            out.update(arrange(s, scale))
        with factory() as s:
            runs, sent = [], 0
            while True:  # the backlog goes out over several runs, `notices_per_run` meetings each
                t = time.perf_counter()
                n = notices.send_notices(s, now=OCT_1, cfg=CFG, public_base_url="https://zhibu.example")
                s.commit()
                runs.append(time.perf_counter() - t)
                if not n:
                    break
                sent += n
            out["notices_sent"] = sent
            out["notices_runs"] = len(runs) - 1
            out["notices_longest_run_s"] = max(runs)
            out["notices_total_s"] = sum(runs)
            out["notices_again"] = timed("notices_warm_s", lambda: notices.send_notices(
                s, now=OCT_1, cfg=CFG, public_base_url="https://zhibu.example"), out)  # fmt: skip
            s.rollback()
            month = date(2026, 10, 1)
            scores = timed("observer_scores_s", lambda: scoring.observer_scores(s, month, CFG), out)
            timed("rectification_timeliness_s", lambda: scoring.rectification_timeliness(s, month, CFG), out)
            timed("severe_outcomes_s", lambda: scoring.severe_outcomes(s, month, CFG), out)
            out["branches_scored"] = len(scores)
            cov = timed(
                "coverage_s",
                lambda: coverage.coverage(s, date(2026, 10, 31), CFG, now=datetime(2026, 11, 1, tzinfo=UTC)),
                out,
            )
            out["branches_covered"] = sum(c.covered for c in cov)
            out["coverage_reminders"] = timed("coverage_reminders_s", lambda: coverage.remind_coverage(
                s, now=datetime(2026, 12, 5, 1, tzinfo=UTC), cfg=CFG), out)  # fmt: skip
            s.rollback()
            ids = sorted({o for (o,) in s.execute(select(ObserverAssignment.observer_id))})
            recs = timed(
                "records_s",
                lambda: record.observer_records(s, 2026, now=NOV_1, cfg=CFG, observer_ids=ids),
                out,
            )
            out["observers"] = len(recs)
            data = timed("export_s", lambda: export_xlsx(s, 2026, now=NOV_1, cfg=CFG, observer_ids=ids), out)
            wb = load_workbook(io.BytesIO(data), read_only=True)
            out["export_rows"] = (wb["观察员年度统计"].max_row - 1, wb["评价表明细"].max_row - 1)
            out["export_kb"] = round(len(data) / 1024)
    finally:
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="county")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    for db in args.databases:
        if db == "sqlite":
            tmp = tempfile.TemporaryDirectory()
            url = f"sqlite:///{tmp.name}/bench.db"
            result = run(url, args.scale)
            tmp.cleanup()
        else:
            schema = f"bench_obs_{uuid.uuid4().hex[:8]}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in PG_URL else "?"
                result = run(f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}", args.scale)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        print(f"\n== {db} ({args.scale}) ==")
        for key, value in result.items():
            print(f"  {key:28} {value:.3f}" if isinstance(value, float) else f"  {key:28} {value}")
        slowest = max((k for k, v in result.items() if k.endswith("_s")), key=result.get)
        emit("observers", db, f"slowest step, {args.scale}: {slowest}", result[slowest], "s")


if __name__ == "__main__":
    main()
