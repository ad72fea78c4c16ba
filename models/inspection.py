"""Tables of 督查/巡查 (handlers.inspection; seeds 000 and 004).

The level above a branch checks that its organisational life really happens, in four kinds of round:

* 督查 (supervision): the 组织部's rounds over chosen units against the year's 督查清单;
* 随机抽查 (patrol): the monthly random draw of a share of branches (曲阜), recorded with its seed;
* 交叉互查 (cross check): branches paired to check each other's ledger for a period (大观区);
* 巡查指导 (guidance): the quarterly visits against the checklist of the unit's kind (鱼台);

and 包保联系 (鱼台): 组织部 cadres each assigned 1–3 committees (Liaison).

Every kind records the same thing per unit and item: fine, or a problem (text, photos); a problem
becomes a rectification item with a deadline and an owner, tracked 整改 → 确认销号 / 退回 like the
observers' (the status enum is theirs). Their Rectification row hangs off an Observation (NOT NULL),
so it cannot carry a finding: InspectionRectification is the same columns hung off a Finding.
Times are aware UTC; a month is the DATE of its first day.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime, enum_column
from models.observers import RectificationStatus


class RoundKind(enum.StrEnum):
    SUPERVISION = "supervision"  # 督查
    PATROL = "patrol"  # 随机抽查 (the monthly draw)
    CROSS = "cross"  # 交叉互查
    GUIDANCE = "guidance"  # 巡查指导


ROUND_KIND_LABELS = {
    RoundKind.SUPERVISION: "督查",
    RoundKind.PATROL: "随机抽查",
    RoundKind.CROSS: "交叉互查",
    RoundKind.GUIDANCE: "巡查指导",
}


class ChecklistItem(TimestampMixin, Base):
    """One item of a year's list: the 督查清单 (list "supervision") or a 巡查指导 checklist (list
    "guidance"). `categories` are the BranchCategory values it applies to; empty: every unit."""

    __tablename__ = "inspection_item"
    __table_args__ = (UniqueConstraint("year", "list_kind", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    list_kind: Mapped[RoundKind] = mapped_column(enum_column(RoundKind))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InspectionRound(TimestampMixin, Base):
    """A round over chosen units. For a patrol draw, `month`, `seed` and `share` say how the units were
    drawn (the same seed over the same county draws the same units), and branches see the round only
    from `visible_from` (the month after it)."""

    __tablename__ = "inspection_round"
    __table_args__ = (Index("ix_inspection_round_kind_month", "kind", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RoundKind] = mapped_column(enum_column(RoundKind))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # Where the round belongs: the committee (or None: the 组织部 over the whole tree) that runs it.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    scope_kind: Mapped[str] = mapped_column(String(16), default="")  # 专项 / 综合
    target_kind: Mapped[str] = mapped_column(String(16), default="")  # 随机 / 跟踪
    method: Mapped[str] = mapped_column(String(16), default="")  # 查资料 / 看现场
    opened_on: Mapped[date] = mapped_column(Date)
    # The period a cross check reads the other branch's ledger for.
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    month: Mapped[date | None] = mapped_column(Date)  # a patrol draw's month
    seed: Mapped[int | None] = mapped_column(Integer)
    share: Mapped[float | None] = mapped_column(Float)
    visible_from: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    units: Mapped[list[RoundUnit]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundUnit.id"
    )


class RoundUnit(TimestampMixin, Base):
    """A unit checked in a round, with who checks it: a named inspector, or (交叉互查) the checking
    branch, whose 书记/组织委员 record the findings."""

    __tablename__ = "inspection_round_unit"
    __table_args__ = (UniqueConstraint("round_id", "branch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    checker_branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    visited_on: Mapped[date | None] = mapped_column(Date)

    round: Mapped[InspectionRound] = relationship(back_populates="units")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="round_unit", cascade="all, delete-orphan", order_by="Finding.id"
    )


class Finding(TimestampMixin, Base):
    """Per unit and item: fine, or a problem with its text and photos (attachment ids). After the round
    closes a finding changes only by a correction, which names who, when and why (and the audit log
    keeps the values before and after)."""

    __tablename__ = "inspection_finding"
    __table_args__ = (
        UniqueConstraint("round_unit_id", "item_title"),
        Index("ix_inspection_finding_branch", "branch_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_unit_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_round_unit.id", ondelete="CASCADE"), index=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_item.id", ondelete="SET NULL"))
    item_title: Mapped[str] = mapped_column(String(200))  # as it was when recorded
    ok: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[int]] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correction_reason: Mapped[str | None] = mapped_column(String(500))

    round_unit: Mapped[RoundUnit] = relationship(back_populates="findings")
    rectification: Mapped[InspectionRectification | None] = relationship(
        back_populates="finding", cascade="all, delete-orphan", uselist=False
    )


class InspectionRectification(TimestampMixin, Base):
    """The 整改 item of a problem found: the owner reports it fixed, the round's inspector (or the
    round's owner) signs it off (销号) or sends it back, as the observers' Rectification."""

    __tablename__ = "inspection_rectification"
    __table_args__ = (Index("ix_inspection_rectification_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_finding.id", ondelete="CASCADE"), unique=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[RectificationStatus] = mapped_column(
        enum_column(RectificationStatus), default=RectificationStatus.OPEN
    )
    report_note: Mapped[str | None] = mapped_column(String(1000))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reopen_reason: Mapped[str | None] = mapped_column(String(500))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    finding: Mapped[Finding] = relationship(back_populates="rectification")


class Liaison(TimestampMixin, Base):
    """包保联系 (鱼台): a 组织部 cadre assigned to a committee (1–3 each, handlers.inspection.liaison);
    they get its inspection digest and its escalations (overdue rectifications)."""

    __tablename__ = "inspection_liaison"
    __table_args__ = (UniqueConstraint("person_id", "committee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
