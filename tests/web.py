"""Opening an H5 session in tests as a page does: the cookie, and the CSRF token the page then sends."""

from __future__ import annotations

from datetime import datetime

from bot.web.h5 import COOKIE, CSRF_HEADER, csrf_token, session_token


def open_session(client, path: str, payload: dict):
    """POST an H5 ``…/session``; on success the client sends the session's CSRF token from then on."""
    r = client.post(path, json=payload)
    if r.status_code == 200:
        client.headers[CSRF_HEADER] = r.json()["csrf"]
    return r


def set_session(client, secret: str, person_id: int, now: datetime) -> None:
    """Give the client the session cookie a login at `now` would (and its CSRF token), without the
    platform round trip."""
    token = session_token(secret, person_id, now)
    client.cookies.set(COOKIE, token)
    client.headers[CSRF_HEADER] = csrf_token(secret, token)
