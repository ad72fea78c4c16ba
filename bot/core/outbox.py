"""The outbox: outgoing messages are rows written in the business transaction; a relay sends them.

Handlers and scheduler jobs call enqueue_to_people / enqueue_reply (through HandlerContext or
directly). Nothing here talks to a platform: the relay (bot.core.relay) does, after commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.core import texts
from bot.core.events import Account, Conversation
from bot.core.messages import OutgoingMessage, to_payload
from models.db import insert_or_skip
from models.org import ChatAccount, Person, Platform, person_by_account
from models.outbox import DeliveryStatus, OutboxMessage, TargetKind

# Which platforms reach people, in order of preference (a person with accounts on both is reached on
# the first). Every session carries the deployment's configured platforms in its info, put there by
# configure_platforms on the session factory (the composition root: bot.cli.common.database and
# Service), so whatever process queues a message (serve, run-job, a CLI command, the web app) decides
# the platform the same way. This default serves factories nobody configured (tests, scripts) and a
# process with no platform configured at all: the relay re-targets or fails what it cannot send.
PLATFORMS_INFO_KEY = "zhibu.platforms"
_preference: tuple[Platform, ...] = (Platform.DINGTALK, Platform.WECOM)

# Rows per INSERT: keeps SQLite under its bound-parameter limit.
_CHUNK = 500

# On PostgreSQL every transaction that queues rows sends NOTIFY on this channel; relays in other
# processes LISTEN (bot.core.relay.listen_for_wakeups) and skip their poll wait.
WAKEUP_CHANNEL = "zhibu_outbox"
_NOTIFIED_INFO_KEY = "zhibu.outbox_notified"


def set_platform_preference(platforms: Sequence[Platform | str]) -> None:
    """The order used by sessions whose factory was not given configure_platforms."""
    global _preference
    _preference = tuple(Platform(p) for p in platforms)


def configure_platforms(session_factory: sessionmaker[Session], platforms: Sequence[Platform | str]) -> None:
    """Every session of this factory queues people's messages only on `platforms` (in this order).

    An empty list means "not known here" (a process started without any platform's credentials): the
    default order applies and the relay, which has the senders, settles the rows.
    """
    info = dict(session_factory.kw.get("info") or {})
    info[PLATFORMS_INFO_KEY] = tuple(Platform(p) for p in platforms)
    session_factory.configure(info=info)


def reachable_platforms(session: Session) -> tuple[Platform, ...]:
    """The platforms this session's messages may be queued on, in order of preference."""
    return session.info.get(PLATFORMS_INFO_KEY) or _preference


def content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def person_recipient(person_id: int) -> str:
    return f"p:{person_id}"


def conversation_recipient(conversation: Conversation) -> str:
    return f"c:{conversation.platform}:{conversation.corp_id}:{conversation.conversation_id}"


def account_recipient(account: Account) -> str:
    """A 1:1 chat with one account: the same "c:" form as a conversation, keyed by the account."""
    return f"c:{account.platform}:{account.corp_id}:{account.account_id}"


def choose_account(
    accounts: Iterable[tuple[str, str, str]],
    platforms: Sequence[Platform | str] | None = None,
    preferred: Platform | str | None = None,
) -> tuple[str, str, str] | None:
    """The (platform, corp_id, account_id) a person is reached on: their `preferred` platform when it is
    one of `platforms` (default: the process default order) and they have an account there, else the
    first of `platforms` they have an account on; None when they have none there."""
    by_platform: dict[str, tuple[str, str, str]] = {}
    for acc in sorted(accounts):  # deterministic when a person has two corps on one platform
        by_platform.setdefault(str(acc[0]), acc)
    order = [str(p) for p in (_preference if platforms is None else platforms)]
    if preferred is not None and str(preferred) in order:
        order.insert(0, str(preferred))
    for platform in order:
        if str(platform) in by_platform:
            return by_platform[str(platform)]
    return None


_COLUMNS = [c for c in OutboxMessage.__table__.columns if not c.primary_key]
_INSERT = insert_or_skip(OutboxMessage.__table__, [c.key for c in _COLUMNS], ("dedup_key", "recipient"))


def _with_defaults(row: dict[str, Any]) -> dict[str, Any]:
    full = dict(row)
    for column in _COLUMNS:
        if column.key not in full:
            default = column.default
            if default is None:
                full[column.key] = None
            else:
                full[column.key] = default.arg(None) if default.is_callable else default.arg
    return full


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    # One statement, many parameter sets: the drivers batch them (psycopg pipelines, SQLite
    # executemany). On SQLite rows already queued are left out first, so the count is of new rows; a
    # row a concurrent transaction queues meanwhile is skipped by ON CONFLICT. Looking first keeps a
    # transaction that only re-queues what is there from writing: on SQLite even an INSERT that
    # conflicts takes the write lock, and holds it until the transaction ends.
    new = 0
    if session.get_bind().dialect.name == "postgresql":
        # No lookup first: ON CONFLICT skips the rows already queued, without writing them, and psycopg's
        # rowcount of the batch counts the new ones. A lookup's plan rests on the table's statistics,
        # which a transaction queuing hundreds of thousands of rows into an outbox analysed when nearly
        # empty (a first fee day) leaves stale: it scanned the growing table once per chunk, 1.5 s each.
        for start in range(0, len(rows), _CHUNK):
            new += session.execute(
                _INSERT, [_with_defaults(row) for row in rows[start : start + _CHUNK]]
            ).rowcount
        if new:
            notify_relays(session)
        return new
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        # One lookup per chunk whatever the number of keys (a job queuing a card per branch has
        # thousands); the pairs are matched here, so a key × recipient cross match costs nothing.
        pairs = {(row["dedup_key"], row["recipient"]) for row in chunk}
        existing = set(
            session.execute(
                select(OutboxMessage.dedup_key, OutboxMessage.recipient).where(
                    OutboxMessage.dedup_key.in_({k for k, _ in pairs}),
                    OutboxMessage.recipient.in_({r for _, r in pairs}),
                )
            ).tuples()
        )
        fresh = [_with_defaults(row) for row in chunk if (row["dedup_key"], row["recipient"]) not in existing]
        if fresh:
            session.execute(_INSERT, fresh)
        new += len(fresh)
    if new:
        notify_relays(session)
    return new


def notify_relays(session: Session) -> None:
    """Wake the relays of every process once this transaction commits (PostgreSQL).

    NOTIFY inside the queuing transaction is delivered at its commit and never if it rolls back, so a
    relay cannot be woken before the rows are visible, nor for rows that never were. Once per
    transaction: PostgreSQL folds repeats anyway, this saves the round trips. SQLite deployments run
    one process, whose committing code wakes its relay directly.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    # The innermost transaction: a savepoint rolled back takes its NOTIFY with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if session.info.get(_NOTIFIED_INFO_KEY) is transaction:
        return
    session.execute(text(f"NOTIFY {WAKEUP_CHANNEL}"))
    session.info[_NOTIFIED_INFO_KEY] = transaction


@dataclass(frozen=True)
class Queued:
    """One message for some people, as enqueue_many takes them."""

    person_ids: Iterable[int]
    message: OutgoingMessage
    dedup_key: str
    not_before: datetime | None = None


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
    A person with no chat account gets a failed ledger row ("未绑定") so the secretary can see it; so
    does one whose accounts all left their platforms' directories (ChatAccount.left_directory_at):
    an account marked so is never chosen.
    """
    return enqueue_many(session, [Queued(person_ids, message, dedup_key, not_before)], now=now)


@dataclass(frozen=True)
class Reach:
    """Where a person's messages are queued now: `account` (platform, corp_id, account_id), or None and
    `reason` (in Chinese) why not."""

    branch_id: int | None
    account: tuple[str, str, str] | None
    reason: str | None = None


def reach_people(session: Session, person_ids: Iterable[int]) -> dict[int, Reach]:
    """Each existing person's Reach, as enqueue_many decides it: their preferred platform when this
    session queues there, else the first configured one they have an account on; an account that left
    its platform's directory (ChatAccount.left_directory_at) is never chosen. Two statements a chunk."""
    ids = sorted(set(person_ids))
    people: dict[int, tuple[int | None, str | None]] = {}
    accounts: dict[int, list[tuple[str, str, str]]] = {}
    departed: set[int] = set()  # people with an account that left its directory
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for pid, branch_id, platform in session.execute(
            select(Person.id, Person.branch_id, Person.preferred_platform).where(Person.id.in_(chunk))
        ):
            people[pid] = (branch_id, platform)
        for pid, platform, corp, account, left in session.execute(
            select(
                ChatAccount.person_id,
                ChatAccount.platform,
                ChatAccount.corp_id,
                ChatAccount.account_id,
                ChatAccount.left_directory_at,
            ).where(ChatAccount.person_id.in_(chunk))
        ):
            if left is None:
                accounts.setdefault(pid, []).append((str(platform), corp, account))
            else:
                departed.add(pid)
    platforms = reachable_platforms(session)
    return {
        pid: _reach_of(branch_id, preferred, accounts.get(pid, []), platforms, departed=pid in departed)
        for pid, (branch_id, preferred) in people.items()
    }


def _reach_of(
    branch_id: int | None,
    preferred: Platform | str | None,
    accounts: Sequence[tuple[str, str, str]],
    platforms: Sequence[Platform | str],
    *,
    departed: bool = False,
) -> Reach:
    """One person's Reach from what reach_people read: their `accounts` still in their directories
    (platform, corp_id, account_id), whether they have one that left (`departed`), and the session's
    `platforms` (reachable_platforms)."""
    chosen = choose_account(accounts, platforms, preferred)
    if chosen is not None:
        return Reach(branch_id, chosen)
    if accounts:
        return Reach(branch_id, None, texts.REASON_NO_PLATFORM)
    if departed:
        return Reach(branch_id, None, texts.REASON_LEFT_DIRECTORY)
    return Reach(branch_id, None, texts.REASON_UNBOUND)


def enqueue_many(session: Session, items: Iterable[Queued], *, now: datetime) -> int:
    """enqueue_to_people for many messages at once (a card per branch, say): the people and their
    accounts are read, and the rows written, a chunk at a time for all of them, so the statements do
    not grow with the number of messages."""
    items = [(sorted(set(it.person_ids)), it) for it in items]
    ids = sorted({pid for pids, _ in items for pid in pids})
    if not ids:
        return 0
    reach = reach_people(session, ids)
    rows = []
    for pids, it in items:
        rows += _person_rows(reach, pids, it, now)
    return _insert(session, rows)


def _person_rows(
    reach: Mapping[int, Reach], person_ids: Iterable[int], it: Queued, now: datetime
) -> list[dict[str, Any]]:
    payload = to_payload(it.message)
    digest = content_hash(payload)
    due = it.not_before or now
    rows = []
    for pid in person_ids:
        if pid not in reach:
            continue  # deleted meanwhile: nobody to tell
        row = {
            "dedup_key": it.dedup_key,
            "recipient": person_recipient(pid),
            "person_id": pid,
            "branch_id": reach[pid].branch_id,
            "payload": payload,
            "content_hash": digest,
            "target_kind": TargetKind.USER,
            "next_attempt_at": due,
            "created_at": now,
            "attempts": 0,
            "reason": None,
        }
        chosen = reach[pid].account
        if chosen is None:
            row |= {
                "status": DeliveryStatus.FAILED,
                "reason": reach[pid].reason,
                "platform": "",
                "corp_id": "",
                "target": "",
            }
        else:
            row |= {
                "status": DeliveryStatus.QUEUED,
                "platform": chosen[0],
                "corp_id": chosen[1],
                "target": chosen[2],
            }
        rows.append(row)
    return rows


def enqueue_reply(
    session: Session,
    conversation: Conversation | None,
    sender: Account,
    message: OutgoingMessage,
    *,
    dedup_key: str,
    now: datetime,
    sender_person: Person | None | Literal["look up"] = "look up",
) -> None:
    """Queue an answer into the conversation an event came from (the group, or the 1:1 chat).
    `sender_person`: the sender's person when the caller has read it already (the dispatcher does, for
    every event), saving the lookup on the busiest path there is."""
    payload = to_payload(message)
    if conversation is not None and conversation.is_group:
        target_kind, target = TargetKind.GROUP, conversation.conversation_id
        recipient = conversation_recipient(conversation)
        person = None
    else:
        target_kind, target = TargetKind.USER, sender.account_id
        recipient = account_recipient(sender)
        person = (
            person_by_account(session, sender.platform, sender.corp_id, sender.account_id)
            if sender_person == "look up"
            else sender_person
        )
    _insert(
        session,
        [
            {
                "dedup_key": dedup_key,
                "recipient": recipient,
                "platform": str(sender.platform),
                "corp_id": sender.corp_id,
                "target_kind": target_kind,
                "target": target,
                "person_id": person.id if person else None,
                "branch_id": person.branch_id if person else None,
                "payload": payload,
                "content_hash": content_hash(payload),
                "status": DeliveryStatus.QUEUED,
                "next_attempt_at": now,
                "created_at": now,
                "attempts": 0,
            }
        ],
    )
