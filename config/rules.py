"""Each feature's organisational rules as plain, typed sections of Settings (ZHIBU_MEETINGS__…,
ZHIBU_OBSERVERS__…, ZHIBU_MONTHLY__…, ZHIBU_FEES__…, ZHIBU_TALKS__…, ZHIBU_RATING__…, ZHIBU_PROJECTS__…,
ZHIBU_LIFEMEETING__…, ZHIBU_APPRAISAL__…).

Plain values only (numbers, strings, lists and dicts of them): config sits below the models, so role
and meeting-type names are their stored values ("secretary", "theme_day"), and each feature turns its
section into its runtime config (MeetingsConfig.from_rules, …) once, in the composition root, where an
unknown name is refused at start-up. Every default is the behaviour the features had before they were
configurable. Complex values (dicts, lists) are given as JSON, e.g.
ZHIBU_MONTHLY__PENALTIES='{"stop": 5, "reopen": 5}'.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

Frequency = Literal["month", "quarter", "year"]


# The 主题党日's menus (domain.md rule 67): 曲阜's four themes and 湖滨区's seven fixed items; X, the
# 自选动作, is free text beside them.
ACTIVITY_MENUS: dict[str, list[str]] = {
    "4+X": ["党员教育", "为民服务", "民主议事", "和谐稳定"],
    "7+X": ["集中学习", "重温入党誓词", "交纳党费", "开展组织生活", "民主议事", "志愿服务", "党内关怀"],
}


class ActivityDayRules(BaseModel):
    """党员活动日 (domain.md rules 5, 22, 66, 67): ZHIBU_MEETINGS__ACTIVITY_DAY__RULE=day_of_month,
    ZHIBU_MEETINGS__ACTIVITY_DAY__DAY=25, ZHIBU_MEETINGS__ACTIVITY_DAY__MENU=4+X and so on."""

    # none: no fixed day; day_of_month: the `day` (clamped to the month's end); first_working_friday:
    # the 党费交纳日's rule. A rest day moves as the fee day does (顺延 to the next working day, or the
    # next working Friday), on the branch's calendar.
    rule: Literal["none", "day_of_month", "first_working_friday"] = "none"
    day: int | None = Field(None, ge=1, le=31)
    # A preset's name ("4+X", "7+X") or the fixed items themselves.
    menu: str | list[str] = "7+X"
    extra_limit: int = Field(200, ge=10, le=1000)  # the 自选动作 text's length
    # Points taken off the monthly score per fixed item a month's 主题党日 minutes leave out; 0: off.
    penalty_per_missing: float = Field(0, ge=0, le=100)

    @model_validator(mode="after")
    def _consistent(self) -> ActivityDayRules:
        if self.rule == "day_of_month" and self.day is None:
            raise ValueError("rule day_of_month needs the day (ZHIBU_MEETINGS__ACTIVITY_DAY__DAY=25)")
        if isinstance(self.menu, str) and self.menu not in ACTIVITY_MENUS:
            raise ValueError(f"unknown menu {self.menu!r} (known: {', '.join(ACTIVITY_MENUS)} or a list)")
        if isinstance(self.menu, list):
            items = [item.strip() for item in self.menu]
            if (
                not items
                or any(not item or len(item) > 20 for item in items)
                or len(set(items)) != len(items)
                or any(re.search(r"[\s、，,；;：:]", item) for item in items)
            ):
                raise ValueError(
                    "the menu's items: 1 to 20 characters each, none repeated, no 、，;：or spaces"
                )
            self.menu = items
        return self

    @property
    def items(self) -> list[str]:
        return list(ACTIVITY_MENUS[self.menu]) if isinstance(self.menu, str) else list(self.menu)


class MeetingsRules(BaseModel):
    # How often each meeting type is required; a type not listed keeps this default.
    frequencies: dict[str, Frequency] = Field(
        default_factory=lambda: {
            "party_congress": "quarter",
            "branch_committee": "month",
            "group_meeting": "month",
            "party_lecture": "quarter",
            "theme_day": "month",
            "org_life": "year",
            "democratic_review": "year",
        }
    )
    manager_roles: list[str] = Field(default_factory=lambda: ["secretary", "deputy_secretary"])
    leave_approver_roles: list[str] = Field(default_factory=lambda: ["secretary", "deputy_secretary"])
    plan_reviewer_roles: list[str] = Field(default_factory=lambda: ["organization_member"])
    fallback_decider_roles: list[str] = Field(default_factory=lambda: ["organization_member"])
    void_vote_committee_roles: list[str] = Field(default_factory=lambda: ["organization_member"])
    plan_deadline_day: int = Field(25, ge=1, le=31)
    plan_deadline_on_rest_day: Literal["keep", "postpone", "advance"] = "keep"
    plan_reminder_days: list[int] = Field(default_factory=lambda: [20, 24])
    plan_overdue_report_day: int = Field(26, ge=1, le=31)
    reminder_minutes_before: list[int] = Field(default_factory=lambda: [24 * 60, 120])
    signin_opens_minutes_before: int = 30
    signin_closes_minutes_after: int = 30
    late_after_minutes: int = 10
    qr_refresh_seconds: int = 30
    qr_grace_seconds: int = 15
    chat_code_valid_minutes: int = 30
    makeup_days: int = 7
    makeup_due_moves_off_rest_days: bool = True
    minutes_workdays: int = 3
    committee_threshold: int = 7
    leave_reasons: list[str] = Field(default_factory=lambda: ["出差在外", "学习培训", "生病", "家中有事"])
    activity_day: ActivityDayRules = Field(default_factory=ActivityDayRules)


class ObserversRules(BaseModel):
    # A preset (taihu: 100-point form, every half-year; hubin: 四比一争, monthly) and overrides of
    # its values; a value left empty (None) is the preset's.
    preset: Literal["taihu", "hubin"] = "taihu"
    form: Literal["taihu", "hubin"] | None = None
    coverage_period: Literal["month", "half_year"] | None = None
    min_visits: int | None = None
    coverage_risk_days: int | None = None
    gap_report_cron: str | None = None
    submit_days: int | None = None
    on_time_days: int | None = None
    correct_max_days: int | None = None
    reopen_days: int | None = None
    notice_horizon_days: int | None = None
    notices_per_run: int | None = None
    manager_roles: list[str] | None = None
    committee_roles: list[str] | None = None
    stop_report_roles: list[str] | None = None
    excellent_on_time: float | None = None
    competent_coverage: float | None = None
    max_issues: int | None = None
    comment_limit: int | None = None
    # The yearly rating's lines (handlers/observers/yearly_config.py, YearlyConfig's field without the
    # prefix): ZHIBU_OBSERVERS__YEARLY_FOLLOWUP_DAYS=14 and so on; empty (None) keeps YearlyConfig's.
    # Its 优秀 timeliness and 称职 coverage lines are excellent_on_time and competent_coverage above.
    yearly_coverage_excellent: float | None = Field(None, ge=0, le=1)
    yearly_coverage_basic: float | None = Field(None, ge=0, le=1)
    yearly_on_time_competent: float | None = Field(None, ge=0, le=1)
    yearly_on_time_basic: float | None = Field(None, ge=0, le=1)
    yearly_quality_excellent: float | None = Field(None, ge=0, le=1)
    yearly_quality_competent: float | None = Field(None, ge=0, le=1)
    yearly_quality_basic: float | None = Field(None, ge=0, le=1)
    yearly_explain_below: float | None = Field(None, ge=0, le=1)
    yearly_min_comment_chars: int | None = Field(None, ge=0)
    yearly_followup_days: int | None = Field(None, ge=1)
    yearly_followup_basic: int | None = Field(None, ge=1)
    yearly_confirm_roles: list[str] | None = None


class RungRules(BaseModel):
    streak: int
    roles: list[str] = Field(default_factory=list)
    copy_org_staff: bool = False
    to_branch_secretary: bool = False


class LadderRules(BaseModel):
    rungs: list[RungRules]
    exact_steps: bool = False


class CommitteeKindRules(BaseModel):
    key: str
    label: str
    keywords: list[str] = Field(default_factory=list)


class LagRuleRules(BaseModel):
    kind: Literal["bottom_n", "bottom_pct", "below", "halt"]
    value: float = 1


# The parts of 完成率 and the penalties by default: the settings' defaults and MonthlyConfig's, written once.
COMPLETION_ITEMS = {
    "meetings": 0.5,
    "plan": 0.1,
    "minutes": 0.1,
    "attendance": 0.1,
    "makeup": 0.1,
    "fees": 0.1,
}
PENALTIES = {"stop": 5.0, "reopen": 5.0}


class MonthlyRules(BaseModel):
    weight_completion: float = 0.5
    weight_quality: float = 0.3
    weight_rectification: float = 0.2
    completion_items: dict[str, float] = Field(default_factory=lambda: dict(COMPLETION_ITEMS))
    quarter_mode: Literal["end", "spread"] = "end"
    quality_when_missing: float | None = None
    penalties: dict[str, float] = Field(default_factory=lambda: dict(PENALTIES))
    lag_rules: list[LagRuleRules] = Field(default_factory=lambda: [LagRuleRules(kind="bottom_n", value=1)])
    min_peer_group: int = 5
    min_committee_group: int = 3
    lag_rank_below: float | None = 90.0
    weight_by_members: bool = False
    gap_breaks_streak: bool = True
    streak_lookback_months: int = 12
    # A preset's name (committee: "susong"; branch: "branch"; member: "member", domain.md E14) or
    # the rungs themselves.
    committee_ladder: str | LadderRules = "susong"
    branch_ladder: str | LadderRules = "branch"
    member_ladder: str | LadderRules = "member"
    digest_cron: str = "0 9 1 * *"
    todo_cron: str = "30 8 * * mon"
    todo_plan_days: int = 7
    branch_manager_roles: list[str] = Field(default_factory=lambda: ["secretary"])
    committee_leader_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "deputy_secretary", "organization_member"]
    )
    chart_max_bars: int = 30
    # "default" (街道, 机关, 教育, 卫健, 两新, 国资, 园区, 乡镇) or the kinds themselves.
    committee_kinds: str | list[CommitteeKindRules] = "default"
    # Committee id or exact name → kind key.
    committee_kind_of: dict[str, str] = Field(default_factory=dict)
    reminder_roles: list[str] = Field(default_factory=lambda: ["secretary", "organization_member", "contact"])
    # Committee id or exact name → roles (an empty list: nobody).
    reminder_roles_of: dict[str, list[str]] = Field(default_factory=dict)
    reminder_quality_below: float | None = 0.6


class FeesRules(BaseModel):
    """The fee policy of units whose tree has no FeePolicy row (a row set by the CLI still wins)."""

    fee_day_rule: Literal[
        "first_working_friday",
        "first_friday_postpone_next_workday",
        "first_friday_advance_prev_workday",
        "fixed_day_of_month",
    ] = "first_working_friday"
    fixed_day: int | None = Field(None, ge=1, le=31)
    reminder_time: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    remind_day_before: bool = False
    max_backpay_months: int = 6
    max_prepay_months: int = 3
    farmer_amount: Decimal = Decimal("0.50")


class TalksRules(BaseModel):
    """谈心谈话 (domain.md rule 8): which talks a branch owes each year (ZHIBU_TALKS__MEMBER_TALKS_WITH=secretary)."""

    # Each member with any 支委, or with the 书记.
    member_talks_with: Literal["committee", "secretary"] = "committee"
    member_peer_talk: bool = True  # each member also with another member (党员↔党员)
    recorder_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "deputy_secretary", "organization_member"]
    )
    digest_from_month: int = Field(7, ge=1, le=12)  # the first month whose digest shows the year's coverage
    max_people: int = Field(5, ge=2, le=20)


class RatingRules(BaseModel):
    """The branch's yearly rating proposal (seed 001, domain.md rule 57; handlers/rating/config.py):
    ZHIBU_RATING__GOOD_MEAN=90, ZHIBU_RATING__IRREGULAR_MONTHS=3 and so on."""

    good_mean: float = Field(90, ge=0, le=100)  # 好: the year's mean score at least this (the A line)
    fairly_good_mean: float = Field(80, ge=0, le=100)  # 较好: at least this (the B line)
    poor_mean: float = Field(60, ge=0, le=100)  # 差: a mean below this (the D line)
    poor_month_below: float = Field(60, ge=0, le=100)  # a month under this is graded D/差
    good_max_weak_months: int = Field(0, ge=0, le=12)  # 好 allows this many D or 落后 months
    fairly_good_max_weak_months: int = Field(2, ge=0, le=12)  # 较好 allows this many
    poor_weak_months: int = Field(6, ge=1, le=12)  # 差 from this many D or 落后 months
    irregular_months: int = Field(3, ge=1, le=12)  # 不经常: a required meeting type missing in ≥ N months
    late_minutes_months: int = Field(3, ge=1, le=12)  # 不规范: minutes late in ≥ N months
    overdue_rectifications: int = Field(1, ge=1)  # this many open overdue 整改 at year end: not 好
    # The committee confirms from 1 January after the year, less these days (10: from 22 December).
    confirm_days_early: int = Field(0, ge=0, le=31)


class ProjectsRules(BaseModel):
    """书记项目 (seed 003; handlers/projects/config.py): ZHIBU_PROJECTS__PASS_SCORE=70,
    ZHIBU_PROJECTS__DEFAULT_DEADLINE=04-30, ZHIBU_PROJECTS__COMMITTEE_ROLES='["secretary"]' and so on."""

    register_roles: list[str] = Field(default_factory=lambda: ["secretary"])  # who registers, on their unit
    register_unit_kinds: list[str] = Field(
        default_factory=lambda: ["branch", "general_branch", "committee"]
    )  # whose 书记 register (stored names of the unit kinds)
    prereview_roles: list[str] = Field(
        default_factory=lambda: ["organization_member"]
    )  # on the committee above
    call_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "organization_member"]
    )  # set the call
    fallback_reviewer_roles: list[str] = Field(default_factory=lambda: ["secretary"])  # no panel, no 组织部
    # Without a call for the year: the registration closes on this day (MM-DD) of the project's year,
    # and each secretary registers this many projects.
    default_deadline: str = Field("03-31", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    default_per_secretary: int = Field(1, ge=1, le=10)
    pass_score: float = Field(60, ge=0, le=100)  # the reviewers' mean that accepts a project
    max_milestones: int = Field(12, ge=1, le=50)
    remind_day: int = Field(25, ge=1, le=28)  # from this day a month without a report is reminded
    remind_cron: str = "0 9 * * *"  # the job projects.progress (reminders, the ladder, 督办单 misses)
    ladder: str = "susong"  # a month without a report climbs this preset (handlers/monthly/config.py LADDERS)
    committee_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "deputy_secretary", "organization_member"]
    )  # decide 晒比评 and issue 督办单, on the committee
    red_flags: int = Field(2, ge=0)  # at most this many 红旗 proposed per committee and month
    snails: int = Field(2, ge=0)  # and 蜗牛
    interview_misses: int = Field(2, ge=1)  # a project's 督办单 missed this many times: 约谈
    interview_roles: list[str] = Field(default_factory=lambda: ["secretary"])  # told to hold the 约谈
    # 排位赛 and 进度通报: the committee's deciders are reminded (once) when a quarter's ranking is still
    # unconfirmed this many days after the quarter ended.
    bulletin_days: int = Field(10, ge=0, le=90)

    @field_validator("default_deadline")
    @classmethod
    def _a_day_of_every_year(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        if day > (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31) or (month, day) == (2, 29):
            raise ValueError("not a day every year has (MM-DD, e.g. 03-31)")
        return value


class LifeMeetingRules(BaseModel):
    """组织生活会 (domain.md rule 6; handlers/lifemeeting/config.py): ZHIBU_LIFEMEETING__DAYS_BEFORE=
    '{"study": 28}', ZHIBU_LIFEMEETING__REMIND_DAYS_BEFORE=2 and so on."""

    # Each step's default due day, this many days before the planned meeting (study, opinions, talks,
    # materials); a step not listed keeps its default.
    days_before: dict[Literal["study", "opinions", "talks", "materials"], int] = Field(
        default_factory=lambda: {"study": 21, "opinions": 14, "talks": 7, "materials": 3}
    )
    manager_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "deputy_secretary", "organization_member"]
    )  # set the plan, mark steps done, record the meeting
    report_roles: list[str] = Field(default_factory=lambda: ["secretary"])  # told which steps are missing
    remind_days_before: int = Field(1, ge=0, le=30)  # a member is reminded this many days before a due day
    digest_months: list[int] = Field(default_factory=lambda: [10, 11, 12])  # the digest's not-held line

    @field_validator("days_before")
    @classmethod
    def _every_step(cls, value: dict[str, int]) -> dict[str, int]:
        if any(days < 0 for days in value.values()):
            raise ValueError("a step is due before the meeting (days ≥ 0)")
        return {**{"study": 21, "opinions": 14, "talks": 7, "materials": 3}, **value}

    @field_validator("digest_months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if any(not 1 <= m <= 12 for m in value):
            raise ValueError("months are 1 to 12")
        return value


class AppraisalRules(BaseModel):
    """民主评议党员 (domain.md rule 7; handlers/appraisal/config.py says what each line means):
    ZHIBU_APPRAISAL__WINDOW_DAYS=10, ZHIBU_APPRAISAL__EXCELLENT_CAP=1/4 and so on. Shares are written
    as a fraction ("1/3") or a decimal (0.5), kept as the exact fraction's text."""

    window_days: int = Field(7, ge=1, le=31)  # the window opened when no end day is named
    max_window_days: int = Field(31, ge=1, le=366)  # the longest window
    manager_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "deputy_secretary", "organization_member"]
    )  # open it, record the 支委会's proposal and the 支部大会's decision
    excellent_cap: str = "1/3"  # 优秀 at most this share of the members (rounded down)
    excellent_share: str = "1/2"  # a grade is suggested when MORE than this share of the ballots say it
    unqualified_share: str = "1/2"
    basic_share: str = "1/2"
    low_turnout: str = "1/2"  # a turnout at or below this share of the voters is flagged
    self_assessment_max: int = Field(1000, ge=1, le=20_000)  # characters
    reason_max: int = Field(500, ge=1, le=5_000)  # characters

    @field_validator(
        "excellent_cap", "excellent_share", "unqualified_share", "basic_share", "low_turnout", mode="before"
    )
    @classmethod
    def _share(cls, value: object) -> str:
        try:
            share = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError("a share such as 1/3 or 0.5") from None
        if not 0 <= share <= 1:
            raise ValueError("a share is between 0 and 1")
        return str(share)

    @model_validator(mode="after")
    def _window_fits(self) -> AppraisalRules:
        if self.window_days > self.max_window_days:
            raise ValueError("window_days is longer than max_window_days")
        return self


class InspectionRules(BaseModel):
    """督查/巡查 (issue #20, seeds 000 and 004; handlers/inspection/config.py says what each line means):
    ZHIBU_INSPECTION__PATROL_SHARE=0.1, ZHIBU_INSPECTION__RECTIFICATION_DAYS=30 and so on."""

    patrol_share: float = Field(0.10, gt=0, le=1)  # the monthly random patrol's share of the branches
    rectification_days: int = Field(30, ge=1, le=366)  # a problem's deadline unless the inspector sets one
    patrol_cron: str = "0 8 1 * *"  # the job inspection.patrol (the month's draw)
    remind_cron: str = "0 9 * * *"  # the job inspection.rectifications (deadline reminders, escalation)
    remind_days_before: int = Field(3, ge=0, le=30)  # the owner is reminded this many days before
    liaison_max_committees: int = Field(3, ge=1, le=20)  # 包保联系: each cadre links 1 to this many
    liaison_cron: str = "0 9 2 * *"  # the job inspection.liaison (the cadres' monthly digest)
    inspector_roles: list[str] = Field(default_factory=lambda: ["org_staff"])  # a patrol's inspectors
    checker_roles: list[str] = Field(
        default_factory=lambda: ["secretary", "organization_member"]
    )  # check for a branch in 交叉互查, own its rectifications by default


class ConsoleRules(BaseModel):
    """The web console's sessions and uploads (ZHIBU_CONSOLE__IDLE_MINUTES=30 and so on)."""

    idle_minutes: int = Field(30, ge=5, le=24 * 60)  # signed out after this long without a request
    lifetime_hours: int = Field(12, ge=1, le=7 * 24)  # and after this long in any case
    link_minutes: int = Field(5, ge=1, le=60)  # how long the 登录后台 link can be opened
    # Where roster uploads (and phone-match results) wait between preview and apply: every web process
    # must see the same directory. Empty: the system's temp directory.
    uploads: str = ""


class RetentionRules(BaseModel):
    """How long rows that only record the past are kept (the retention job: handlers/retention.py).

    ZHIBU_RETENTION__INBOX_DAYS, __OUTBOX_DAYS, __BATCH_SIZE; 0 days keeps those rows for ever.
    - inbox_days: an inbound event's dedup mark. The platforms redeliver an event within minutes or
      hours (DingTalk Stream until it is acknowledged, WeCom's callback three times in seconds), so a
      month is far more than dedup needs and leaves room to look into a recent incident.
    - outbox_days: the delivery ledger (sent and failed messages), a year and a month by default, so a
      whole year's ledger can still be read after the year ends. At least 90: the observers' notices
      read their own last 60 days of the outbox (ObserversRules.notice_horizon_days) to know whom
      they already told.
    - batch_size: the most rows of each table one run (every half hour) deletes, in one short
      transaction (0.3 to 1 s on a 2-core host under heavy load, bench/retention.py); a backlog (the
      first run after years) drains at 240,000 rows of each table a day.
    """

    inbox_days: int = Field(30, ge=0)
    outbox_days: int = Field(400, ge=0)
    batch_size: int = Field(5_000, ge=100, le=100_000)

    @field_validator("outbox_days")
    @classmethod
    def _keeps_a_season(cls, value: int) -> int:
        if 0 < value < 90:
            raise ValueError("keep the delivery ledger at least 90 days (or 0: for ever)")
        return value


class Rules(BaseModel):
    """All features' rules, as handed down by the composition root (CoreConfig.rules)."""

    meetings: MeetingsRules = Field(default_factory=MeetingsRules)
    observers: ObserversRules = Field(default_factory=ObserversRules)
    monthly: MonthlyRules = Field(default_factory=MonthlyRules)
    fees: FeesRules = Field(default_factory=FeesRules)
    console: ConsoleRules = Field(default_factory=ConsoleRules)
    talks: TalksRules = Field(default_factory=TalksRules)
    rating: RatingRules = Field(default_factory=RatingRules)
    projects: ProjectsRules = Field(default_factory=ProjectsRules)
    lifemeeting: LifeMeetingRules = Field(default_factory=LifeMeetingRules)
    appraisal: AppraisalRules = Field(default_factory=AppraisalRules)
    inspection: InspectionRules = Field(default_factory=InspectionRules)
    retention: RetentionRules = Field(default_factory=RetentionRules)
