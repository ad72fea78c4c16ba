"""Bearer tokens for the JSON API: stored hashed, revocable, scoped to a subtree of the organisation,
read-only unless created to write.

A token is 256 random bits (``secrets.token_urlsafe(32)``) behind a fixed ``zbt_`` prefix, so it is
recognisable in a leaked log or a secret scanner. Only its SHA-256 is stored: with that much entropy
a fast unkeyed hash cannot be brute-forced, and lookup is a single indexed equality. It is not keyed
with ZHIBU_SECRET_KEY on purpose, so rotating that key does not silently kill every integration.

The plain token exists only in the return value of issue_token(); the CLI prints it once.

A token reads by default: a reporting integration that leaks should not be able to create, move or
cancel meetings. ``can_write`` is set when the token is made and never changes; to give a running
integration write access, create a second token and revoke the first.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime
from models.org import OrgUnit, UnitKind

TOKEN_PREFIX = "zbt_"
# last_used_at is informational; writing it on every request would make every read a write
# (and serialise concurrent requests of one integration on its token row under PostgreSQL).
LAST_USED_RESOLUTION = timedelta(minutes=1)

SCOPE_ALL = "all"
# The scope kinds the CLI accepts, and the unit kind each one names.
SCOPE_KINDS = {"committee": UnitKind.COMMITTEE, "branch": UnitKind.BRANCH}


class ApiToken(TimestampMixin, Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # NULL means the whole organisation. A deleted unit takes its tokens with it: falling back
    # to NULL would widen the token to everything.
    scope_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_unit.id", ondelete="CASCADE"), index=True
    )
    # False: GET only. True: the write endpoints too (meetings, observer assignments).
    can_write: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    scope_unit: Mapped[OrgUnit | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name}>"


class ScopeError(ValueError):
    """A --scope value that names no unit, or more than one. The CLI turns it into Chinese text."""

    def __init__(self, reason: str, scope: str, candidates: list[ScopeCandidate] | None = None) -> None:
        super().__init__(f"{reason}: {scope}")
        self.reason = reason  # "syntax" | "unknown" | "ambiguous"
        self.scope = scope
        self.candidates = candidates or []


@dataclass(frozen=True)
class ScopeCandidate:
    """One of several units a name matched; plain values, usable after the session has closed."""

    id: int
    name: str
    parent_name: str | None


@dataclass
class ParsedScope:
    kind: str | None  # None for "all"
    names: list[str] = field(default_factory=list)  # [name] or [parent name, name]


def parse_scope(scope: str) -> ParsedScope:
    """'all', 'committee:<name>', 'branch:<name>' or 'branch:<parent name>/<name>'."""
    scope = scope.strip()
    if scope == SCOPE_ALL:
        return ParsedScope(kind=None)
    # Full-width colons and slashes are what a Chinese keyboard types.
    kind, sep, rest = scope.replace("：", ":").partition(":")
    kind = kind.strip().lower()
    names = [part.strip() for part in rest.replace("／", "/").split("/")]
    if not sep or kind not in SCOPE_KINDS or not all(names) or len(names) > 2:
        raise ScopeError("syntax", scope)
    return ParsedScope(kind=kind, names=names)


def resolve_scope(session: Session, scope: str) -> OrgUnit | None:
    """The unit a --scope value names (None for the whole organisation); raises ScopeError."""
    parsed = parse_scope(scope)
    if parsed.kind is None:
        return None
    stmt = select(OrgUnit).where(OrgUnit.kind == SCOPE_KINDS[parsed.kind], OrgUnit.name == parsed.names[-1])
    matches = list(session.scalars(stmt.order_by(OrgUnit.id)))
    if len(parsed.names) == 2:
        matches = [u for u in matches if u.parent is not None and u.parent.name == parsed.names[0]]
    if not matches:
        raise ScopeError("unknown", scope)
    if len(matches) > 1:
        candidates = [ScopeCandidate(u.id, u.name, u.parent.name if u.parent else None) for u in matches]
        raise ScopeError("ambiguous", scope, candidates)
    return matches[0]


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_token(
    session: Session, *, name: str, scope_unit: OrgUnit | None, now: datetime, can_write: bool = False
) -> tuple[ApiToken, str]:
    """Add a token row (read-only unless can_write); return it and the plain token, which is not kept."""
    plain = new_token()
    token = ApiToken(
        name=name,
        token_hash=hash_token(plain),
        scope_unit=scope_unit,
        can_write=can_write,
        created_at=now,
        updated_at=now,
    )
    session.add(token)
    session.flush()
    return token, plain


def authenticate(session: Session, plain: str, *, now: datetime) -> ApiToken | None:
    """The live token for a presented bearer value, or None (unknown, malformed or revoked)."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(plain))).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def revoke(session: Session, token_id: int, *, now: datetime) -> ApiToken | None:
    """Revoke a token; None when there is no such token. Revoking twice keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = now
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
