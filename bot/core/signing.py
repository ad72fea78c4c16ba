"""One signer for every token and cookie zhibu hands out, on itsdangerous.

Each use names its purpose, which salts the key: a token signed for one purpose (a sign-in QR, a
projector link, the H5 session, a monthly chart link) never verifies as another's.

A token is ``<subject>.<expiry>.<signature>``: a whole number it stands for (a meeting, a person, a
unit), the moment it stops being valid (seconds since the epoch), both in the clear, and the
HMAC-SHA256 of the two. The expiry is part of the token rather than derived from when it was signed
because several lifetimes are set by something else (a sign-in code ends with the window's close, a
projector link with the meeting's); and the whole stays short, so a QR code read off a projector
stays sparse. Validity is judged at the injected `now`, never the machine's clock.

- ``TokenSigner(secret, purpose)``: ``sign(subject, expires_at=…)`` → the token;
  ``unsign(token, now=…, grace=…)`` → the subject, or ``BadToken`` (forged, malformed, another
  purpose) / ``ExpiredToken`` (past its expiry plus the grace; it still names its subject).
- ``signature(secret, purpose, value)``: a fixed signature of a value, for a check that recomputes it
  (the H5 CSRF token is the signature of the session cookie it belongs to).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer

# What sign() writes, and nothing else: itsdangerous's base64 decoding would skip stray characters.
_TOKEN = re.compile(r"(-?\d{1,18})\.(\d{1,12})\.[A-Za-z0-9_-]{43}")


class BadToken(Exception):
    """Forged, malformed, or signed for another purpose."""


class ExpiredToken(BadToken):
    """Genuine, but past its expiry (and the grace allowed)."""

    def __init__(self, subject: int) -> None:
        super().__init__(f"token for {subject} expired")
        self.subject = subject


def _signer(secret: str, purpose: str) -> Signer:
    if not secret:
        raise ValueError("a signer needs a secret key")
    if not purpose:
        raise ValueError("a signed value needs a purpose")
    return Signer(secret, salt=f"zhibu.{purpose}", sep=".", digest_method=hashlib.sha256)


class TokenSigner:
    def __init__(self, secret: str, purpose: str) -> None:
        self._signer = _signer(secret, purpose)

    def sign(self, subject: int, *, expires_at: datetime) -> str:
        return self._signer.sign(f"{int(subject)}.{int(expires_at.timestamp())}").decode()

    def unsign(self, token: str, *, now: datetime, grace: timedelta = timedelta(0)) -> int:
        match = _TOKEN.fullmatch(token or "")
        if match is None:
            raise BadToken("malformed token")
        try:
            self._signer.unsign(token)
        except BadSignature:
            raise BadToken("bad signature") from None
        subject, expiry = int(match[1]), int(match[2])
        if now.timestamp() > expiry + grace.total_seconds():
            raise ExpiredToken(subject)
        return subject


def signature(secret: str, purpose: str, value: str) -> str:
    """The signature alone (URL-safe base64 of an HMAC-SHA256), the same each time for the same value."""
    return _signer(secret, purpose).get_signature(value).decode()
