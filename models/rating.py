"""The branch's yearly rating (issue 19 item 4; seed 001; domain.md rule 57's 好/较好/一般/差).

The software proposes a grade from the year's stored monthly scores, observer outcomes and
rectifications, with the reasons; the committee (its 书记/副书记/组织委员, or 组织部) confirms it or
changes it with a reason. One row per branch and year: the proposal is refreshed while the committee
has not decided, and kept as it was when they did (what they saw beside what they chose).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class RatingGrade(enum.StrEnum):
    """Best first (domain.md rule 57 (a), the 库尔勒 four grades)."""

    GOOD = "good"  # 好
    FAIRLY_GOOD = "fairly_good"  # 较好
    AVERAGE = "average"  # 一般
    POOR = "poor"  # 差


GRADE_LABELS = {
    RatingGrade.GOOD: "好",
    RatingGrade.FAIRLY_GOOD: "较好",
    RatingGrade.AVERAGE: "一般",
    RatingGrade.POOR: "差",
}

# Best first, so "at most X" is a comparison of positions.
GRADE_ORDER = (RatingGrade.GOOD, RatingGrade.FAIRLY_GOOD, RatingGrade.AVERAGE, RatingGrade.POOR)


class BranchRating(TimestampMixin, Base):
    """One branch's rating for one year: the software's proposal and the committee's decision."""

    __tablename__ = "branch_rating"
    __table_args__ = (UniqueConstraint("branch_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    # None: nothing to propose from (no month of the year scored since the start month).
    proposed_grade: Mapped[RatingGrade | None] = mapped_column(enum_column(RatingGrade))
    # {"sentences": [Chinese reasons], "figures": {mean, months, poor_months, …}}
    proposal: Mapped[dict] = mapped_column(JSON, default=dict)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_grade: Mapped[RatingGrade | None] = mapped_column(enum_column(RatingGrade))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Required when the confirmed grade differs from the proposal.
    change_reason: Mapped[str | None] = mapped_column(String(500))
