"""谈心谈话 (domain.md rule 8): the talks a branch's people record, one row per talk.

A talk is between two people (sometimes a few, when the secretary talks with several members at once);
what was said is not recorded, only who, when and the topic, as the 组织生活 ledgers ask. The coverage
rule (which pairs must have talked this year) lives in handlers.talks.coverage; it reads these rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime


class HeartTalk(TimestampMixin, Base):
    """One 谈心谈话 in a branch. `people_key` is the participants' sorted ids ("12,45"): with the branch
    and the day it makes a repeat of the same record (a message sent twice, a retry) one row, even when
    two repeats race."""

    __tablename__ = "heart_talk"
    # The unique key's (branch_id, held_on) prefix is also the index for a branch's talks by day.
    __table_args__ = (UniqueConstraint("branch_id", "held_on", "people_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(200))
    people_key: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    participants: Mapped[list[HeartTalkPerson]] = relationship(
        back_populates="talk", cascade="all, delete-orphan", order_by="HeartTalkPerson.person_id"
    )


class HeartTalkPerson(Base):
    """A person who took part in a talk."""

    __tablename__ = "heart_talk_person"
    __table_args__ = (Index("ix_heart_talk_person_person", "person_id"),)

    talk_id: Mapped[int] = mapped_column(ForeignKey("heart_talk.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)

    talk: Mapped[HeartTalk] = relationship(back_populates="participants")
