"""Arrears start at the start month (issue #18 item 3): a month before it is neither paid nor unpaid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from handlers.fees import arrears
from models import startmonth
from tests.fees.conftest import NOW, TZ

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)


def test_arrears_runs_start_at_the_start_month(session, org):
    """Everyone was entered in January 2025 and nobody paid: without a start month 张三's October run
    is 22 months long; with September as the start month it is two."""
    assert arrears.arrears_counts(session, OCT, tz=TZ)[org.alice.id].months == 22
    startmonth.set_start_month(session, SEP)
    session.commit()
    counts = arrears.arrears_counts(session, OCT, tz=TZ)
    assert (counts[org.alice.id].months, counts[org.alice.id].first_month) == (2, SEP)
    assert counts[org.probationary.id].months == 2  # admitted in September: owes from then anyway
    # A month before the start month has no run at all.
    assert arrears.arrears_counts(session, date(2026, 8, 1), tz=TZ) == {}


def test_a_members_unpaid_months_start_at_the_start_month(session, org):
    startmonth.set_start_month(session, SEP)
    session.commit()
    status = arrears.member_status(session, org.alice, NOW, tz=TZ)
    # The 补交 window would reach back to May; the months before go-live are not owed here.
    assert status.unpaid_months == [SEP, OCT, date(2026, 11, 1)]
    assert status.total_due == Decimal("120.00")
