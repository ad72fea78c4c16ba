"""Console sessions and one-time login links: open, find, end.

A session lives server-side (models.console.ConsoleSession): the cookie carries a random token whose
hash finds the row. It ends when revoked (退出, or by an administrator), after `idle` without a
request, or at `lifetime` after login, whichever comes first. A login ticket (the link 登录后台
answers with) is good once, for `ticket_valid`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from models.console import ConsoleLoginTicket, ConsoleSession, hash_secret, new_secret

# last_seen_at is written at most this often: a page's htmx requests should not each be a write.
TOUCH_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ConsoleConfig:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    ticket_valid: timedelta = timedelta(minutes=5)
    # Roster uploads and phone-match results between preview and apply (ZHIBU_CONSOLE__UPLOADS).
    uploads: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "zhibu-console-uploads")


def console_config(core: CoreConfig) -> ConsoleConfig:
    """The console's session rules as the composition root configured them (ZHIBU_CONSOLE__*)."""
    return core.derive(_from_core)


def _from_core(core: CoreConfig) -> ConsoleConfig:
    r = core.rules.console
    return ConsoleConfig(
        idle=timedelta(minutes=r.idle_minutes),
        lifetime=timedelta(hours=r.lifetime_hours),
        ticket_valid=timedelta(minutes=r.link_minutes),
        **({"uploads": Path(r.uploads)} if r.uploads else {}),
    )


def open_session(
    session: Session, person_id: int, method: str, *, now: datetime, cfg: ConsoleConfig, user_agent: str = ""
) -> str:
    """A new session for the person; returns the cookie value (shown nowhere else)."""
    token, token_hash = new_secret()
    session.add(
        ConsoleSession(
            token_hash=token_hash,
            person_id=person_id,
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=now + cfg.lifetime,
            user_agent=user_agent[:200],
        )
    )
    session.flush()
    return token


def live_session(session: Session, token: str, *, now: datetime, cfg: ConsoleConfig) -> ConsoleSession | None:
    """The live session a cookie names (and mark it seen), or None: unknown, revoked, idle or expired."""
    if not token or len(token) > 100:
        return None
    row = session.scalars(
        select(ConsoleSession).where(ConsoleSession.token_hash == hash_secret(token))
    ).first()
    if (
        row is None
        or row.revoked_at is not None
        or now >= row.expires_at
        or now >= row.last_seen_at + cfg.idle
    ):
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = now
    return row


def revoke(session: Session, row: ConsoleSession, *, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now


def revoke_all(session: Session, person_id: int, *, now: datetime) -> int:
    """End every live session of a person (their role ended, an account was misused)."""
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.person_id == person_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount or 0


def issue_ticket(session: Session, person_id: int, *, now: datetime, cfg: ConsoleConfig) -> str:
    """A one-time login link's token for the person."""
    token, token_hash = new_secret()
    session.add(
        ConsoleLoginTicket(
            token_hash=token_hash, person_id=person_id, created_at=now, expires_at=now + cfg.ticket_valid
        )
    )
    session.flush()
    return token


def ticket_usable(session: Session, token: str, *, now: datetime) -> bool:
    """Whether a login link would still work, without using it up (the page before the press)."""
    if not token or len(token) > 100:
        return False
    return (
        session.scalars(
            select(ConsoleLoginTicket.id).where(
                ConsoleLoginTicket.token_hash == hash_secret(token),
                ConsoleLoginTicket.used_at.is_(None),
                ConsoleLoginTicket.expires_at > now,
            )
        ).first()
        is not None
    )


def redeem_ticket(session: Session, token: str, *, now: datetime) -> int | None:
    """The person a login link belongs to, using it up; None if unknown, used or expired.

    One conditional UPDATE, so two browsers opening the same link at once cannot both log in."""
    if not token or len(token) > 100:
        return None
    token_hash = hash_secret(token)
    result = session.execute(
        update(ConsoleLoginTicket)
        .where(
            ConsoleLoginTicket.token_hash == token_hash,
            ConsoleLoginTicket.used_at.is_(None),
            ConsoleLoginTicket.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:
        return None
    return session.scalars(
        select(ConsoleLoginTicket.person_id).where(ConsoleLoginTicket.token_hash == token_hash)
    ).one()
