"""Platform-neutral outgoing messages. Handlers build these; adapters render them for each platform.

They are stored as JSON in outbox rows (to_payload / from_payload), so every field is plain data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Markdown:
    title: str
    text: str


@dataclass(frozen=True)
class Button:
    """Either an action button (calls back a router action with params) or a link button (opens url)."""

    label: str
    action: str = ""
    params: dict[str, str] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        if bool(self.action) == bool(self.url):
            raise ValueError("a Button needs exactly one of action or url")


@dataclass(frozen=True)
class Card:
    """An interactive card: a title, a markdown body, optional key/value fields and buttons.

    `card_key` names the card so a later CardUpdate can change it in place (e.g. "leave:42").
    """

    title: str
    text: str
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    card_key: str = ""
    image_url: str = ""


@dataclass(frozen=True)
class CardUpdate:
    """Replace a card sent earlier (found by card_key) for the same recipient, e.g. after approval."""

    card_key: str
    title: str
    text: str
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    # Shown on the pressed button when the platform can only relabel it (WeCom).
    status_label: str = ""


@dataclass(frozen=True)
class Image:
    """An image the web app serves at `url` (a QR code, a chart), with a caption."""

    url: str
    title: str = ""


OutgoingMessage = Text | Markdown | Card | CardUpdate | Image

_KINDS: dict[str, type] = {
    "text": Text,
    "markdown": Markdown,
    "card": Card,
    "card_update": CardUpdate,
    "image": Image,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}


def to_payload(message: OutgoingMessage) -> dict[str, Any]:
    return {"kind": _KIND_OF[type(message)], **asdict(message)}


def from_payload(payload: dict[str, Any]) -> OutgoingMessage:
    data = dict(payload)
    cls = _KINDS[data.pop("kind")]
    if "buttons" in data:
        data["buttons"] = tuple(Button(**b) for b in data["buttons"])
    if "fields" in data:
        data["fields"] = tuple(tuple(f) for f in data["fields"])
    return cls(**data)
