"""The outbox: outgoing messages are rows written in the business transaction; a relay sends them.

TO BE IMPLEMENTED by the chat-core work (see issue 4); the signatures below are the contract that
handlers and scheduler jobs already call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.events import Account, Conversation
from bot.core.messages import OutgoingMessage


def enqueue_to_people(
    session: Session,
    person_ids: Iterable[int],
    message: OutgoingMessage,
    *,
    dedup_key: str,
    now: datetime,
    not_before: datetime | None = None,
) -> int:
    """Queue `message` for each person (on their chat account); return how many rows were new.

    One row per recipient, unique on (dedup_key, recipient): queuing the same key again adds nothing.
    A person with no chat account gets a failed ledger row ("未绑定") so the secretary can see it.
    """
    raise NotImplementedError


def enqueue_reply(
    session: Session,
    conversation: Conversation | None,
    sender: Account,
    message: OutgoingMessage,
    *,
    dedup_key: str,
    now: datetime,
) -> None:
    """Queue an answer into the conversation an event came from (the group, or the 1:1 chat)."""
    raise NotImplementedError
