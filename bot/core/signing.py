"""One signer for every token and cookie zhibu hands out, on itsdangerous.

Each use names its purpose, which salts the key: a token signed for one purpose (a sign-in QR, a
projector link, the H5 session, a CSRF token) never verifies as another's. Timestamped tokens carry
the moment they were signed and expire after a max age; the moment is the injected `now`, never the
machine's clock, so tests move time as everywhere else.

- ``TokenSigner(secret, purpose)``: ``sign(payload, now=…)`` → a URL-safe token holding any JSON
  value; ``unsign(token, now=…, max_age=…)`` → the payload, or ``BadToken`` (forged, malformed,
  another purpose) / ``ExpiredToken`` (older than max_age, or signed in the future).
- ``signature(secret, purpose, value)``: a fixed signature of a value, for a check that recomputes it
  (the H5 CSRF token is the signature of the session cookie it belongs to).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner, URLSafeTimedSerializer


class BadToken(Exception):
    """Forged, malformed, or signed for another purpose."""


class ExpiredToken(BadToken):
    """Genuine, but older than its max age (or dated after `now`)."""


def _salt(purpose: str) -> str:
    if not purpose:
        raise ValueError("a signed value needs a purpose")
    return f"zhibu.{purpose}"


class _SignerAt(TimestampSigner):
    """itsdangerous reads the clock in get_timestamp, for signing and for the age check alike: this one
    reads the `now` it is given."""

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


class TokenSigner:
    def __init__(self, secret: str, purpose: str) -> None:
        if not secret:
            raise ValueError("a signer needs a secret key")
        self._secret = secret
        self._salt = _salt(purpose)

    def _serializer(self, now: datetime) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self._secret,
            salt=self._salt,
            signer=_SignerAt,
            signer_kwargs={"now": now, "digest_method": hashlib.sha256},
        )

    def sign(self, payload: Any, *, now: datetime) -> str:
        return self._serializer(now).dumps(payload)

    def unsign(self, token: str, *, now: datetime, max_age: timedelta) -> Any:
        try:
            return self._serializer(now).loads(token or "", max_age=int(max_age.total_seconds()))
        except SignatureExpired as exc:
            raise ExpiredToken(str(exc)) from None
        except BadSignature as exc:
            raise BadToken(str(exc)) from None


def signature(secret: str, purpose: str, value: str) -> str:
    """The signature alone (URL-safe base64 of an HMAC-SHA256), the same each time for the same value."""
    if not secret:
        raise ValueError("a signer needs a secret key")
    return Signer(secret, salt=_salt(purpose), digest_method=hashlib.sha256).get_signature(value).decode()
