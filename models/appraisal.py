"""民主评议党员 (domain.md rule 7; issue 19 item 2): one appraisal per branch and year, its members as
they stood when it opened, their self-assessments, the anonymous ballots and the grades.

The software counts and proposes; people decide. Nothing here touches a member's standing: a decided
不合格 carries the handling the 支部大会 chose (限期改正 / 劝其退党 / 除名, domain.md rule 36) as a record
for the people who carry it out.

Anonymity (why the ballots look as they do):

* ``appraisal_member.has_voted`` says THAT a member voted (turnout, one ballot each, who still has to);
  ``appraisal_ballot`` says WHAT was given, one row per grade given to one member, with no voter
  column, no time and a random key. Nothing joins the two.
* A ballot is stored as loose marks, not as one row per voter with its marks under it: a voter rates
  every member but themselves, so a grouped ballot would name its voter by the one member it leaves out.
* The key is random (not a sequence) and, on SQLite, the table has no rowid, so neither the key order
  nor the storage order tells which marks came in together or in which order the voters voted.
* Neither table is in the audit log (models.audit.AUDITED): an audit entry names who acted.
* Because nothing links a ballot to its voter, a cast ballot cannot be found again to be replaced: a
  second ballot is refused (handlers.appraisal.voting), as with a paper ballot in the box.

What the software cannot hide from someone with raw access to the database server (PostgreSQL's row
versions, a write-ahead log, a backup taken between two votes) is for the server's access control; the
notes for the operator say so (docs: going-live).
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class Grade(enum.StrEnum):
    """The four grades of 民主评议党员, best first (domain.md rule 7)."""

    EXCELLENT = "excellent"  # 优秀
    QUALIFIED = "qualified"  # 合格
    BASIC = "basically_qualified"  # 基本合格
    UNQUALIFIED = "unqualified"  # 不合格


GRADE_LABELS = {
    Grade.EXCELLENT: "优秀",
    Grade.QUALIFIED: "合格",
    Grade.BASIC: "基本合格",
    Grade.UNQUALIFIED: "不合格",
}
GRADE_ORDER = (Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED)


class Handling(enum.StrEnum):
    """组织处置 of a 不合格 member (《中国共产党不合格党员组织处置办法》, domain.md rule 36)."""

    RECTIFY = "rectify"  # 限期改正
    PERSUADE = "persuade"  # 劝其退党
    REMOVE = "remove"  # 除名


HANDLING_LABELS = {Handling.RECTIFY: "限期改正", Handling.PERSUADE: "劝其退党", Handling.REMOVE: "除名"}


def _ballot_key() -> str:
    return secrets.token_hex(16)


class Appraisal(TimestampMixin, Base):
    """A branch's 民主评议 of one year: the voting window, then the 支委会's proposal and the 支部大会's
    decision (each with the day it was held and who recorded it)."""

    __tablename__ = "appraisal"
    __table_args__ = (UniqueConstraint("branch_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    # The window [opens_at, closes_at): self-assessments and ballots are taken inside it only.
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The 支部委员会's proposal, recorded after the close (may be recorded again until the decision).
    proposed_on: Mapped[date | None] = mapped_column(Date)  # the 支委会's day
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The 支部大会's decision (final: recorded once).
    decided_on: Mapped[date | None] = mapped_column(Date)  # the 支部大会's day
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppraisalMember(Base):
    """A member of the branch when the appraisal opened: appraised by the others, and a voter when a
    正式党员 not under 留党察看 (domain.md rule 12). `has_voted` is the only trace of a vote that names
    anyone (see the module doc)."""

    __tablename__ = "appraisal_member"
    __table_args__ = (Index("ix_appraisal_member_person", "person_id"),)

    appraisal_id: Mapped[int] = mapped_column(
        ForeignKey("appraisal.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    probationary: Mapped[bool] = mapped_column(Boolean, default=False)  # 预备党员: appraised, no vote
    # 留党察看: the roster does not record it, so the secretary marks it here before the first ballot.
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    has_voted: Mapped[bool] = mapped_column(Boolean, default=False)
    self_assessment: Mapped[str | None] = mapped_column(Text)  # 个人自评
    self_assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def can_vote(self) -> bool:
        return not self.probationary and not self.suspended


class AppraisalBallot(Base):
    """One grade given to one member on one ballot: no voter, no time, a random key (module doc)."""

    __tablename__ = "appraisal_ballot"
    __table_args__ = (
        Index("ix_appraisal_ballot_subject", "appraisal_id", "subject_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_ballot_key)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisal.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade))


class AppraisalGrade(TimestampMixin, Base):
    """One member's grade: the 支委会's proposal (with the handling of a proposed 不合格) and the
    支部大会's decision (a reason where it differs from the proposal)."""

    __tablename__ = "appraisal_grade"
    __table_args__ = (UniqueConstraint("appraisal_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisal.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))  # for the audit
    proposed_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade))
    proposed_handling: Mapped[Handling | None] = mapped_column(enum_column(Handling))
    decided_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade))
    decided_handling: Mapped[Handling | None] = mapped_column(enum_column(Handling))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
