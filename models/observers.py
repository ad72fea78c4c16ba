"""组织生活观察员: who observes which branch, the evaluation forms, 列席 notices and rectification items.

Times are aware UTC; calendar questions (which month, which half-year) are asked by the use cases in
handlers/observers in the configured zone.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class Outcome(enum.StrEnum):
    """From mild to severe (domain.md §5 rule 58)."""

    PASS = "pass"  # 合格
    REMIND = "remind"  # 现场提醒
    STOP = "stop"  # 叫停
    CORRECT = "correct"  # 责令纠正 (with a deadline)
    REOPEN = "reopen"  # 责令重开


class RectificationStatus(enum.StrEnum):
    OPEN = "open"  # to fix
    REPORTED = "reported"  # the secretary says it is fixed; waiting for the observer
    CLOSED = "closed"  # the observer confirmed
    REOPENED = "reopened"  # the observer sent it back; the secretary must report again


class ObserverAssignment(TimestampMixin, Base):
    """An observer linked to a branch they watch. Never their own branch (rule H23)."""

    __tablename__ = "observer_assignment"
    __table_args__ = (UniqueConstraint("observer_id", "branch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ObserverRsvp(Base):
    """我要列席: the observer said they will attend; the secretary was told."""

    __tablename__ = "observer_rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "observer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Observation(TimestampMixin, Base):
    """One 观察质量评价表: one per observer per meeting, editable until the form's deadline."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("meeting_id", "observer_id"),
        Index("ix_observation_branch_meeting_start", "branch_id", "meeting_starts_at"),
        # invalidated_meeting_ids (责令重开) runs on every console branch and meeting page: an index
        # scan of the few reopen rows, not the whole table.
        Index("ix_observation_outcome_meeting", "outcome", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    # Copied from the meeting so period questions (coverage, monthly scores) need no join.
    meeting_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    preset: Mapped[str] = mapped_column(String(32))
    # [{"key", "label", "max", "score", "comment"}]: the items as they were when the form was filled.
    items: Mapped[list[dict]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    max_total: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    correct_by: Mapped[date | None] = mapped_column(Date)  # 责令纠正: the deadline
    reopen_by: Mapped[date | None] = mapped_column(Date)  # 责令重开: the new meeting is due by this day
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())  # first submission
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_time: Mapped[bool] = mapped_column(Boolean, default=True)
    # Counts saves, so each result notice of an edited form has its own dedup key.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    rectifications: Mapped[list[Rectification]] = relationship(
        back_populates="observation", cascade="all, delete-orphan", order_by="Rectification.id"
    )


class Rectification(TimestampMixin, Base):
    """One 整改 item for a branch from a 责令纠正: fixed by the secretary, confirmed by the observer."""

    __tablename__ = "rectification"
    __table_args__ = (Index("ix_rectification_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observation.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[RectificationStatus] = mapped_column(
        enum_column(RectificationStatus), default=RectificationStatus.OPEN
    )
    report_note: Mapped[str | None] = mapped_column(String(1000))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_reason: Mapped[str | None] = mapped_column(String(500))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    observation: Mapped[Observation] = relationship(back_populates="rectifications")


def invalidated_meeting_ids() -> Select:
    """Meetings an observer ordered reconvened (责令重开): they no longer count as held.

    A plain SELECT for `Meeting.id.not_in(...)`, so the meetings feature needs no import of ours beyond it.
    """
    return select(Observation.meeting_id).where(Observation.outcome == Outcome.REOPEN)
