"""Demo history of handlers.lifemeeting (registered on models.seed.HISTORY_GENERATORS): the current year's
组织生活会 part-way through. Most branches have planned it (on the day of the 组织生活会 the meetings history
seeded, else a December day); people have done the steps already due, more in good branches than in others,
and some wait for the secretary's mark; a branch whose meeting has begun has its 查摆问题, 批评和自我批评 and
整改措施 (some done). The sample texts are seed data (what a secretary would type), not UI text.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select

from models.lifemeeting import (
    LifeMeetingCriticism,
    LifeMeetingMeasure,
    LifeMeetingMinutes,
    LifeMeetingPlan,
    LifeMeetingStep,
    LifeStep,
)
from models.meetings import Meeting, MeetingKind, MeetingStatus, MeetingType

# Importing meetings_seed also registers its generator first: this one reads the meetings it wrote.
from models.meetings_seed import TZ, _at, _next_ids
from models.org import BRANCH_COMMITTEE_ROLES, Role, UnitKind
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert

# Days before the meeting each step is due: handlers.lifemeeting.config's defaults (models may not import it).
DAYS_BEFORE = {"study": 21, "opinions": 14, "talks": 7, "materials": 3}
NOTES = {
    LifeStep.STUDY: ["参加了支部集中学习，撰写了学习心得", "学习了党章和有关重要讲话精神"],
    LifeStep.OPINIONS: ["走访了5户群众，征求到3条意见", "通过座谈会征求意见建议"],
    LifeStep.MATERIALS: ["一、存在的问题：理论学习不够系统；联系群众不够紧密。二、原因分析……三、整改措施……"],
}
SELF = ["理论学习不够系统深入", "服务群众的主动性不够", "工作作风不够扎实", "发挥先锋模范作用不够"]
RECEIVED = ["希望多参加支部活动", "工作中要更加注重方法", "学习要联系实际"]
PROBLEMS = "1.理论学习不够系统；2.联系服务群众不够紧密；3.组织生活质量有待提高"
MEASURES = ["每月开展一次集中学习", "建立党员联系群众制度", "规范会议记录和材料归档"]


def lifemeeting_history(ctx: HistoryContext) -> dict[str, int]:
    # A copy of the seed's generator: the generators after this one draw exactly what they drew before it.
    rng = random.Random()
    rng.setstate(ctx.rng.getstate())
    today, now = ctx.today, ctx.now
    year = today.year
    tables = [t.__table__ for t in (LifeMeetingPlan, LifeMeetingStep, LifeMeetingMinutes, LifeMeetingCriticism,
                                    LifeMeetingMeasure)]  # fmt: skip
    ids = _next_ids(ctx.session, tables)
    rows: dict[str, list[dict]] = defaultdict(list)

    def add(table: str, row: dict) -> int:
        row["id"] = ids[table]
        ids[table] += 1
        rows[table].append(row)
        return row["id"]

    branches = [u["id"] for u in ctx.plan.units if u.get("kind") == UnitKind.BRANCH]
    people: dict[int, list[dict]] = defaultdict(list)
    for p in ctx.plan.people:
        if p.get("branch_id") and p.get("active", True):
            people[p["branch_id"]].append(p)
    secretaries: dict[int, int] = {}
    committee: dict[int, set[int]] = defaultdict(set)
    for r in ctx.plan.roles:
        if r["role"] == Role.SECRETARY and r["org_unit_id"] is not None:
            secretaries.setdefault(r["org_unit_id"], r["person_id"])
        if r["role"] in BRANCH_COMMITTEE_ROLES and r["org_unit_id"] is not None:
            committee[r["org_unit_id"]].add(r["person_id"])
    lo, hi = _at(date(year, 1, 1), 0), _at(date(year + 1, 1, 1), 0)
    meetings: dict[int, tuple[int, datetime]] = {}
    for bid, mid, starts in ctx.session.execute(
        select(Meeting.branch_id, Meeting.id, Meeting.starts_at)
        .join(
            MeetingKind, and_(MeetingKind.meeting_id == Meeting.id, MeetingKind.type == MeetingType.ORG_LIFE)
        )
        .where(Meeting.starts_at >= lo, Meeting.starts_at < hi, Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Meeting.starts_at)
    ):
        meetings.setdefault(bid, (mid, starts))
    for bid in branches:
        crowd = people.get(bid, [])
        if not crowd or rng.random() < 0.1:  # a few branches have not planned it yet
            continue
        found = meetings.get(bid)
        planned = found[1].astimezone(TZ).date() if found else date(year, 12, rng.randint(10, 28))
        set_at = _at(planned - timedelta(days=35), 16)
        if set_at > now:
            set_at = now - timedelta(days=1)
        secretary = secretaries.get(bid)
        dues = {s: planned - timedelta(days=d) for s, d in DAYS_BEFORE.items()}
        plan_id = add("life_meeting_plan", {
            "branch_id": bid, "year": year, "planned_on": planned, **{f"{s}_due": d for s, d in dues.items()},
            "set_by_id": secretary, "set_at": set_at, "created_at": set_at, "updated_at": set_at,
        })  # fmt: skip
        diligence = rng.choice([0.95, 0.85, 0.6])
        for p in crowd:
            for step in (LifeStep.STUDY, LifeStep.OPINIONS, LifeStep.MATERIALS):
                due = dues[step.value]
                if due > today + timedelta(days=3) or rng.random() > diligence:
                    continue
                submitted = min(_at(due - timedelta(days=rng.randint(0, 5)), 20), now - timedelta(hours=2))
                marked = rng.random() < 0.85 and submitted + timedelta(days=1) < now
                add("life_meeting_step", {
                    "plan_id": plan_id, "person_id": p["id"], "step": step, "content": rng.choice(NOTES[step]),
                    "submitted_at": submitted, "done_at": submitted + timedelta(days=1) if marked else None,
                    "done_by_id": secretary if marked else None, "created_at": submitted, "updated_at": submitted,
                })  # fmt: skip
        if found is None or found[1] > now:
            continue
        mid, starts = found
        after = starts + timedelta(hours=2)
        add("life_meeting_minutes", {
            "meeting_id": mid, "problems": PROBLEMS, "recorded_by_id": secretary, "recorded_at": after,
            "created_at": after, "updated_at": after,
        })  # fmt: skip
        for p in crowd:
            if p["id"] not in committee[bid] and rng.random() < 0.5:
                continue
            add("life_meeting_criticism", {
                "meeting_id": mid, "person_id": p["id"], "self_points": rng.choice(SELF),
                "received": rng.choice(RECEIVED), "given": "", "recorded_by_id": secretary, "recorded_at": after,
                "created_at": after, "updated_at": after,
            })  # fmt: skip
        for content in MEASURES[: rng.randint(1, len(MEASURES))]:
            owner = rng.choice(crowd)["id"]
            due = starts.astimezone(TZ).date() + timedelta(days=rng.choice([7, 30, 60]))
            done = due < today and rng.random() < 0.7
            add("life_meeting_measure", {
                "meeting_id": mid, "content": content, "owner_id": owner, "due_on": due,
                "done_at": _at(due, 10) if done else None, "done_by_id": owner if done else None,
                "created_by_id": secretary, "created_at": after, "updated_at": after,
            })  # fmt: skip
    written = {}
    for table in tables:
        data = rows.get(table.name, [])
        bulk_insert(ctx.session, table, data)
        written[table.name] = len(data)
    return written


HISTORY_GENERATORS.append(lifemeeting_history)
