"""What a handler sees: the event, the session of its one transaction, who is asking, and now."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core import outbox, texts
from bot.core.events import IncomingEvent
from bot.core.messages import OutgoingMessage, Text
from bot.core.router import Routes
from config.rules import Rules
from models.org import Person, Role, RoleAssignment

if TYPE_CHECKING:
    from config.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class CoreConfig:
    """The settings handlers and jobs need, passed down from the composition root.

    `rules` holds every feature's rules as plain values; a feature turns them into its runtime config
    with derive() (e.g. handlers.meetings.types.meetings_config), so the chat core knows no feature.
    """

    tz: ZoneInfo
    public_base_url: str
    secret_key: str
    # Not hashed (a pydantic model is not hashable); compared, so two cores with other rules differ.
    rules: Rules = field(default_factory=Rules, hash=False)

    @classmethod
    def from_settings(cls, s: Settings) -> CoreConfig:
        return cls(
            tz=s.tz,
            public_base_url=s.public_base_url,
            secret_key=s.secret_key.get_secret_value(),
            rules=s.rules,
        )

    def derive(self, build: Callable[[CoreConfig], T]) -> T:
        """`build(self)`, worked out once per core: a feature's config is built once, not per message."""
        cache = self.__dict__.setdefault("_derived", {})  # a frozen dataclass's own cache, not a field
        if build not in cache:
            cache[build] = build(self)
        return cache[build]


@dataclass
class HandlerContext:
    session: Session
    event: IncomingEvent
    now: datetime  # aware UTC; injected so tests can move time
    config: CoreConfig
    person: Person | None  # None when the chat account is not bound to anyone
    roles: list[RoleAssignment] = field(default_factory=list)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.config.tz)

    def has_role(self, role: Role, unit_id: int | None = None) -> bool:
        return any(r.role == role and (unit_id is None or r.org_unit_id == unit_id) for r in self.roles)

    @property
    def _sender_person(self) -> Person | Literal["look up"]:
        # The dispatcher read the sender's person already; the apology's context has none, so looks it up.
        return self.person if self.person is not None else "look up"

    def reply(self, message: OutgoingMessage) -> None:
        """Answer in the conversation the event came from (an outbox row, sent after commit)."""
        outbox.enqueue_reply(
            self.session,
            self.event.conversation if hasattr(self.event, "conversation") else None,
            self.event.sender,
            message,
            dedup_key=f"reply:{self.event.event_id}:{self._next_reply()}",
            now=self.now,
            sender_person=self._sender_person,
        )

    def reply_privately(self, message: OutgoingMessage) -> None:
        """Answer the sender 1:1 even when they asked in a group (personal details stay out of the
        group, which hears only that the answer went privately)."""
        conversation = getattr(self.event, "conversation", None)
        if conversation is None or not conversation.is_group:
            self.reply(message)
            return
        outbox.enqueue_reply(
            self.session,
            None,  # no conversation: the sender's own 1:1 chat
            self.event.sender,
            message,
            dedup_key=f"reply:{self.event.event_id}:{self._next_reply()}",
            now=self.now,
            sender_person=self._sender_person,
        )
        self.reply(Text(texts.SENT_PRIVATELY))

    def send(self, person_ids: Iterable[int], message: OutgoingMessage, *, dedup_key: str) -> int:
        """Send to people by their chat accounts; `dedup_key` makes a repeat a no-op per person."""
        return outbox.enqueue_to_people(self.session, person_ids, message, dedup_key=dedup_key, now=self.now)

    # All routes of the app, for 帮助 (which lists what this person may do).
    routes: Routes | None = field(default=None, repr=False)
    _replies: int = field(default=0, init=False, repr=False)

    def _next_reply(self) -> int:
        self._replies += 1
        return self._replies
