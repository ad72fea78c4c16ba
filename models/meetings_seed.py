"""`zhibu seed --months N`: meetings history that looks like a real county.

Most branches are compliant (plans on time, required meetings held, ~90 % attendance, minutes
within days, 补学 done); some lag (late or missing plans, skipped meetings, poorer attendance, late
or missing minutes, open 补学); a few members are chronically absent. Rows are built in memory with
ids assigned here and written with the seed's bulk insert, like the organisation itself.

The sample topics and places below are seed data (what a secretary would type), not UI text.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from config.rules import ACTIVITY_MENUS
from models.meetings import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Invitee,
    LeaveRequest,
    LeaveStatus,
    MakeupOrigin,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Minutes,
    MonthlyPlan,
    PlanItem,
    PlanStatus,
)
from models.org import BRANCH_COMMITTEE_ROLES, MemberStatus, Role, UnitKind
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert
from models.workcalendar import add_working_days, next_working_day

TZ = ZoneInfo("Asia/Shanghai")
TOPICS = {
    MeetingType.THEME_DAY: [
        "重温入党誓词，集中学习党章",
        "学习贯彻党的二十大精神",
        "志愿服务进社区",
        "党内关怀走访困难党员",
    ],
    MeetingType.PARTY_CONGRESS: ["通报季度工作，讨论发展党员", "审议支部工作计划", "民主议事：村务公开事项"],
    MeetingType.PARTY_LECTURE: ["书记讲党课：坚定理想信念", "党史学习专题党课", "党纪学习教育专题党课"],
    MeetingType.BRANCH_COMMITTEE: ["研究本月支部工作", "研究入党积极分子培养", "研究党费收缴和使用"],
    MeetingType.GROUP_MEETING: ["学习《党章》第一章", "谈心谈话，开展批评和自我批评", "学习近期重要讲话精神"],
    MeetingType.ORG_LIFE: ["年度组织生活会：查摆问题、开展批评和自我批评"],
    MeetingType.DEMOCRATIC_REVIEW: ["民主评议党员：个人自评、党员互评、民主测评"],
}
PLACES = ["党员活动室", "村委会会议室", "社区党群服务中心", "单位三楼会议室", "新时代文明实践站"]
EXCUSES = ["出差在外", "身体不适", "参加培训", "家中有事", "值班"]
# The demo organisation's 党员活动日: the 25th, 顺延 to the next working day off a rest day, as
# ZHIBU_MEETINGS__ACTIVITY_DAY__RULE=day_of_month with __DAY=25 computes it (the fee day's fixed-day
# rule on the same calendar). Its 主题党日 record the default 7+X menu.
ACTIVITY_DAY = 25
MENU = list(ACTIVITY_MENUS["7+X"])
EXTRAS = ["参观红色教育基地", "观看专题教育片", "走访慰问老党员", "开展环境整治志愿活动"]


def _menu(meeting_id: int, first: bool) -> tuple[list[str], str | None]:
    """The menu items a seeded 主题党日 did. Its own random stream (by meeting), so the shared one,
    and every other generator's rows, stay as they were; the demo's first 主题党日 misses one."""
    rng = random.Random(meeting_id)
    done = list(MENU)
    if first or rng.random() < 0.15:
        done.remove("党内关怀" if first else rng.choice(MENU))
    return done, (rng.choice(EXTRAS) if rng.random() < 0.6 else None)


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    out = [first]
    for _ in range(months - 1):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
        out.append(first)
    return sorted(out)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def _next_ids(session, tables) -> dict[str, int]:
    conn = session.connection()
    return {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}


def meetings_history(ctx: HistoryContext) -> dict[str, int]:
    rng: random.Random = ctx.rng
    plan = ctx.plan
    now = ctx.now
    tables = [
        MonthlyPlan.__table__, Meeting.__table__, MeetingKind.__table__, PlanItem.__table__, Invitee.__table__,
        Attendance.__table__, LeaveRequest.__table__, MakeupTask.__table__, Minutes.__table__,
    ]  # fmt: skip
    ids = _next_ids(ctx.session, tables)
    # The seed's bulk insert COPYs raw values on PostgreSQL (no bind processors), so JSON goes in as text
    # there; SQLite's path runs the JSON type's own processor on the Python value.
    pg = ctx.session.connection().dialect.name == "postgresql"

    def as_json(value):
        return json.dumps(value, ensure_ascii=False) if pg else value

    rows: dict[str, list[dict]] = defaultdict(list)

    def add(table: str, row: dict) -> int:
        row["id"] = ids[table]
        ids[table] += 1
        rows[table].append(row)
        return row["id"]

    branches = [u for u in plan.units if u.get("kind") == UnitKind.BRANCH]
    groups: dict[int, list[int]] = defaultdict(list)
    for u in plan.units:
        if u.get("kind") == UnitKind.GROUP:
            groups[u["parent_id"]].append(u["id"])
    members: dict[int, list[dict]] = defaultdict(list)
    for p in plan.people:
        if p.get("branch_id") and p.get("active", True) and not p.get("attendance_exempt_reason"):
            members[p["branch_id"]].append(p)
    secretaries: dict[int, int] = {}
    committee: dict[int, set[int]] = defaultdict(set)
    for r in plan.roles:
        if r["role"] in BRANCH_COMMITTEE_ROLES and r["org_unit_id"] is not None:
            committee[r["org_unit_id"]].add(r["person_id"])
        if r["role"] == Role.SECRETARY and r["org_unit_id"] is not None:
            secretaries.setdefault(r["org_unit_id"], r["person_id"])
    chronic = {p["id"] for ps in members.values() for p in ps if rng.random() < 0.015}
    this_month = ctx.today.replace(day=1)
    # The demo organisation fixes its 党员活动日; generated counties keep their drawn days (and so the
    # scores tests/monthly/test_scoring_whole_month.py fingerprints).
    fixed_day = ctx.scale.name == "demo"
    menu_missed = False

    for branch in branches:
        bid = branch["id"]
        people = members.get(bid, [])
        if not people:
            continue
        # Profile: most branches are fine, some lag, a few are poor.
        roll = rng.random()
        profile = "good" if roll < 0.78 else ("lagging" if roll < 0.95 else "poor")
        skip = {"good": 0.03, "lagging": 0.25, "poor": 0.5}[profile]
        attend = {"good": 0.92, "lagging": 0.78, "poor": 0.65}[profile]
        secretary = secretaries.get(bid)
        has_committee = len(committee.get(bid, ())) >= 3
        for month in _month_starts(ctx.today, ctx.months):
            # The plan for `month`, written in the month before.
            prev = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
            plan_id = None
            if profile != "poor" or rng.random() < 0.5:
                late = rng.random() < {"good": 0.05, "lagging": 0.4, "poor": 0.7}[profile]
                submitted = _at(prev.replace(day=rng.randint(26, 28) if late else rng.randint(18, 25)), 16)
                if submitted < now:
                    plan_id = add("monthly_plan", {
                        "branch_id": bid, "month": month, "status": PlanStatus.APPROVED, "submitted_at": submitted,
                        "submitted_by_id": secretary, "reviewed_at": submitted + timedelta(days=1),
                        "reviewed_by_id": None, "return_reason": None, "revision": 1,
                        "created_at": submitted, "updated_at": submitted,
                    })  # fmt: skip
            events: list[tuple[list[MeetingType], int | None]] = [([MeetingType.THEME_DAY], None)]
            if month.month % 3 == 0:
                events.append(([MeetingType.PARTY_CONGRESS, MeetingType.PARTY_LECTURE], None))
            if has_committee:
                events.append(([MeetingType.BRANCH_COMMITTEE], None))
            events += [([MeetingType.GROUP_MEETING], g) for g in groups.get(bid, [])]
            if month.month == 12:
                events.append(([MeetingType.ORG_LIFE, MeetingType.DEMOCRATIC_REVIEW], None))
            for types, group_id in events:
                if rng.random() < skip:
                    continue
                day = month.replace(day=rng.randint(3, 26))
                if fixed_day and types[0] == MeetingType.THEME_DAY and month < this_month:
                    # On the 党员活动日 (past months only: the current month's meetings, and so the
                    # draws for their sign-ins, stay as they were).
                    day = next_working_day(month.replace(day=ACTIVITY_DAY))
                starts = _at(day, rng.choice([9, 10, 14, 15]), rng.choice([0, 30]))
                topic = rng.choice(TOPICS[types[0]])
                if types[0] == MeetingType.GROUP_MEETING:
                    invited = [p for p in people if p.get("group_id") == group_id]
                elif types[0] == MeetingType.BRANCH_COMMITTEE:
                    invited = [p for p in people if p["id"] in committee[bid]]
                else:
                    invited = people
                if not invited:
                    continue
                past = starts + timedelta(minutes=30) < now
                mid = add("meeting", {
                    "branch_id": bid, "group_id": group_id, "title": f"{topic}", "topic": topic,
                    "place": rng.choice(PLACES), "starts_at": starts, "status": MeetingStatus.SCHEDULED,
                    "cancel_reason": None, "version": 1, "created_by_id": secretary,
                    "closed_at": starts + timedelta(minutes=30) if past else None,
                    "created_at": starts - timedelta(days=10), "updated_at": starts - timedelta(days=10),
                })  # fmt: skip
                for t in types:
                    add("meeting_kind", {"meeting_id": mid, "type": t})
                if plan_id is not None:
                    add("plan_item", {
                        "plan_id": plan_id, "types": as_json([t.value for t in types]), "starts_at": starts,
                        "place": rows["meeting"][-1]["place"], "topic": topic, "group_id": group_id,
                        "meeting_id": mid, "created_at": starts - timedelta(days=12),
                        "updated_at": starts - timedelta(days=12),
                    })  # fmt: skip
                present = 0
                came: set[int] = set()
                absentees = []
                for p in invited:
                    add("meeting_invitee", {"meeting_id": mid, "person_id": p["id"]})
                    if not past:
                        continue
                    chance = 0.3 if p["id"] in chronic else attend
                    r = rng.random()
                    if r < chance:
                        late = rng.random() < 0.06
                        status = AttendanceStatus.LATE if late else AttendanceStatus.PRESENT
                        method = AttendanceMethod.PROXY if rng.random() < 0.03 else AttendanceMethod.QR
                        offset = timedelta(minutes=rng.randint(11, 25) if late else -rng.randint(0, 25))
                        add("attendance", {
                            "meeting_id": mid, "person_id": p["id"], "status": status, "method": method,
                            "at": starts + offset, "reason": "手机没电" if method == AttendanceMethod.PROXY else None,
                            "marked_by_id": secretary if method == AttendanceMethod.PROXY else None,
                        })  # fmt: skip
                        present += 1
                        came.add(p["id"])
                        continue
                    on_leave = p["id"] not in chronic and rng.random() < 0.6
                    reason = rng.choice(EXCUSES)
                    if on_leave:
                        add("leave_request", {
                            "meeting_id": mid, "person_id": p["id"], "reason": reason,
                            "status": LeaveStatus.APPROVED, "requested_at": starts - timedelta(days=1),
                            "decided_at": starts - timedelta(hours=20), "decided_by_id": secretary,
                            "decision_note": None, "created_at": starts - timedelta(days=1),
                            "updated_at": starts - timedelta(hours=20),
                        })  # fmt: skip
                    status = AttendanceStatus.LEAVE if on_leave else AttendanceStatus.ABSENT
                    add("attendance", {
                        "meeting_id": mid, "person_id": p["id"], "status": status, "method": AttendanceMethod.AUTO,
                        "at": starts + timedelta(minutes=30), "reason": None, "marked_by_id": None,
                    })  # fmt: skip
                    absentees.append(
                        {
                            "person_id": p["id"],
                            "name": p["name"],
                            "reason": reason if on_leave else "无故缺席",
                        }
                    )
                    due = next_working_day(starts.astimezone(TZ).date() + timedelta(days=7))
                    done = (
                        rng.random() < {"good": 0.9, "lagging": 0.6, "poor": 0.35}[profile]
                        and due < ctx.today
                    )
                    reported = starts + timedelta(days=rng.randint(1, 6))
                    add("makeup_task", {
                        "meeting_id": mid, "person_id": p["id"],
                        "origin": MakeupOrigin.LEAVE if on_leave else MakeupOrigin.ABSENCE, "due_on": due,
                        "status": MakeupStatus.CONFIRMED if done else MakeupStatus.OPEN,
                        "note": "已学习会议内容并撰写心得" if done else None,
                        "reported_at": reported if done else None, "confirmed_at": reported + timedelta(days=1) if done else None,
                        "confirmed_by_id": secretary if done else None, "return_reason": None,
                        "created_at": starts + timedelta(minutes=30), "updated_at": starts + timedelta(minutes=30),
                    })  # fmt: skip
                if not past:
                    continue
                missing = rng.random() < {"good": 0.02, "lagging": 0.2, "poor": 0.45}[profile]
                if missing:
                    continue
                delay = (
                    rng.randint(0, 2)
                    if rng.random() > {"good": 0.05, "lagging": 0.35, "poor": 0.5}[profile]
                    else rng.randint(5, 12)
                )
                submitted = starts + timedelta(days=delay, hours=3)
                if submitted >= now:
                    continue
                local = starts.astimezone(TZ).date()
                menu_done, menu_extra = None, None
                if types[0] == MeetingType.THEME_DAY:
                    menu_done, menu_extra = _menu(mid, not menu_missed)
                    menu_missed = True
                add("minutes", {
                    "meeting_id": mid, "chair": next((p["name"] for p in people if p["id"] == secretary), "书记"),
                    "recorder": invited[-1]["name"], "topics": topic, "decisions": "会议按议程进行，达成一致意见。",
                    "absentees": as_json(absentees), "expected_count": len(invited), "present_count": present,
                    **_headcount(types, invited, came, committee[bid]),
                    "submitted_at": submitted, "submitted_by_id": secretary,
                    "due_on": add_working_days(local, 3), "created_at": submitted, "updated_at": submitted,
                    "menu_done": None if menu_done is None else as_json(menu_done), "menu_extra": menu_extra,
                })  # fmt: skip
    written = {}
    for table in tables:
        data = rows.get(table.name, [])
        bulk_insert(ctx.session, table, data)
        written[table.name] = len(data)
    return written


def _headcount(types, invited: list[dict], came: set[int], committee: set[int]) -> dict:
    """应到/实到 split 正式/预备 and the quorum of the seeded minutes (no votes are seeded), by the rules
    of handlers/meetings/quorum.py (rules 10, 11, 20); exempt members are never invited here."""
    full = [p["id"] for p in invited if p.get("status", MemberStatus.FULL) == MemberStatus.FULL]
    probationary = [p["id"] for p in invited if p.get("status", MemberStatus.FULL) != MemberStatus.FULL]
    row = {
        "expected_full": len(full), "expected_probationary": len(probationary),
        "present_full": len(came.intersection(full)), "present_probationary": len(came.intersection(probationary)),
        "vote_held": False, "vote_kind": None, "votes_for": None, "written_votes": 0,
        "voting_base": None, "voting_present": None, "quorum_met": None, "vote_passed": None,
        "needs_reconvene": False, "reconvened_by_id": None,
    }  # fmt: skip
    if MeetingType.PARTY_CONGRESS in types:
        base, present = len(full), len(came.intersection(full))
    elif MeetingType.BRANCH_COMMITTEE in types:
        base, present = len(committee), len(came & committee)
    else:
        return row
    row.update(voting_base=base, voting_present=present, quorum_met=base > 0 and 2 * present > base)
    return row


# Run first, whichever module is imported first: the generators share one seeded stream, so a generator
# that ran before this one and drew from it would reshuffle every branch's meetings, plans, minutes and
# so the demo's scores (a 督查 seed imported earlier turned 城关镇党委's October 81.9 into 97.2). The
# other generators build on the meetings anyway.
HISTORY_GENERATORS.insert(0, meetings_history)
