"""月积分: stored monthly scores (with their explanation), escalation notices and their acknowledgements.

A month is the DATE of its first day, as in models.fees. Scores are stored so a later correction
(late minutes, a rectification closed) can be recomputed and the difference shown.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class Ladder(enum.StrEnum):
    COMMITTEE = "committee"  # 党委 lagging (宿松县 preset)
    BRANCH = "branch"  # 党支部 lagging
    MEMBER_ABSENCE = "member_absence"  # consecutive months without 组织生活 (rule E14)
    MEMBER_FEES = "member_fees"  # consecutive months unpaid (rule E14)
    MEMBER_WORK = "member_work"  # consecutive months without doing the assigned work, as recorded (E14)
    MEMBER_LOST_CONTACT = "member_lost_contact"  # lost contact for 6 months: 停止党籍 candidate (E15)


class AckKind(enum.StrEnum):
    READ = "read"  # 已阅
    INTERVIEWED = "interviewed"  # 已约谈


class MonthlyScore(TimestampMixin, Base):
    """One unit's score for one month: a branch's own, or a committee's roll-up of its branches."""

    __tablename__ = "monthly_score"
    __table_args__ = (
        UniqueConstraint("unit_id", "month"),
        Index("ix_monthly_score_month_group", "month", "peer_group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    unit_kind: Mapped[str] = mapped_column(String(32))
    # The ranking's peer group: a BranchCategory value for branches, "committee" for committees.
    peer_group: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    group_size: Mapped[int] = mapped_column(Integer, default=0)
    lagging: Mapped[bool] = mapped_column(Boolean, default=False)
    # The items and numbers behind the score (components, weights, penalties, lagging reasons).
    explanation: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumped when a recompute changed it


class Escalation(TimestampMixin, Base):
    """One notice of a ladder: a unit (or member) at a rung for a month. Never twice for the same key."""

    __tablename__ = "monthly_escalation"
    __table_args__ = (
        UniqueConstraint("ladder", "subject_id", "rung", "month"),
        Index("ix_monthly_escalation_unit_month", "unit_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ladder: Mapped[Ladder] = mapped_column(enum_column(Ladder))
    # The unit (committee/branch) or, for member ladders, the person.
    subject_id: Mapped[int] = mapped_column(Integer)
    # The unit the notice is about (for member ladders: the member's branch), for scoping and display.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    rung: Mapped[int] = mapped_column(Integer)  # months in a row (committee: 1, 2, 3+; members: 1/3/5/6)
    month: Mapped[date] = mapped_column(Date)
    streak: Mapped[int] = mapped_column(Integer)
    # What the notice said: rule, months, missing items, recipients (person ids) and copies.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # caught up
    ended_month: Mapped[date | None] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    ack_kind: Mapped[AckKind | None] = mapped_column(enum_column(AckKind))


class WorkNotDone(TimestampMixin, Base):
    """党章第九条's third condition, 不做党所分配的工作, for one member and month, as the branch records it.

    Only people know whether a member was given work and did not do it, so this is entered by the
    branch (a 书记, 副书记 or 组织委员) with a reason; the member ladder counts consecutive recorded
    months like the other two conditions. A withdrawn entry is kept (who said what, and when) and no
    longer counts.
    """

    __tablename__ = "member_work_not_done"
    __table_args__ = (UniqueConstraint("person_id", "month"), Index("ix_member_work_not_done_month", "month"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # The branch that recorded it (the member's branch then), for scoping.
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class LostContact(TimestampMixin, Base):
    """与党组织失去联系 (党员教育管理工作条例 第二十四条; domain.md rule 34, E15), as the branch records it.

    Recorded by the branch rather than inferred: the rule is about a member who still cannot be
    found after searching, which only the people who searched know. `since` is the first month
    without contact; six months on, the member is listed for the 支部大会 to decide on 停止党籍.
    At most one open record per member (checked by the use case); restoring contact closes it.
    """

    __tablename__ = "member_lost_contact"
    __table_args__ = (Index("ix_member_lost_contact_person", "person_id", "restored_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    since: Mapped[date] = mapped_column(Date)  # first day of the first month without contact
    note: Mapped[str] = mapped_column(String(500))  # how the branch tried to reach the member
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # contact again, or withdrawn
    restored_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    restored_note: Mapped[str | None] = mapped_column(String(500))
