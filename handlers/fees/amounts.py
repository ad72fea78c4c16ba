"""What a member owes for a month: pure Decimal rules of the 2008 规定 (中组发〔2008〕3号, rule F16).

One rate on the WHOLE base (not marginal brackets): 3000.00 → 15.00 元, 3000.01 → 30.00 元.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from models.org import FeeCategory, MemberStatus

CENT = Decimal("0.01")

# (upper bound inclusive, rate); the last bound is None = no upper bound.
EMPLOYED_BRACKETS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("3000"), Decimal("0.005")),
    (Decimal("5000"), Decimal("0.01")),
    (Decimal("10000"), Decimal("0.015")),
    (None, Decimal("0.02")),
)
RETIRED_BRACKETS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("5000"), Decimal("0.005")),
    (None, Decimal("0.01")),
)
SMALL_FIXED = Decimal("0.20")  # 学生, 失业, 低保 (第六条)
FARMER_MIN, FARMER_MAX = Decimal("0.20"), Decimal("1.00")


def rate_for(base: Decimal, brackets=EMPLOYED_BRACKETS) -> Decimal:
    for upper, rate in brackets:
        if upper is None or base <= upper:
            return rate
    raise AssertionError("the last bracket has no upper bound")


def round_yuan(amount: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return amount.quantize(CENT, rounding=rounding)


@dataclass(frozen=True)
class FeeRules:
    """The configurable parts: the farmers' amount (0.2–1 元) and the rounding mode."""

    farmer_amount: Decimal = Decimal("0.50")
    rounding: str = ROUND_HALF_UP

    def __post_init__(self) -> None:
        if not FARMER_MIN <= self.farmer_amount <= FARMER_MAX:
            raise ValueError("农民党员的党费应在 0.2 至 1 元之间")


def monthly_amount(
    category: FeeCategory,
    base: Decimal | None,
    fixed_amount: Decimal | None = None,
    rules: FeeRules = FeeRules(),  # noqa: B008 - frozen, immutable default
) -> Decimal | None:
    """The monthly fee, or None when it cannot be known (a wage category with no base on file).

    A fixed amount on the roster wins over the category: it is the amount the branch 核定 for the
    year (rule 43, the yearly rebase practice), and FeeCategory.FIXED has nothing else to go on.
    """
    if fixed_amount is not None:
        return round_yuan(Decimal(fixed_amount), rules.rounding)
    if category == FeeCategory.FIXED:
        return None
    if category in (FeeCategory.STUDENT, FeeCategory.UNEMPLOYED, FeeCategory.LOW_INCOME):
        return SMALL_FIXED
    if category == FeeCategory.FARMER:
        return round_yuan(rules.farmer_amount, rules.rounding)
    if base is None:
        return None
    base = Decimal(base)
    if base < 0:
        raise ValueError("党费基数不能为负数")
    brackets = RETIRED_BRACKETS if category == FeeCategory.RETIRED else EMPLOYED_BRACKETS
    return round_yuan(base * rate_for(base, brackets), rules.rounding)


def liability_start(status: MemberStatus, joined_on: date | None) -> date | None:
    """The first month a member owes: 预备党员 from the month the 支部大会 admitted them (第八条).

    For a full member `joined_on` is also the admission date, so the same rule holds; None = unknown,
    treated as "owes every month zhibu tracks".
    """
    del status  # same rule for both; kept in the signature so a later distinction is one place
    return joined_on.replace(day=1) if joined_on else None
