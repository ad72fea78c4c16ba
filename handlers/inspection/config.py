"""督查/巡查 rules (seeds 000, 004; issue #20). The defaults are the seeds' numbers:

* the monthly random patrol (曲阜) draws 10% of branches (`patrol_share`), stratified by committee (at
  least one per committee while the total allows); within a committee the branches never drawn come
  first, then those drawn longest ago (handlers.inspection.draw);
* a problem found is to be rectified within `rectification_days` days unless the inspector sets a day;
* the job inspection.rectifications (daily, 09:00) reminds a rectification's owner `remind_days_before`
  days before its deadline and tells the owner and the inspector the day after a missed one;
* the job inspection.patrol draws the month's branches on the 1st at 08:00 and sends each inspector
  their list in chat;
* 包保联系: each 组织部 cadre links 1 to `liaison_max_committees` (3) committees, whose digest they get
  on the 2nd at 09:00 (inspection.liaison), and whose overdue rectifications reach them too;
* who is a patrol's inspector: 组织部 staff over the branch (`inspector_roles` on a unit above it, or
  on none); who checks for a branch in a 交叉互查 and who owns a branch's rectification by default:
  `checker_roles` on the branch.

Every line is a setting (config.rules.InspectionRules: ZHIBU_INSPECTION__PATROL_SHARE=0.1,
ZHIBU_INSPECTION__RECTIFICATION_DAYS=30, ZHIBU_INSPECTION__INSPECTOR_ROLES='["org_staff"]' and so on);
an unknown role is refused at start-up with the variable named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.rules import InspectionRules
from handlers.meetings.types import roles_named
from models.org import Role

if TYPE_CHECKING:
    from bot.core.context import CoreConfig


@dataclass(frozen=True)
class InspectionConfig:
    patrol_share: float = 0.10
    rectification_days: int = 30
    patrol_cron: str = "0 8 1 * *"
    # The daily check of rectifications: the owner is reminded this many days before the deadline, and
    # the day after a missed deadline the owner and the unit's inspector are told (once each).
    remind_cron: str = "0 9 * * *"
    remind_days_before: int = 3
    # 包保联系 (鱼台): each 组织部 cadre links 1 to this many committees; their digest goes out on the 2nd.
    liaison_max_committees: int = 3
    liaison_cron: str = "0 9 2 * *"
    inspector_roles: frozenset[Role] = frozenset({Role.ORG_STAFF})
    checker_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.ORGANIZATION_MEMBER})

    def __post_init__(self) -> None:
        if not 0 < self.patrol_share <= 1:
            raise ValueError(f"patrol_share must be in (0, 1], not {self.patrol_share}")

    @classmethod
    def from_rules(cls, rules: InspectionRules) -> InspectionConfig:
        """The runtime config of the settings' inspection section; an unknown role is refused."""
        return cls(
            patrol_share=rules.patrol_share,
            rectification_days=rules.rectification_days,
            patrol_cron=rules.patrol_cron,
            remind_cron=rules.remind_cron,
            remind_days_before=rules.remind_days_before,
            liaison_max_committees=rules.liaison_max_committees,
            liaison_cron=rules.liaison_cron,
            inspector_roles=roles_named(rules.inspector_roles, "ZHIBU_INSPECTION__INSPECTOR_ROLES"),
            checker_roles=roles_named(rules.checker_roles, "ZHIBU_INSPECTION__CHECKER_ROLES"),
        )


DEFAULT = InspectionConfig()


def _from_core(core: CoreConfig) -> InspectionConfig:
    return InspectionConfig.from_rules(core.rules.inspection)


def inspection_config(core: CoreConfig) -> InspectionConfig:
    """The organisation's 督查/巡查 rules (built once per core)."""
    return core.derive(_from_core)
