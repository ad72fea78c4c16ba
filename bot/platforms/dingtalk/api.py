"""DingTalk server API over httpx: token cache, one refresh on a token error, errors in our own terms.

Our own HTTP calls, not the SDK's reply helpers: those use blocking `requests` inside the event loop
and never look at a response's error code.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx

from bot.core import texts
from bot.core.errors import PermanentPlatformError, TokenError, TransientPlatformError

logger = logging.getLogger(__name__)

# oapi error codes: token problems, and "too many calls" (90002 per API, 90018 per app, 90019 ISV;
# -1 系统繁忙, and an errcode that is not a number).
_OAPI_TOKEN_ERRORS = {40001, 40014, 42001}
_OAPI_RATE_ERRORS = {90002, 90018, 90019, -1}


class OapiError(PermanentPlatformError):
    """An oapi answer with a non-zero errcode that retrying cannot help; callers that give some
    codes a meaning of their own (the phone lookup's 60121 找不到该用户) read `errcode`."""

    def __init__(self, message: str, *, reason: str, errcode: int) -> None:
        super().__init__(message, reason=reason, code=str(errcode))
        self.errcode = errcode


class DingTalkApi:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        openapi_endpoint: str,
        oapi_endpoint: str,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.openapi = openapi_endpoint.rstrip("/")
        self.oapi = oapi_endpoint.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout, trust_env=False)
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # ---- token

    def token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if refresh or self._token is None or time.monotonic() >= self._token_expires:
                body = self._request(
                    "POST",
                    f"{self.openapi}/v1.0/oauth2/accessToken",
                    json={"appKey": self.client_id, "appSecret": self._secret},
                )
                self._token = body["accessToken"]
                # Refresh five minutes early, as the SDK does, so a call never carries a dying token.
                self._token_expires = time.monotonic() + max(60, int(body.get("expireIn", 7200)) - 300)
            return self._token

    # ---- calls

    def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A new-style call (api.dingtalk.com/v1.0/…); one token refresh on an authentication error."""
        for attempt in (0, 1):
            headers = {"x-acs-dingtalk-access-token": self.token(refresh=attempt == 1)}
            try:
                return self._request(method, f"{self.openapi}{path}", json=body, headers=headers)
            except TokenError:
                if attempt == 1:
                    raise TransientPlatformError("DingTalk kept refusing a fresh access token") from None
                logger.info("DingTalk token rejected; refreshing once")
        raise AssertionError("unreachable")

    def oapi_call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """An old-style call (oapi.dingtalk.com): HTTP 200 with errcode in the body. A rate-limit
        answer is a TransientPlatformError worth asking again in a second; any other refusal an OapiError."""
        for attempt in (0, 1):
            token = self.token(refresh=attempt == 1)
            data = self._request("POST", f"{self.oapi}{path}", json=body, params={"access_token": token})
            errcode = _errcode(data)
            if errcode == 0:
                return data
            if errcode in _OAPI_TOKEN_ERRORS and attempt == 0:
                continue
            said = f"{errcode} {data.get('errmsg', '')}"
            if errcode in _OAPI_RATE_ERRORS:
                raise TransientPlatformError(f"DingTalk oapi {path}: {said}", retry_after=1.0)
            if errcode in _OAPI_TOKEN_ERRORS:
                raise TransientPlatformError(f"DingTalk oapi {path}: {said}")
            raise OapiError(
                f"DingTalk oapi {path}: {said}",
                reason=texts.REASON_REJECTED.format(error=said),
                errcode=errcode,
            )
        raise AssertionError("unreachable")

    def request(self, method: str, url: str, **kwargs) -> dict[str, Any]:
        """One call with no app token (the web login's user-token calls), errors in our own terms."""
        return self._request(method, url, **kwargs)

    def _request(self, method: str, url: str, **kwargs) -> dict[str, Any]:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientPlatformError(f"DingTalk timeout: {url}") from exc
        except httpx.TransportError as exc:
            raise TransientPlatformError(f"DingTalk unreachable: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            # The per-IP ban answers with an HTML page; a proxy error may too.
            raise TransientPlatformError(f"DingTalk answered {response.status_code} without JSON") from None
        if response.status_code < 400:
            return data if isinstance(data, dict) else {"result": data}
        code = str(data.get("code", "")) if isinstance(data, dict) else ""
        message = str(data.get("message", "")) if isinstance(data, dict) else ""
        if response.status_code == 401 or code == "InvalidAuthentication":
            raise TokenError(f"DingTalk {code}: {message}")
        if response.status_code == 429 or "QpsLimit" in code or "Throttling" in code or "90002" in message:
            raise TransientPlatformError(f"DingTalk rate limit: {code} {message}", retry_after=1.0)
        if response.status_code >= 500:
            raise TransientPlatformError(f"DingTalk {response.status_code}: {code} {message}")
        raise PermanentPlatformError(
            f"DingTalk {response.status_code}: {code} {message}",
            reason=texts.REASON_REJECTED.format(error=message or code),
            code=code,
        )


def _errcode(data: dict[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0) or 0)
    except (TypeError, ValueError):
        return -1
