"""The 2008 rates on the whole base, at each bracket edge, and the fixed amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handlers.fees.amounts import FeeRules, liability_start, monthly_amount
from models.org import FeeCategory, MemberStatus

E, R = FeeCategory.EMPLOYED, FeeCategory.RETIRED


@pytest.mark.parametrize(
    ("category", "base", "expected"),
    [
        (E, "0", "0.00"),
        (E, "2999.99", "15.00"),
        (E, "3000.00", "15.00"),
        (E, "3000.01", "30.00"),
        (E, "5000.00", "50.00"),
        (E, "5000.01", "75.00"),
        (E, "10000.00", "150.00"),
        (E, "10000.01", "200.00"),
        (E, "12345.67", "246.91"),  # 246.9134 → 246.91
        (E, "4321.50", "43.22"),  # 43.215 → 43.22 (half up, not banker's)
        (E, "2001.00", "10.01"),  # 10.005 → 10.01
        (R, "5000.00", "25.00"),
        (R, "5000.01", "50.00"),
        (R, "1234.50", "6.17"),  # 6.1725 → 6.17
        (R, "20000", "200.00"),
    ],
)
def test_rate_on_the_whole_base(category, base, expected):
    assert monthly_amount(category, Decimal(base)) == Decimal(expected)


def test_small_fixed_categories_and_farmers():
    for cat in (FeeCategory.STUDENT, FeeCategory.UNEMPLOYED, FeeCategory.LOW_INCOME):
        assert monthly_amount(cat, Decimal("8000")) == Decimal("0.20")
    assert monthly_amount(FeeCategory.FARMER, None) == Decimal("0.50")
    assert monthly_amount(FeeCategory.FARMER, None, rules=FeeRules(farmer_amount=Decimal("1"))) == Decimal(
        "1.00"
    )
    with pytest.raises(ValueError):
        FeeRules(farmer_amount=Decimal("1.01"))
    with pytest.raises(ValueError):
        FeeRules(farmer_amount=Decimal("0.19"))


def test_fixed_amount_wins_and_unknown_base_is_none():
    assert monthly_amount(FeeCategory.FIXED, None, Decimal("12")) == Decimal("12.00")
    assert monthly_amount(E, Decimal("9000"), Decimal("100")) == Decimal("100.00")
    assert monthly_amount(FeeCategory.FIXED, None) is None
    assert monthly_amount(E, None) is None
    with pytest.raises(ValueError):
        monthly_amount(E, Decimal("-1"))


def test_probationary_members_owe_from_their_admission_month():
    assert liability_start(MemberStatus.PROBATIONARY, date(2026, 9, 28)) == date(2026, 9, 1)
    assert liability_start(MemberStatus.FULL, None) is None
