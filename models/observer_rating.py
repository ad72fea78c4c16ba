"""Tables of the observers' yearly rating (handlers.observers.yearly; issue 19 item 6; seed 000: 太湖县
"以县管党（工）委为单位，对观察员进行年度考核", 优秀/称职 paid an allowance).

One rating row per observer, committee and year: the committee that appointed the observer (their 观察员
role on it; for an observer linked to branches with no such role, the committee above those branches)
rates their year. The software's proposal is refreshed while the committee has not decided, and kept as
it was when they did (what they saw beside what they chose), as models/rating.py does for branches.

The year's training (太湖县: "每年至少组织一次专题培训班") is recorded per session with who attended it.
All three tables are audited (models/audit.py AUDITED), as the branch's rating is.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class ObserverGrade(enum.StrEnum):
    """Best first (seed 000 names 优秀 and 称职; 基本称职 and 不称职 complete the usual 年度考核 scale)."""

    EXCELLENT = "excellent"  # 优秀
    COMPETENT = "competent"  # 称职
    BASIC = "basic"  # 基本称职
    INCOMPETENT = "incompetent"  # 不称职


GRADE_LABELS = {
    ObserverGrade.EXCELLENT: "优秀",
    ObserverGrade.COMPETENT: "称职",
    ObserverGrade.BASIC: "基本称职",
    ObserverGrade.INCOMPETENT: "不称职",
}

# Best first, so "at most X" is a comparison of positions.
GRADE_ORDER = (
    ObserverGrade.EXCELLENT,
    ObserverGrade.COMPETENT,
    ObserverGrade.BASIC,
    ObserverGrade.INCOMPETENT,
)


class ObserverRating(TimestampMixin, Base):
    """One observer's rating for one year by one committee: the software's proposal and the decision."""

    __tablename__ = "observer_rating"
    __table_args__ = (UniqueConstraint("observer_id", "committee_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    # None: nothing to propose from (no visit required yet and no form submitted).
    proposed_grade: Mapped[ObserverGrade | None] = mapped_column(enum_column(ObserverGrade))
    # {"sentences": [Chinese reasons], "figures": {required, done, forms, on_time, complete, …}}
    proposal: Mapped[dict] = mapped_column(JSON, default=dict)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_grade: Mapped[ObserverGrade | None] = mapped_column(enum_column(ObserverGrade))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Required when the confirmed grade differs from the proposal.
    change_reason: Mapped[str | None] = mapped_column(String(500))


class ObserverTraining(TimestampMixin, Base):
    """One training session for observers (专题培训班, 专题辅导, 现场教学…), held by a committee."""

    __tablename__ = "observer_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The committee that held it (whose console page recorded it).
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    attendees: Mapped[list[ObserverTrainingAttendee]] = relationship(
        back_populates="training",
        cascade="all, delete-orphan",
        order_by="ObserverTrainingAttendee.observer_id",
    )


class ObserverTrainingAttendee(Base):
    """An observer who attended a training session."""

    __tablename__ = "observer_training_attendee"

    training_id: Mapped[int] = mapped_column(
        ForeignKey("observer_training.id", ondelete="CASCADE"), primary_key=True
    )
    observer_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    training: Mapped[ObserverTraining] = relationship(back_populates="attendees")
