"""Platform-neutral incoming events. Adapters translate SDK payloads into these; handlers see only these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.org import Platform


@dataclass(frozen=True)
class Account:
    """One chat identity: a DingTalk staff userId or a WeCom userid, in one corp."""

    platform: Platform
    corp_id: str
    account_id: str


@dataclass(frozen=True)
class Conversation:
    """Where an event came from and where a reply goes.

    For a 1:1 chat `conversation_id` is the sender's account id; for a DingTalk group it is the
    openConversationId.
    """

    platform: Platform
    corp_id: str
    conversation_id: str
    is_group: bool = False


@dataclass(frozen=True)
class TextReceived:
    """A text message to the bot, 1:1 or in a group where the bot was @-mentioned."""

    event_id: str  # the platform's message id: the dedup key
    sender: Account
    sender_name: str
    conversation: Conversation
    text: str
    received_at: datetime


@dataclass(frozen=True)
class CardActionPressed:
    """A button pressed on an interactive card the bot sent."""

    event_id: str
    sender: Account
    sender_name: str
    conversation: Conversation
    action: str  # the router key the button was built with (Button.action)
    params: dict[str, str] = field(default_factory=dict)
    card_id: str = ""  # DingTalk outTrackId / WeCom task_id
    received_at: datetime | None = None
    # WeCom's single-use code for updating the clicked card in place; empty on DingTalk.
    response_code: str = ""


@dataclass(frozen=True)
class FormSubmitted:
    """An H5 form posted by a person whose identity the platform's login-free flow established."""

    event_id: str
    sender: Account
    form: str
    data: dict[str, Any]
    received_at: datetime


IncomingEvent = TextReceived | CardActionPressed | FormSubmitted
