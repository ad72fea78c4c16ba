"""Inbound events already handled: the dedup key for every chat event the bot receives.

The row is written in the same transaction as the handler's work, so a crash mid-handler leaves
no false "handled" mark and a re-delivery runs the handler again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class InboundEvent(Base):
    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    # "handled", "unbound", "failed" (the handler raised; an apology was queued instead)
    outcome: Mapped[str] = mapped_column(String(16), default="handled")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
