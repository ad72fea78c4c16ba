"""Demo history of 书记项目 (registered on models.seed.HISTORY_GENERATORS).

Every active branch secretary registered one project for the year of `today` (the year before when
`today` is in January or February, before a year's call closes): most were accepted in March after
预审 and 评审 and report progress most months, some skip months or run late on a milestone, a few are
still waiting for 预审 or were returned. The sample titles and texts below are seed data (what a
secretary would type), not UI text.

From November (`NEXT_CALL_FROM`) the 组织部 has published next year's call (deadline 3月31日, one project
each), as counties do so that projects start with the year, and under every committee one secretary has
already registered next year's project, waiting for the committee's 组织委员 to pre-review it: a demo in
December (this year's call long closed, every project of the year in the library) still shows 预审.

The year's end and its quarters (year_end, on a random stream of its own so the other generators' data
stay as they were): the 组织部 has published this year's call too; from October members have rated a
share of the projects (群众评议, a window in October); from November the call's 观摩评比 panel (the 组织部
staff and the first committee's 书记) has scored most accepted projects and the best one is an 优秀项目;
and the first committee has confirmed the last whole quarter's 排位赛 (its 进度通报 published), ranked by
models.projects.ProjectRanking.order_key from the facts the seed wrote. The other committees' quarter is
left unconfirmed, for the console to show the proposal and its button.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from models.org import BranchCategory, Person, Role, RoleAssignment, UnitKind
from models.projects import (
    ProjectBulletin,
    ProjectCall,
    ProjectJudge,
    ProjectMilestone,
    ProjectProgress,
    ProjectRanking,
    ProjectRating,
    ProjectReview,
    ProjectShowScore,
    ProjectStatus,
    RatingVerdict,
    SecretaryProject,
)
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert

# (title, problem, content, expected, milestones) per kind of branch.
IDEAS = {
    BranchCategory.RURAL: [
        (
            "村集体经济增收",
            "村集体经济收入低，年收入不足10万元",
            "盘活闲置土地，发展光伏和特色种植",
            "村集体年收入超过20万元",
            ["完成入户调研", "流转土地签约", "项目建成投产", "收益分配公示"],
        ),
        (
            "人居环境整治",
            "村内垃圾乱堆、污水横流",
            "党员包片，建立户分类、村收集机制",
            "农户垃圾分类覆盖率90%",
            ["划分党员责任区", "建成分类收集点", "开展评比", "建立长效机制"],
        ),
    ],
    BranchCategory.COMMUNITY: [
        (
            "老旧小区停车难",
            "小区停车位不足，车辆乱停",
            "增设生态停车位，建立党员巡查机制",
            "新增停车位80个",
            ["完成摸底", "方案征求意见", "建成停车位", "验收并公示"],
        ),
        (
            "楼道清理",
            "楼道堆物多、消防隐患大",
            "党员楼栋长带头，组织志愿清理",
            "楼道堆物清零",
            ["排查登记", "集中清理", "建立巡查制度"],
        ),
    ],
    BranchCategory.GOVERNMENT: [
        (
            "窗口服务提速",
            "群众反映办事环节多、时间长",
            "设立党员先锋岗，推行承诺办结制",
            "平均办结时间缩短一半",
            ["梳理事项清单", "推出承诺制", "开展群众评议"],
        ),
    ],
}
DEFAULT_IDEA = ("党员先锋岗", "党员作用发挥不明显", "设岗定责，亮身份、作承诺",
                "党员先锋作用明显增强", ["设岗定责", "亮诺践诺", "年终评议"])  # fmt: skip
NOTES = [
    "召开支委会研究推进",
    "组织党员志愿者参与",
    "入户征求群众意见",
    "协调相关部门解决资金",
    "现场督导推进",
]


NEXT_CALL_FROM = 11  # the month from which next year's call is open in the demo


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def projects_history(ctx: HistoryContext) -> dict[str, int]:
    session, rng, today = ctx.session, ctx.rng, ctx.today
    year = today.year if today.month >= 3 else today.year - 1
    branches = {u["id"]: u for u in ctx.plan.units if u.get("kind") == UnitKind.BRANCH}
    if not branches:
        return {}
    secretaries = sorted(
        set(
            session.execute(
                select(RoleAssignment.person_id, RoleAssignment.org_unit_id).where(
                    RoleAssignment.role == Role.SECRETARY, RoleAssignment.org_unit_id.in_(list(branches))
                )
            ).all()
        ),
        key=lambda r: r[1],
    )
    reviewer = session.scalar(
        select(RoleAssignment.person_id).where(
            RoleAssignment.role == Role.ORG_STAFF, RoleAssignment.org_unit_id.is_(None)
        )
    )
    first_month = date(today.year, today.month, 1)
    for _ in range(ctx.months - 1):
        first_month = date(first_month.year - (first_month.month == 1), (first_month.month - 2) % 12 + 1, 1)
    ids = {
        key: (session.scalar(select(func.max(model.id))) or 0) + 1
        for key, model in (
            ("p", SecretaryProject), ("m", ProjectMilestone), ("g", ProjectProgress), ("r", ProjectReview)
        )
    }  # fmt: skip
    projects, milestones, reports, reviews = [], [], [], []
    seen: set[int] = set()
    for person_id, branch_id in secretaries:
        if person_id in seen:
            continue
        seen.add(person_id)
        unit = branches[branch_id]
        title, problem, content, expected, steps = rng.choice(IDEAS.get(unit.get("category"), [DEFAULT_IDEA]))
        roll = rng.random()
        status = (
            ProjectStatus.SUBMITTED if roll < 0.04 else ProjectStatus.RETURNED if roll < 0.08
            else ProjectStatus.PRE_ACCEPTED if roll < 0.11 else ProjectStatus.ACCEPTED
        )  # fmt: skip
        submitted = _at(date(year, 2, rng.randint(1, 27)))
        decided = _at(date(year, 3, rng.randint(10, 28))) if status == ProjectStatus.ACCEPTED else None
        score = round(rng.uniform(68, 95), 1) if decided else None
        pid = ids["p"]
        ids["p"] += 1
        projects.append({
            "id": pid, "unit_id": branch_id, "secretary_id": person_id, "year": year, "title": title,
            "problem": problem, "content": content, "expected": expected, "leaders": "书记及支委",
            "status": status.value, "submitted_at": submitted,
            "prereviewed_by_id": None, "prereviewed_at": submitted + timedelta(days=5) if status != ProjectStatus.SUBMITTED else None,
            "return_reason": "问题不够具体，请补充调研数据" if status == ProjectStatus.RETURNED else None,
            "return_count": 1 if status == ProjectStatus.RETURNED else 0, "score": score, "decided_at": decided,
            "published_at": decided, "rating_public": False, "created_at": submitted, "updated_at": decided or submitted,
        })  # fmt: skip
        if decided and reviewer is not None:
            reviews.append({"id": ids["r"], "project_id": pid, "reviewer_id": reviewer, "score": int(score),
                            "comment": "", "scored_at": decided})  # fmt: skip
            ids["r"] += 1
        laggard = rng.random() < 0.2
        months_apart = max(1, 9 // len(steps))
        for seq, step in enumerate(steps, 1):
            due = date(year, min(12, 3 + seq * months_apart), 28)
            late_by = rng.randint(10, 60) if laggard else rng.randint(-20, 0)
            done = due + timedelta(days=late_by)
            done_on = done if decided and done <= today else None
            milestones.append({"id": ids["m"], "project_id": pid, "seq": seq, "title": step, "due_on": due,
                               "done_on": done_on})  # fmt: skip
            ids["m"] += 1
        if decided is None:
            continue
        month, last = date(year, 4, 1), date(today.year, today.month, 1)
        while month <= last:
            if month >= first_month and month.year == year and rng.random() < (0.55 if laggard else 0.9):
                day = min(month.replace(day=rng.randint(5, 27)), today)
                if day >= month:
                    reports.append({"id": ids["g"], "project_id": pid, "milestone_id": None, "month": month,
                                    "text": rng.choice(NOTES), "done": False, "reported_by_id": person_id,
                                    "reported_at": min(_at(day, 3), ctx.now)})  # fmt: skip
                    ids["g"] += 1
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    calls = []
    if today.month >= NEXT_CALL_FROM and year == today.year:
        nxt = year + 1
        opened = _at(date(year, NEXT_CALL_FROM, 1))
        calls.append({"id": (session.scalar(select(func.max(ProjectCall.id))) or 0) + 1, "unit_id": None,
                      "year": nxt, "deadline": date(nxt, 3, 31), "per_secretary": 1, "set_by_id": reviewer,
                      "created_at": opened, "updated_at": opened})  # fmt: skip
        committees = [u for u in ctx.plan.units if u.get("kind") == UnitKind.COMMITTEE]
        first: dict[int, tuple[int, int]] = {}  # committee id: (secretary, branch) of its first branch
        for person_id, branch_id in secretaries:
            path = branches[branch_id]["path"]
            above = [c for c in committees if path.startswith(c["path"])]
            if above:
                first.setdefault(max(above, key=lambda c: len(c["path"]))["id"], (person_id, branch_id))
        for person_id, branch_id in first.values():
            ideas = IDEAS.get(branches[branch_id].get("category"), [DEFAULT_IDEA])
            title, problem, content, expected, steps = ideas[-1] if len(ideas) > 1 else DEFAULT_IDEA
            submitted = max(opened, ctx.now - timedelta(days=2))
            pid = ids["p"]
            ids["p"] += 1
            projects.append({
                "id": pid, "unit_id": branch_id, "secretary_id": person_id, "year": nxt, "title": title,
                "problem": problem, "content": content, "expected": expected, "leaders": "书记及支委",
                "status": ProjectStatus.SUBMITTED.value, "submitted_at": submitted, "prereviewed_by_id": None,
                "prereviewed_at": None, "return_reason": None, "return_count": 0, "score": None,
                "decided_at": None, "published_at": None, "rating_public": False, "created_at": submitted, "updated_at": submitted,
            })  # fmt: skip
            for seq, step in enumerate(steps, 1):
                milestones.append({"id": ids["m"], "project_id": pid, "seq": seq, "title": step,
                                   "due_on": date(nxt, min(12, 3 * seq), 28), "done_on": None})  # fmt: skip
                ids["m"] += 1
    earlier_reports(ctx, year, first_month, projects, milestones, reports, ids["g"])
    end = year_end(ctx, year, reviewer, projects, milestones, reports, calls)
    bulk_insert(session, ProjectCall.__table__, calls)
    bulk_insert(session, SecretaryProject.__table__, projects)
    bulk_insert(session, ProjectMilestone.__table__, milestones)
    bulk_insert(session, ProjectReview.__table__, reviews)
    bulk_insert(session, ProjectProgress.__table__, reports)
    for table, rows in end.items():
        bulk_insert(session, table.__table__, rows)
    return {
        "project_call": len(calls),
        "secretary_project": len(projects),
        "project_milestone": len(milestones),
        "project_review": len(reviews),
        "project_progress": len(reports),
    } | {table.__tablename__: len(rows) for table, rows in end.items()}


RATING_FROM = (10, 8)  # (month, day) the demo's 群众评议 window opens; it closes at that month's end
SHOW_FROM = 11  # the month from which the 观摩评比 panel has scored
SHOW_COMMENTS = ["成效明显", "群众认可度高", "特色鲜明", "还需巩固", "可复制推广"]
RATING_COMMENTS = ["", "", "办了实事", "希望继续坚持", "效果还不够明显"]


def earlier_reports(ctx: HistoryContext, year, first_month, projects, milestones, reports, next_id) -> None:
    """The months of the year before the history's window (from April, after the March acceptance) get
    their progress reports too, so every quarter's 排位赛 has real differences: most months reported, a
    project running late on a milestone misses more. On a random stream of its own, so the data drawn
    before stay as they were."""
    rng = random.Random(f"projects-progress:{year}")
    late = {
        m["project_id"]
        for m in milestones
        if m["due_on"] < ctx.today and (m["done_on"] is None or m["done_on"] > m["due_on"])
    }
    end = min(first_month, date(ctx.today.year, ctx.today.month, 1))
    for p in projects:
        if p["year"] != year or p["status"] != ProjectStatus.ACCEPTED.value:
            continue
        month = date(year, 4, 1)
        while month < end:
            if rng.random() < (0.55 if p["id"] in late else 0.85):
                day = month.replace(day=rng.randint(5, 27))
                reports.append({"id": next_id, "project_id": p["id"], "milestone_id": None, "month": month,
                                "text": rng.choice(NOTES), "done": False, "reported_by_id": p["secretary_id"],
                                "reported_at": _at(day, 3)})  # fmt: skip
                next_id += 1
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _next_id(session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def year_end(ctx: HistoryContext, year, reviewer, projects, milestones, reports, calls) -> dict:
    """This year's call, 群众评议, 观摩评比 and one committee's confirmed quarter (the module doc), as
    {model: rows}; the project rows get their rating window, satisfaction and 优秀 in place."""
    session, today, now = ctx.session, ctx.today, ctx.now
    rng = random.Random(f"projects-year-end:{year}")  # not ctx.rng: the generators after this one keep theirs
    for p in projects:  # bulk_insert takes rows with the same keys
        for key in ("rating_opens_on", "rating_closes_on", "satisfaction", "excellent_at", "excellent_by_id"):
            p.setdefault(key, None)
    accepted = [p for p in projects if p["year"] == year and p["status"] == ProjectStatus.ACCEPTED.value]
    out: dict = {}
    if not accepted:
        return out
    call_id = max([_next_id(session, ProjectCall), *(c["id"] + 1 for c in calls)])
    opened = _at(date(year, 1, 5))
    calls.append({"id": call_id, "unit_id": None, "year": year, "deadline": date(year, 3, 31), "per_secretary": 1,
                  "set_by_id": reviewer, "created_at": opened, "updated_at": opened})  # fmt: skip
    # 群众评议: a third of the projects opened to their members in October.
    opens = date(year, *RATING_FROM)
    if today > opens:
        closes = date(year, opens.month + 1, 1) - timedelta(days=1)
        members: dict[int, list[int]] = {}
        for pid, branch_id in session.execute(
            select(Person.id, Person.branch_id).where(
                Person.branch_id.in_({p["unit_id"] for p in accepted}), Person.active.is_(True)
            )
        ):
            members.setdefault(branch_id, []).append(pid)
        rows, next_id = [], _next_id(session, ProjectRating)
        for p in accepted:
            if rng.random() > 0.35:
                continue
            p["rating_opens_on"], p["rating_closes_on"] = opens, closes
            tally = dict.fromkeys(RatingVerdict, 0)
            for person_id in sorted(members.get(p["unit_id"], [])):
                if rng.random() > 0.6:
                    continue
                verdict = rng.choices(list(RatingVerdict), weights=(6, 3, 1))[0]
                tally[verdict] += 1
                day = opens + timedelta(days=rng.randint(0, (min(closes, today) - opens).days))
                rows.append({"id": next_id, "project_id": p["id"], "person_id": person_id, "public_key": None,
                             "verdict": verdict.value, "comment": rng.choice(RATING_COMMENTS),
                             "rated_at": min(_at(day, 2), now)})  # fmt: skip
                next_id += 1
            total = sum(tally.values())
            if total:
                p["satisfaction"] = (tally[RatingVerdict.SATISFIED] + tally[RatingVerdict.FAIRLY]) / total
        out[ProjectRating] = rows
    committees = sorted(
        (u for u in ctx.plan.units if u.get("kind") == UnitKind.COMMITTEE), key=lambda u: u["path"]
    )
    leaders: dict[int, dict[Role, list[int]]] = {}
    for person_id, unit_id, role in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.org_unit_id, RoleAssignment.role).where(
            RoleAssignment.org_unit_id.in_([c["id"] for c in committees]),
            RoleAssignment.role.in_([Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER]),
        )
    ):
        leaders.setdefault(unit_id, {}).setdefault(Role(role), []).append(person_id)
    # 观摩评比: the panel scores most accepted projects; the best mean is an 优秀项目.
    if today.month >= SHOW_FROM and year == today.year:
        first_secretary = (
            (leaders.get(committees[0]["id"], {}).get(Role.SECRETARY) or [None])[0] if committees else None
        )
        panel = sorted({j for j in (reviewer, first_secretary) if j is not None})
        out[ProjectJudge] = [{"id": _next_id(session, ProjectJudge) + i, "call_id": call_id, "person_id": j}
                             for i, j in enumerate(panel)]  # fmt: skip
        scores, next_id, means = [], _next_id(session, ProjectShowScore), {}
        for p in accepted:
            given = []
            for judge in panel:
                if rng.random() < 0.85:
                    given.append(rng.randint(70, 96))
                    day = date(year, SHOW_FROM, rng.randint(15, 28))
                    scores.append({"id": next_id, "project_id": p["id"], "judge_id": judge, "score": given[-1],
                                   "comment": rng.choice(SHOW_COMMENTS), "scored_at": min(_at(day, 2), now)})  # fmt: skip
                    next_id += 1
            if given:
                means[p["id"]] = sum(given) / len(given)
        out[ProjectShowScore] = scores
        if means and reviewer is not None:
            best = next(p for p in accepted if p["id"] == max(means, key=lambda i: (means[i], -i)))
            best["excellent_at"], best["excellent_by_id"] = min(_at(date(year, 12, 1)), now), reviewer
    # 排位赛: the first committee with projects confirms the last whole quarter.
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    quarter = date(quarter_start.year - (quarter_start.month == 1), (quarter_start.month - 4) % 12 + 1, 1)
    end = date(quarter.year + (quarter.month == 10), (quarter.month + 2) % 12 + 1, 1)
    paths = {u["id"]: u["path"] for u in ctx.plan.units}
    for committee in committees:
        ranked = [p for p in accepted if p["year"] == quarter.year and paths[p["unit_id"]].startswith(committee["path"])
                  and p["unit_id"] != committee["id"]]  # fmt: skip
        if not ranked:
            continue
        by_project: dict[int, list[dict]] = {}
        for m in milestones:
            by_project.setdefault(m["project_id"], []).append(m)
        months: dict[int, set] = {}
        for r in reports:
            if quarter <= r["month"] < end:
                months.setdefault(r["project_id"], set()).add(r["month"])
        facts = []
        for p in ranked:
            due = [m for m in by_project.get(p["id"], []) if m["due_on"] < end]
            facts.append({
                "project_id": p["id"], "due": len(due),
                "on_time": sum(m["done_on"] is not None and m["done_on"] <= m["due_on"] for m in due),
                "late": sum(m["done_on"] is None or m["done_on"] >= end for m in due),
                "months_reported": len(months.get(p["id"], ())), "red_flags": 0, "snails": 0, "open_orders": 0,
            })  # fmt: skip
        facts.sort(
            key=lambda f: ProjectRanking.order_key(**{k: v for k, v in f.items() if k not in ("due",)})
        )
        held = leaders.get(committee["id"], {})
        by = (held.get(Role.ORGANIZATION_MEMBER) or held.get(Role.SECRETARY) or [reviewer])[0]
        recipients = sorted(
            {*(i for ids in held.values() for i in ids), *(p["secretary_id"] for p in ranked)}
        )
        bulletin_id = _next_id(session, ProjectBulletin)
        out[ProjectBulletin] = [{"id": bulletin_id, "committee_id": committee["id"], "quarter": quarter,
                                 "confirmed_by_id": by, "confirmed_at": min(_at(end + timedelta(days=4)), now),
                                 "reminded_at": None, "recipients": recipients}]  # fmt: skip
        first = _next_id(session, ProjectRanking)
        out[ProjectRanking] = [{"id": first + i, "bulletin_id": bulletin_id, "rank": i + 1, **f}
                               for i, f in enumerate(facts)]  # fmt: skip
        break
    return out


HISTORY_GENERATORS.append(projects_history)
