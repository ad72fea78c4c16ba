"""Payments: 已交, confirmation and its role checks, 代交, the 补交/预交 window, exemptions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.core.errors import Refused
from handlers.fees import arrears, payments
from models.fees import FeeExemption, FeePayment, PaymentMethod, PaymentStatus
from tests.fees.conftest import NOW, TZ

NOV = date(2026, 11, 1)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(FeePayment))


def test_member_reports_and_collector_confirms(session, org):
    [p] = payments.report_paid(session, org.alice, [NOV], NOW, tz=TZ)
    session.commit()
    assert (p.status, p.method, p.amount, p.month) == (
        PaymentStatus.REPORTED,
        PaymentMethod.SELF_REPORTED,
        Decimal("40.00"),
        NOV,
    )
    assert p.paid_at == NOW
    # saying 已交 again changes nothing
    assert payments.report_paid(session, org.alice, [NOV], NOW, tz=TZ) == []
    pending = payments.pending_payments(session, org.branch.id)
    assert [person.name for _p, person in pending] == ["张三"]
    later = datetime(2026, 11, 7, 2, tzinfo=UTC)
    confirmed = payments.confirm_payment(session, org.collector, p.id, later)
    session.commit()
    assert confirmed.status == PaymentStatus.CONFIRMED
    assert confirmed.confirmed_by_person_id == org.collector.id and confirmed.confirmed_at == later
    assert confirmed.paid_at == NOW  # the time paid stays apart from the confirmation
    with pytest.raises(Refused, match="已确认") as again:
        payments.confirm_payment(session, org.secretary, p.id, later)
    assert again.value.status == 409  # the web answers a conflict with the record's state
    with pytest.raises(Refused) as missing:
        payments.reject_payment(session, org.secretary, 10**9, later)
    assert missing.value.status == 404


def test_a_member_cannot_confirm_their_own_payment_even_as_collector(session, org):
    [own] = payments.report_paid(session, org.collector, [NOV], NOW, tz=TZ)
    session.commit()
    with pytest.raises(Refused, match="不能确认自己") as own_refused:
        payments.confirm_payment(session, org.collector, own.id, NOW)
    assert own_refused.value.status == 403
    with pytest.raises(Refused, match="不能确认自己"):
        payments.reject_payment(session, org.collector, own.id, NOW)  # the same checks as confirm
    # 全部确认 skips the actor's own; the secretary can confirm it
    payments.report_paid(session, org.alice, [NOV], NOW, tz=TZ)
    done = payments.confirm_all(session, org.collector, org.branch.id, NOW)
    assert [p.person_id for p in done] == [org.alice.id]
    session.refresh(own)
    assert own.status == PaymentStatus.REPORTED
    assert payments.confirm_payment(session, org.secretary, own.id, NOW).status == PaymentStatus.CONFIRMED
    # the collector recording their own payment gets a reported row, not a confirmed one
    dec = date(2026, 12, 1)
    assert (
        payments.record_payment(session, org.collector, org.collector, dec, NOW, tz=TZ).status
        == PaymentStatus.REPORTED
    )


def test_only_this_branchs_collector_or_secretary(session, org):
    [p] = payments.report_paid(session, org.alice, [NOV], NOW, tz=TZ)
    session.commit()
    for outsider in (org.other_collector, org.bob, org.org_member, None):
        with pytest.raises(Refused):
            payments.confirm_payment(session, outsider, p.id, NOW)
        with pytest.raises(Refused):
            payments.confirm_all(session, outsider, org.branch.id, NOW)
        with pytest.raises(Refused):
            payments.record_payment(session, outsider, org.bob, NOV, NOW, tz=TZ)
    session.refresh(p)
    assert p.status == PaymentStatus.REPORTED and _count(session) == 1


def test_collector_records_a_proxy_payment(session, org):
    paid_at = datetime(2026, 11, 3, 8, tzinfo=UTC)
    p = payments.record_payment(
        session, org.collector, org.bob, NOV, NOW, tz=TZ, paid_at=paid_at, paid_by=org.alice
    )
    session.commit()
    assert p.status == PaymentStatus.CONFIRMED and p.method == PaymentMethod.COLLECTOR
    assert p.paid_by_person_id == org.alice.id and p.paid_by_name == "张三"
    assert p.amount == Decimal("60.00") and p.paid_at == paid_at
    q = payments.record_payment(
        session, org.secretary, org.alice, NOV, NOW, tz=TZ, paid_by_name="张三的爱人", amount=Decimal("40")
    )
    assert q.paid_by_person_id is None and q.paid_by_name == "张三的爱人"


@pytest.mark.parametrize(
    ("month", "ok"),
    [
        (date(2026, 5, 1), True),  # 6 months back: 补交 allowed
        (date(2026, 4, 1), False),  # 7 months back
        (date(2027, 2, 1), True),  # 3 months ahead: 预交 allowed
        (date(2027, 3, 1), False),  # 4 months ahead
    ],
)
def test_backpay_and_prepay_window(session, org, month, ok):
    if ok:
        assert payments.report_paid(session, org.alice, [month], NOW, tz=TZ)[0].month == month
    else:
        with pytest.raises(Refused) as exc:
            payments.report_paid(session, org.alice, [month], NOW, tz=TZ)
        assert ("补交" if month < NOV else "预交") in str(exc.value)
        assert _count(session) == 0


def test_one_bad_month_refuses_them_all(session, org):
    with pytest.raises(Refused):
        payments.report_paid(session, org.alice, [NOV, date(2026, 1, 1)], NOW, tz=TZ)
    assert _count(session) == 0


def test_probationary_owes_from_admission_and_exempt_owes_nothing(session, org):
    with pytest.raises(Refused, match="2026年9月"):
        payments.report_paid(session, org.probationary, [date(2026, 8, 1)], NOW, tz=TZ)
    assert payments.report_paid(session, org.probationary, [date(2026, 9, 1)], NOW, tz=TZ)[
        0
    ].amount == Decimal("10.00")
    session.add(
        FeeExemption(
            person_id=org.bob.id, from_month=date(2026, 10, 1), amount=Decimal("0"), approved_by="区委组织部"
        )
    )
    session.commit()
    with pytest.raises(Refused, match="免交"):
        payments.report_paid(session, org.bob, [NOV], NOW, tz=TZ)


def test_rejected_report_can_be_reported_again(session, org):
    [p] = payments.report_paid(session, org.alice, [NOV], NOW, tz=TZ)
    payments.reject_payment(session, org.collector, p.id, NOW)
    assert p.status == PaymentStatus.REJECTED
    assert [q.id for q in payments.report_paid(session, org.alice, [NOV], NOW, tz=TZ)] == [p.id]
    assert p.status == PaymentStatus.REPORTED


def test_member_status(session, org):
    payments.record_payment(session, org.collector, org.alice, date(2026, 10, 1), NOW, tz=TZ)
    session.commit()
    status = arrears.member_status(session, org.alice, NOW, tz=TZ)
    assert status.fee_day.day == date(2026, 11, 6)
    assert status.monthly == Decimal("40.00") and status.this_month == "未交"
    # tracked since Jan 2025, so the six-month 补交 window May–Nov minus October's payment
    assert status.unpaid_months == [date(2026, m, 1) for m in (5, 6, 7, 8, 9, 11)]
    assert status.total_due == Decimal("240.00")


def test_a_voluntary_extra_of_1000_or_more_is_flagged(session, org):
    big = payments.record_payment(
        session, org.collector, org.alice, NOV, NOW, tz=TZ, amount=Decimal("1040.00")
    )
    assert big.note == "自愿多交 1000.00 元（一次性 1000 元以上，按规定全部上缴中央）"
    small = payments.record_payment(
        session, org.collector, org.bob, NOV, NOW, tz=TZ, amount=Decimal("1059.99")
    )
    assert small.note == ""  # 999.99 over the 60.00 owed
