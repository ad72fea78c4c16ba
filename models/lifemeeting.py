"""组织生活会 (domain.md rule 6): the branch's plan for the year's meeting, the steps before it per person, and
the meeting's own minutes (批评和自我批评 per person, 查摆问题, 整改措施).

The meeting itself is an ordinary Meeting of type ORG_LIFE (models.meetings), scheduled and signed in as any
other; the rows here hang off the branch and year (the plan and its steps) or off that meeting (its minutes).
谈心谈话, the third step, is not stored here: handlers.talks' coverage is read instead.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class LifeStep(enum.StrEnum):
    """A step each person of the branch takes before the meeting (the 谈心谈话 step is handlers.talks')."""

    STUDY = "study"  # 学习研讨
    OPINIONS = "opinions"  # 征求意见
    MATERIALS = "materials"  # 对照检查材料


class LifeMeetingPlan(TimestampMixin, Base):
    """A branch's plan for its 组织生活会 of one year: the planned day and each step's due day (defaults from
    the planned day, handlers.lifemeeting.config; the secretary may set any of them)."""

    __tablename__ = "life_meeting_plan"
    __table_args__ = (UniqueConstraint("branch_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    planned_on: Mapped[date] = mapped_column(Date)
    study_due: Mapped[date] = mapped_column(Date)
    opinions_due: Mapped[date] = mapped_column(Date)
    talks_due: Mapped[date] = mapped_column(Date)
    materials_due: Mapped[date] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def due(self, step: str) -> date:
        return getattr(self, f"{step}_due")


class LifeMeetingStep(TimestampMixin, Base):
    """One person's step: what they submitted (their 对照检查材料, a note on their study) and the secretary's
    mark that it is done. A step is complete only when marked done; no row means nothing happened yet."""

    __tablename__ = "life_meeting_step"
    __table_args__ = (UniqueConstraint("plan_id", "person_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("life_meeting_plan.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    step: Mapped[LifeStep] = mapped_column(enum_column(LifeStep))
    content: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class LifeMeetingMinutes(TimestampMixin, Base):
    """The 组织生活会's own record beside the ordinary Minutes: the problems the branch found (查摆问题)."""

    __tablename__ = "life_meeting_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), unique=True)
    problems: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LifeMeetingCriticism(TimestampMixin, Base):
    """批评和自我批评, one row per person per meeting: their self-criticism and the criticism they received and
    gave (the points, as the secretary records them; what was said in full is not required)."""

    __tablename__ = "life_meeting_criticism"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    self_points: Mapped[str] = mapped_column(Text, default="")
    received: Mapped[str] = mapped_column(Text, default="")
    given: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LifeMeetingMeasure(TimestampMixin, Base):
    """整改措施 drawn up after the meeting, carried out one by one: each with an owner and a due day."""

    __tablename__ = "life_meeting_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    content: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
