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
* 督办单: issued by the same committee roles; a project's `interview_misses`-th miss (a 督办单 past its
  date, or sent back) tells the committee's 书记 to hold a 约谈.

Config comes from code defaults here: config/rules.py has no projects section yet (requested in the
helper's notes), so `projects_config(core)` takes only the zone from the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from config.settings import DEFAULT_TIMEZONE
from handlers.monthly.config import SUSONG_COMMITTEE, LadderPreset
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


DEFAULT = ProjectsConfig()


def _from_core(core: CoreConfig) -> ProjectsConfig:
    return ProjectsConfig(tz=core.tz)


def projects_config(core: CoreConfig) -> ProjectsConfig:
    """The rules as the composition root configured them (built once per core)."""
    return core.derive(_from_core)
