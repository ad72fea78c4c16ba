"""Our own errors. Adapters translate SDK and HTTP failures into these at the edge."""

from __future__ import annotations


class PlatformError(Exception):
    """A chat platform refused or failed a call."""


class TransientPlatformError(PlatformError):
    """Worth retrying later: 5xx, a timeout, a rate-limit answer (DingTalk 90002, WeCom 45009/45033)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenError(PlatformError):
    """The access token was rejected; the sender refreshes it once and tries again."""


class PermanentPlatformError(PlatformError):
    """Retrying cannot help (bad request, no permission). `reason` is Chinese, for the ledger."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class IdentityError(Exception):
    """A login-free auth code could not be exchanged for a user id (expired, forged, reused)."""
