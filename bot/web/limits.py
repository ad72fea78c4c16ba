"""Request body limits per route, enforced by the app itself before any handler reads a byte.

A reverse proxy should limit bodies too (docs/going-live.md), but the app must not depend on it: the
WeCom callback is unauthenticated until its signature is checked, which needs the whole body, and a
form's body arrives before its session can be looked at.

Written by hand (an ASGI middleware of a few dozen lines): Starlette and FastAPI have no body-size
limit, and the ones in other packages cap every route alike, while a photo form needs 25 MB and the
callback 64 KB. A declared Content-Length over the limit is refused at once; a chunked body is counted
as it arrives and cut off at the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException

from handlers.spreadsheets import LIMITS as SHEET_LIMITS
from models import attachments

KB = 1024
MB = 1024 * KB

# What WeCom sends is an encrypted XML envelope of one message or event: a text message is at most
# 2,048 bytes, so 64 KB leaves room for any event and refuses everything else.
CALLBACK_LIMIT = 64 * KB
# A form with photos: the photos at their limits plus the typed fields.
PHOTO_FORM_LIMIT = attachments.MAX_PHOTOS * attachments.MAX_PHOTO_BYTES + 1 * MB
# JSON forms (a month's plan is the largest) and the JSON API.
H5_LIMIT = 256 * KB
# A roster uploaded in the console: the file limit every importer applies, and the multipart framing.
ROSTER_UPLOAD_LIMIT = SHEET_LIMITS.file_bytes + 64 * KB
API_LIMIT = 1 * MB
DEFAULT_LIMIT = 64 * KB

# First match wins: (path pattern, limit in bytes).
ROUTE_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/wecom/callback$"), CALLBACK_LIMIT),
    (re.compile(r"^/h5/meetings/\d+/minutes$"), PHOTO_FORM_LIMIT),
    (re.compile(r"^/h5/observers/\d+/form$"), PHOTO_FORM_LIMIT),
    (re.compile(r"^/h5/"), H5_LIMIT),
    (re.compile(r"^/console/people/roster/upload$"), ROSTER_UPLOAD_LIMIT),
    (re.compile(r"^/api/"), API_LIMIT),
)

TOO_LARGE = "请求内容过大，已拒绝。"


class _TooLarge(HTTPException):
    """Raised from receive() inside a route, so the app's own exception handling answers 413."""

    def __init__(self) -> None:
        super().__init__(413, detail=TOO_LARGE)


def limit_for(path: str, limits: Sequence[tuple[re.Pattern[str], int]] = ROUTE_LIMITS) -> int:
    for pattern, limit in limits:
        if pattern.match(path):
            return limit
    return DEFAULT_LIMIT


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's limit (see ROUTE_LIMITS)."""

    def __init__(self, app, limits: Sequence[tuple[re.Pattern[str], int]] = ROUTE_LIMITS) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.limits)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = True  # a malformed length is no length we could honour
            if too_large:
                await _refuse(scope, send)
                return

        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _refuse(scope, send)


# A browser (a console upload, an H5 form posted without script) reads a page; scripts read JSON.
_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>请求内容过大</title>'
    f"<p>{TOO_LARGE}请返回上一页，减少上传的文件或照片后再试。</p></html>"
)


async def _refuse(scope, send) -> None:
    if b"text/html" in dict(scope["headers"]).get(b"accept", b""):
        body, kind = _PAGE.encode(), b"text/html; charset=utf-8"
    else:
        body, kind = (
            json.dumps({"detail": TOO_LARGE}, ensure_ascii=False).encode(),
            b"application/json; charset=utf-8",
        )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
