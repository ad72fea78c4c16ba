"""Demo history of 民主评议党员 (registered on models.seed.HISTORY_GENERATORS): the current year part-way
through. The first branch (the demo's 东风村党支部) is voting now, half of its voters in, the README's secretary
and member still to vote; the next two held theirs a month ago and their 支部大会 has decided; the fourth has
its 支委会's proposal and waits for the 支部大会; every other branch has not opened one yet.

A decided appraisal's 支部大会 is also a meeting (rule 6: one event may count as several types): held on the
decision day as 支部党员大会 and 民主评议党员, with invitees, sign-ins and minutes as models/meetings_seed.py
writes them, so the month's points and the 年终通报 count it as a secretary recording it would make them.

Ballots are loose marks with random keys, as the software writes them (models/appraisal.py); the grades
follow the count the simple way (the most 优秀 votes up to a third of the members), not handlers.appraisal's
rule: models import no feature."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from models.appraisal import Appraisal, AppraisalBallot, AppraisalGrade, AppraisalMember, Grade
from models.meetings import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Invitee,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Minutes,
)
from models.meetings_seed import _at, _headcount, _next_ids
from models.org import BRANCH_COMMITTEE_ROLES, MemberStatus, Role, UnitKind
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert
from models.seed.demo import DEMO_PEOPLE
from models.workcalendar import add_working_days

MEETING_TABLES = (Meeting.__table__, MeetingKind.__table__, Invitee.__table__, Attendance.__table__,
                  Minutes.__table__)  # fmt: skip
# How members rate each other in the demo: mostly 合格, some 优秀, a few lower.
WEIGHTS = ((Grade.EXCELLENT, 0.3), (Grade.QUALIFIED, 0.62), (Grade.BASIC, 0.06), (Grade.UNQUALIFIED, 0.02))
SELF_ASSESSMENTS = (
    "按时参加组织生活，按月交纳党费；理论学习还不够系统，今后加强。",
    "认真完成本职工作，积极参加志愿服务；批评和自我批评开展得不够。",
    "能够发挥党员先锋模范作用；联系群众还不够紧密，下一步改进。",
)


def _grade(rng: random.Random) -> Grade:
    roll, acc = rng.random(), 0.0
    for grade, weight in WEIGHTS:
        acc += weight
        if roll < acc:
            return grade
    return Grade.QUALIFIED


def appraisal_history(ctx: HistoryContext) -> dict[str, int]:
    session, plan, today = ctx.session, ctx.plan, ctx.today
    rng = random.Random(ctx.rng.random())
    branches = sorted(u["id"] for u in plan.units if u.get("kind") == UnitKind.BRANCH)[:4]
    members: dict[int, list[dict]] = defaultdict(list)
    for p in plan.people:
        if p.get("branch_id") in branches and p.get("active", True):
            members[p["branch_id"]].append(p)
    secretaries = {
        r["org_unit_id"]: r["person_id"] for r in plan.roles if r["role"] == Role.SECRETARY and r["org_unit_id"] in branches
    }  # fmt: skip
    keep_free = {a["person_id"] for a in plan.accounts if a["account_id"] in set(DEMO_PEOPLE.values())}
    # (window's first day, last day, stage) per branch, in the order above; none before 1 January.
    past_start = today - timedelta(days=30)
    stages = [(today - timedelta(days=3), today + timedelta(days=3), "open")]
    if past_start.year == today.year:
        stages += [(past_start, past_start + timedelta(days=6), "decided")] * 2
        stages.append((past_start + timedelta(days=7), past_start + timedelta(days=13), "proposed"))
    stages = [(max(s, date(today.year, 1, 1)), e, stage) for s, e, stage in stages]

    next_id = {t: (session.scalar(select(func.max(t.id))) or 0) + 1 for t in (Appraisal, AppraisalGrade)}
    rows: dict[str, list[dict]] = defaultdict(list)
    meetings: list[tuple[int, date, list[dict]]] = []  # (branch, decision day, its people): the 支部大会
    for branch_id, (start, end, stage) in zip(branches, stages, strict=False):
        people = sorted(members.get(branch_id, []), key=lambda p: p["id"])
        voters = [p for p in people if p["status"] == MemberStatus.FULL]
        if len(voters) < 2:
            continue
        aid = next_id[Appraisal]
        next_id[Appraisal] += 1
        closed = stage != "open"
        row = {
            "id": aid, "branch_id": branch_id, "year": start.year, "opens_at": _at(start, 0),
            "closes_at": _at(end + timedelta(days=1), 0), "opened_by_id": secretaries.get(branch_id),
            "proposed_on": None, "proposed_by_id": None, "proposed_at": None,
            "decided_on": None, "decided_by_id": None, "decided_at": None,
            "created_at": _at(start, 0), "updated_at": _at(start, 0),
        }  # fmt: skip
        if closed:
            proposed = end + timedelta(days=2)
            row |= {
                "proposed_on": proposed,
                "proposed_by_id": row["opened_by_id"],
                "proposed_at": _at(proposed, 0),
            }
            if stage == "decided":
                decided = end + timedelta(days=5)
                row |= {
                    "decided_on": decided,
                    "decided_by_id": row["opened_by_id"],
                    "decided_at": _at(decided, 0),
                }
                meetings.append((branch_id, decided, people))
        rows["appraisal"].append(row)
        voted = set()
        for p in voters:
            if closed or (p["id"] not in keep_free and rng.random() < 0.5):
                voted.add(p["id"])
        tallies: dict[int, dict[Grade, int]] = defaultdict(lambda: defaultdict(int))
        for voter in sorted(voted):
            for p in people:
                if p["id"] != voter:
                    g = _grade(rng)
                    tallies[p["id"]][g] += 1
                    rows["ballot"].append({"id": f"{rng.getrandbits(128):032x}", "appraisal_id": aid,
                                           "subject_id": p["id"], "grade": g})  # fmt: skip
        for p in people:
            assessed = (closed or p["id"] in voted) and p["id"] not in keep_free
            rows["member"].append({
                "appraisal_id": aid, "person_id": p["id"], "probationary": p["status"] != MemberStatus.FULL,
                "suspended": False, "has_voted": p["id"] in voted,
                "self_assessment": rng.choice(SELF_ASSESSMENTS) if assessed else None,
                "self_assessed_at": _at(start + timedelta(days=1), 0) if assessed else None,
            })  # fmt: skip
        if not closed:
            continue
        # The grades: the most 优秀 votes (a majority) up to a third; 基本合格 on a majority of the two lowest.
        ranked = sorted(people, key=lambda p: -tallies[p["id"]][Grade.EXCELLENT])
        seats = len(people) // 3
        for p in ranked:
            t, n = tallies[p["id"]], sum(tallies[p["id"]].values())
            grade = Grade.QUALIFIED
            if 2 * (t[Grade.BASIC] + t[Grade.UNQUALIFIED]) > n:
                grade = Grade.BASIC
            elif seats and 2 * t[Grade.EXCELLENT] > n:
                grade, seats = Grade.EXCELLENT, seats - 1
            rows["grade"].append({
                "id": next_id[AppraisalGrade], "appraisal_id": aid, "person_id": p["id"], "branch_id": branch_id,
                "proposed_grade": grade, "proposed_handling": None,
                "decided_grade": grade if stage == "decided" else None, "decided_handling": None,
                "decision_reason": None, "created_at": row["proposed_at"], "updated_at": row["proposed_at"],
            })  # fmt: skip
            next_id[AppraisalGrade] += 1
    bulk_insert(session, Appraisal.__table__, rows["appraisal"])
    written = _congress_meetings(ctx, meetings, secretaries, rng)
    # No integer id to move a sequence past: plain inserts (a few hundred rows).
    for table, key in ((AppraisalMember.__table__, "member"), (AppraisalBallot.__table__, "ballot")):
        if rows[key]:
            session.execute(table.insert(), rows[key])
    bulk_insert(session, AppraisalGrade.__table__, rows["grade"])
    return {
        "appraisal": len(rows["appraisal"]),
        "appraisal_member": len(rows["member"]),
        "appraisal_ballot": len(rows["ballot"]),
        "appraisal_grade": len(rows["grade"]),
        **written,
    }


def _congress_meetings(
    ctx: HistoryContext, meetings: list[tuple[int, date, list[dict]]], secretaries: dict[int, int],
    rng: random.Random,
) -> dict[str, int]:  # fmt: skip
    """Each decision's 支部大会 as a meeting of both types, held at 15:00 on the day, most members signed in,
    its minutes recorded the next day."""
    session = ctx.session
    ids = _next_ids(session, MEETING_TABLES)
    pg = session.connection().dialect.name == "postgresql"
    committee: dict[int, set[int]] = defaultdict(set)
    for r in ctx.plan.roles:
        if r["role"] in BRANCH_COMMITTEE_ROLES and r["org_unit_id"] is not None:
            committee[r["org_unit_id"]].add(r["person_id"])
    rows: dict[str, list[dict]] = defaultdict(list)

    def add(table: str, row: dict) -> int:
        row["id"] = ids[table]
        ids[table] += 1
        rows[table].append(row)
        return row["id"]

    types = [MeetingType.PARTY_CONGRESS, MeetingType.DEMOCRATIC_REVIEW]
    for branch_id, day, people in meetings:
        invited = [p for p in people if not p.get("attendance_exempt_reason")]
        secretary = secretaries.get(branch_id)
        starts = _at(day, 15)
        topic = "民主评议党员：支部大会决定评议等次"
        mid = add("meeting", {
            "branch_id": branch_id, "group_id": None, "title": topic, "topic": topic, "place": "党员活动室",
            "starts_at": starts, "status": MeetingStatus.SCHEDULED, "cancel_reason": None, "version": 1,
            "created_by_id": secretary, "closed_at": starts + timedelta(minutes=30),
            "created_at": starts - timedelta(days=5), "updated_at": starts - timedelta(days=5),
        })  # fmt: skip
        for t in types:
            add("meeting_kind", {"meeting_id": mid, "type": t})
        came: set[int] = set()
        absentees = []
        for p in invited:
            add("meeting_invitee", {"meeting_id": mid, "person_id": p["id"]})
            present = rng.random() < 0.9
            add("attendance", {
                "meeting_id": mid, "person_id": p["id"],
                "status": AttendanceStatus.PRESENT if present else AttendanceStatus.ABSENT,
                "method": AttendanceMethod.QR if present else AttendanceMethod.AUTO,
                "at": starts - timedelta(minutes=rng.randint(0, 20)) if present else starts + timedelta(minutes=30),
                "reason": None, "marked_by_id": None,
            })  # fmt: skip
            if present:
                came.add(p["id"])
            else:
                absentees.append({"person_id": p["id"], "name": p["name"], "reason": "无故缺席"})
        submitted = starts + timedelta(days=1)
        add("minutes", {
            "meeting_id": mid, "chair": next((p["name"] for p in people if p["id"] == secretary), "书记"),
            "recorder": invited[-1]["name"], "topics": topic,
            "decisions": "会议听取支委会的评定建议，逐人表决，决定了每名党员的评议等次。",
            "absentees": json.dumps(absentees, ensure_ascii=False) if pg else absentees,
            "expected_count": len(invited), "present_count": len(came),
            **_headcount(types, invited, came, committee[branch_id]),
            "submitted_at": submitted, "submitted_by_id": secretary, "due_on": add_working_days(day, 3),
            "created_at": submitted, "updated_at": submitted,
        })  # fmt: skip
    for table in MEETING_TABLES:
        bulk_insert(session, table, rows.get(table.name, []))
    return {t.name: len(rows.get(t.name, [])) for t in MEETING_TABLES}


HISTORY_GENERATORS.append(appraisal_history)
