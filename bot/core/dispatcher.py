"""The dispatcher: one incoming event → dedup row, one transaction, handler, outbox rows, commit.

Both transports (the DingTalk stream, the WeCom callback) call `dispatch` from a worker thread and
acknowledge only after it returns, i.e. after commit: "commit, then ACK, then send". Nothing a
person sends can make it raise; a failing handler is rolled back and the person gets an apology.
Only when not even the apology can be committed (the database is down) does it raise Unstored, so
the event is not acknowledged and the platform delivers it again.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import anyio.to_thread
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core import metrics, texts
from bot.core.context import CoreConfig, HandlerContext
from bot.core.errors import Refused
from bot.core.events import Account, CardActionPressed, FormSubmitted, IncomingEvent, TextReceived
from bot.core.messages import Text
from bot.core.router import Routes
from config.settings import DEFAULT_EVENT_WORKERS
from models.audit import Actor, act_as
from models.base import utcnow
from models.db import insert_or_skip, one_writer
from models.inbox import InboundEvent
from models.org import PLATFORM_LABELS, ChatAccount, Person, Platform, RoleAssignment, account_is
from models.outbox import CardRef

logger = logging.getLogger(__name__)

Fallback = Callable[[HandlerContext, str], None]


# Built once (models.db.insert_or_skip): claiming an event is one statement on every message received.
_CLAIM = insert_or_skip(
    InboundEvent.__table__, ["platform", "event_id", "outcome", "received_at"], ("platform", "event_id"),
    returning="id",
)  # fmt: skip

# The sender and their roles in one statement (what models.org.person_by_account and roles_of select,
# one round trip instead of two), built once with bind parameters: building the expressions again for
# every event cost more CPU than running them. One row per role, or one with no role.
_SENDER = (
    select(Person, RoleAssignment)
    .join(ChatAccount, ChatAccount.person_id == Person.id)
    .outerjoin(RoleAssignment, RoleAssignment.person_id == Person.id)
    .where(account_is(bindparam("platform"), bindparam("corp_id"), bindparam("account_id")))
    .order_by(RoleAssignment.id)
)


class Unstored(RuntimeError):
    """Neither the event's work nor its apology could be committed: the transport must not acknowledge it."""


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
        workers: int = DEFAULT_EVENT_WORKERS,
    ) -> None:
        self.session_factory = session_factory
        self.routes = routes
        self.config = config
        self.fallback = fallback or _default_fallback
        self.clock = clock
        self.on_committed = on_committed
        bind = session_factory.kw.get("bind")
        # At most this many events' transactions at once in this process; the others wait here, asleep,
        # before they begin. On SQLite that is one, behind the lock its other busy writers share
        # (models.db.one_writer says why). On PostgreSQL an event is a few milliseconds of Python between
        # short round trips, so a few in flight keep the process busy; more only contend for the GIL
        # (every round trip hands it over) and for the host's cores with as many database backends. At
        # 32 clients the WeCom callback ran 0.45-0.49x its bare floor with the web server's 40 worker
        # threads all in flight, 0.53-0.58x with 4 (bench/ingest.py); set by ZHIBU_EVENT_WORKERS.
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self.workers = 1 if sqlite else workers
        self._slots = one_writer(session_factory) if sqlite else threading.BoundedSemaphore(workers)

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
        with self._slots, self.session_factory() as session, session.begin():
            yield session if self._claim_event(session, platform, event_id, outcome, now) else None

    @staticmethod
    def _claim_event(session: Session, platform: str, event_id: str, outcome: Outcome, now: datetime) -> bool:
        # First statement of the transaction. Another delivery of the same event in flight waits
        # here on the unique key and then sees it taken.
        row = session.execute(
            _CLAIM, {"platform": platform, "event_id": event_id, "outcome": outcome.value, "received_at": now}
        ).first()
        return row is not None

    @staticmethod
    def _sender(
        session: Session, sender: Account, now: datetime
    ) -> tuple[Person | None, list[RoleAssignment]]:
        """The person behind a chat account (None when unbound) and their role assignments; whatever
        the transaction changes from here is the sender's doing, at the event's time (models/audit.py)."""
        params = {
            "platform": Platform(sender.platform),
            "corp_id": sender.corp_id,
            "account_id": sender.account_id,
        }
        rows = session.execute(_SENDER, params).all()
        person = rows[0][0] if rows else None
        actor = Actor("chat", person.id if person else None, "" if person else sender.account_id)
        act_as(session, actor, clock=lambda: now)
        return person, [role for _, role in rows if role is not None]

    def _run(self, event: IncomingEvent, now: datetime) -> Outcome:
        try:
            return self._handle(event, now)
        except Refused as exc:
            return self._answer_refusal(event, now, exc)

    def _answer_refusal(self, event: IncomingEvent, now: datetime, refusal: Refused) -> Outcome:
        """A handler refused: its transaction was rolled back whole (whatever it wrote, its replies and
        the dedup row with them), so a new one claims the event again and answers with the reason.
        This costs a second transaction only on a refusal, where a savepoint around every handler cost
        two statements on every event."""
        sender = event.sender
        with self.claimed(str(sender.platform), event.event_id, now) as session:
            if session is None:  # a repeat delivery got here first (and answered)
                return Outcome.DUPLICATE
            person, roles = self._sender(session, sender, now)
            if isinstance(event, CardActionPressed) and event.response_code and event.card_id:
                self._renew_card_code(session, event)
            HandlerContext(session, event, now, self.config, person, roles, routes=self.routes).reply(
                Text(str(refusal))
            )
        return Outcome.HANDLED

    def _handle(self, event: IncomingEvent, now: datetime) -> Outcome:
        """The event's one transaction; a Refused from its handler leaves it rolled back (see _run)."""
        sender = event.sender
        with self.claimed(str(sender.platform), event.event_id, now) as session:
            if session is None:
                logger.info("duplicate %s event %s ignored", sender.platform, event.event_id)
                return Outcome.DUPLICATE
            person, roles = self._sender(session, sender, now)
            ctx = HandlerContext(session, event, now, self.config, person, roles, routes=self.routes)
            if isinstance(event, CardActionPressed) and event.response_code and event.card_id:
                self._renew_card_code(session, event)
            if isinstance(event, TextReceived):
                found = self.routes.match(event.text)
                if person is None and not (found and found[0].public):
                    ctx.reply(Text(self.unbound_text(sender.platform)))
                    return Outcome.UNBOUND
                if found is None:
                    self.fallback(ctx, event.text)
                else:
                    command, args = found
                    command.handler(ctx, args)
            elif person is None:
                ctx.reply(Text(self.unbound_text(sender.platform)))
                return Outcome.UNBOUND
            elif isinstance(event, CardActionPressed):
                handler = self.routes.actions.get(event.action)
                if handler is None:
                    ctx.reply(Text(texts.UNKNOWN_ACTION))
                else:
                    handler(ctx, dict(event.params))
            elif isinstance(event, FormSubmitted):
                form = self.routes.forms.get(event.form)
                if form is None:
                    ctx.reply(Text(texts.UNKNOWN_FORM))
                else:
                    form(ctx, dict(event.data))
            return Outcome.HANDLED

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
        except Exception as exc:
            # Nothing of the event is stored (the database is unreachable): raise, so the transport does
            # not acknowledge it (the WeCom callback answers 503, the DingTalk stream asks for a retry)
            # and the platform delivers it again instead of it being lost.
            metrics.EVENTS.labels(str(event.sender.platform), Outcome.FAILED.value).inc()
            raise Unstored(event.event_id) from exc
        return Outcome.FAILED
