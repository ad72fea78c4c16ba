"""Scheduled-job runs: one row per (job, period), claimed before the job does anything.

The claim and the job's work share one transaction, so a failed run leaves no claim behind (the
next trigger or a catch-up retries it), while a second scheduler waits on the unique key and then
finds the period taken.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class PeriodNotOpen(Exception):
    """A job declining its period because the period is not open to it yet (a month before the
    organisation's start month: models.startmonth.BeforeStartMonth). The scheduler keeps nothing
    the job wrote and leaves the period unclaimed, so it runs once the period opens. `reason` is
    Chinese, for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_name", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # how the run was started: "schedule", "catch-up" or "manual"
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    host: Mapped[str] = mapped_column(String(100), default="")
