"""党费: the fee-day policy per organisation unit, its overrides, local holidays, exemptions and payments.

A month is stored as the DATE of its first day (2026-11-01 means "November 2026"): it compares,
indexes and ranges the same way on SQLite and PostgreSQL, and cannot carry a stray day.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime, enum_column
from models.org import Person


class FeeDayRule(enum.StrEnum):
    """How the 党费交纳日 of a month is found (domain.md §3.3; rule F19)."""

    FIRST_WORKING_FRIDAY = "first_working_friday"  # reading C: the default
    FIRST_FRIDAY_POSTPONE = "first_friday_postpone_next_workday"  # reading D: 顺延
    FIRST_FRIDAY_ADVANCE = "first_friday_advance_prev_workday"  # 提前 (may fall in the previous month)
    FIXED_DAY = "fixed_day_of_month"  # a fixed date, 顺延 to the next workday when it is a rest day


FEE_DAY_RULE_LABELS = {
    FeeDayRule.FIRST_WORKING_FRIDAY: "每月第一个工作日周五",
    FeeDayRule.FIRST_FRIDAY_POSTPONE: "每月第一个周五，遇休息日顺延至下一个工作日",
    FeeDayRule.FIRST_FRIDAY_ADVANCE: "每月第一个周五，遇休息日提前至上一个工作日",
    FeeDayRule.FIXED_DAY: "每月固定日期，遇休息日顺延",
}


class PaymentMethod(enum.StrEnum):
    SELF_REPORTED = "self_reported"  # the member answered 已交
    COLLECTOR = "collector"  # recorded by the 党费收缴员 / 书记
    BULK_IMPORT = "bulk_import"  # an .xlsx import
    API = "api"


PAYMENT_METHOD_LABELS = {
    PaymentMethod.SELF_REPORTED: "本人报告已交",
    PaymentMethod.COLLECTOR: "收缴员登记",
    PaymentMethod.BULK_IMPORT: "批量导入",
    PaymentMethod.API: "接口导入",
}


class PaymentStatus(enum.StrEnum):
    REPORTED = "reported"  # 待确认
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


PAYMENT_STATUS_LABELS = {
    PaymentStatus.REPORTED: "待确认",
    PaymentStatus.CONFIRMED: "已确认",
    PaymentStatus.REJECTED: "已退回",
}


class FeePolicy(TimestampMixin, Base):
    """The fee rules of a unit and everything below it; the nearest ancestor's policy applies."""

    __tablename__ = "fee_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), unique=True)
    fee_day_rule: Mapped[FeeDayRule] = mapped_column(
        enum_column(FeeDayRule, 40), default=FeeDayRule.FIRST_WORKING_FRIDAY
    )
    fixed_day: Mapped[int | None] = mapped_column(Integer)  # 1..31, for FIXED_DAY (clamped to month end)
    reminder_time: Mapped[str] = mapped_column(String(5), default="09:00")  # local HH:MM
    remind_day_before: Mapped[bool] = mapped_column(Boolean, default=False)
    max_backpay_months: Mapped[int] = mapped_column(Integer, default=6)  # 补交 (第十二条)
    max_prepay_months: Mapped[int] = mapped_column(Integer, default=3)  # 预交 (rule 47)
    farmer_amount: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0.50"))  # 0.2–1 元
    # Months before this are never counted as unpaid (the data before zhibu is unknown); NULL = each
    # member's own first month in zhibu (the month their roster row was created).
    tracking_start: Mapped[date | None] = mapped_column(Date)


class FeeDayOverride(TimestampMixin, Base):
    """A fee day set by hand for one month of one unit (and the units below it)."""

    __tablename__ = "fee_day_override"
    __table_args__ = (UniqueConstraint("org_unit_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    fee_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class LocalHoliday(TimestampMixin, Base):
    """A local day off (or a local make-up workday) the national calendar does not know."""

    __tablename__ = "fee_local_holiday"
    __table_args__ = (UniqueConstraint("org_unit_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100), default="")
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)  # True: a local 调休 working day


class FeeCalendarWarning(TimestampMixin, Base):
    """One row per year the holiday package did not cover when a fee day was needed.

    The row is the "warned once" memory: it survives restarts and is shared by every process.
    """

    __tablename__ = "fee_calendar_warning"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)


class FeeExemption(TimestampMixin, Base):
    """少交或免交 (第七条): a reduced or zero monthly fee, discussed by the branch and approved above.

    amount = 0 means 免交: no reminders, never in arrears. A positive amount replaces what is owed.
    """

    __tablename__ = "fee_exemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    from_month: Mapped[date] = mapped_column(Date)
    to_month: Mapped[date | None] = mapped_column(Date)  # inclusive; NULL = until revoked
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    approved_by: Mapped[str] = mapped_column(String(200), default="")  # 上一级党委 and its document


class FeePayment(TimestampMixin, Base):
    """One month paid for by one member. The month paid for is kept apart from when it was paid."""

    __tablename__ = "fee_payment"
    __table_args__ = (
        UniqueConstraint("person_id", "month"),
        Index("ix_fee_payment_branch_month", "branch_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month paid for
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, 40))
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, 40), default=PaymentStatus.REPORTED
    )
    # 代交: paid by another member (id) or by someone outside the roster (name), recorded as such.
    paid_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    paid_by_name: Mapped[str | None] = mapped_column(String(50))
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    confirmed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
