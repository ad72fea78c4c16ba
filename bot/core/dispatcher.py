"""The dispatcher: one incoming event → dedup row, one transaction, handler, outbox rows, commit.

Both transports (the DingTalk stream, the WeCom callback) call `dispatch` from a worker thread and
acknowledge only after it returns, i.e. after commit: "commit, then ACK, then send". Nothing a
person sends can make it raise; a failing handler is rolled back and the person gets an apology.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.core import metrics, texts
from bot.core.context import CoreConfig, HandlerContext
from bot.core.errors import Refused
from bot.core.events import CardActionPressed, FormSubmitted, IncomingEvent, TextReceived
from bot.core.messages import Text
from bot.core.router import Routes
from models.audit import Actor, act_as
from models.base import utcnow
from models.inbox import InboundEvent
from models.org import PLATFORM_LABELS, Platform, person_by_account, roles_of
from models.outbox import CardRef

logger = logging.getLogger(__name__)

Fallback = Callable[[HandlerContext, str], None]


class Outcome(enum.StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    UNBOUND = "unbound"
    FAILED = "failed"  # the handler raised; rolled back, apology queued


def _default_fallback(ctx: HandlerContext, _text: str) -> None:
    ctx.reply(Text(texts.FALLBACK))


class Dispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        routes: Routes,
        config: CoreConfig,
        *,
        fallback: Fallback | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_committed: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.routes = routes
        self.config = config
        self.fallback = fallback or _default_fallback
        self.clock = clock
        self.on_committed = on_committed
        bind = session_factory.kw.get("bind")
        # SQLite has one writer at a time, and its busy handler waits by sleeping in growing steps:
        # under load, queueing writers here is much faster (and fairer) than letting them collide.
        self._writer = (
            threading.Lock() if bind is not None and bind.dialect.name == "sqlite" else nullcontext()
        )

    async def dispatch_async(self, event: IncomingEvent) -> Outcome:
        """For the event loop: run the sync handler in a worker thread."""
        return await anyio.to_thread.run_sync(self.dispatch, event)

    def dispatch(self, event: IncomingEvent) -> Outcome:
        platform = str(event.sender.platform)
        started = time.perf_counter()
        now = self.clock()
        try:
            outcome = self._run(event, now)
        except Exception:
            ref = uuid.uuid4().hex[:8]
            logger.exception("handler failed for %s event %s (ref %s)", platform, event.event_id, ref)
            outcome = self._apologise(event, now, ref)
        metrics.EVENTS.labels(platform, outcome.value).inc()
        metrics.DISPATCH_SECONDS.labels(platform).observe(time.perf_counter() - started)
        if outcome != Outcome.DUPLICATE and self.on_committed is not None:
            self.on_committed()
        return outcome

    @contextmanager
    def claimed(
        self, platform: str, event_id: str, now: datetime, outcome: Outcome = Outcome.HANDLED
    ) -> Iterator[Session | None]:
        """One transaction behind the inbound dedup row (platform, event_id), for anything a platform
        may deliver more than once: yields the session, or None when the event was claimed before (a
        repeat delivery; nothing to do). Leaving the block commits, and an exception rolls back the
        claim with everything else, so the platform's next delivery tries again."""
        with self._writer, self.session_factory() as session, session.begin():
            yield session if self._claim_event(session, platform, event_id, outcome, now) else None

    @staticmethod
    def _claim_event(session: Session, platform: str, event_id: str, outcome: Outcome, now: datetime) -> bool:
        # First statement of the transaction. Another delivery of the same event in flight waits
        # here on the unique key and then sees it taken.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = (
            insert(InboundEvent)
            .values(platform=platform, event_id=event_id, outcome=outcome.value, received_at=now)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(InboundEvent.id)
        )
        return session.execute(stmt).first() is not None

    def _run(self, event: IncomingEvent, now: datetime) -> Outcome:
        sender = event.sender
        with self.claimed(str(sender.platform), event.event_id, now) as session:
            if session is None:
                logger.info("duplicate %s event %s ignored", sender.platform, event.event_id)
                return Outcome.DUPLICATE
            person = person_by_account(session, sender.platform, sender.corp_id, sender.account_id)
            # Whatever the handler changes is the sender's doing, at the event's time (models/audit.py).
            actor = Actor(
                "chat", person.id if person is not None else None, "" if person else sender.account_id
            )
            act_as(session, actor, clock=lambda: now)
            roles = roles_of(session, person.id) if person is not None else []
            ctx = HandlerContext(session, event, now, self.config, person, roles, routes=self.routes)
            if isinstance(event, CardActionPressed) and event.response_code and event.card_id:
                self._renew_card_code(session, event)
            if isinstance(event, TextReceived):
                found = self.routes.match(event.text)
                if person is None and not (found and found[0].public):
                    ctx.reply(Text(self.unbound_text(sender.platform)))
                    return Outcome.UNBOUND
                if found is None:
                    self._refusable(ctx, self.fallback, event.text)
                else:
                    command, args = found
                    self._refusable(ctx, command.handler, args)
            elif person is None:
                ctx.reply(Text(self.unbound_text(sender.platform)))
                return Outcome.UNBOUND
            elif isinstance(event, CardActionPressed):
                handler = self.routes.actions.get(event.action)
                if handler is None:
                    ctx.reply(Text(texts.UNKNOWN_ACTION))
                else:
                    self._refusable(ctx, handler, dict(event.params))
            elif isinstance(event, FormSubmitted):
                form = self.routes.forms.get(event.form)
                if form is None:
                    ctx.reply(Text(texts.UNKNOWN_FORM))
                else:
                    self._refusable(ctx, form, dict(event.data))
            return Outcome.HANDLED

    @staticmethod
    def _refusable(ctx: HandlerContext, handler: Callable[[HandlerContext, Any], None], arg: Any) -> None:
        """Run a handler; a Refused becomes its Chinese reply. The savepoint undoes whatever the handler
        wrote before it refused (a use case should refuse before writing; this makes sure), replies
        included, while the event's dedup row stays."""
        savepoint = ctx.session.begin_nested()
        try:
            handler(ctx, arg)
        except Refused as exc:
            savepoint.rollback()
            ctx.reply(Text(str(exc)))
        else:
            savepoint.commit()

    @staticmethod
    def unbound_text(platform: Platform | str) -> str:
        return texts.UNBOUND.format(platform=PLATFORM_LABELS.get(Platform(platform), str(platform)))

    @staticmethod
    def _renew_card_code(session: Session, event: CardActionPressed) -> None:
        """WeCom's response_code is single use and each press brings a new one; keep the newest."""
        ref = session.scalars(
            select(CardRef).where(
                CardRef.platform == str(event.sender.platform),
                CardRef.corp_id == event.sender.corp_id,
                CardRef.target == event.sender.account_id,
                CardRef.card_id == event.card_id,
            )
        ).first()
        if ref is not None:
            ref.response_code = event.response_code

    def _apologise(self, event: IncomingEvent, now: datetime, ref: str) -> Outcome:
        try:
            # Mark the event handled: a re-delivery would fail the same way and apologise twice.
            with self.claimed(str(event.sender.platform), event.event_id, now, Outcome.FAILED) as session:
                if session is None:
                    return Outcome.DUPLICATE
                ctx = HandlerContext(session, event, now, self.config, None, [])
                ctx.reply(Text(texts.HANDLER_FAILED.format(ref=ref)))
        except Exception:
            logger.exception("could not even queue the apology for event %s", event.event_id)
        return Outcome.FAILED
