"""What the relay hands a platform sender, and what the sender answers.

A sender (bot.platforms.*.sender) renders the neutral message, calls the platform and translates its
answer: per-recipient results in a BatchOutcome, whole-call failures as bot.core.errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.core.messages import OutgoingMessage
from bot.core.ratelimit import RateLimit
from models.outbox import TargetKind


@dataclass(frozen=True)
class CardHandle:
    card_id: str  # DingTalk outTrackId / WeCom task_id
    response_code: str | None = None  # WeCom: single use, renewed by each button press


@dataclass(frozen=True)
class Delivery:
    row_id: int
    platform: str
    corp_id: str
    target_kind: TargetKind
    target: str
    message: OutgoingMessage
    attempts: int
    card: CardHandle | None = None  # for a CardUpdate: the card sent earlier under its card_key
    content_hash: str = ""  # the outbox row's, fixed when it was queued (bot.core.outbox.content_hash)


@dataclass
class Batch:
    """Identical content to several targets in one platform call."""

    platform: str
    corp_id: str
    target_kind: TargetKind
    message: OutgoingMessage
    deliveries: list[Delivery]
    api: str

    @property
    def targets(self) -> list[str]:
        return [d.target for d in self.deliveries]


@dataclass
class BatchOutcome:
    sent: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)  # row id -> Chinese reason (permanent)
    retry: dict[int, str] = field(default_factory=dict)  # row id -> error (e.g. flow-controlled)
    cards: dict[int, CardHandle] = field(default_factory=dict)  # row id -> where the new card lives

    @classmethod
    def all_sent(cls, batch: Batch) -> BatchOutcome:
        return cls(sent={d.row_id for d in batch.deliveries})


class PlatformSender(Protocol):
    platform: str
    # Per API (the name api_for returns): calls allowed per window, per app.
    api_limits: dict[str, tuple[RateLimit, ...]]
    # Per recipient account: messages allowed per window (WeCom's 30/min and 1,000/hour).
    member_limits: tuple[RateLimit, ...]

    def api_for(self, message: OutgoingMessage, target_kind: TargetKind) -> str: ...

    def max_recipients(self, message: OutgoingMessage, target_kind: TargetKind) -> int: ...

    def send(self, batch: Batch) -> BatchOutcome:
        """Send one batch. Raises TransientPlatformError (retry all later) or
        PermanentPlatformError (fail all); per-recipient results go in the outcome."""
        ...
