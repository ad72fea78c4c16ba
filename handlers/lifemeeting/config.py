"""The 组织生活会's rules (domain.md rule 6: 每年至少召开1次, 一般安排在第四季度; before it 学习研讨, 谈心谈话 and
征求意见, and 对照检查材料 by each 支委 and member).

No central text fixes how long before the meeting each step is due. The defaults are the order branches' own
preparation lists follow (study first, then opinions, talks, and the written 对照检查材料 a few days ahead, so the
secretary can read them); the secretary may set any due day in the plan instead. Every number and role is a
setting (config.rules.LifeMeetingRules: ZHIBU_LIFEMEETING__DAYS_BEFORE='{"study": 28}',
ZHIBU_LIFEMEETING__REMIND_DAYS_BEFORE=2, …); `lifemeeting_config(core)` builds this config from that section in
the core's zone, an unknown role refused naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from config.rules import LifeMeetingRules
from handlers.meetings.types import roles_named
from models.org import Role

if TYPE_CHECKING:
    from bot.core.context import CoreConfig

# The steps in the order they are taken; "talks" is read from handlers.talks, the others are LifeStep values.
STEPS = ("study", "opinions", "talks", "materials")


@dataclass(frozen=True)
class LifeMeetingConfig:
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    # Each step's default due day: this many days before the planned meeting.
    days_before: tuple[tuple[str, int], ...] = (
        ("study", 21),
        ("opinions", 14),
        ("talks", 7),
        ("materials", 3),
    )
    # Who sets the plan, marks steps done and records the meeting (of their branch).
    manager_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )
    # Who is told which steps are missing when one falls due (a branch without one: the managers).
    report_roles: frozenset[Role] = frozenset({Role.SECRETARY})
    # A member is reminded this many days before a step is due, and once more when it is overdue.
    remind_days_before: int = 1
    # The months (default Q4, rule 6) in which the committees' digest lists branches that have not held it.
    digest_months: frozenset[int] = frozenset({10, 11, 12})
    # How many names a chat or digest line lists before "等N人".
    names_shown: int = 8

    def default_due(self, step: str) -> int:
        return dict(self.days_before)[step]

    @classmethod
    def from_rules(cls, rules: LifeMeetingRules, tz: ZoneInfo) -> LifeMeetingConfig:
        """The runtime config of the settings' lifemeeting section; an unknown role is refused."""
        return cls(
            tz=tz,
            days_before=tuple((step, rules.days_before[step]) for step in STEPS),
            manager_roles=roles_named(rules.manager_roles, "ZHIBU_LIFEMEETING__MANAGER_ROLES"),
            report_roles=roles_named(rules.report_roles, "ZHIBU_LIFEMEETING__REPORT_ROLES"),
            remind_days_before=rules.remind_days_before,
            digest_months=frozenset(rules.digest_months),
        )


DEFAULT = LifeMeetingConfig()


def _from_core(core: CoreConfig) -> LifeMeetingConfig:
    return LifeMeetingConfig.from_rules(core.rules.lifemeeting, core.tz)


def lifemeeting_config(core: CoreConfig) -> LifeMeetingConfig:
    """The organisation's 组织生活会 rules, in the composition root's time zone (built once per core)."""
    return core.derive(_from_core)
