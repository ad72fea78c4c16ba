"""Seed history for observers: assignments, evaluation forms and rectification items.

Runs after the meetings history (registered later in models/__init__.py), reading the meetings it wrote.
About one observer per eleven branches (太湖县: 115 for ~1,300), each a secretary of another branch
(领域交叉、异地观察: never their own); each branch is observed in roughly two of every five months, mostly
合格 with some 现场提醒, a few 责令纠正 (items mostly closed on time) and the odd 叫停.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from models.meetings import Meeting, MeetingStatus
from models.observers import Observation, ObserverAssignment, Outcome, Rectification, RectificationStatus
from models.org import Person, Role, RoleAssignment, UnitKind
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert

# The 100-point form (domain.md §5): key, label, maximum. Mirrors handlers/observers/forms.TAIHU_FORM,
# which models may not import.
ITEMS = (
    ("prep", "会前准备", 15),
    ("procedure", "程序规范", 20),
    ("attendance", "到会情况", 15),
    ("content", "内容质量", 25),
    ("record", "记录规范", 10),
    ("followup", "议定事项落实/整改", 15),
)
ISSUES = [
    "会议记录缺主持人签名",
    "到会名单与签到表不一致",
    "学习内容未联系本支部实际",
    "上次议定事项未通报落实情况",
]
COMMENTS = [
    "程序规范，讨论较充分",
    "主题明确，准备充分",
    "发言不够深入，部分党员照本宣科",
    "会前通知及时，材料齐全",
]


def _grade(total: int) -> str:
    return "A" if total >= 90 else "B" if total >= 80 else "C" if total >= 60 else "D"


def _appointed_links(ctx: HistoryContext, branches: list[int]) -> dict[int, int]:
    """Branch → observer for the people the organisation appointed (the 观察员 role on a committee):
    each observes the branches under their committee but their own, so the one a newcomer plays in the
    demo (马超) has branches, notices and forms. Branches nobody was appointed for are left to the caller.
    """
    paths = {u["id"]: u["path"] for u in ctx.plan.units}
    appointed = ctx.session.execute(
        select(RoleAssignment.person_id, RoleAssignment.org_unit_id, Person.branch_id)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.role == Role.OBSERVER, RoleAssignment.org_unit_id.in_(list(paths)))
        .order_by(RoleAssignment.person_id)
    ).all()
    links: dict[int, int] = {}
    for person_id, committee_id, own_branch in appointed:
        for branch_id in branches:
            if (
                branch_id != own_branch
                and branch_id not in links
                and paths[branch_id].startswith(paths[committee_id])
            ):
                links[branch_id] = person_id
    return links


def observers_history(ctx: HistoryContext) -> dict[str, int]:
    session, rng, now = ctx.session, random.Random(ctx.rng.random()), ctx.now
    branches = sorted(u["id"] for u in ctx.plan.units if u.get("kind") == UnitKind.BRANCH)
    if len(branches) < 2:
        return {}
    secretaries = sorted(
        set(
            session.execute(
                select(RoleAssignment.person_id, RoleAssignment.org_unit_id).where(
                    RoleAssignment.role == Role.SECRETARY, RoleAssignment.org_unit_id.in_(branches)
                )
            ).all()
        )
    )
    if len(secretaries) < 2:
        return {}
    count = max(2, round(len(branches) / 11))
    observers = rng.sample(secretaries, min(count, len(secretaries)))
    links = _appointed_links(ctx, branches)
    for i, branch_id in enumerate(branches):
        if branch_id in links:
            continue
        for step in range(len(observers)):
            person_id, own = observers[(i + step) % len(observers)]
            if own != branch_id:
                links[branch_id] = person_id
                break
    pg = session.connection().dialect.name == "postgresql"
    next_obs = (session.scalar(select(func.max(Observation.id))) or 0) + 1
    next_link = (session.scalar(select(func.max(ObserverAssignment.id))) or 0) + 1
    next_rect = (session.scalar(select(func.max(Rectification.id))) or 0) + 1
    meetings = session.execute(
        select(Meeting.id, Meeting.branch_id, Meeting.starts_at)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at < now,
            Meeting.branch_id.in_(list(links)),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    # The links date from the history's first meeting (a ledger shows 联系起始 beside the observations).
    linked_at = min((starts for _, _, starts in meetings), default=now)
    rows_links = []
    for branch_id, person_id in links.items():
        rows_links.append({"id": next_link, "observer_id": person_id, "branch_id": branch_id, "active": True,
                           "created_at": linked_at, "updated_at": linked_at})  # fmt: skip
        next_link += 1
    by_branch_month: dict[tuple[int, str], list] = defaultdict(list)
    for mid, bid, starts in meetings:
        by_branch_month[(bid, f"{starts:%Y-%m}")].append((mid, starts))
    forms, rects = [], []
    for (bid, _month), candidates in sorted(by_branch_month.items()):
        if rng.random() > 0.4:
            continue
        mid, starts = rng.choice(candidates)
        roll = rng.random()
        outcome = (
            Outcome.STOP if roll < 0.01
            else Outcome.CORRECT if roll < 0.08
            else Outcome.REMIND if roll < 0.2
            else Outcome.PASS
        )  # fmt: skip
        low = 0.55 if outcome in (Outcome.STOP, Outcome.CORRECT) else 0.75
        items = []
        for key, label, top in ITEMS:
            score = min(top, max(0, round(top * rng.uniform(low, 1.0))))
            items.append({"key": key, "label": label, "max": top, "score": score, "comment": ""})
        total = sum(i["score"] for i in items)
        late = rng.random() < 0.1
        submitted = starts + timedelta(days=rng.randint(4, 6) if late else rng.randint(0, 2), hours=2)
        correct_by = (starts + timedelta(days=14)).date() if outcome == Outcome.CORRECT else None
        forms.append({
            "id": next_obs, "meeting_id": mid, "observer_id": links[bid], "branch_id": bid, "meeting_starts_at": starts,
            "preset": "taihu", "items": json.dumps(items, ensure_ascii=False) if pg else items, "total": total,
            "max_total": 100, "grade": "D" if outcome == Outcome.STOP else _grade(total),
            "comment": rng.choice(COMMENTS), "outcome": outcome.value, "correct_by": correct_by, "reopen_by": None,
            "submitted_at": min(submitted, now), "edited_at": None, "on_time": not late, "revision": 1,
            "created_at": now, "updated_at": now,
        })  # fmt: skip
        if correct_by is not None:
            for text in rng.sample(ISSUES, rng.randint(1, 2)):
                due = datetime.combine(correct_by, datetime.min.time(), tzinfo=UTC)
                closed = due < now and rng.random() < 0.8
                closed_at = due - timedelta(days=rng.randint(0, 5)) if closed else None
                rects.append({
                    "id": next_rect, "observation_id": next_obs, "branch_id": bid, "text": text, "due_on": correct_by,
                    "status": (RectificationStatus.CLOSED if closed else RectificationStatus.OPEN).value,
                    "report_note": "已整改" if closed else None, "reported_at": closed_at, "closed_at": closed_at,
                    "reopen_reason": None, "reopen_count": 0, "created_at": now, "updated_at": now,
                })  # fmt: skip
                next_rect += 1
        next_obs += 1
    bulk_insert(session, ObserverAssignment.__table__, rows_links)
    bulk_insert(session, Observation.__table__, forms)
    bulk_insert(session, Rectification.__table__, rects)
    return {"observer_assignment": len(rows_links), "observation": len(forms), "rectification": len(rects)}


HISTORY_GENERATORS.append(observers_history)
