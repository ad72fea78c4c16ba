"""The organisation department's web console: server-side sessions and one-time login links.

A console session is a row, not a signed cookie, so an administrator can end it (revoked_at) and it
expires both when idle and at an absolute limit whatever the browser does. The cookie holds a random
token; only its SHA-256 is stored (as for API tokens: 256 random bits need no keyed hash).

A login ticket is the one-time link the chat command 登录后台 answers with: single use (used_at),
short-lived (expires_at), stored hashed the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime
from models.org import Person


def new_secret() -> tuple[str, str]:
    """A fresh random token and the hash that is stored for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_secret(token)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleSession(Base):
    __tablename__ = "console_session"
    __table_args__ = (Index("ix_console_session_person", "person_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # How the person logged in: dingtalk (扫码), wecom (扫码), link (登录后台).
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the absolute limit
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    person: Mapped[Person] = relationship()


class ConsoleLoginTicket(Base):
    __tablename__ = "console_login_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
