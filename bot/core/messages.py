"""Platform-neutral outgoing messages. Handlers build these; adapters render them for each platform.

They are stored as JSON in outbox rows (to_payload / from_payload), so every field is plain data.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# Markdown-active ASCII characters and the full-width forms that look the same to a Chinese reader.
# Full-width forms rather than backslash escapes: neither DingTalk's nor WeCom's markdown documents
# backslash escapes, so a backslash could show up literally (WeCom's template cards are plain text)
# or, worse, leave `[x](http://e)` a link; a full-width bracket is inert everywhere.
_MD_ACTIVE = str.maketrans(
    {
        "\\": "＼",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "~": "～",
        "#": "＃",
        ">": "＞",
        "<": "＜",
        "|": "｜",
        "!": "！",
        "&": "＆",
    }
)
# At the start of a line these begin a list, a setext heading or a rule ("- x", "+ x", "1. x",
# "---", "==="); "-5" or "3.5分" are left alone.
_MD_LINE_START = re.compile(r"^([ \t]*)(?:([-+=])(?=[-=\s]|$)|(\d+)\.(?=\s|$))", re.MULTILINE)
_FULL_WIDTH = {"-": "－", "+": "＋", "=": "＝"}


def md_escape(text: str) -> str:
    """User text made inert inside markdown, still readable: 「家中有事」 comes out unchanged.

    Everything a member, observer or secretary types (a reason, a note, a meeting title, a name)
    goes through this before it is put into the markdown `text` of a Markdown, Card or CardUpdate,
    so `[点此重新登录](http://…)` cannot become a link in someone else's card. Idempotent, so text
    escaped twice (by a handler, then by a renderer) reads the same.
    """
    escaped = str(text).replace("\r\n", "\n").replace("\r", "\n").translate(_MD_ACTIVE)
    return _MD_LINE_START.sub(
        lambda m: m.group(1) + (_FULL_WIDTH[m.group(2)] if m.group(2) else m.group(3) + "．"), escaped
    )


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Markdown:
    """`text` is markdown (user text in it goes through md_escape); `title` is plain text."""

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

    `text` is markdown: put user text into it through md_escape. `title` and `fields` are plain
    text; a renderer that puts them into markdown escapes them itself.

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
