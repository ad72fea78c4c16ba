"""Demo history of 督查/巡查 (registered on models.seed.HISTORY_GENERATORS).

The year's 督查清单 (a short default list), one closed 综合督查 round last month over the first three
branches with a 组织部 inspector (each item fine or a problem, the problems' rectifications signed off,
reported, or still open), a 巡查指导 round this month over the next two branches (so the quarter's line
is not empty), the first 组织部 cadre linked (包保) to the first committee, and this month's random patrol: 10% of the branches, at least one per
committee, with a recorded seed, not visible to the branches before the month ends. The draw here is a
plain seeded pick per committee, not handlers.inspection.draw (models import no feature); the sample
problems are seed data (what an inspector would write under each item, naming months within the seeded
history), not UI text. No chat message is seeded for the rectifications (the message is the feature's,
which models may not import): their owners find them with 督查任务.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from models.inspection import (
    ChecklistItem,
    Finding,
    InspectionRectification,
    InspectionRound,
    Liaison,
    RoundKind,
    RoundUnit,
)
from models.observers import RectificationStatus
from models.org import Role, UnitKind
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert, seed_start_month

TZ = ZoneInfo("Asia/Shanghai")

ITEMS = [
    "“三会一课”按规定召开，记录完整",
    "主题党日每月开展，有计划有记录",
    "组织生活会和民主评议党员按时召开",
    "党费按月足额收缴，台账清楚",
    "谈心谈话按要求开展",
]
# What an inspector writes under each item of ITEMS (two each, so a branch's findings differ);
# "{m}" is a month within the seeded history before the visit.
PROBLEMS = [
    ["{m}月支委会记录缺少议题和表决情况", "{m}月党小组会未召开"],
    ["主题党日签到表代签", "{m}月主题党日没有活动计划"],
    ["民主评议党员测评表未归档", "组织生活会对照检查材料缺少问题清单"],
    ["党费收缴台账未按月登记", "{m}月党费未按标准足额收缴"],
    ["谈心谈话记录过于简单", "支委与党员谈心谈话未全覆盖"],
]
GUIDANCE_ITEM = "基本活动：“三会一课”、主题党日落实到位"
GUIDANCE_PROBLEMS = ["{m}月支委会记录缺少议题和表决情况", "主题党日签到表代签"]


def _problem(template: str, visited: date, start: date) -> str:
    """The problem's text, naming the month before the visit unless that is before the seeded history."""
    before = (visited.replace(day=1) - timedelta(days=1)).replace(day=1)
    return template.format(m=max(before, start).month)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


def _next_ids(session, *tables) -> list[int]:
    return [(session.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables]


def inspection_history(ctx: HistoryContext) -> dict[str, int]:
    session, plan, today = ctx.session, ctx.plan, ctx.today
    rng = random.Random(ctx.rng.random())
    units = {u["id"]: u for u in plan.units}
    branches = sorted(
        i for i, u in units.items() if u.get("kind") == UnitKind.BRANCH and u.get("active", True)
    )
    staff = sorted(r["person_id"] for r in plan.roles if r["role"] == Role.ORG_STAFF)
    if not branches or not staff:
        return {}
    secretaries = {r["org_unit_id"]: r["person_id"] for r in plan.roles if r["role"] == Role.SECRETARY}
    inspector = staff[0]
    item_id, round_id, ru_id, finding_id, rect_id = _next_ids(
        session, ChecklistItem.__table__, InspectionRound.__table__, RoundUnit.__table__, Finding.__table__,
        InspectionRectification.__table__,
    )  # fmt: skip
    items = [
        {"id": item_id + n, "year": today.year, "list_kind": RoundKind.SUPERVISION, "seq": n + 1, "title": t,
         "categories": [], "active": True}
        for n, t in enumerate(ITEMS)
    ]  # fmt: skip
    first = today.replace(day=1)
    start = seed_start_month(today, ctx.months) or first
    last_month = (first - timedelta(days=1)).replace(day=1)
    rounds = [
        {"id": round_id, "kind": RoundKind.SUPERVISION, "year": last_month.year, "title": f"{last_month.month}月综合督查",
         "unit_id": None, "scope_kind": "综合", "target_kind": "随机", "method": "查资料", "opened_on": last_month,
         "period_start": None, "period_end": None, "month": None, "seed": None, "share": None, "visible_from": None,
         "created_by_id": inspector, "closed_at": _at(last_month + timedelta(days=20))},
    ]  # fmt: skip
    round_units, findings, rects = [], [], []
    for n, branch in enumerate(branches[:3]):
        visited = last_month + timedelta(days=3 + n * 2)
        round_units.append({"id": ru_id, "round_id": round_id, "branch_id": branch, "inspector_id": inspector,
                            "checker_branch_id": None, "visited_on": visited})  # fmt: skip
        for k, title in enumerate(ITEMS):
            problem = rng.random() < 0.3 or (n == 0 and k == 1)
            text = _problem(rng.choice(PROBLEMS[k]), visited, start) if problem else ""
            findings.append({"id": finding_id, "round_unit_id": ru_id, "branch_id": branch, "item_id": item_id + k,
                             "item_title": title, "ok": not problem, "text": text, "photos": [],
                             "recorded_by_id": inspector, "recorded_at": _at(visited), "corrected_by_id": None,
                             "corrected_at": None, "correction_reason": None})  # fmt: skip
            if problem:
                status = rng.choice(
                    [RectificationStatus.OPEN, RectificationStatus.REPORTED, RectificationStatus.CLOSED]
                )
                reported = status != RectificationStatus.OPEN
                rects.append({"id": rect_id, "finding_id": finding_id, "branch_id": branch,
                              "owner_id": secretaries.get(branch), "text": text, "due_on": visited + timedelta(days=30),
                              "status": status, "report_note": "已整改并补齐记录" if reported else None,
                              "reported_at": _at(visited + timedelta(days=12)) if reported else None,
                              "closed_at": _at(visited + timedelta(days=15)) if status == RectificationStatus.CLOSED else None,
                              "closed_by_id": inspector if status == RectificationStatus.CLOSED else None,
                              "reopen_reason": None, "reopen_count": 0})  # fmt: skip
                rect_id += 1
            finding_id += 1
        ru_id += 1
    # This month's 巡查指导 over the next two branches: one problem each, one of them signed off.
    guidance_id = round_id + 2
    rounds.append({"id": guidance_id, "kind": RoundKind.GUIDANCE, "year": first.year, "title": f"{first.month}月巡查指导",
                   "unit_id": None, "scope_kind": "", "target_kind": "", "method": "看现场", "opened_on": first,
                   "period_start": None, "period_end": None, "month": None, "seed": None, "share": None,
                   "visible_from": None, "created_by_id": inspector, "closed_at": None})  # fmt: skip
    for n, branch in enumerate(branches[3:5]):
        visited = min(first + timedelta(days=1 + n), today)
        round_units.append({"id": ru_id, "round_id": guidance_id, "branch_id": branch, "inspector_id": inspector,
                            "checker_branch_id": None, "visited_on": visited})  # fmt: skip
        findings.append({"id": finding_id, "round_unit_id": ru_id, "branch_id": branch, "item_id": None,
                         "item_title": GUIDANCE_ITEM, "ok": False, "text": _problem(GUIDANCE_PROBLEMS[n], visited, start),
                         "photos": [], "recorded_by_id": inspector, "recorded_at": _at(visited),
                         "corrected_by_id": None, "corrected_at": None, "correction_reason": None})  # fmt: skip
        closed = n == 0
        rects.append({"id": rect_id, "finding_id": finding_id, "branch_id": branch, "owner_id": secretaries.get(branch),
                      "text": _problem(GUIDANCE_PROBLEMS[n], visited, start), "due_on": visited + timedelta(days=30),
                      "status": RectificationStatus.CLOSED if closed else RectificationStatus.OPEN,
                      "report_note": "已整改" if closed else None, "reported_at": _at(visited) if closed else None,
                      "closed_at": _at(visited, 16) if closed else None, "closed_by_id": inspector if closed else None,
                      "reopen_reason": None, "reopen_count": 0})  # fmt: skip
        rect_id += 1
        finding_id += 1
        ru_id += 1
    committees = sorted(i for i, u in units.items() if u.get("kind") == UnitKind.COMMITTEE)
    (liaison_id,) = _next_ids(session, Liaison.__table__)
    # 包保联系: the first 组织部 cadre (the demo's 赵敏) is linked to the first committee (城关镇党委), so
    # their console opens on 我包保的党委 and 查看全县 shows the other committee (县直机关工委) too.
    liaisons = (
        [{"id": liaison_id, "person_id": inspector, "committee_id": committees[0], "assigned_by_id": None}]
        if committees
        else []
    )
    # This month's patrol: 10% per committee (at least one), seeded and recorded.
    seed = rng.randrange(2**31)
    pick = random.Random(seed)
    by_committee: dict[int, list[int]] = defaultdict(list)
    for b in branches:
        path = [int(p) for p in units[b].get("path", "").strip("/").split("/") if p]
        committee = next((i for i in reversed(path) if units.get(i, {}).get("kind") == UnitKind.COMMITTEE), 0)
        by_committee[committee].append(b)
    drawn = sorted(
        b for ids in by_committee.values() for b in pick.sample(ids, max(1, round(len(ids) * 0.1)))
    )
    patrol_id = round_id + 1
    visible = (first + timedelta(days=32)).replace(day=1)
    rounds.append({"id": patrol_id, "kind": RoundKind.PATROL, "year": first.year, "title": f"{first.year}年{first.month}月 随机抽查",
                   "unit_id": None, "scope_kind": "", "target_kind": "随机", "method": "看现场", "opened_on": first,
                   "period_start": None, "period_end": None, "month": first, "seed": seed, "share": 0.1,
                   "visible_from": visible, "created_by_id": None, "closed_at": None})  # fmt: skip
    for n, b in enumerate(drawn):
        round_units.append({"id": ru_id, "round_id": patrol_id, "branch_id": b, "inspector_id": staff[n % len(staff)],
                            "checker_branch_id": None, "visited_on": None})  # fmt: skip
        ru_id += 1
    now = ctx.now
    for rows in (items, rounds, round_units, findings, rects, liaisons):
        for r in rows:
            r.setdefault("created_at", now)
            r.setdefault("updated_at", now)
    bulk_insert(session, ChecklistItem.__table__, items)
    bulk_insert(session, InspectionRound.__table__, rounds)
    bulk_insert(session, RoundUnit.__table__, round_units)
    bulk_insert(session, Finding.__table__, findings)
    if rects:
        bulk_insert(session, InspectionRectification.__table__, rects)
    if liaisons:
        bulk_insert(session, Liaison.__table__, liaisons)
    return {
        "inspection_item": len(items),
        "inspection_round": len(rounds),
        "inspection_round_unit": len(round_units),
        "inspection_finding": len(findings),
        "inspection_rectification": len(rects),
        "inspection_liaison": len(liaisons),
    }


HISTORY_GENERATORS.append(inspection_history)
