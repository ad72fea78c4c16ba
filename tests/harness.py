"""One chat harness: people talking to the bot through the real Dispatcher.

A message, a button press or an H5 form goes the way a platform event goes in production: the
dispatcher claims the event id first (the same delivery twice has one effect), finds the person by
their chat account (an account bound to nobody gets the binding hint and no handler runs), runs the
handler in one transaction and rolls all of it back if the handler raises (the person gets an apology
with a reference instead). What the bot answered is read back from the outbox rows the dispatcher
committed, the rows the relay would send. Calling a handler directly skips all of this, so chat tests
use this harness; the transports' own tests (tests/core/e2e.py) add the SDKs and the sandbox on top.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.context import CoreConfig
from bot.core.dispatcher import Dispatcher, Fallback, Outcome
from bot.core.events import (
    Account,
    CardActionPressed,
    Conversation,
    FormSubmitted,
    IncomingEvent,
    TextReceived,
)
from bot.core.router import Router, Routes
from config import demo
from models.org import Platform
from models.outbox import OutboxMessage

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Mon 09:00 in Shanghai
CONFIG = CoreConfig(
    tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://127.0.0.1:8000", secret_key="k" * 32
)
DT, WC = demo.DINGTALK_CORP_ID, demo.WECOM_CORP_ID

# Event ids are unique across the whole run: the dispatcher deduplicates on them, so two harnesses in
# one test (or a harness and a hand-made event) must never share one by accident.
_event_ids = itertools.count(1)


def next_event_id(prefix: str = "h") -> str:
    return f"{prefix}{next(_event_ids)}"


def _corp(platform: Platform) -> str:
    return DT if platform == Platform.DINGTALK else WC


def text_event(
    text: str,
    *,
    account: str = "wangshuji",
    platform: Platform = Platform.DINGTALK,
    event_id: str = "m1",
    group: str = "",
    corp: str | None = None,
    at: datetime = T0,
) -> TextReceived:
    """A text from `account`, 1:1 or, with `group`, @-mentioning the bot in that group chat."""
    corp = corp or _corp(platform)
    conv = Conversation(platform, corp, group or account, is_group=bool(group))
    return TextReceived(event_id, Account(platform, corp, account), "某人", conv, text, at)


def press_event(
    action: str,
    params: dict,
    *,
    account: str = "wangshuji",
    platform: Platform = Platform.DINGTALK,
    event_id: str = "c1",
    card_id: str = "card-1",
    corp: str | None = None,
    at: datetime = T0,
) -> CardActionPressed:
    """A press of the button built with (`action`, `params`) on the card `card_id`."""
    corp = corp or _corp(platform)
    conv = Conversation(platform, corp, account)
    return CardActionPressed(
        event_id, Account(platform, corp, account), "某人", conv, action, params, card_id, at
    )


def form_event(
    form: str,
    data: dict,
    *,
    account: str = "wangshuji",
    platform: Platform = Platform.DINGTALK,
    event_id: str = "f1",
    corp: str | None = None,
    at: datetime = T0,
) -> FormSubmitted:
    """An H5 form posted by the person the platform's login-free flow identified as `account`."""
    corp = corp or _corp(platform)
    return FormSubmitted(event_id, Account(platform, corp, account), form, data, at)


def make_dispatcher(session_factory, routers, **kwargs) -> Dispatcher:
    """The production Dispatcher over `routers`, on the chat core's test config and clock (T0)."""
    kwargs.setdefault("clock", lambda: T0)
    return Dispatcher(session_factory, Routes(routers), CONFIG, **kwargs)


def replies_to(session_factory: sessionmaker[Session], event_id: str) -> list[dict]:
    """The payloads the bot queued in answer to one event, in order."""
    with session_factory() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedup_key.startswith(f"reply:{event_id}:"))
            .order_by(OutboxMessage.id)
        )
        return [r.payload for r in rows]


def readable(payload: dict) -> str:
    """What a person reads on one message or card: title, text, fields and button labels."""
    parts = [payload.get("title", ""), payload.get("text", "")]
    parts += [f"{k}：{v}" for k, v in payload.get("fields", ())]
    parts += [b.get("label", "") for b in payload.get("buttons", ())]
    return "\n".join(p for p in parts if p)


@dataclass
class Answer:
    """The dispatcher's outcome for one event and the replies it queued, as committed."""

    event: IncomingEvent
    outcome: Outcome
    replies: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(readable(p) for p in self.replies)

    def __contains__(self, words: str) -> bool:
        return words in self.text


class Chat:
    """Several people chatting with a bot made of `routers`, on one platform, at the time `now`.

    `chat.now` may be moved between messages (it is the dispatcher's clock). `say`, `press` and
    `submit` return an Answer; `redeliver` sends an event again as a platform retry would.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        routers: Iterable[Router] = (),
        *,
        now: datetime = T0,
        config: CoreConfig = CONFIG,
        platform: Platform = Platform.DINGTALK,
        corp: str | None = None,
        fallback: Fallback | None = None,
        routes: Routes | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.now = now
        self.platform = platform
        self.corp = corp or _corp(platform)
        self.dispatcher = Dispatcher(
            session_factory,
            routes if routes is not None else Routes(list(routers)),
            config,
            fallback=fallback,
            clock=lambda: self.now,
        )

    def dispatch(self, event: IncomingEvent) -> Answer:
        outcome = self.dispatcher.dispatch(event)
        return Answer(event, outcome, replies_to(self.session_factory, event.event_id))

    def say(self, account: str, text: str, *, group: str = "") -> Answer:
        return self.dispatch(
            text_event(
                text,
                account=account,
                platform=self.platform,
                corp=self.corp,
                group=group,
                event_id=next_event_id("m"),
                at=self.now,
            )
        )

    def press(self, account: str, action: str, **params: str) -> Answer:
        return self.dispatch(
            press_event(
                action,
                params,
                account=account,
                platform=self.platform,
                corp=self.corp,
                event_id=next_event_id("c"),
                card_id="card",
                at=self.now,
            )
        )

    def submit(self, account: str, form: str, data: dict) -> Answer:
        return self.dispatch(
            form_event(
                form,
                data,
                account=account,
                platform=self.platform,
                corp=self.corp,
                event_id=next_event_id("f"),
                at=self.now,
            )
        )

    def redeliver(self, answer: Answer) -> Answer:
        """The same event again (a WeCom retry, a DingTalk re-push): it must have no second effect."""
        return self.dispatch(answer.event)
