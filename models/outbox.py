"""The outbox and delivery ledger: one row per (dedup_key, recipient).

Rows are written in the business transaction (so a rolled-back handler sends nothing) and sent by
the relay after commit. The same row is the ledger a secretary reads: queued, sending, sent, or
failed with a Chinese reason (unknown account, outside the app's visible range, not bound).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, enum_column, utcnow


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a relay until lease_until; reclaimed if the relay dies
    SENT = "sent"
    FAILED = "failed"  # permanent: `reason` says why, in Chinese


# How every page names a delivery's status (the 消息台账 and its filter, in this order; the audit log;
# the deliveries API): one table, so the same row reads the same everywhere.
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.SENT: "已送达",
    DeliveryStatus.SENDING: "发送中",
    DeliveryStatus.QUEUED: "排队中",
    DeliveryStatus.FAILED: "未送达",
}


class TargetKind(enum.StrEnum):
    USER = "user"  # a 1:1 chat with one account
    GROUP = "group"  # a group chat (DingTalk openConversationId)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("dedup_key", "recipient"),
        # The relay's claim query: due rows in order.
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_branch_status", "branch_id", "status"),
        # The relay's per-recipient history (WeCom's per-member limits survive a restart).
        Index("ix_outbox_message_recipient_sent", "platform", "target", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200))
    # Who, independent of platform: "p:<person id>" or "c:<platform>:<corp>:<conversation>".
    recipient: Mapped[str] = mapped_column(String(200))
    # Empty when the person has no chat account (the row is then failed from the start).
    platform: Mapped[str] = mapped_column(String(16), default="")
    corp_id: Mapped[str] = mapped_column(String(64), default="")
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind, 16), default=TargetKind.USER)
    target: Mapped[str] = mapped_column(String(128), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Rows with equal content_hash carry identical payloads, so the relay can batch their recipients.
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, 16), default=DeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(200))  # Chinese, for the ledger
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CardRef(Base):
    """Where a card sent under `card_key` lives on the platform, so a CardUpdate can change it in place.

    DingTalk updates by outTrackId; WeCom by a single-use response_code, which a button press renews.
    """

    __tablename__ = "card_ref"
    __table_args__ = (UniqueConstraint("platform", "corp_id", "target", "card_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    corp_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    card_key: Mapped[str] = mapped_column(String(200))
    card_id: Mapped[str] = mapped_column(String(128))  # DingTalk outTrackId / WeCom task_id
    response_code: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RateWindowEvent(Base):
    """One call counted in a platform's rate window, shared by every relay on a PostgreSQL database.

    A row is written, under an advisory lock on its key, when a relay decides to make the call; while
    the call is in flight `at` is the latest moment it could still reach the platform (and `inflight`
    is set), and when it is answered `at` becomes the moment of the answer. Each key is one window's
    subject: "api|<platform>|<api>" (DingTalk's per-app QPS) or "member|<platform>|<corp>|<userid>"
    (WeCom's per-member limits). Rows older than the longest window are deleted by the relays.
    """

    __tablename__ = "rate_window_event"
    __table_args__ = (Index("ix_rate_window_event_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    inflight: Mapped[bool] = mapped_column(default=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
