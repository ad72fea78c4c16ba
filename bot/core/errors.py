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
    """Retrying cannot help (bad request, no permission). `reason` is Chinese, for the ledger; `code`
    is the platform's own error code when it gave one (DingTalk's "param.cardAlreadyExist", WeCom's "81013"), for the
    callers that treat one refusal as an answer."""

    def __init__(self, message: str, *, reason: str, code: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.code = code


class IdentityError(Exception):
    """A login-free auth code could not be exchanged for a user id (expired, forged, reused)."""


class Refused(Exception):
    """A request the person may not make, or a bad value, found before the use case wrote anything.

    The one way every feature says no. The message is Chinese and shown as is: the dispatcher turns it
    into the chat reply (rolling back to the savepoint it took before the handler ran, so a refusal
    changes nothing even when something was written first), and the web app's exception handler into
    the H5 message page or a JSON 4xx. `fields` names the form fields at fault (an H5 form marks them;
    the JSON API puts them in the error's loc); `status` is the HTTP status on the web: 400 a bad
    value (the default), 403 not this person's to do, 404 nothing of the kind, 409 a conflict with the
    record's state. `confirmable`: the person may go ahead once told (an H5 form asks and sends again).
    """

    confirmable = False

    def __init__(self, message: str, fields: tuple[str, ...] = (), *, status: int = 400) -> None:
        if not 400 <= status < 500:
            raise ValueError(f"a refusal is a 4xx, not {status}")
        super().__init__(message)
        self.fields = tuple(fields)
        self.status = status
