"""The observers' yearly rating rule (seed 000: 太湖县 rates its observers each year, 优秀 and 称职 earning
an allowance; issue 19 item 6). No published text turns an observer's year into a grade, so the default
weighs what zhibu records, three rates each against three lines, every number configurable:

* 覆盖 (coverage): visits made against visits required (each assigned branch, each ended coverage period,
  `min_visits` times: rule H23), each branch-period counted up to its requirement;
* 及时 (timeliness): forms submitted within `on_time_days` of the meeting, against forms submitted plus
  meetings the observer announced 列席 at whose form window closed without one;
* 质量 (quality): complete forms against forms: every section scored, the 总体评价 written (at least
  `min_comment_chars` characters), and every section scored under `explain_below` of its maximum
  explained in its own 说明.

Each rate gives a grade (at least `*_excellent`: 优秀; `*_competent`: 称职; `*_basic`: 基本称职; below:
不称职) and the year takes the lowest of the three. Then the 回头看 (rule H25): a 整改 reported fixed that
the observer neither signed off nor sent back within `followup_days`, or a 责令重开 meeting held again
without them, is a missed follow-up; one keeps the year from 优秀, `followup_basic` of them cap it at
基本称职.

The two numbers the observers' section already had (ZHIBU_OBSERVERS__EXCELLENT_ON_TIME and
__COMPETENT_COVERAGE, once the lines of an older suggestion in the chat's 观察统计, which now points
here) set `on_time_excellent` and `coverage_competent`, so a deployment that set them keeps them; every
other field is set by the section's `yearly_<field>` (config.rules.ObserversRules: ZHIBU_OBSERVERS__YEARLY_FOLLOWUP_DAYS=14,
ZHIBU_OBSERVERS__YEARLY_CONFIRM_ROLES='["secretary"]', …), an empty one keeping the default here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from handlers.meetings.types import roles_named
from handlers.observers.forms import ObserversConfig, observers_config
from models.org import Role

if TYPE_CHECKING:
    from bot.core.context import CoreConfig
    from config.rules import ObserversRules


@dataclass(frozen=True)
class YearlyConfig:
    coverage_excellent: float = 1.0
    coverage_competent: float = 0.8
    coverage_basic: float = 0.5
    on_time_excellent: float = 0.9
    on_time_competent: float = 0.7
    on_time_basic: float = 0.5
    quality_excellent: float = 0.9
    quality_competent: float = 0.7
    quality_basic: float = 0.5
    min_comment_chars: int = 5
    explain_below: float = 0.6
    followup_days: int = 7
    followup_basic: int = 3
    # Who confirms an observer's rating: these roles on the committee that appointed them or one above
    # it (and 组织部 staff over it). Never the observer themselves.
    confirm_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )

    @classmethod
    def from_rules(cls, rules: ObserversRules, observers: ObserversConfig) -> YearlyConfig:
        names = {f.name for f in fields(cls)}
        given = {
            k.removeprefix("yearly_"): v
            for k, v in rules.model_dump().items()
            if k.startswith("yearly_") and k.removeprefix("yearly_") in names and v is not None
        }
        if "confirm_roles" in given:
            given["confirm_roles"] = roles_named(
                given["confirm_roles"], "ZHIBU_OBSERVERS__YEARLY_CONFIRM_ROLES"
            )
        shared = {
            "on_time_excellent": observers.excellent_on_time,
            "coverage_competent": observers.competent_coverage,
        }
        return replace(cls(), **{**shared, **given})


DEFAULT = YearlyConfig()


def _from_core(core: CoreConfig) -> YearlyConfig:
    return YearlyConfig.from_rules(core.rules.observers, observers_config(core))


def yearly_config(core: CoreConfig) -> YearlyConfig:
    """The organisation's rule, as the composition root configured it (built once per core)."""
    return core.derive(_from_core)
