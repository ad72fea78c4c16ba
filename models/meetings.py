"""Meetings (三会一课 and the rest): monthly plans, meetings, sign-in, leave, 补学 and minutes.

Times are aware UTC (UTCDateTime); calendar questions (which month, which working day) are asked in
the configured zone by the use cases in handlers/meetings, never here.
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
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class MeetingType(enum.StrEnum):
    PARTY_CONGRESS = "party_congress"  # 支部党员大会
    BRANCH_COMMITTEE = "branch_committee"  # 支部委员会会议
    GROUP_MEETING = "group_meeting"  # 党小组会
    PARTY_LECTURE = "party_lecture"  # 党课
    THEME_DAY = "theme_day"  # 主题党日
    ORG_LIFE = "org_life"  # 组织生活会
    DEMOCRATIC_REVIEW = "democratic_review"  # 民主评议党员


class VoteKind(enum.StrEnum):
    """What a deciding meeting voted on (domain.md §1.2)."""

    DECISION = "decision"  # 表决: quorum > 1/2 of those with a vote, passes with yes > 1/2 of them (rule 10)
    ELECTION = "election"  # 选举: quorum > 4/5, elected with yes > 1/2 of those with a vote (rule 15)


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # 待审核
    APPROVED = "approved"  # 已备案
    RETURNED = "returned"  # 已退回


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"  # 出席 (on time)
    LATE = "late"  # 迟到
    LEAVE = "leave"  # 请假 (approved)
    ABSENT = "absent"  # 缺席 (no approved leave)


class AttendanceMethod(enum.StrEnum):
    QR = "qr"  # scanned the code
    PROXY = "proxy"  # 代签 by the secretary, with a reason
    AUTO = "auto"  # set when the window closed


class SigninOutcome(enum.StrEnum):
    OK = "ok"
    LATE = "late"
    ALREADY = "already"
    NOT_EXPECTED = "not_expected"
    NOT_MEMBER = "not_member"  # the chat account is bound to nobody
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FORGED = "forged"
    OTHER_MEETING = "other_meeting"


class LeaveStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class MakeupOrigin(enum.StrEnum):
    LEAVE = "leave"
    ABSENCE = "absence"


class MakeupStatus(enum.StrEnum):
    OPEN = "open"  # to do
    REPORTED = "reported"  # the member says it is done; waiting for the secretary
    CONFIRMED = "confirmed"
    RETURNED = "returned"  # sent back; the member must report again


class MonthlyPlan(TimestampMixin, Base):
    """A branch's plan for one month (宿松县's 月计划报备), reviewed by the committee's 组织委员."""

    __tablename__ = "monthly_plan"
    __table_args__ = (UniqueConstraint("branch_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the planned month
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus), default=PlanStatus.DRAFT)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    return_reason: Mapped[str | None] = mapped_column(String(500))
    # Counts submissions, so each review card and each resubmission has its own dedup key.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[PlanItem]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanItem.starts_at"
    )


class PlanItem(TimestampMixin, Base):
    """One planned activity. `types` may hold several types: one event recorded as each of them."""

    __tablename__ = "plan_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("monthly_plan.id", ondelete="CASCADE"), index=True)
    types: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(500))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))

    plan: Mapped[MonthlyPlan] = relationship(back_populates="items")


class Meeting(TimestampMixin, Base):
    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_branch_start", "branch_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(500))
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus), default=MeetingStatus.SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # Bumped when the time or place changes: reminders are keyed by it, so a moved meeting is reminded again.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Set by the window-close job once absentees were marked; the job skips meetings that have it.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    kinds: Mapped[list[MeetingKind]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    minutes: Mapped[Minutes | None] = relationship(
        back_populates="meeting", uselist=False, foreign_keys="Minutes.meeting_id"
    )

    @property
    def types(self) -> list[MeetingType]:
        return [k.type for k in self.kinds]


class MeetingKind(Base):
    """One record per type for an event that counts as several (条例 practice: 分别记录)."""

    __tablename__ = "meeting_kind"
    __table_args__ = (UniqueConstraint("meeting_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    type: Mapped[MeetingType] = mapped_column(enum_column(MeetingType))

    meeting: Mapped[Meeting] = relationship(back_populates="kinds")


class Invitee(Base):
    """Who is expected at a meeting, fixed when it is scheduled (so later roster changes do not rewrite history)."""

    __tablename__ = "meeting_invitee"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)


class Attendance(Base):
    """At most one row per person per meeting: the unique key is what makes a second scan harmless."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "person_id"),
        # The few rows whose chat receipt is still to be queued, in the order they came (the relays'
        # poll reads this index and nothing else of the table).
        Index(
            "ix_attendance_receipt_due",
            "id",
            postgresql_where=text("receipt_due"),
            sqlite_where=text("receipt_due"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus))
    method: Mapped[AttendanceMethod] = mapped_column(enum_column(AttendanceMethod))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))  # 代签 reason
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # A QR scan's receipt (您已签到 …) is not queued by the scan itself but by the relays, many at a time
    # (handlers.meetings.signin.queue_signin_receipts): True until then.
    receipt_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SigninAttempt(Base):
    """Every scan, whatever came of it: the audit trail of refused and repeated attempts."""

    __tablename__ = "signin_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    outcome: Mapped[SigninOutcome] = mapped_column(enum_column(SigninOutcome))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(String(200))


class LeaveRequest(TimestampMixin, Base):
    __tablename__ = "leave_request"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[LeaveStatus] = mapped_column(enum_column(LeaveStatus), default=LeaveStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(500))

    meeting: Mapped[Meeting] = relationship()


class MakeupTask(TimestampMixin, Base):
    """补学: one per member per missed meeting (approved leave or unexcused absence)."""

    __tablename__ = "makeup_task"
    __table_args__ = (
        UniqueConstraint("meeting_id", "person_id"),
        Index("ix_makeup_task_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    origin: Mapped[MakeupOrigin] = mapped_column(enum_column(MakeupOrigin))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[MakeupStatus] = mapped_column(enum_column(MakeupStatus), default=MakeupStatus.OPEN)
    note: Mapped[str | None] = mapped_column(String(1000))  # the member's report (学习心得)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    return_reason: Mapped[str | None] = mapped_column(String(500))

    meeting: Mapped[Meeting] = relationship()


class Minutes(TimestampMixin, Base):
    """会议记录 (条例 field list). Without it the meeting does not count as held."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), unique=True)
    chair: Mapped[str] = mapped_column(String(50))
    recorder: Mapped[str] = mapped_column(String(50))
    topics: Mapped[str] = mapped_column(Text)
    decisions: Mapped[str] = mapped_column(Text, default="")
    # [{"person_id", "name", "reason"}], taken from sign-in and leave when the form is saved.
    absentees: Mapped[list[dict]] = mapped_column(JSON, default=list)
    expected_count: Mapped[int] = mapped_column(Integer, default=0)
    present_count: Mapped[int] = mapped_column(Integer, default=0)
    # 应到 / 实到 of which 正式 / 预备 (rule 20), from the invitees and sign-in when the minutes are saved.
    expected_full: Mapped[int] = mapped_column(Integer, default=0)
    expected_probationary: Mapped[int] = mapped_column(Integer, default=0)
    present_full: Mapped[int] = mapped_column(Integer, default=0)
    present_probationary: Mapped[int] = mapped_column(Integer, default=0)
    # The vote of a 支部党员大会 or 支委会 (rules 10–15; handlers/meetings/quorum.py). The base is who
    # SHOULD attend with a vote (党员大会: 正式党员, exempt members left out unless present; 支委会: 委员).
    vote_held: Mapped[bool] = mapped_column(Boolean, default=False)
    vote_kind: Mapped[VoteKind | None] = mapped_column(enum_column(VoteKind))
    votes_for: Mapped[int | None] = mapped_column(
        Integer
    )  # an election: the fewest any elected candidate got
    written_votes: Mapped[int] = mapped_column(Integer, default=0)  # absent members' written votes (rule 14)
    voting_base: Mapped[int | None] = mapped_column(Integer)
    voting_present: Mapped[int | None] = mapped_column(Integer)
    quorum_met: Mapped[bool | None] = mapped_column(Boolean)  # None: not a deciding meeting
    vote_passed: Mapped[bool | None] = mapped_column(
        Boolean
    )  # None: no vote, or a 支委会 (rule 11: quorum only)
    # Decided without a quorum: the decision is void and the meeting must be held again (补开), until a
    # later meeting of the same body of the branch reaches its quorum (reconvened_by_id).
    needs_reconvene: Mapped[bool] = mapped_column(Boolean, default=False)
    reconvened_by_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date)
    # A 主题党日's menu (4+X / 7+X, handlers/meetings/activity.py): the fixed items done, by name, and
    # the 自选动作 (X). None: not recorded (another type, or minutes saved before the menu existed).
    menu_done: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    menu_extra: Mapped[str | None] = mapped_column(String(1000))

    meeting: Mapped[Meeting] = relationship(back_populates="minutes", foreign_keys=[meeting_id])

    @property
    def reconvene_pending(self) -> bool:
        return self.needs_reconvene and self.reconvened_by_id is None
