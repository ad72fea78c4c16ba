"""The yearly rating's proposal rule (seed 001; domain.md rule 57 (a): 好 / 较好 / 一般 / 差).

Seed 001 (《关于提升党支部组织生活质效的工作方案》, 工作举措 2): "组织生活不经常不认真不严肃的，不得评定为较好及以上等次".
No published text turns the year into a grade, so the default reads the monthly points the county already keeps
(domain.md §6: A ≥ 90, B 80–90, C 60–80, D < 60) and names every number, so a committee can set its own
(config.rules.RatingRules: ZHIBU_RATING__GOOD_MEAN=90, ZHIBU_RATING__IRREGULAR_MONTHS=3, …):

* 好: the year's mean at least 90 and no month graded D or 落后;
* 较好: a mean of at least 80 and at most 2 such months;
* 差: a mean under 60, or 6 or more such months;
* 一般: the rest.

Then the caps. Seed 001's three words, read from what zhibu records (the seed's 不严肃 is written 不规范
in the same paragraph's 工作目标 and in the issue, and is the record rule here):

* 不经常: a required meeting type missing in at least 3 scored months;
* 不认真: any 叫停 or 责令重开 by an observer in the year;
* 不规范: minutes recorded late in at least 3 scored months;

any of them: at most 一般. Rectifications still open past their deadline at the year's end (or today, for
the year under way): not 好. Months before the start month (models/startmonth.py) are not scored, so they
count for nothing here either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.rules import RatingRules
from models.org import Role

if TYPE_CHECKING:
    from bot.core.context import CoreConfig


@dataclass(frozen=True)
class RatingConfig:
    good_mean: float = 90.0
    fairly_good_mean: float = 80.0
    poor_mean: float = 60.0
    poor_month_below: float = 60.0
    good_max_weak_months: int = 0
    fairly_good_max_weak_months: int = 2
    poor_weak_months: int = 6
    irregular_months: int = 3
    late_minutes_months: int = 3
    overdue_rectifications: int = 1
    # The committee confirms a year once it is over: from 1 January after it, less these days (a county that
    # rates in late December sets e.g. 10, from 22 December). Before then the page shows the proposal only,
    # so the year-end caps (no 组织生活会, rectifications open at the year's end) are in what is confirmed.
    confirm_days_early: int = 0
    # Who confirms a branch's rating: these roles on a 党委 above it (and 组织部 staff over it). A branch's
    # own 书记 leads the branch, not the committee that rates it.
    confirm_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )

    @classmethod
    def from_rules(cls, rules: RatingRules) -> RatingConfig:
        return cls(**rules.model_dump())


DEFAULT = RatingConfig()


def _from_core(core: CoreConfig) -> RatingConfig:
    return RatingConfig.from_rules(core.rules.rating)


def rating_config(core: CoreConfig) -> RatingConfig:
    """The organisation's rating rule, as the composition root configured it (built once per core)."""
    return core.derive(_from_core)
