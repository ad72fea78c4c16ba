"""年终通报 (#19 item 5): 城关社区党支部's 2026 (tests.ledgers.world) as the .docx its secretary reads out at the
year-end 党员大会, every figure and every 存在问题 line read back with python-docx; 城关镇党委's roll-up .xlsx,
its rows and totals; who may download what; the months before the start month counting for nothing.

The county starts using zhibu in October 2026 here (models.startmonth), so b1's year is October to today
(3 December), each figure known:

* meetings: 主题党日 required each month (3), held 16 Oct, 10 Nov, 1 Dec; in December, the quarter's 支部党员大会
  (held 16 Oct, with the 主题党日) and 党课 (the October one cancelled: not held), and the year's 组织生活会 and
  民主评议党员 (neither held): required 7, credited 4;
* attendance of the three meetings that count: 3 + 5 + 3 = 11 recorded, 2 + 3 + 2 = 7 present (one late),
  1 leave (党员1甲, October), absent without leave 党员1甲 (November) and 党员1乙 (October, December); two 补学
  (October), one done;
* 党费 (tests.ledgers.world.fees from October, the start month: arrears are not counted before it):
  owed 4 + 4 + 4 + 4 member-months (September's four payers, then 书记1, 党员1甲, 党员1乙, 党员1丁), 12 paid,
  4 unpaid (党员1乙 October–December, 党员1甲 December), 68.00 元 paid, 11.00 元 unpaid, 3 免交; but December's
  fee day is 4 December (its first Friday), still to come on the 3rd: its two unpaid months are not arrears
  yet, so the report says 14 owed, 2 unpaid (党员1乙 October–November, 4.00 元), a run of 2 months;
* observers: 16 Oct (现场提醒, 92) and 10 Nov (责令纠正, 80): two visits, mean 86; two rectifications, one closed,
  one open past its 30 November deadline; the second half-year covered (running);
* 谈心谈话: one talk of 书记1, 党员1甲 and 党员1乙: of 0 支委 pairs, 4 members with a 支委 and 4 with another
  member, 4 of 8 done;
* the rating: undecided, proposed 较好 (handlers.rating.proposal: November's stored 82.1, an overdue
  rectification keeps it from 好). 东门社区党支部's is confirmed 一般 with a reason.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.console import overview
from handlers.console.scope import scope_of
from handlers.ledgers import year_report
from handlers.ledgers import year_report_strings as S
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from handlers.rating.config import RatingConfig
from handlers.talks.config import TalksConfig
from models import startmonth
from models.appraisal import Appraisal, AppraisalGrade, AppraisalMember, Grade, Handling
from models.db import unit_of_work
from models.lifemeeting import (
    LifeMeetingCriticism,
    LifeMeetingMeasure,
    LifeMeetingPlan,
    LifeMeetingStep,
    LifeStep,
)
from models.meetings import MeetingType
from models.monthly import MonthlyScore
from models.org import OrgUnit, Person
from models.projects import (
    OrderStatus,
    PickKind,
    ProjectCall,
    ProjectMilestone,
    ProjectPick,
    ProjectStatus,
    SecretaryProject,
    SupervisionOrder,
)
from models.rating import BranchRating, RatingGrade
from models.talks import HeartTalk, HeartTalkPerson
from tests.console.test_overview import NOW, login
from tests.ledgers.world import LedgerOrg
from tests.monthly.conftest import County, comply, local

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
RULES = year_report.Rules(MEETINGS, MonthlyConfig(), ObserversConfig(), TalksConfig(), RatingConfig())

# December is under way on the 3rd: its 党课, 组织生活会 and 民主评议党员 may still be held, and say so.
DEC_PENDING = "（其中1次属进行中的2026年12月）。"
B1_PROBLEMS = [
    "党课应开1次，计入完成0次，少1次" + DEC_PENDING,
    "组织生活会应开1次，计入完成0次，少1次" + DEC_PENDING,
    "民主评议党员应开1次，计入完成0次，少1次" + DEC_PENDING,
    "无故缺席3人次（党员1乙（2次）、党员1甲（1次））。",
    "补学未完成1人次。",
    "欠缴党费2人·月，共4.00元。",
    "观察员提出的整改事项1项未销号（其中逾期1项）。",
    "谈心谈话应谈8项，已谈4项，尚有4项未谈。",
]
# With its 组织生活会 held on 20 November (the yearly fixture), December credits it; its 民主评议党员 decided by
# the 支部大会 on 2 December (no meeting of that type recorded, so the score credits nothing) is done too.
B1_PROBLEMS_YEARLY = [p for p in B1_PROBLEMS if not p.startswith(("组织生活会", "民主评议党员"))]


@pytest.fixture
def year(session_factory, lorg: LedgerOrg) -> LedgerOrg:
    c = lorg.org.county
    with unit_of_work(session_factory) as session:
        startmonth.set_start_month(session, OCT)
        talk = HeartTalk(branch_id=c.b1.id, held_on=date(2026, 11, 5), topic="思想工作", people_key="x",
                         recorded_at=NOW)  # fmt: skip
        session.add(talk)
        session.flush()
        for key in ("sec1", "m1a", "m1b"):
            session.add(HeartTalkPerson(talk_id=talk.id, person_id=lorg.id(key)))
        session.add(BranchRating(branch_id=c.b2.id, year=2026, proposal={"sentences": ["建议评为好"]},
                                 proposed_grade=RatingGrade.GOOD, confirmed_grade=RatingGrade.AVERAGE,
                                 confirmed_by_id=lorg.id("c1sec"), confirmed_at=NOW,
                                 change_reason="会议记录多次逾期"))  # fmt: skip
    return lorg


def read_docx(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(io.BytesIO(content))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in doc.tables]
    return paragraphs, tables


def kv_of(tables: list[list[list[str]]]) -> dict[str, str]:
    return {row[0]: row[1] for t in tables if len(t[0]) == 2 for row in t}


def table_with(tables, header: str) -> list[list[str]]:
    return next(t for t in tables if t[0][0] == header)


def test_the_branch_report_says_every_figure_of_its_year(session_factory, app, year):
    c = year.org.county
    client = login(session_factory, app, year.id("sec1"))
    r = client.get(f"/console/year-reports/{c.b1.id}/report.docx?year=2026")
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    paragraphs, tables = read_docx(r.content)
    assert paragraphs[0] == "城关社区党支部2026年度组织生活开展情况通报"
    assert "统计截至2026年12月3日" in paragraphs[1]
    assert S.FROM_START.format(start="2026年10月") in paragraphs
    pairs = kv_of(tables)
    assert pairs[S.MEMBERS] == "5 人" and pairs[S.PERIOD] == "2026年10月至2026年12月3日"

    meetings = table_with(tables, "会议类型")
    assert meetings[1:] == [
        ["支部党员大会", "1", "1", "1"], ["党课", "1", "0", "0"], ["主题党日", "3", "3", "3"],
        ["组织生活会", "1", "0", "0"], ["民主评议党员", "1", "0", "0"],
    ]  # fmt: skip
    assert "合计应开 7 次，计入完成 4 次，完成率 57.1%。" in paragraphs
    assert S.MEETINGS_RUNNING.format(month="2026年12月") in paragraphs

    assert (pairs[S.ATT_EXPECTED], pairs[S.ATT_PRESENT], pairs[S.ATT_RATE]) == ("11", "7", "63.6%")
    assert (pairs[S.ATT_LEAVE], pairs[S.ATT_ABSENT]) == ("1", "3")
    assert pairs[S.ATT_ABSENT_NAMES] == "党员1乙（2次）、党员1甲（1次）"
    assert pairs[S.ATT_MAKEUP] == "应补学 2 人次，已完成 1 人次，未完成 1 人次"

    # December's fee day (Friday 4 December) is still to come: its unpaid months are not arrears yet.
    assert pairs[S.FEE_OWED] == "14 人·月，72.00 元"
    assert pairs[S.FEE_PAID] == "12 人·月，68.00 元"
    assert pairs[S.FEE_UNPAID] == "2 人·月，4.00 元"
    assert pairs[S.FEE_EXEMPT] == "3 人·月"
    assert pairs[S.FEE_ARREARS] == "党员1乙（连续2个月）"
    assert S.FEE_PENDING.format(month="2026年12月", day="2026年12月4日") in paragraphs
    assert not any(p.startswith(S.FEE_UNTRACKED.split("{")[0]) for p in paragraphs)  # tracked from September
    assert pairs[S.FEE_USED] == S.FEE_USED_NONE  # zhibu records no 党费 use: said, not printed as 0

    assert pairs[S.OBS_VISITS] == "2 次，平均得分 86"
    assert pairs[S.OBS_OUTCOMES] == "现场提醒 1 次、责令纠正 1 次"
    assert (
        pairs[S.OBS_COVERAGE] == "2026年下半年：列席 2 次，达到要求（进行中）"
    )  # the first half: before the start
    assert pairs[S.RECTS] == "提出 2 项，已销号 1 项，未销号 1 项（其中逾期 1 项）"
    assert table_with(tables, "未销号的整改事项")[1:] == [
        ["学习记录不完整", "观察员老周", "2026-11-30", "待整改（已逾期）"]
    ]

    assert pairs[S.TALKS_DONE] == "应谈 8 项，已谈 4 项（全年共记录谈话 1 次）"
    assert (pairs[S.TALKS_COMMITTEE], pairs[S.TALKS_MEMBERS], pairs[S.TALKS_PEERS]) == ("0/0", "2/4", "2/4")
    assert pairs[S.TALKS_MISSING] == "预备党员1丙、党员1丁"

    assert pairs[S.RATING_GRADE] == "系统建议较好（待党委确定）"
    assert "1项整改逾期未销号" in pairs[S.RATING_REASONS]

    # The monthly points are the 总览's: November as stored, October and December scored now.
    with session_factory() as session:
        stored = session.scalar(
            select_score(c.b1.id, NOV)  # the monthly run's row
        )
        live = {m: overview.build_month_data(session, m, now=NOW, mcfg=MonthlyConfig(), cfg=MEETINGS,
                                             ocfg=ObserversConfig()).branches[c.b1.id] for m in (OCT, DEC)}  # fmt: skip
    scores = table_with(tables, "月份")
    assert [row[0] for row in scores[1:]] == ["2026年10月", "2026年11月", "2026年12月（进行中）"]
    assert scores[1][1:3] == [year_report.num(live[OCT].score), f"{live[OCT].rank}/{live[OCT].group_size}"]
    assert scores[2][1] == year_report.num(stored.score) == "82.1"
    assert scores[3][1:3] == [year_report.num(live[DEC].score), f"{live[DEC].rank}/{live[DEC].group_size}"]
    assert scores[3][3] == S.RUNNING_LAGGING
    # December is under way: shown, marked, and out of the mean (as out of the rating's).
    mean = round((live[OCT].score + stored.score) / 2, 1)
    assert S.SCORE_MEAN.format(mean=year_report.num(mean), lagging=0) in paragraphs

    # 存在问题: numbered, each derived from the figures above; then room for the members' opinions.
    start = paragraphs.index(next(p for p in paragraphs if p.endswith(S.S_PROBLEMS)))
    end = paragraphs.index(next(p for p in paragraphs if p.endswith(S.S_OPINIONS)))
    assert paragraphs[start + 1 : end] == [f"{i}. {t}" for i, t in enumerate(B1_PROBLEMS, start=1)]
    # 组织生活会 and 民主评议党员 follow the rating (nothing of them yet: no problem before the year is over);
    # no 书记项目 part, as no call covers the branch and it registered none.
    assert paragraphs[start].startswith("十一、") and paragraphs[end].startswith("十二、")
    assert pairs[S.LIFE_HELD] == S.LIFE_NO_PLAN and "2026年没有开展民主评议党员。" in paragraphs
    assert not any(p.endswith("、" + S.S_PROJECTS) for p in paragraphs)


def select_score(unit_id: int, month: date):
    return select(MonthlyScore).where(MonthlyScore.unit_id == unit_id, MonthlyScore.month == month)


def test_months_before_the_start_month_count_for_nothing(session_factory, lorg):
    """Without the October start (the county in use since 2024), January to September are owed too."""
    c = lorg.org.county
    with session_factory() as session:
        scope = scope_of(session, lorg.id("sec1"))
        by = year_report.branch_year(
            session, scope, session.get(OrgUnit, c.b1.id), 2026, now=NOW, rules=RULES
        )
    got = {t.label: (t.required, t.held, t.credited) for t in by.types}
    assert got == {"支部党员大会": (4, 1, 1), "党课": (4, 0, 0), "主题党日": (12, 3, 3), "组织生活会": (1, 0, 0),
                   "民主评议党员": (1, 0, 0)}  # fmt: skip
    assert by.started_late is None and by.first_month == date(2026, 1, 1) and len(by.scores) == 12
    # 党费 from the policy's September tracking start: tests.ledgers.test_fees's B1 year (17 owed, 5 unpaid),
    # less December's two unpaid months, whose fee day (4 December) is still to come on the 3rd.
    assert (by.fees.members, by.fees.paid, by.fees.unpaid) == (15, 12, 3)
    # January to August, before the policy's September tracking start, count for nothing and are said so:
    # 8 months of the five members, but 预备党员1丙's January and February (admitted in March, not yet owed).
    assert by.fee_untracked == 8 * 5 - 2
    paragraphs, _ = read_docx(year_report.report_docx(by, today=date(2026, 12, 3)))
    assert S.FEE_UNTRACKED.format(n=38) in paragraphs
    assert (
        "主题党日应开12次，计入完成3次，少9次。" in by.problems and "9个月未按时报送月度计划。" in by.problems
    )


@pytest.fixture
def yearly(session_factory, year: LedgerOrg) -> LedgerOrg:
    """城关社区党支部's (b1) 组织生活会, 民主评议党员 and 书记项目 of 2026, each figure known; 东门社区党支部 (b2)
    planned its 组织生活会 for 25 November and has not held it, and opened no 民主评议; a 2026 call of 城关镇党委
    covers both, and b2 registered no project.

    * 组织生活会 (b1): planned and held 20 November (minutes in); of its 5 people 学习研讨 done by 3 (党员1乙's
      submitted, waiting; 党员1丁 nothing), 征求意见 by all, 谈心谈话 as the talks cover them (预备党员1丙 and
      党员1丁 owed), 对照检查材料 by 书记1 only; 2 people's 批评和自我批评; 3 整改措施: one done, one past its
      30 November, one due 31 December.
    * 民主评议 (b1): window 23–29 November, 5 members (1 预备), 4 voters of whom 3 voted, the 支委会 30 November,
      the 支部大会 2 December: 优秀1, 合格3, 不合格1 (限期改正).
    * 书记项目 (b1): 《党员先锋岗》 accepted, milestones 31 March (done), 31 October (late), 31 December; the
      committee's 红旗 for September, 蜗牛 for October (November's 蜗牛 proposed, not chosen); two 督办单, one
      closed, one past its 25 November date with a 约谈.
    """
    c = year.org.county
    with unit_of_work(session_factory) as s:
        people = {p.name: p.id for p in s.scalars(select(Person).where(Person.branch_id == c.b1.id))}
        plan = LifeMeetingPlan(branch_id=c.b1.id, year=2026, planned_on=date(2026, 11, 20),
                               study_due=date(2026, 10, 30), opinions_due=date(2026, 11, 6),
                               talks_due=date(2026, 11, 13), materials_due=date(2026, 11, 17), set_at=NOW)  # fmt: skip
        s.add(plan)
        s.add(LifeMeetingPlan(branch_id=c.b2.id, year=2026, planned_on=date(2026, 11, 25),
                              study_due=date(2026, 11, 4), opinions_due=date(2026, 11, 11),
                              talks_due=date(2026, 11, 18), materials_due=date(2026, 11, 22), set_at=NOW))  # fmt: skip
        s.flush()
        steps = {
            LifeStep.STUDY: (["书记1", "党员1甲", "预备党员1丙"], ["党员1乙"]),
            LifeStep.OPINIONS: (list(people), []),
            LifeStep.MATERIALS: (["书记1"], []),
        }
        for step, (done, waiting) in steps.items():
            for name in done + waiting:
                s.add(LifeMeetingStep(plan_id=plan.id, person_id=people[name], step=step, content="已完成",
                                      submitted_at=NOW, done_at=NOW if name in done else None))  # fmt: skip
        county = County(c.county, c.c1, c.c2, s.get(OrgUnit, c.b1.id), c.b2, c.b3, c.b4, {})
        meeting = comply(s, county, county.b1, NOV, (MeetingType.ORG_LIFE,), day=20, plan=False)
        for name in ("书记1", "党员1甲"):
            s.add(LifeMeetingCriticism(meeting_id=meeting.id, person_id=people[name], self_points="学习不够",
                                       recorded_at=NOW))  # fmt: skip
        for due, done in ((date(2026, 11, 25), NOW), (date(2026, 11, 30), None), (date(2026, 12, 31), None)):
            s.add(LifeMeetingMeasure(meeting_id=meeting.id, content="整改", owner_id=people["书记1"], due_on=due,
                                     done_at=done))  # fmt: skip
        a = Appraisal(branch_id=c.b1.id, year=2026, opens_at=local(date(2026, 11, 23), 0),
                      closes_at=local(date(2026, 11, 30), 0), proposed_on=date(2026, 11, 30),
                      decided_on=date(2026, 12, 2))  # fmt: skip
        s.add(a)
        s.flush()
        voted = {"书记1", "党员1甲", "党员1乙"}
        for name, pid in people.items():
            s.add(AppraisalMember(appraisal_id=a.id, person_id=pid, probationary=name.startswith("预备"),
                                  has_voted=name in voted))  # fmt: skip
        decided = {"书记1": Grade.EXCELLENT, "党员1丁": Grade.UNQUALIFIED}
        for name, pid in people.items():
            grade = decided.get(name, Grade.QUALIFIED)
            handling = Handling.RECTIFY if grade == Grade.UNQUALIFIED else None
            s.add(AppraisalGrade(appraisal_id=a.id, person_id=pid, branch_id=c.b1.id, proposed_grade=grade,
                                 decided_grade=grade, proposed_handling=handling, decided_handling=handling))  # fmt: skip
        s.add(ProjectCall(unit_id=c.c1.id, year=2026, deadline=date(2026, 3, 31), per_secretary=1))
        p = SecretaryProject(unit_id=c.b1.id, secretary_id=people["书记1"], year=2026, title="党员先锋岗",
                             problem="问题", content="举措", expected="目标", leaders="书记1",
                             status=ProjectStatus.ACCEPTED, submitted_at=NOW, return_count=0,
                             satisfaction=0.875, excellent_at=NOW)  # fmt: skip
        p.milestones = [
            ProjectMilestone(seq=1, title="摸底", due_on=date(2026, 3, 31), done_on=date(2026, 3, 20)),
            ProjectMilestone(seq=2, title="建成", due_on=date(2026, 10, 31)),
            ProjectMilestone(seq=3, title="验收", due_on=date(2026, 12, 31)),
        ]
        s.add(p)
        s.flush()
        for month, proposed, chosen in ((date(2026, 9, 1), PickKind.RED_FLAG, PickKind.RED_FLAG),
                                        (date(2026, 10, 1), PickKind.SNAIL, PickKind.SNAIL),
                                        (NOV, PickKind.SNAIL, None)):  # fmt: skip
            s.add(ProjectPick(committee_id=c.c1.id, month=month, project_id=p.id, proposed_kind=proposed,
                              chosen_kind=chosen, decided_at=NOW))  # fmt: skip
        for due, status, interview in ((date(2026, 10, 20), OrderStatus.CLOSED, None),
                                       (date(2026, 11, 25), OrderStatus.OPEN, NOW)):  # fmt: skip
            s.add(SupervisionOrder(project_id=p.id, text="加快进度", due_on=due, addressee_id=people["书记1"],
                                   issued_at=NOW, status=status, interview_at=interview))  # fmt: skip
    return year


def _section(paragraphs: list[str], tables, title: str) -> tuple[list[str], int]:
    """The paragraphs under the heading that ends with `title`, up to the next heading, and its index."""
    start = next(i for i, p in enumerate(paragraphs) if p.endswith("、" + title))
    end = next(i for i in range(start + 1, len(paragraphs)) if _is_heading(paragraphs[i]))
    return paragraphs[start + 1 : end], start


def _is_heading(text: str) -> bool:
    head, sep, _ = text.partition("、")
    return bool(sep) and 0 < len(head) <= 3 and all(ch in S.NUMERALS for ch in head)


def test_the_yearly_features_have_their_sections_and_problems(session_factory, app, yearly):
    c = yearly.org.county
    r = login(session_factory, app, yearly.id("sec1")).get(
        f"/console/year-reports/{c.b1.id}/report.docx?year=2026"
    )
    assert r.status_code == 200, r.text
    paragraphs, tables = read_docx(r.content)
    heads = [p for p in paragraphs if _is_heading(p)]
    assert heads[7:] == ["八、支部年度评定", "九、组织生活会召开情况", "十、民主评议党员", "十一、书记项目",
                         "十二、存在问题", "十三、党员意见建议（会上记录）"]  # fmt: skip
    pairs = kv_of(tables)
    # 组织生活会
    assert pairs[S.LIFE_HELD] == "已于2026年11月20日召开"
    assert pairs[S.LIFE_CRITICISM] == "已记录 2 人"
    assert pairs[S.LIFE_MEASURES] == "共 3 项，已完成 1 项，未完成 2 项（其中逾期 1 项）"
    assert table_with(tables, "会前步骤")[1:] == [
        ["学习研讨", "5", "3", "党员1乙、党员1丁"],
        ["征求意见", "5", "5", "无"],
        ["谈心谈话", "5", "3", "预备党员1丙、党员1丁"],
        ["对照检查材料", "5", "1", "党员1甲、党员1乙、预备党员1丙、党员1丁"],
    ]
    # 民主评议党员: the turnout and the decided grades counted; no name in the section.
    assert pairs["评议时间"] == "2026年11月23日至2026年11月29日"
    assert pairs["参评党员"] == "5 人"
    assert pairs["民主测评投票"] == "应投票4人，实投3人（75.0%）"
    assert (pairs["支委会提出建议"], pairs["支部大会决定"]) == ("2026年11月30日", "2026年12月2日")
    grades = table_with(tables, "等次")
    assert grades[1:] == [
        ["优秀", "1"],
        ["合格", "3"],
        ["基本合格", "0"],
        ["不合格", "1"],
        ["其中限期改正", "1"],
    ]
    assert not any(name in cell for row in grades for cell in row for name in ("书记1", "党员1丁"))
    # The meetings' table agrees: decided by the 支部大会, so done, with why (the score credits 0: no meeting
    # of that type was recorded), and counted so in the total and the rate.
    assert table_with(tables, "会议类型")[-1] == [
        "民主评议党员",
        "1",
        "0",
        "1（已于2026年12月2日经支部大会评定）",
    ]
    assert "合计应开 7 次，计入完成 6 次，完成率 85.7%。" in paragraphs
    # 书记项目
    assert table_with(tables, "项目")[1:] == [[
        "《党员先锋岗》（优秀项目）", "已入库（公开承诺）", "1/3", "1", "红旗项目1次（2026年9月）；蜗牛项目1次（2026年10月）",
        "2 份，已办结 1 份，未办结 1 份（其中逾期 1 份），已约谈", "87.5%",
    ]]  # fmt: skip
    # Each section's problems join 存在问题, after the figures' own.
    found, _ = _section(paragraphs, tables, S.S_PROBLEMS)
    assert [f.split(". ", 1)[1] for f in found] == [*B1_PROBLEMS_YEARLY, *[
        "组织生活会会前步骤未全部完成（学习研讨2人未完成、谈心谈话2人未完成、对照检查材料4人未完成）。",
        "组织生活会整改措施2项未完成（其中逾期1项）。",
        "书记项目《党员先锋岗》有1个节点逾期未完成。",
        "书记项目《党员先锋岗》被评为蜗牛项目1次。",
        "书记项目《党员先锋岗》督办单1份未办结（其中逾期1份）。",
    ]]  # fmt: skip


def test_a_branch_without_them_is_told_so(session_factory, yearly):
    c = yearly.org.county
    with session_factory() as session:
        scope = scope_of(session, yearly.id("c1sec"))
        by = year_report.branch_year(
            session, scope, session.get(OrgUnit, c.b2.id), 2026, now=NOW, rules=RULES
        )
    paragraphs, tables = read_docx(year_report.report_docx(by, today=date(2026, 12, 3)))
    pairs = kv_of(tables)
    assert pairs[S.LIFE_HELD] == "尚未召开，计划于2026年11月25日召开"
    assert "2026年没有开展民主评议党员。" in paragraphs
    assert S.PROJECT_NONE in paragraphs  # the committee's call covers b2
    assert by.problems[-3:] == [
        "组织生活会原计划于2026年11月25日召开，至今尚未召开。",
        "组织生活会会前步骤未全部完成（学习研讨3人未完成、征求意见3人未完成、谈心谈话2人未完成、对照检查材料3人未完成）。",
        S.P_PROJECT_NONE,
    ]  # the year is under way: no 民主评议 is not yet a problem
    # Before the call's deadline, not having registered is said but is no problem yet.
    with unit_of_work(session_factory) as s:
        s.scalars(select(ProjectCall)).one().deadline = date(2026, 12, 31)
    with session_factory() as session:
        by = year_report.branch_year(
            session, scope, session.get(OrgUnit, c.b2.id), 2026, now=NOW, rules=RULES
        )
    assert S.PROJECT_NONE in by.extra[-1].paragraphs and S.P_PROJECT_NONE not in by.problems


def test_the_committee_rollup_has_a_row_per_branch_and_totals(session_factory, app, year):
    c = year.org.county
    client = login(session_factory, app, year.id("c1sec"))
    r = client.get(f"/console/year-reports/{c.c1.id}/rollup.xlsx?year=2026")
    assert r.status_code == 200, r.text
    ws = load_workbook(io.BytesIO(r.content))[S.ROLLUP_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "城关镇党委 2026年度 各党支部组织生活开展情况汇总（统计截至2026年12月3日）"
    assert list(rows[1]) == S.ROLLUP_HEADERS
    body = {row[0]: row for row in rows[2:]}
    assert list(body) == ["城关社区党支部", "东门社区党支部", "合计（2个支部）"]  # not 河西乡党委's
    b1, b2, total = body["城关社区党支部"], body["东门社区党支部"], body["合计（2个支部）"]
    assert b1[:16] == (
        "城关社区党支部",
        5,
        7,
        4,
        "57.1%",
        "63.6%",
        3,
        "1/2",
        68,
        2,
        2,
        0,
        1,
        "4/8",
        b1[14],
        0,
    )
    # 存在问题 in one cell, numbered as in the report (each sentence ends with its own 。).
    assert b1[16] == "系统建议较好（待党委确定）"
    assert b1[17] == " ".join(f"{i}. {t}" for i, t in enumerate(B1_PROBLEMS, start=1))
    assert "。；" not in b1[17] and "。、" not in b1[17]
    assert b2[1] == 3 and b2[8] == 0 and b2[16] == "一般（党委已确定）"
    # Totals: sums of the rows, rates from the summed counts, the mean of the branches' means.
    for col in (1, 2, 3, 6, 8, 9, 10, 11, 12, 15):
        assert total[col] == b1[col] + b2[col], S.ROLLUP_HEADERS[col]
    assert total[4] == year_report.pct((b1[3] + b2[3]) / (b1[2] + b2[2]))
    assert total[13] == f"{4 + int(b2[13].split('/')[0])}/{8 + int(b2[13].split('/')[1])}"
    assert total[14] == round((b1[14] + b2[14]) / 2, 1)
    assert total[16] == "一般1个、待确定1个"


def test_the_page_lists_what_the_viewer_leads(session_factory, app, year):
    c = year.org.county
    html = login(session_factory, app, year.id("c1sec")).get("/console/year-reports?year=2026").text
    assert f"/console/year-reports/{c.c1.id}/rollup.xlsx?year=2026" in html
    for b in (c.b1, c.b2):
        assert f"/console/year-reports/{b.id}/report.docx?year=2026" in html
    assert "河西村党支部" not in html and f"/year-reports/{c.c2.id}/" not in html
    html = login(session_factory, app, year.id("sec1")).get("/console/year-reports").text
    assert f"/console/year-reports/{c.b1.id}/report.docx?year=2026" in html and "东门社区党支部" not in html
    assert "rollup.xlsx" not in html  # a branch secretary has no committee to roll up
    # An observer sees b1 read-only in the console: not its report.
    html = login(session_factory, app, year.org.observer.id).get("/console/year-reports").text
    assert S.NO_BRANCHES in html and "report.docx" not in html


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("sec1", "b2/report.docx", 404),  # another branch's secretary
        ("sec1", "c1/rollup.xlsx", 404),  # their committee's roll-up
        ("observer", "b1/report.docx", 404),  # the branch observed: read-only, not theirs to report
        ("c2sec", "b1/report.docx", 404),  # another committee
        ("c2sec", "c1/rollup.xlsx", 404),
        ("staff_c1", "c2/rollup.xlsx", 404),  # 组织部 of 城关镇 only
        ("staff_c1", "b1/report.docx", 200),
        ("c2sec", "c2/rollup.xlsx", 200),
        ("staff", "county/rollup.xlsx", 200),  # 组织部: everything
        ("sec1", "b1/rollup.xlsx", 200),  # a branch's roll-up: its one row
        ("c1sec", "c1/report.docx", 422),  # a committee has no report of its own
        ("sec1", "999999/report.docx", 404),
    ],
)
def test_who_may_download_what(session_factory, app, year, who, path, status):
    c = year.org.county
    person = {"observer": year.org.observer.id, "staff_c1": year.org.staff_c1.id}.get(who) or year.id(who)
    unit, name = path.split("/")
    unit_id = {"b1": c.b1.id, "b2": c.b2.id, "c1": c.c1.id, "c2": c.c2.id, "county": c.county.id}.get(
        unit, unit
    )
    r = login(session_factory, app, person).get(f"/console/year-reports/{unit_id}/{name}?year=2026")
    assert r.status_code == status, r.text
    if status != 200:
        assert "党员1乙" not in r.text and "attachment" not in r.headers.get("content-disposition", "")


@pytest.mark.parametrize(
    ("value", "reason"), [("abc", S.BAD_YEAR), ("2027", S.FUTURE_YEAR), ("1999", S.BAD_YEAR)]
)
def test_a_bad_or_future_year_is_refused_with_the_reason(session_factory, app, year, value, reason):
    c = year.org.county
    client = login(session_factory, app, year.id("c1sec"))
    for path in ("", f"/{c.b1.id}/report.docx", f"/{c.c1.id}/rollup.xlsx"):
        r = client.get(f"/console/year-reports{path}?year={value}")
        assert r.status_code == 422 and reason in r.text, path


def test_a_past_year_counts_to_its_last_day(session_factory, app, year):
    """2025, before the start month: no month counted, nothing owed, the report still opens and says so once;
    no empty sections and no "暂未发现明显问题", which would read as a clean year when nothing was recorded."""
    c = year.org.county
    client = login(session_factory, app, year.id("sec1"))
    r = client.get(f"/console/year-reports/{c.b1.id}/report.docx?year=2025")
    assert r.status_code == 200
    paragraphs, tables = read_docx(r.content)
    assert "统计截至2025年12月31日" in paragraphs[1]
    assert paragraphs.count(S.NOT_IN_USE) == 1
    assert [p for p in paragraphs if _is_heading(p)] == ["一、基本情况", "二、党员意见建议（会上记录）"]
    assert S.NO_PROBLEMS not in paragraphs and not any(p.endswith(S.S_PROBLEMS) for p in paragraphs)
    # The roll-up's row says so too, instead of an empty 存在问题.
    r = login(session_factory, app, year.id("c1sec")).get(
        f"/console/year-reports/{c.c1.id}/rollup.xlsx?year=2025"
    )
    rows = list(load_workbook(io.BytesIO(r.content))[S.ROLLUP_SHEET].iter_rows(values_only=True))
    assert [row[17] for row in rows[2:-1]] == [S.NOT_IN_USE_SHORT, S.NOT_IN_USE_SHORT]


def test_the_months_fees_count_once_its_fee_day_has_passed(session_factory, year):
    """On 7 December, December's fee day (the 4th) has passed: its unpaid months are arrears, and the runs
    reach it (tests.ledgers.test_fees's figures from October); on the 3rd they were not (the test above)."""
    c = year.org.county
    after = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    with session_factory() as session:
        scope = scope_of(session, year.id("sec1"))
        by = year_report.branch_year(
            session, scope, session.get(OrgUnit, c.b1.id), 2026, now=after, rules=RULES
        )
    assert (by.fees.members, by.fees.paid, by.fees.unpaid) == (16, 12, 4)
    assert str(by.fees.unpaid_amount) == "11.00" and by.fee_pending is None
    assert by.fee_runs == [("党员1乙", 3), ("党员1甲", 1)]
    assert "欠缴党费4人·月，共11.00元。" in by.problems and "党员1乙连续欠缴党费3个月及以上。" in by.problems


def test_a_year_over_names_a_missing_meeting_once(session_factory, yearly):
    """Read in January: b2 held neither its 组织生活会 nor a 民主评议; the meetings' part already says so
    (December owes both), so their sections add no second sentence for it."""
    c = yearly.org.county
    january = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    with session_factory() as session:
        scope = scope_of(session, yearly.id("c1sec"))
        by = year_report.branch_year(
            session, scope, session.get(OrgUnit, c.b2.id), 2026, now=january, rules=RULES
        )
    assert "组织生活会应开1次，计入完成0次，少1次。" in by.problems
    assert "民主评议党员应开1次，计入完成0次，少1次。" in by.problems
    assert S.P_LIFE_NOT_HELD not in by.problems and S.P_APPRAISAL_NONE not in by.problems
    assert not any(p.startswith("组织生活会原计划") for p in by.problems)  # the year is over: not held at all


def test_the_rating_counts_the_year_end_caps_once_the_committee_may_confirm(session_factory, year):
    """A county that confirms in late December (confirm_days_early): the report shows the proposal the
    ratings page would, with the 组织生活会 not held capping it, not the mid-year one."""
    from dataclasses import replace

    c = year.org.county
    early = replace(RULES, rating=RatingConfig(confirm_days_early=31))  # opens 1 December: NOW is the 3rd
    with session_factory() as session:
        scope = scope_of(session, year.id("sec1"))
        b1 = session.get(OrgUnit, c.b1.id)
        before = year_report.branch_year(session, scope, b1, 2026, now=NOW, rules=RULES)
        after = year_report.branch_year(session, scope, b1, 2026, now=NOW, rules=early)
    assert before.rating.grade == RatingGrade.FAIRLY_GOOD
    assert after.rating.grade == RatingGrade.AVERAGE and not after.rating.confirmed
