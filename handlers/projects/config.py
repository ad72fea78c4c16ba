"""The rules of 书记项目, with their defaults (seed 003; domain.md has no rule of its own for them).

* Who registers: the 书记 of a 党支部, 党总支 or 党委 (桐城: 全市1625个基层党组织书记均申报).
* Who pre-reviews (预审): the 组织委员 of the committee above the unit; a committee's own project, with no
  committee above it, goes to the 组织部 over it.
* Who scores (评审): the call's named reviewers, else the 组织部 over the unit, else the 书记 of the
  committee above; a project is accepted when every named reviewer (or, without a panel, one
  scorer) has scored and the mean reaches `pass_score`.
* Without a call for the year, the registration closes on `default_deadline` and each secretary
  registers `default_per_secretary` project(s).
* Monthly progress (潜山: 单月报告): from the `remind_day` of a month the secretary of an accepted project
  that has no report for the month is reminded (once); a month that ends without a report climbs
  monthly's committee ladder (宿松县 preset, handlers.monthly.config.SUSONG_COMMITTEE): one month → the
  committee's 组织委员, two in a row → its 副书记, three or more → its 书记, copied to the 组织部; the
  project's secretary hears each time. A report ends the run.
* 晒比评 (桐城: 每月底评选公示若干“红旗项目”和“蜗牛项目”): handlers.projects.compare states the proposal
  rule; the committee's 书记/副书记/组织委员 (or 组织部) decide.
* 排位赛 and 进度通报 (桐城: 每季度通报、排位): handlers.projects.bulletin states the ranking rule; the same
  committee roles confirm it once a quarter; `bulletin_days` after a quarter without that, they are reminded.
* 督办单: issued by the same committee roles; a project's `interview_misses`-th miss (a 督办单 past its
  date, or sent back) tells the committee's 书记 to hold a 约谈.

Every number and role is a setting (config.rules.ProjectsRules: ZHIBU_PROJECTS__PASS_SCORE=70,
ZHIBU_PROJECTS__DEFAULT_DEADLINE=04-30, ZHIBU_PROJECTS__LADDER=branch, …); `projects_config(core)` builds
this config from that section in the core's zone, an unknown role, unit kind or ladder refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from config.rules import ProjectsRules
from config.settings import DEFAULT_TIMEZONE
from handlers.meetings.types import named, roles_named
from handlers.monthly.config import LADDERS, SUSONG_COMMITTEE, LadderPreset
from models.org import Role, UnitKind

if TYPE_CHECKING:
    from bot.core.context import CoreConfig


@dataclass(frozen=True)
class ProjectsConfig:
    tz: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)
    register_roles: frozenset[Role] = frozenset({Role.SECRETARY})
    register_unit_kinds: frozenset[UnitKind] = frozenset(
        {UnitKind.BRANCH, UnitKind.GENERAL_BRANCH, UnitKind.COMMITTEE}
    )
    prereview_roles: frozenset[Role] = frozenset({Role.ORGANIZATION_MEMBER})
    # Who sets a committee's call (and names its reviewers): these roles on the committee, or 组织部.
    call_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.ORGANIZATION_MEMBER})
    # The scorer of last resort, on the committee above, when there is neither a panel nor a 组织部.
    fallback_reviewer_roles: frozenset[Role] = frozenset({Role.SECRETARY})
    default_deadline: tuple[int, int] = (3, 31)  # (month, day) of the project's year
    default_per_secretary: int = 1
    pass_score: float = 60.0
    max_milestones: int = 12
    list_cards: int = 3  # 书记项目 shows again at most this many 预审 cards waiting for the person
    remind_day: int = 25
    remind_cron: str = "0 9 * * *"
    ladder: LadderPreset = field(default=SUSONG_COMMITTEE)
    # 晒比评 and 督办单: who on the committee decides the month's 红旗/蜗牛 and issues 督办单 (or 组织部).
    committee_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )
    red_flags: int = 2  # at most this many 红旗 proposed per committee and month
    snails: int = 2  # at most this many 蜗牛 proposed
    # 约谈 (桐城: 对党组织书记进行约谈提醒) at this many misses of a project's 督办单 (past due, or sent back).
    interview_misses: int = 2
    interview_roles: frozenset[Role] = frozenset({Role.SECRETARY})
    # 排位赛 (handlers.projects.bulletin): remind the deciders this many days after a quarter if unconfirmed.
    bulletin_days: int = 10

    @classmethod
    def from_rules(cls, rules: ProjectsRules, tz: ZoneInfo) -> ProjectsConfig:
        """The runtime config of the settings' projects section; an unknown name is refused."""

        def roles(names: list[str], setting: str) -> frozenset[Role]:
            return roles_named(names, f"ZHIBU_PROJECTS__{setting}")

        if rules.ladder not in LADDERS:
            raise ValueError(
                f"ZHIBU_PROJECTS__LADDER: unknown ladder {rules.ladder!r} (known: {', '.join(LADDERS)})"
            )
        month, day = (int(part) for part in rules.default_deadline.split("-"))
        return cls(
            tz=tz,
            register_roles=roles(rules.register_roles, "REGISTER_ROLES"),
            register_unit_kinds=frozenset(
                named(UnitKind, k, "ZHIBU_PROJECTS__REGISTER_UNIT_KINDS") for k in rules.register_unit_kinds
            ),
            prereview_roles=roles(rules.prereview_roles, "PREREVIEW_ROLES"),
            call_roles=roles(rules.call_roles, "CALL_ROLES"),
            fallback_reviewer_roles=roles(rules.fallback_reviewer_roles, "FALLBACK_REVIEWER_ROLES"),
            default_deadline=(month, day),
            default_per_secretary=rules.default_per_secretary,
            pass_score=float(rules.pass_score),
            max_milestones=rules.max_milestones,
            remind_day=rules.remind_day,
            remind_cron=rules.remind_cron,
            ladder=LADDERS[rules.ladder],
            committee_roles=roles(rules.committee_roles, "COMMITTEE_ROLES"),
            red_flags=rules.red_flags,
            snails=rules.snails,
            interview_misses=rules.interview_misses,
            interview_roles=roles(rules.interview_roles, "INTERVIEW_ROLES"),
            bulletin_days=rules.bulletin_days,
        )


DEFAULT = ProjectsConfig()


def _from_core(core: CoreConfig) -> ProjectsConfig:
    return ProjectsConfig.from_rules(core.rules.projects, core.tz)


def projects_config(core: CoreConfig) -> ProjectsConfig:
    """The rules as the composition root configured them (built once per core)."""
    return core.derive(_from_core)
