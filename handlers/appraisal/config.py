"""The rules of 民主评议党员 (domain.md rule 7, rules 12 and 36; issue 19 item 2), every number named.

domain.md gives the grades (优秀/合格/基本合格/不合格), who votes (正式党员 not under 留党察看; 预备党员 take
part and are appraised but do not vote) and one number: 优秀 is generally at most 1/3 of the members.
No central text turns a count into a grade; the defaults read the count the way the 测评 tables
branches use do, and each threshold is a setting:

* 优秀: more than half of the ballots cast on the member say 优秀, then the most 优秀 votes first, up to the
  cap (1/3 of the members appraised, rounded down). Members tied on the last seat are all left to the
  支委会 (none proposed 优秀 by the software, each flagged 并列), so the cap is never exceeded by a tie and
  the software never breaks a tie by an order nobody chose;
* 不合格: more than half say 不合格 (the 支委会 must choose the handling before it can propose it);
* 基本合格: more than half say 基本合格 or 不合格;
* 合格: the rest (and a member nobody voted on, flagged so).

Every number and role is a setting (config.rules.AppraisalRules: ZHIBU_APPRAISAL__WINDOW_DAYS=10,
ZHIBU_APPRAISAL__EXCELLENT_CAP=1/4, …); `appraisal_config(core)` builds this config from that section, an
unknown role refused naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from typing import TYPE_CHECKING

from config.rules import AppraisalRules
from handlers.meetings.types import roles_named
from models.org import Role

if TYPE_CHECKING:
    from bot.core.context import CoreConfig


@dataclass(frozen=True)
class AppraisalConfig:
    # The window a secretary opens when they name no end day: today and the next 6 days.
    window_days: int = 7
    # The longest window (a window left open for months is a mistake, not a vote).
    max_window_days: int = 31
    # Who opens the branch's appraisal and records the 支委会's proposal and the 支部大会's decision.
    manager_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )
    # 优秀 at most this share of the members appraised (domain.md rule 7: 一般不超过1/3), rounded down.
    excellent_cap: Fraction = Fraction(1, 3)
    # A grade is proposed when MORE than this share of the ballots on the member say it (see above).
    excellent_share: Fraction = Fraction(1, 2)
    unqualified_share: Fraction = Fraction(1, 2)
    basic_share: Fraction = Fraction(1, 2)
    # A turnout at or below this share of the voters is flagged on the count (the 支部大会's quorum,
    # domain.md rule 10, is more than half).
    low_turnout: Fraction = Fraction(1, 2)
    self_assessment_max: int = 1000  # characters
    reason_max: int = 500

    @classmethod
    def from_rules(cls, rules: AppraisalRules) -> AppraisalConfig:
        """The runtime config of the settings' appraisal section, field by field of the same name (shares
        as "1/3" or 0.5, roles by name); an unknown role is refused. Any object with some of these names
        will do (a field it lacks keeps its default), so tests can state just the rule they change."""
        values = {}
        for f in fields(cls):
            if not hasattr(rules, f.name):
                continue
            value = getattr(rules, f.name)
            if f.name == "manager_roles":
                value = roles_named(value, "ZHIBU_APPRAISAL__MANAGER_ROLES")
            elif isinstance(getattr(DEFAULT, f.name), Fraction):
                value = Fraction(str(value))
            values[f.name] = value
        return cls(**values)


DEFAULT = AppraisalConfig()


def _from_core(core: CoreConfig) -> AppraisalConfig:
    return AppraisalConfig.from_rules(core.rules.appraisal)


def appraisal_config(core: CoreConfig) -> AppraisalConfig:
    """The organisation's 民主评议 rules, as the composition root configured them (built once per core)."""
    return core.derive(_from_core)
