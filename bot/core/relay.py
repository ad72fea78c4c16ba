"""The outbox relay: claims due rows, batches identical content, keeps to rate limits, records results.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so several relays share the work; on
SQLite one statement `UPDATE … WHERE id IN (SELECT … LIMIT n)`, atomic under SQLite's single
writer. A claimed row is `sending` with a lease; if its relay dies the lease runs out and another
claim picks it up, so a crash loses nothing. The calls the dead relay had in flight (at most
`concurrency`) are made again, under the same ids (`send_id`): where the platform recognises a
repeat it is harmless (a DingTalk card's outTrackId answers param.cardAlreadyExist, a WeCom
interactive card is an identical request inside its duplicate check), so such a row reaches its
member once; batched robot / app messages have no such id and stay at-least-once (see the senders).
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core import metrics, texts
from bot.core.delivery import Batch, BatchOutcome, CardHandle, Delivery, PlatformSender
from bot.core.errors import PermanentPlatformError, TransientPlatformError
from bot.core.messages import Card, CardUpdate, from_payload, to_payload
from bot.core.outbox import WAKEUP_CHANNEL, choose_account, content_hash
from bot.core.ratelimit import (
    Clock,
    Key,
    LocalWindows,
    RateWindows,
    SharedWindows,
    SystemClock,
)
from models.db import one_writer
from models.org import ChatAccount
from models.outbox import CardRef, DeliveryStatus, OutboxMessage, TargetKind

logger = logging.getLogger(__name__)

# The least pause before asking a window again whose slot freed during the take's own round trips.
RETAKE_PAUSE_SECONDS = 0.005

# The end of a claim token whose rows were claimed ahead (for the cycle after the one sending): until that
# cycle starts (Relay._renew gives them the cycle's own token) nobody is sending them, and a relay that
# finds nothing else due takes over a share (Relay._take_over), so the last rows are not left to one relay
# while the others idle.
AHEAD = ":ahead"

# A claimed 1:1 row whose account left its directory (bot.core.directory): nothing is sent to it,
# whenever the row was queued. Read in the claim's RETURNING, as a row value IN the (few) accounts that
# left, not as a correlated EXISTS: SQLite renders RETURNING's columns without their table, the EXISTS's
# too, so "chat_account.platform = outbox_message.platform" became "platform = platform", true of every
# account, and each claimed row scanned the whole chat_account table for its userid on any platform (0.4 s
# a claim of 400 among 4,000 members). Here the outer columns stand outside the subquery and the inner
# ones inside it, which both databases resolve alike, and the subquery is read once per claim.
_DEPARTED = and_(
    OutboxMessage.target_kind == TargetKind.USER,
    tuple_(OutboxMessage.platform, OutboxMessage.corp_id, OutboxMessage.target).in_(
        select(ChatAccount.platform, ChatAccount.corp_id, ChatAccount.account_id).where(
            ChatAccount.left_directory_at.is_not(None)
        )
    ),
)


# What queues messages from facts already recorded, at the relays' pace rather than in the request that
# recorded them (a QR scan's receipt: handlers.meetings.signin.queue_signin_receipts). Called with a session
# in a transaction of its own and the cycle's now, at the start of every cycle, so what it queues is
# claimed in the same cycle; returns how many facts it took. The composition root passes the features'
# feeders (bot.cli.serve); the relay knows no feature.
Feeder = Callable[[Session, datetime], int]


@dataclass(frozen=True)
class RelayConfig:
    # Rows claimed at once. A window of DingTalk's batchSend at 20 QPS (20 calls of 20): rows one relay holds
    # are rows the others cannot send, so when the queue runs dry the relays finish at most about a window
    # apart (with 1,000 a relay could be left sending the last 2.5 s alone, slower than all of them).
    claim_limit: int = 400
    # The relay's loop claims at most this many at first, when nothing is sending yet (the rest follows in
    # the claim made ahead while they are sent): the first calls wait only for a claim this size. A window
    # of DingTalk's batchSend at 20 QPS (20 calls of 20), so the claim ahead has a second to come back.
    first_claim_limit: int = 400
    lease_seconds: float = 300.0
    poll_seconds: float = 1.0
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 900.0
    max_attempts: int = 8
    # Stretch every rate window by this share, for the skew between the clocks of relays that share windows
    # (SharedWindows compares one relay's answer times with another's clock): 10 ms of DingTalk's second.
    # The platform's clock needs none: a window counts from our own answer, which comes after the platform
    # saw the call, and both sides measure a second alike (the sandbox, on one host, saw no call over its
    # limit at 0). Relays on one host share its clock; hosts on NTP/chrony agree to a few ms. Each 1 % is
    # 1 % of DingTalk's rate.
    rate_margin: float = 0.01
    # Platform calls in flight at once (each still inside every rate window). A relay killed mid-way has
    # at most this many calls made again by another (see the module's docstring).
    concurrency: int = 4
    # Calls waiting for the slot they reserved (see reserve_seconds), besides those in flight: a sleeping
    # thread each. A whole window of DingTalk's 20 QPS, so the next window's slots are all reserved as soon
    # as the answers that fix their moments arrive, and a pause of the thread that plans (a claim, planning
    # the next cycle's rows) delays none of them: a late call delays every call a window after it too.
    reserved_calls: int = 20
    # A full window's slot that surely frees within this is reserved at once, and its call waits for it
    # in its own thread: the take's round trips (a shared window's are several) overlap the wait instead
    # of following it. Far below the lease, so a reserved call's rows are never another relay's.
    reserve_seconds: float = 2.0


@dataclass
class CycleResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0


def send_id(d: Delivery) -> str:
    """The id a platform sees for one outbox row's send (DingTalk outTrackId, WeCom task_id): the same
    on every attempt of the row, so a repeat after a crash is recognisable, and never random. The row id
    alone is not enough: a reinstalled database numbers its rows from 1 again on the same app, so the
    target and the content are folded in (a collision then means this member already got this card).
    The content is the row's stored hash, fixed when it was queued: a hash of the message object as
    this code sees it would change with a deploy, exactly when killed relays leave rows to send again."""
    content = d.content_hash or content_hash(to_payload(d.message))
    digest = hashlib.sha256(f"{d.platform}|{d.corp_id}|{d.target}|{content}".encode()).hexdigest()
    return f"zb-{d.row_id}-{digest[:10]}"


def _claimed(row, messages: dict) -> Delivery:
    # Thousands of rows of one digest share a payload: decode it once per claim.
    message = messages.get(row.content_hash)
    if message is None:
        message = messages[row.content_hash] = from_payload(row.payload)
    return Delivery(
        row_id=row.id,
        platform=row.platform,
        corp_id=row.corp_id,
        target_kind=row.target_kind,
        target=row.target,
        message=message,
        attempts=row.attempts,
        content_hash=row.content_hash,
    )


class Relay:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        senders: Iterable[PlatformSender],
        *,
        clock: Clock | None = None,
        config: RelayConfig | None = None,
        name: str | None = None,
        rng: random.Random | None = None,
        windows: RateWindows | None = None,
        feeders: Iterable[Feeder] = (),
    ) -> None:
        self.session_factory = session_factory
        self.senders = {s.platform: s for s in senders}
        self.feeders = tuple(feeders)
        self.stop_event = threading.Event()
        self.clock = clock or SystemClock(self.stop_event)
        self.config = config or RelayConfig()
        self.name = name or f"relay-{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self._wakeup = threading.Event()
        # Chosen here, once: built lazily, two sending threads could each make their own windows.
        self.windows: RateWindows = windows or self._default_windows()
        self._thread: threading.Thread | None = None
        self._listener: WakeupListener | None = None
        # Set while the relay waits for work (between polls): tests and benchmarks wait on it.
        self.idle = threading.Event()
        self._lock = threading.Lock()
        self.last_cycle_at: datetime | None = None
        self._ahead: Future | None = None  # the next cycle's claim, made while this one sends
        # Calls that hold a slot (reserved or in flight) and how many have been answered: a window full of
        # calls not answered yet is asked again when one of ours is answered, not polled.
        self._answers = threading.Condition()
        self._holding = 0
        self._answered = 0

    # ---- running -------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were committed: skip the poll wait."""
        self._wakeup.set()

    def start(self) -> None:
        """Send in the background; on PostgreSQL also listen for rows other processes queue."""
        engine = self.session_factory.kw.get("bind")
        if engine is not None:
            self._listener = listen_for_wakeups(engine, self)
        self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self._wakeup.set()
        with self._answers:
            self._answers.notify_all()
        if self._listener is not None:
            self._listener.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        logger.info("relay %s started", self.name)
        if not self.senders:
            logger.warning(
                "relay %s has no platform to send on (none configured): it sends nothing", self.name
            )
        while not self.stop_event.is_set():
            try:
                result = self.run_once(ahead=True)
            except Exception:
                logger.exception("relay cycle failed; retrying")
                result = CycleResult()
            if result.claimed == 0 and not self.stop_event.is_set():
                self.idle.set()
                self._wakeup.wait(self.config.poll_seconds)
                self.idle.clear()
                self._wakeup.clear()
        try:
            self._drop_ahead()
        except Exception:
            # The claim ahead failed (or putting its rows back did): its rows come back when their lease
            # runs out, and the relay still stops cleanly.
            logger.exception("relay %s could not put back the rows it claimed ahead", self.name)
        logger.info("relay %s stopped", self.name)

    # ---- one cycle -----------------------------------------------------------------------

    def run_once(self, *, ahead: bool = False) -> CycleResult:
        """Claim due rows and send them; returns what happened (tests call this directly).

        `ahead` (the relay's own loop): while a cycle whose claim was full (so more is surely due) sends,
        the next cycle's rows are claimed, and they join the same sending as soon as the last of this
        cycle's calls has its slot, until a claim comes back short. Otherwise the claim's round trip, the
        planning and the wait for a cycle's last answers would sit between two cycles, in which the rate
        windows' free slots go unused. A recipient's next batch still waits for the previous one's answer,
        whichever cycle it is in. Whoever calls with `ahead` calls again, or _drop_ahead()."""
        now = self.clock.now()
        self.last_cycle_at = now
        self._feed(now)
        first = min(self.config.first_claim_limit, self.config.claim_limit) if ahead else None
        token, deliveries, full = self._claimed_ahead() or self._claim(now, first, take_over=True)
        result = CycleResult(claimed=len(deliveries))
        if not deliveries:
            return result
        tokens = [token]

        def batches():
            cycle_token, cycle, more = token, deliveries, ahead and full
            while True:
                # Not once the relay is stopping: nobody would send the rows, only put them back.
                if more and not self.stop_event.is_set():
                    self._claim_ahead()
                yield from ((cycle_token, batch) for batch in self._plan(cycle))
                claimed = self._claimed_ahead() if more else None
                if claimed is None:
                    return
                cycle_token, cycle, more = claimed[0], claimed[1], claimed[2]
                tokens.append(cycle_token)
                self.last_cycle_at = self.clock.now()
                with self._lock:
                    result.claimed += len(cycle)

        try:
            self._send_all(batches(), result)
        finally:
            # Whatever was claimed but not sent (shutdown, an unexpected error) goes back to the queue now
            # instead of waiting for its lease to run out. Only once every call has been answered: a row
            # still sending is another relay's to claim once it is back. One statement for every cycle's
            # claim: this is the time between the cycle's last answer and the next claim.
            self._release(*tokens)
        return result

    def _feed(self, now: datetime) -> None:
        """Run the feeders, each in its own transaction (on SQLite behind the process's one writer, as the
        requests that record the facts are). One that fails is logged and tried again next cycle; the
        sending goes on."""
        for feed in self.feeders:
            try:
                with one_writer(self.session_factory), self.session_factory() as session, session.begin():
                    feed(session, now)
            except Exception:
                # By its function's name: a partial's repr would print its whole configuration.
                name = getattr(getattr(feed, "func", feed), "__qualname__", None) or repr(feed)
                logger.exception("relay %s: feeder %s failed; the next cycle tries again", self.name, name)

    def drain(self, max_cycles: int = 10_000) -> CycleResult:
        """Run cycles until nothing is due now, advancing an injected clock to deferred rows' times."""
        total = CycleResult()
        for _ in range(max_cycles):
            r = self.run_once()
            for f in ("claimed", "sent", "failed", "retried", "deferred"):
                setattr(total, f, getattr(total, f) + getattr(r, f))
            if r.claimed == 0:
                break
        return total

    def _claim_ahead(self) -> None:
        future: Future = Future()

        def claim() -> None:
            try:
                future.set_result(self._claim(self.clock.now(), ahead=True))
            except BaseException as exc:
                future.set_exception(exc)

        self._ahead = future
        threading.Thread(target=claim, name=f"{self.name}-claim", daemon=True).start()

    def _claimed_ahead(self, *, renew: bool = True) -> tuple[str, list[Delivery], bool] | None:
        """The rows claimed while the previous cycle sent, if it claimed any, with their lease renewed.

        Their lease was set when they were claimed, at the start of the previous cycle: it has run through
        that cycle and must still cover this one. Once two cycles take longer than the lease (a slow
        platform, several relays sharing one rate limit), another relay's claim takes the rows that look
        abandoned and both would send them. So the lease starts again now, for the rows still this claim's
        (one statement); the others are another relay's now and are left out of this cycle."""
        future, self._ahead = self._ahead, None
        if future is None:
            return None
        token, deliveries, full = future.result()
        if not deliveries or not renew:
            return (token, deliveries, full) if deliveries else None
        active = token.removesuffix(AHEAD)
        kept = self._renew(token, [d.row_id for d in deliveries], active)
        token = active
        if len(kept) < len(deliveries):
            logger.info(
                "relay %s: %d rows claimed ahead were taken over by an idle relay (or outlived their lease)",
                self.name,
                len(deliveries) - len(kept),
            )
            deliveries = [d for d in deliveries if d.row_id in kept]
        return (token, deliveries, full) if deliveries else None

    def _renew(self, token: str, row_ids: list[int], active: str | None = None) -> set[int]:
        """A new lease from now for these rows, where they are still this claim's: the ids renewed. With
        `active`, the rows move to that token too: their cycle has started and no idle relay takes them over."""
        lease = self.clock.now() + timedelta(seconds=self.config.lease_seconds)
        with self.session_factory() as session, session.begin():
            return set(
                session.scalars(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.claimed_by == token,
                        OutboxMessage.status == DeliveryStatus.SENDING,
                        OutboxMessage.id.in_(row_ids),
                    )
                    .values(lease_until=lease, claimed_by=active or token)
                    .returning(OutboxMessage.id)
                    .execution_options(synchronize_session=False)
                )
            )

    def _drop_ahead(self) -> None:
        """Put back rows claimed ahead for a cycle that will not run (the relay is stopping)."""
        claimed = self._claimed_ahead(renew=False)
        if claimed is not None:
            self._release(claimed[0])

    def _claim(
        self, now: datetime, limit: int | None = None, *, ahead: bool = False, take_over: bool = False
    ) -> tuple[str, list[Delivery], bool]:
        """A claim token, the claimed rows to send, and whether the claim was full (more may be due): at most
        `limit` rows (claim_limit unless given). `ahead`: for the cycle after the one sending (see AHEAD).
        `take_over`: when nothing is due, take over a share of the rows another relay claimed ahead."""
        limit = limit or self.config.claim_limit
        token = f"{self.name}:{uuid.uuid4().hex[:12]}{AHEAD if ahead else ''}"
        if not self.senders:
            # No platform configured at all is a process started without credentials, not a decision
            # to switch every platform off: failing the whole queue would lose it for good.
            return token, [], False
        lease = now + timedelta(seconds=self.config.lease_seconds)
        due = or_(
            and_(OutboxMessage.status == DeliveryStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == DeliveryStatus.SENDING, OutboxMessage.lease_until < now),
        )
        # One statement claims and reads the rows (a round trip instead of three: the claim is the relay's
        # gap between cycles, in which the rate windows' free slots go unused). On PostgreSQL the rows are
        # picked FOR UPDATE SKIP LOCKED, so several relays share the work; SQLite has one writer.
        # Every due row, whatever its platform: one queued for a platform without a sender here
        # (switched off since, or queued by a process that did not know) is settled below, not left; so
        # is one whose account left its directory (`departed`, read in the same statement).
        pick = (
            select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.session_factory() as session, session.begin():
            rows = self._take(session, pick, token, lease)
            if not rows and take_over:
                rows = self._take_over(session, now, token, lease, limit)
        full = len(rows) >= limit
        if not rows:
            return token, [], full
        messages: dict = {}
        deliveries = [_claimed(row, messages) for row in rows]
        departed = {
            (d.platform, d.corp_id, d.target) for d, row in zip(deliveries, rows, strict=True) if row.departed
        }
        stranded = [
            (d, row.person_id)
            for d, row in zip(deliveries, rows, strict=True)
            if d.platform not in self.senders or row.departed
        ]
        if not stranded:
            return token, deliveries, full
        moved = self._settle_stranded(token, stranded, departed)
        settled = {d.row_id for d, _ in stranded}
        return (
            token,
            [moved.get(d.row_id, d) for d in deliveries if d.row_id not in settled or d.row_id in moved],
            full,
        )

    @staticmethod
    def _take(session: Session, pick, token: str, lease: datetime) -> list:
        """Claim the rows `pick` selects for `token` and read them in the same statement, oldest first. `pick`
        locks them FOR UPDATE SKIP LOCKED, which checks its conditions again on each row it locks (a row
        another transaction changed meanwhile is left out). Nothing more in this statement's own WHERE: with
        a condition beside the IN, PostgreSQL may run the picking subquery once per row and claim past its
        LIMIT."""
        return sorted(
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(pick.scalar_subquery()))
                .values(status=DeliveryStatus.SENDING, lease_until=lease, claimed_by=token)
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.platform,
                    OutboxMessage.corp_id,
                    OutboxMessage.target_kind,
                    OutboxMessage.target,
                    OutboxMessage.payload,
                    OutboxMessage.content_hash,
                    OutboxMessage.attempts,
                    OutboxMessage.person_id,
                    _DEPARTED.label("departed"),
                )
                .execution_options(synchronize_session=False)
            ),
            key=lambda row: row.id,
        )

    def _take_over(self, session: Session, now: datetime, token: str, lease: datetime, limit: int) -> list:
        """Nothing is due: take over half (rounded up, at most `limit`) of the largest claim another relay made
        ahead and has not started (its rows sit in that relay behind the cycle it is sending), the last of
        them. The other relay's cycle then starts with the rest (Relay._renew leaves out what is no longer
        its claim's); a claim whose cycle has started is never taken (its token no longer ends in AHEAD), so
        no row is sent by two relays. Without this the relay that happened to claim last sends the last
        rows alone, at the pace of its own calls in flight, while the others idle."""
        E = OutboxMessage
        waiting = and_(
            E.status == DeliveryStatus.SENDING, E.lease_until >= now, E.claimed_by.like(f"%{AHEAD}")
        )
        largest = session.execute(
            select(E.claimed_by, func.count())
            .where(waiting)
            .group_by(E.claimed_by)
            .order_by(func.count().desc(), E.claimed_by)
            .limit(1)
        ).first()
        if largest is None:
            return []
        owner, count = largest
        share = and_(waiting, E.claimed_by == owner)
        pick = (
            select(E.id)
            .where(share)
            .order_by(E.id.desc())
            .limit(min(limit, (count + 1) // 2))
            .with_for_update(skip_locked=True)
        )
        rows = self._take(session, pick, token, lease)
        if rows:
            logger.info("relay %s took over %d rows %s claimed ahead", self.name, len(rows), owner)
        return rows

    def _settle_stranded(
        self,
        token: str,
        stranded: list[tuple[Delivery, int | None]],
        departed: set[tuple[str, str, str]] = frozenset(),
    ) -> dict[int, Delivery]:
        """Rows queued for a platform this relay has no sender for, or for an account that left its
        directory: a person's message goes to their account on a platform it has (and is sent in this
        cycle); anything else (a group, a card update, a person with no such account) fails now with a
        reason instead of waiting forever, or failing at the platform again and again."""
        people = {pid for d, pid in stranded if pid is not None and d.target_kind == TargetKind.USER}
        accounts: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        moved: dict[int, Delivery] = {}
        failed: dict[str, list[Delivery]] = defaultdict(list)  # reason -> rows
        with self.session_factory() as session, session.begin():
            if people:
                for pid, platform, corp, account in session.execute(
                    select(
                        ChatAccount.person_id,
                        ChatAccount.platform,
                        ChatAccount.corp_id,
                        ChatAccount.account_id,
                    ).where(ChatAccount.person_id.in_(people), ChatAccount.left_directory_at.is_(None))
                ):
                    accounts[pid].append((str(platform), corp, account))
            for d, pid in stranded:
                chosen = None
                if pid in people and not isinstance(d.message, CardUpdate):
                    chosen = choose_account(accounts.get(pid, []), list(self.senders))
                if chosen is None:
                    gone = d.platform in self.senders and (d.platform, d.corp_id, d.target) in departed
                    failed[texts.REASON_LEFT_DIRECTORY if gone else texts.REASON_NO_PLATFORM].append(d)
                    continue
                platform, corp, target = chosen
                moved[d.row_id] = replace(d, platform=platform, corp_id=corp, target=target)
            if moved:
                table = OutboxMessage.__table__
                session.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.claimed_by == token)
                    .values(
                        platform=bindparam("b_platform"),
                        corp_id=bindparam("b_corp"),
                        target=bindparam("b_target"),
                    )
                    .execution_options(synchronize_session=False),
                    [
                        {
                            "b_id": d.row_id,
                            "b_platform": d.platform,
                            "b_corp": d.corp_id,
                            "b_target": d.target,
                        }
                        for d in moved.values()
                    ],
                )
            for reason, rows in failed.items():
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([d.row_id for d in rows]), OutboxMessage.claimed_by == token)
                    .values(status=DeliveryStatus.FAILED, reason=reason, lease_until=None)
                    .execution_options(synchronize_session=False)
                )
        # An account that left is not a delivery failure: the ledger says so, the counter does not.
        for d in failed.get(texts.REASON_NO_PLATFORM, []):
            metrics.OUTBOX_FAILED.labels(d.platform).inc()
        gone = len(failed.get(texts.REASON_LEFT_DIRECTORY, []))
        if moved or failed:
            logger.warning(
                "relay %s: %d rows queued for platforms it does not send on (%s) or for accounts that "
                "left their directory: %d moved to another account, %d failed, %d not sent (left)",
                self.name,
                len(stranded),
                ", ".join(sorted({d.platform or "?" for d, _ in stranded})),
                len(moved),
                sum(len(rows) for rows in failed.values()) - gone,
                gone,
            )
        return moved

    def _with_cards(self, batch: Batch) -> None:
        """Attach to each CardUpdate the card sent earlier under its key (looked up at send time,
        so a card sent earlier in the same cycle is found)."""
        card_key = batch.message.card_key
        with self.session_factory() as session:
            refs = {
                ref.target: CardHandle(ref.card_id, ref.response_code)
                for ref in session.scalars(
                    select(CardRef).where(
                        CardRef.platform == batch.platform,
                        CardRef.corp_id == batch.corp_id,
                        CardRef.target.in_(batch.targets),
                        CardRef.card_key == card_key,
                    )
                )
            }
        batch.deliveries = [replace(d, card=refs.get(d.target)) for d in batch.deliveries]

    def _plan(self, deliveries: list[Delivery]) -> list[Batch]:
        """Batches of identical content, in an order that keeps each recipient's messages in queue order.

        A delivery may join an earlier batch of the same content only if that batch comes after every
        batch already holding a message for the same recipient; and one batch never names a
        recipient twice (the platform would deliver it once).
        """
        batches: list[Batch] = []
        targets_of: list[set[str]] = []
        open_by_key: dict[tuple, list[int]] = defaultdict(list)  # batches of this content with room
        last_batch_of: dict[tuple, int] = {}  # (platform, corp, target) -> index of its latest batch
        for d in deliveries:
            key = (d.platform, d.corp_id, d.target_kind, repr(d.message))
            who = (d.platform, d.corp_id, d.target)
            after = last_batch_of.get(who, -1)
            chosen = next((i for i in open_by_key[key] if i > after), None)
            if chosen is None:
                sender = self.senders[d.platform]
                batches.append(
                    Batch(
                        d.platform,
                        d.corp_id,
                        d.target_kind,
                        d.message,
                        [],
                        sender.api_for(d.message, d.target_kind),
                    )
                )
                targets_of.append(set())
                chosen = len(batches) - 1
                open_by_key[key].append(chosen)
            batch = batches[chosen]
            batch.deliveries.append(d)
            targets_of[chosen].add(d.target)
            last_batch_of[who] = chosen
            size = max(1, self.senders[d.platform].max_recipients(d.message, d.target_kind))
            if len(batch.deliveries) >= size:
                open_by_key[key].remove(chosen)
        return batches

    # ---- rate limits ---------------------------------------------------------------------

    def _default_windows(self) -> RateWindows:
        """The rate windows: in this process on SQLite (one relay sends for the deployment), in the
        database on PostgreSQL, where several relays must keep the platforms' limits together."""
        bind = self.session_factory.kw.get("bind")
        if bind is not None and bind.dialect.name == "postgresql":
            return SharedWindows(self.session_factory, self.config.rate_margin)
        return LocalWindows(self.config.rate_margin, history=self._ledger_history)

    def _ledger_history(self, members: list[Key], since: datetime) -> dict[Key, list[datetime]]:
        """Recent sends to these members from the delivery ledger, so a restart does not forget them."""
        history: dict[Key, list[datetime]] = defaultdict(list)
        by_corp: dict[tuple[str, str], list[str]] = defaultdict(list)
        for _, platform, corp, target in members:
            by_corp[(platform, corp)].append(target)
        with self.session_factory() as session:
            for (platform, corp), targets in by_corp.items():
                for target, sent_at in session.execute(
                    select(OutboxMessage.target, OutboxMessage.sent_at).where(
                        OutboxMessage.platform == platform,
                        OutboxMessage.corp_id == corp,
                        OutboxMessage.target.in_(targets),
                        OutboxMessage.status == DeliveryStatus.SENT,
                        OutboxMessage.sent_at > since,
                    )
                ):
                    history[("member", platform, corp, target)].append(sent_at)
        return history

    # ---- sending -------------------------------------------------------------------------

    def _send_all(self, batches: Iterable[tuple[str, Batch]], result: CycleResult) -> None:
        """Send the batches, up to `concurrency` calls in flight: with a platform's latency a strictly
        sequential relay could not reach the rate the limits allow."""
        if self.config.concurrency <= 1:
            for token, batch in batches:
                if self.stop_event.is_set():
                    return
                slot = self._prepare(token, batch, result)
                if slot is not None:
                    self._deliver(token, batch, *slot, result)
            return
        # Calls holding a slot: reserved and waiting for its moment, or in flight (`flying`, taken once the
        # moment has come). Waiting threads only sleep; the calls made at once stay `concurrency`.
        holding = self.config.concurrency + max(0, self.config.reserved_calls)
        gate = threading.BoundedSemaphore(holding)
        flying = threading.BoundedSemaphore(self.config.concurrency)
        # A recipient's next batch waits for the previous one: messages arrive in the order queued.
        busy: set[tuple[str, str]] = set()
        changed = threading.Condition()
        with ThreadPoolExecutor(holding, thread_name_prefix=self.name) as pool:
            for token, batch in batches:
                if self.stop_event.is_set():
                    break
                mine = {(batch.platform, t) for t in batch.targets}
                with changed:
                    changed.wait_for(lambda mine=mine: not (busy & mine))
                gate.acquire()
                slots = self._prepare(token, batch, result)
                if slots is None:
                    gate.release()
                    continue
                with changed:
                    busy.update(mine)

                def work(token=token, batch=batch, slots=slots, mine=mine):
                    try:
                        self._deliver(token, batch, *slots, result, flying)
                    finally:
                        with changed:
                            busy.difference_update(mine)
                            changed.notify_all()
                        gate.release()

                pool.submit(work)

    def _prepare(self, token: str, batch: Batch, result: CycleResult) -> tuple[object, datetime] | None:
        """Defer recipients over their own limit, then wait for the API's window; None = nothing to send,
        else the slot the call holds in the windows and when the call may start (a reserved slot's
        moment: the caller waits for it, so this thread can take the next batch's slot meanwhile)."""
        sender = self.senders[batch.platform]
        api: Key = ("api", batch.platform, batch.api)
        api_limits = tuple(sender.api_limits.get(batch.api, ()))
        member_limits = tuple(sender.member_limits) if batch.target_kind == TargetKind.USER else ()
        while True:
            now = self.clock.now()
            with self._answers:
                answered = self._answered
            members = {("member", batch.platform, batch.corp_id, d.target): d for d in batch.deliveries}
            take = self.windows.take(
                now,
                api,
                api_limits,
                list(members) if member_limits else [],
                member_limits,
                ahead=self.config.reserve_seconds,
            )
            if take.deferred:
                until = {members[m].row_id: now + timedelta(seconds=w) for m, w in take.deferred.items()}
                try:
                    self._defer(token, until)
                except BaseException:
                    # The call will not be made: a slot kept would count as a call in flight for ever.
                    if take.slot is not None:
                        self.windows.release(take.slot, self.clock.now())
                    raise
                with self._lock:
                    result.deferred += len(until)
                metrics.OUTBOX_DEFERRED.labels(batch.platform).inc(len(until))
                batch.deliveries = [d for d in batch.deliveries if d.row_id not in until]
                if not batch.deliveries:
                    return None
            if take.slot is not None:
                with self._answers:
                    self._holding += 1
                return take.slot, now + timedelta(seconds=take.wait)
            if self.stop_event.is_set():
                return None
            # The wait counts from `now`, before the take's own round trips: sleeping all of it after them
            # would leave a free slot unused for that long on every full window (the next take checks
            # again). Never less than a short pause, so a slot that freed meanwhile is not asked for in a
            # tight loop.
            spent = (self.clock.now() - now).total_seconds()
            pause = max(take.wait - spent, min(take.wait, RETAKE_PAUSE_SECONDS))
            if take.sure or not self._await_answer(answered, pause):
                self.clock.sleep(pause)

    def _await_answer(self, answered: int, pause: float) -> bool:
        """Wait for one of this relay's calls to be answered after the take that saw `answered` (at most
        `pause`): its answer fixes when its slot frees, so the next take can reserve that. False (nothing
        waited) when no call of ours holds a slot: the window is full of other relays' calls, whose answers
        nobody here hears of, and nothing frees sooner than `pause` anyway."""
        with self._answers:
            if self._holding == 0 and self._answered == answered:
                return False
            self._answers.wait_for(
                lambda: self._answered != answered or self.stop_event.is_set(), timeout=pause
            )
        return True

    def _deliver(
        self,
        token: str,
        batch: Batch,
        slot: object,
        start: datetime,
        result: CycleResult,
        flying: threading.BoundedSemaphore | None = None,
    ) -> None:
        """Make the call at its slot's moment, as one of the `flying` calls in flight at once, and record it."""
        try:
            self._deliver_at(token, batch, slot, start, result, flying)
        finally:
            with self._answers:
                self._holding -= 1
                self._answered += 1
                self._answers.notify_all()

    def _deliver_at(
        self,
        token: str,
        batch: Batch,
        slot: object,
        start: datetime,
        result: CycleResult,
        flying: threading.BoundedSemaphore | None,
    ) -> None:
        sender = self.senders[batch.platform]
        reserved = start > self.clock.now()
        # Until the moment, not for the seconds: with several calls waiting at once an injected clock would
        # otherwise add their waits up and the calls would land later than they do for real. Called even
        # when the moment has passed: an injected clock another call just moved may still be telling the
        # sandbox, which must hear of the time before it hears of this call.
        self.clock.sleep_until(start)
        if reserved and self.stop_event.is_set():
            # Not called: the slot goes back as a call answered now (never sooner than the truth); the rows
            # go back to the queue with the cycle's other unsent ones.
            self.windows.release(slot, self.clock.now())
            return
        # In flight until recorded: a call answered but not recorded is made again if the relay dies.
        with nullcontext() if flying is None else flying:
            try:
                outcome = self._call(sender, token, batch)
            except BaseException:
                self.windows.release(slot, self.clock.now())
                raise
            done = self.clock.now()
            try:
                # The answer and the outcome in one transaction: a round trip less per call.
                counts = self._record(token, outcome, batch, done, slot)
            except BaseException:
                self.windows.release(slot, done)
                raise
        with self._lock:
            result.sent += counts[0]
            result.failed += counts[1]
            result.retried += counts[2]

    def _call(self, sender: PlatformSender, token: str, batch: Batch) -> BatchOutcome:
        if isinstance(batch.message, CardUpdate):
            self._with_cards(batch)
            missing = {d.row_id: texts.REASON_CARD_NOT_FOUND for d in batch.deliveries if d.card is None}
            if missing:
                present = [d for d in batch.deliveries if d.card is not None]
                if not present:
                    return BatchOutcome(failed=missing)
                outcome = self._call(sender, token, Batch(**{**batch.__dict__, "deliveries": present}))
                outcome.failed.update(missing)
                return outcome
        try:
            return sender.send(batch)
        except TransientPlatformError as exc:
            logger.warning("send to %s failed, will retry: %s", batch.platform, exc)
            return BatchOutcome(retry={d.row_id: str(exc) for d in batch.deliveries})
        except PermanentPlatformError as exc:
            logger.warning("send to %s refused: %s", batch.platform, exc)
            return BatchOutcome(failed={d.row_id: exc.reason for d in batch.deliveries})
        except Exception as exc:  # an adapter bug must not wedge the queue: retry with backoff
            logger.exception("unexpected error sending to %s", batch.platform)
            return BatchOutcome(retry={d.row_id: f"{type(exc).__name__}: {exc}" for d in batch.deliveries})

    def _backoff(self, attempts: int) -> float:
        delay = min(self.config.backoff_cap_seconds, self.config.backoff_base_seconds * 2 ** (attempts - 1))
        return delay * (0.8 + 0.4 * self.rng.random())

    def _record(
        self, token: str, outcome: BatchOutcome, batch: Batch, now: datetime, slot: object = None
    ) -> tuple[int, int, int]:
        by_id = {d.row_id: d for d in batch.deliveries}
        sent = failed = retried = 0
        mine = OutboxMessage.claimed_by == token
        with self.session_factory() as session, session.begin():
            if slot is not None:
                self.windows.release(slot, now, session)
            if outcome.sent:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(outcome.sent), mine)
                    .values(status=DeliveryStatus.SENT, sent_at=now, lease_until=None, last_error=None)
                    .execution_options(synchronize_session=False)
                )
                sent = len(outcome.sent)
            for row_id, reason in outcome.failed.items():
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, mine)
                    .values(
                        status=DeliveryStatus.FAILED,
                        reason=reason[:200],
                        attempts=OutboxMessage.attempts + 1,
                        lease_until=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                failed += 1
            for row_id, error in outcome.retry.items():
                attempts = by_id[row_id].attempts + 1 if row_id in by_id else 1
                values: dict = {"attempts": attempts, "last_error": error[:2000], "lease_until": None}
                if attempts >= self.config.max_attempts:
                    values |= {
                        "status": DeliveryStatus.FAILED,
                        "reason": texts.REASON_GAVE_UP.format(error=error)[:200],
                    }
                    failed += 1
                else:
                    values |= {
                        "status": DeliveryStatus.QUEUED,
                        "next_attempt_at": now + timedelta(seconds=self._backoff(attempts)),
                    }
                    retried += 1
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, mine)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            for row_id, handle in outcome.cards.items():
                d = by_id.get(row_id)
                if d is None:
                    continue
                card_key = getattr(d.message, "card_key", "")
                if card_key:
                    self._save_card(session, d, card_key, handle)
        metrics.OUTBOX_SENT.labels(batch.platform).inc(sent)
        metrics.OUTBOX_FAILED.labels(batch.platform).inc(failed)
        metrics.OUTBOX_RETRIED.labels(batch.platform).inc(retried)
        return sent, failed, retried

    @staticmethod
    def _save_card(session: Session, d: Delivery, card_key: str, handle: CardHandle) -> None:
        ref = session.scalars(
            select(CardRef).where(
                CardRef.platform == d.platform,
                CardRef.corp_id == d.corp_id,
                CardRef.target == d.target,
                CardRef.card_key == card_key,
            )
        ).first()
        if ref is None:
            session.add(
                CardRef(
                    platform=d.platform,
                    corp_id=d.corp_id,
                    target=d.target,
                    card_key=card_key,
                    card_id=handle.card_id,
                    response_code=handle.response_code,
                )
            )
        else:
            if isinstance(d.message, Card):
                ref.card_id = handle.card_id
            ref.response_code = handle.response_code

    def _defer(self, token: str, until: dict[int, datetime]) -> None:
        with self.session_factory() as session, session.begin():
            for row_id, moment in until.items():
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == token)
                    .values(status=DeliveryStatus.QUEUED, next_attempt_at=moment, lease_until=None)
                    .execution_options(synchronize_session=False)
                )

    def _release(self, *tokens: str) -> None:
        with self.session_factory() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.claimed_by.in_(tokens), OutboxMessage.status == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.QUEUED, lease_until=None)
                .execution_options(synchronize_session=False)
            )


class WakeupListener:
    """LISTENs on the outbox channel over its own PostgreSQL connection and wakes the relay on each
    NOTIFY, so a reply queued by a web or stream process is sent without waiting for the relay's poll.

    The poll stays: it is what picks up deferred and retried rows, and what covers a lost connection
    (after reconnecting, the listener wakes the relay once, for whatever was queued meanwhile).
    """

    def __init__(self, engine: Engine, relay: Relay, *, retry_seconds: float = 1.0) -> None:
        self.engine = engine
        self.relay = relay
        self.retry_seconds = retry_seconds
        self.ready = threading.Event()  # set once LISTEN is in place
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{relay.name}-listen", daemon=True)

    def start(self) -> WakeupListener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                logger.warning("outbox listener lost its connection; reconnecting", exc_info=True)
            self.ready.clear()
            self._stop.wait(self.retry_seconds)

    def _listen(self) -> None:
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()  # LISTEN belongs to this connection alone: it never goes back to the pool
        try:
            conn.autocommit = True
            conn.execute(f"LISTEN {WAKEUP_CHANNEL}")
            self.relay.wake()
            self.ready.set()
            while not self._stop.is_set():
                # Short timeouts only so stop() is noticed; a NOTIFY is handled as soon as it arrives.
                for _ in conn.notifies(timeout=0.5):
                    self.relay.wake()
        finally:
            raw.close()


def listen_for_wakeups(engine: Engine, relay: Relay) -> WakeupListener | None:
    """Start waking `relay` on other processes' commits; None on SQLite, which runs one process."""
    if engine.dialect.name != "postgresql":
        return None
    return WakeupListener(engine, relay).start()


def backlog(session: Session, now: datetime) -> int:
    """Rows due now and not yet sent: the health check's and the metrics' backlog."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING]),
                OutboxMessage.next_attempt_at <= now,
            )
        )
        or 0
    )


def unconfigured(session: Session, platforms: Iterable[str], now: datetime) -> dict[str, int]:
    """For the health check: rows still queued for a platform that is not configured (a relay moves
    or fails them when they come due), and rows failed in the last day because no configured platform
    reaches the person. Both are a configuration fact, not an outage."""
    queued = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING]),
            OutboxMessage.platform.not_in(list(platforms)),
        )
    )
    failed = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status == DeliveryStatus.FAILED,
            OutboxMessage.next_attempt_at >= now - timedelta(days=1),
            OutboxMessage.reason == texts.REASON_NO_PLATFORM,
        )
    )
    return {"queued": queued or 0, "failed_24h": failed or 0}
