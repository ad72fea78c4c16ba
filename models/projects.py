"""Tables of 书记项目 (handlers.projects; seed 003: 桐城/潜山/岳西/姜堰).

Each 党组织书记 (of a branch, a 总支 or a committee) registers a project that tackles one concrete
problem of their unit (问题 → 议题), with milestones; the committee above pre-reviews it (预审), the
组织部 or a named panel scores it (评审), an accepted project is published to the unit's members
(公开承诺) and its progress is reported monthly. Times are aware UTC; a month is the DATE of its
first day, as in models.monthly.
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


class ProjectStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 待预审
    RETURNED = "returned"  # 预审退回: the secretary edits and submits again
    PRE_ACCEPTED = "pre_accepted"  # 预审通过, 待评审
    ACCEPTED = "accepted"  # 评审通过: in the year's library, published (公开承诺)
    NOT_ACCEPTED = "not_accepted"  # 评审未通过


class ProjectCall(TimestampMixin, Base):
    """The year's call (征集) of a committee, or of the 组织部 over the whole tree (unit None): the
    deadline for registering and how many projects each secretary registers."""

    __tablename__ = "project_call"
    __table_args__ = (UniqueConstraint("unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    per_secretary: Mapped[int] = mapped_column(Integer, default=1)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    reviewers: Mapped[list[ProjectReviewer]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="ProjectReviewer.id"
    )


class ProjectReviewer(Base):
    """A named reviewer (评审专家) of a call's projects; without any, the 组织部 over the unit scores."""

    __tablename__ = "project_reviewer"
    __table_args__ = (UniqueConstraint("call_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("project_call.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)

    call: Mapped[ProjectCall] = relationship(back_populates="reviewers")


class SecretaryProject(TimestampMixin, Base):
    """One 书记项目: registered by the secretary of `unit_id` for `year`."""

    __tablename__ = "secretary_project"
    __table_args__ = (
        Index("ix_secretary_project_unit_year", "unit_id", "year"),
        Index("ix_secretary_project_status_year", "status", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    secretary_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    problem: Mapped[str] = mapped_column(Text)  # 拟解决的突出问题 (问题清单 → 议题)
    content: Mapped[str] = mapped_column(Text)  # 项目内容和举措
    expected: Mapped[str] = mapped_column(Text)  # 预期目标
    leaders: Mapped[str] = mapped_column(String(200))  # 领办人 (names as written)
    status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus), default=ProjectStatus.SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    prereviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    prereviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_reason: Mapped[str | None] = mapped_column(String(500))
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(Float)  # the mean of the reviewers' scores, once decided
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 评审 decided (accepted or not)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 公开承诺 sent
    # 群众评议: the window the committee opens (local dates, both inclusive), whether the public may rate
    # through a signed link, and the satisfaction rate (满意+基本满意 over all ratings) the year-end uses.
    rating_opens_on: Mapped[date | None] = mapped_column(Date)
    rating_closes_on: Mapped[date | None] = mapped_column(Date)
    rating_public: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[float | None] = mapped_column(Float)
    # 优秀项目: chosen at the year's end by the committee or the 组织部 (the software only ranks).
    excellent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    excellent_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    milestones: Mapped[list[ProjectMilestone]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectMilestone.seq"
    )


class ProjectMilestone(Base):
    """A 项目进度安排 step: what, by when; done_on once the secretary reports it done."""

    __tablename__ = "project_milestone"
    __table_args__ = (UniqueConstraint("project_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("secretary_project.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… as the secretary listed them
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)

    project: Mapped[SecretaryProject] = relationship(back_populates="milestones")


class ProjectReview(Base):
    """One reviewer's score (0–100) of a pre-accepted project. One per reviewer; never changed."""

    __tablename__ = "project_review"
    __table_args__ = (UniqueConstraint("project_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("secretary_project.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectProgress(Base):
    """A monthly progress report (text, photos as models.attachments owner "project_progress"), on a
    milestone or on the project as a whole; `done` marks the milestone done."""

    __tablename__ = "project_progress"
    __table_args__ = (Index("ix_project_progress_project_month", "project_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("secretary_project.id", ondelete="CASCADE"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("project_milestone.id", ondelete="SET NULL"))
    month: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectReminder(Base):
    """One progress reminder or escalation notice: rung 0 is the month-end reminder to the secretary,
    rung N ≥ 1 the ladder's notice for N months in a row without a report. Never twice per key."""

    __tablename__ = "project_reminder"
    __table_args__ = (UniqueConstraint("project_id", "month", "rung"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("secretary_project.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    rung: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # person ids
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PickKind(enum.StrEnum):
    RED_FLAG = "red_flag"  # 红旗项目
    SNAIL = "snail"  # 蜗牛项目


class ProjectPick(Base):
    """晒比评: a committee's 红旗/蜗牛 decision for a month, beside what the software proposed: one row for
    every project proposed or chosen (proposed_kind, reason: the proposal; chosen_kind: the decision)."""

    __tablename__ = "project_pick"
    __table_args__ = (UniqueConstraint("committee_id", "month", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)
    project_id: Mapped[int] = mapped_column(ForeignKey("secretary_project.id", ondelete="CASCADE"))
    proposed_kind: Mapped[PickKind | None] = mapped_column(enum_column(PickKind))
    reason: Mapped[str] = mapped_column(String(300), default="")  # the proposal's reason, in Chinese
    chosen_kind: Mapped[PickKind | None] = mapped_column(enum_column(PickKind))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrderStatus(enum.StrEnum):
    OPEN = "open"  # 待办理
    REPORTED = "reported"  # the secretary says it is done; waiting for the issuer
    CLOSED = "closed"  # the issuer confirmed (办结)
    REOPENED = "reopened"  # the issuer sent it back


class SupervisionOrder(TimestampMixin, Base):
    """督办单: what, by when, to whom, for a 蜗牛 project or a late milestone; tracked to closure like an
    observer's rectification. A second miss on the same project brings a 约谈 (interview_at)."""

    __tablename__ = "project_order"
    __table_args__ = (Index("ix_project_order_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("secretary_project.id", ondelete="CASCADE"), index=True
    )
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("project_milestone.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    addressee_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), default=OrderStatus.OPEN)
    report_note: Mapped[str | None] = mapped_column(String(1000))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_reason: Mapped[str | None] = mapped_column(String(500))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first seen past due, not closed
    interview_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 约谈 notice sent


class RatingVerdict(enum.StrEnum):
    SATISFIED = "satisfied"  # 满意
    FAIRLY = "fairly"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class ProjectRating(Base):
    """群众评议: one rating of a project's results, by a member of its unit (person_id; one each) or by the
    public through the signed link (public_key: the browser's random cookie; one per browser)."""

    __tablename__ = "project_rating"
    __table_args__ = (
        UniqueConstraint("project_id", "person_id"),
        UniqueConstraint("project_id", "public_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("secretary_project.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    public_key: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[RatingVerdict] = mapped_column(enum_column(RatingVerdict))
    comment: Mapped[str] = mapped_column(String(500), default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectJudge(Base):
    """A named member of a call's 观摩评比 panel (who scores accepted projects at the year's end)."""

    __tablename__ = "project_judge"
    __table_args__ = (UniqueConstraint("call_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("project_call.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)


class ProjectShowScore(Base):
    """One panel member's 观摩评比 score (0–100) of an accepted project. One per judge; never changed."""

    __tablename__ = "project_show_score"
    __table_args__ = (UniqueConstraint("project_id", "judge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("secretary_project.id", ondelete="CASCADE"), index=True
    )
    judge_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectBulletin(Base):
    """A committee's quarter of 书记项目 (桐城: 每季度通报进度、开展排位赛): the reminder to its deciders when the
    quarter's 排位赛 is still unconfirmed some days after the quarter (reminded_at, once), and the
    confirmation that fixes the ranking (the rows of ProjectRanking) and publishes the 进度通报.
    `quarter` is the DATE of the quarter's first day."""

    __tablename__ = "project_bulletin"
    __table_args__ = (UniqueConstraint("committee_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[date] = mapped_column(Date)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: not yet confirmed
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the overdue reminder, once
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # person ids the bulletin was sent to

    rankings: Mapped[list[ProjectRanking]] = relationship(
        back_populates="bulletin", cascade="all, delete-orphan", order_by="ProjectRanking.rank"
    )


class ProjectRanking(Base):
    """One project's place in a confirmed 排位赛, with the quarter's facts it was ranked by (as of the
    quarter's end; handlers.projects.bulletin states the rule)."""

    __tablename__ = "project_ranking"
    __table_args__ = (UniqueConstraint("bulletin_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("project_bulletin.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("secretary_project.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)  # 1 = first
    due: Mapped[int] = mapped_column(Integer)  # milestones due by the quarter's end
    on_time: Mapped[int] = mapped_column(Integer)  # of those, done by their date
    late: Mapped[int] = mapped_column(Integer)  # due by the quarter's end and not done by then
    months_reported: Mapped[int] = mapped_column(Integer)  # months of the quarter with a progress report
    red_flags: Mapped[int] = mapped_column(Integer)  # months of the quarter the committee chose it 红旗
    snails: Mapped[int] = mapped_column(Integer)  # and 蜗牛
    open_orders: Mapped[int] = mapped_column(Integer)  # 督办单 issued and not closed by the quarter's end

    bulletin: Mapped[ProjectBulletin] = relationship(back_populates="rankings")

    @staticmethod
    def order_key(
        *, late: int, snails: int, open_orders: int, red_flags: int, months_reported: int, on_time: int,
        project_id: int,
    ) -> tuple[int, ...]:  # fmt: skip
        """The 排位赛 order (best first), the one copy handlers.projects.bulletin and the demo seed use:
        fewer late milestones, fewer 蜗牛, fewer open 督办单, more 红旗, more months reported, more
        milestones on time, then the older project."""
        return (late, snails, open_orders, -red_flags, -months_reported, -on_time, project_id)
