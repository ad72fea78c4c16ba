"""What every H5 page feature (meetings, observers, monthly) shares: the login-free identity and the
page renderer.

Identity never comes from a URL or a form field: a page gets a platform auth code (DingTalk
requestAuthCode; WeCom OAuth2 snsapi_base redirect), POSTs it to ``…/session``, and the server
exchanges it with the platform and sets one signed, HttpOnly session cookie (person id + expiry)
that every H5 page accepts, so a member identified on one feature is known on all.

- ``H5Pages``: built once per feature router from the session factory, the platform identities,
  the core config and the clock. It renders pages (with the DingTalk JSAPI / corp id / platform
  context base.html needs), message pages, reads the person from the cookie, and mounts the
  ``/session`` and ``/auth/wecom`` endpoints on the feature's router (their URLs stay those the
  templates, QR codes and cards already use).
- ``build_h5_router``: the same two endpoints once at ``/h5/session`` and ``/h5/auth/wecom``, whose
  ``next`` may be any of our own /h5/ pages.

``identities``: platform name ("dingtalk" / "wecom") → the adapter's identity object, with
``corp_id``, ``user_for_code(code) -> account id`` (raises bot.core.errors.IdentityError) and, for
WeCom, ``authorize_url(redirect_uri, state)``. A platform that is not configured is simply absent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from bot.core.context import CoreConfig
from bot.core.errors import IdentityError
from handlers.meetings import signin as tokens
from handlers.meetings import strings
from models import attachments
from models.base import utcnow
from models.db import unit_of_work
from models.org import Person, Platform, person_by_account

logger = logging.getLogger(__name__)

H5_ROOT = "/h5"
COOKIE = "zhibu_h5"
SESSION_PURPOSE = "h5session"
SESSION_TTL = timedelta(hours=12)
DINGTALK_JSAPI = "https://g.alicdn.com/dingding/dingtalk-jsapi/3.0.25/dingtalk.open.js"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def platform_of(user_agent: str) -> str:
    """Which client opened the page: DingTalk's UA says "DingTalk", WeCom's says "wxwork"."""
    ua = (user_agent or "").lower()
    if "wxwork" in ua:
        return "wecom"
    if "dingtalk" in ua:
        return "dingtalk"
    return ""


def default_jsapi_url(identities: Mapping[str, Any]) -> str:
    """DingTalk's JSAPI, or the sandbox's stand-in when the DingTalk adapter talks to a loopback server
    (the demo and the tests): there is no DingTalk client there to provide `dd`.
    """
    oapi = str(getattr(getattr(identities.get("dingtalk"), "api", None), "oapi", "") or "")
    if oapi.startswith(("http://127.0.0.1", "http://localhost")):
        return f"{oapi}/_sandbox/dd-shim.js"
    return DINGTALK_JSAPI


def core_from_settings() -> CoreConfig:
    """The app factory's core config: tz, public URL and secret key from the settings."""
    from config.settings import get_settings

    s = get_settings()
    return CoreConfig(tz=s.tz, public_base_url=s.public_base_url, secret_key=s.secret_key.get_secret_value())


async def read_form(
    request: Request, files_field: str = "photos"
) -> tuple[dict[str, Any], list[attachments.Upload]]:
    """A form POST's fields and uploaded files: multipart (a form with photos) or JSON (without).

    Pages send JSON when no photo is chosen, so older clients and tests keep working unchanged.
    """
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # Many more parts than photos are allowed through so that check_photos can say "too many".
        form = await request.form(max_files=attachments.MAX_PHOTOS * 4)
        fields: dict[str, Any] = {}
        uploads = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
            elif key == files_field:
                # One byte past the limit is enough to refuse: never read a huge upload whole.
                data = await value.read(attachments.MAX_PHOTO_BYTES + 1)
                uploads.append(attachments.Upload(value.filename or "", data))
        await form.close()
        return fields, uploads
    try:
        payload = await request.json()
    except ValueError:
        payload = None
    return (payload if isinstance(payload, dict) else {}), []


def photo_response(photo: attachments.Attachment) -> Response:
    """A stored photo, private to the browser (it is only for people who may see the record)."""
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


class H5Pages:
    """One feature's view of the shared H5 identity and page renderer (see the module doc)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        identities: Mapping[str, Any],
        core: CoreConfig | None = None,
        *,
        prefix: str,
        dingtalk_jsapi_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        context: Mapping[str, Any] | None = None,
        not_member: tuple[str, str] | None = None,
    ):
        self.session_factory = session_factory
        self.identities = identities
        self.core = core if core is not None else core_from_settings()
        self.prefix = prefix
        self.dingtalk_jsapi_url = dingtalk_jsapi_url or default_jsapi_url(identities)
        self.clock = clock
        self.context = dict(context or {})
        # What a platform account bound to nobody is told (a feature may word it its own way).
        self.not_member = not_member or strings.SIGNIN_PAGE[tokens.SigninOutcome.NOT_MEMBER]

    @property
    def secret(self) -> str:
        return self.core.secret_key

    # ---- pages

    def page(self, request: Request, name: str, *, status_code: int = 200, **context) -> HTMLResponse:
        # status_code, not status: page contexts use "status" (a plan's status) for themselves.
        base = {
            "request": request,
            "prefix": self.prefix,
            "platform": platform_of(request.headers.get("user-agent", "")),
            "dingtalk_jsapi_url": self.dingtalk_jsapi_url,
            "dingtalk_corp_id": getattr(self.identities.get("dingtalk"), "corp_id", ""),
            "s": strings,
            **self.context,
        }
        resp = TEMPLATES.TemplateResponse(request, name, {**base, **context})
        resp.status_code = status_code
        return resp

    def message(self, request: Request, title: str, text: str, status: int = 200, ok: bool = False):
        return self.page(request, "h5/message.html", status_code=status, title=title, text=text, ok=ok)

    def identify(self, request: Request) -> HTMLResponse:
        """The page that gets an auth code, opens the session and reloads the page it stands for."""
        return self.page(request, "h5/identify.html")

    # ---- identity

    def person(self, request: Request, session: Session) -> Person | None:
        """The person of a valid session cookie, else None."""
        token = request.cookies.get(COOKIE, "")
        try:
            pid = int(token.split(".")[0])
        except ValueError:
            return None
        outcome = tokens.check_token(
            self.secret, token, pid, self.clock(), grace=timedelta(0), purpose=SESSION_PURPOSE
        )
        return session.get(Person, pid) if outcome == tokens.SigninOutcome.OK else None

    def open_session(self, payload: Mapping[str, Any]) -> JSONResponse:
        """Exchange a platform auth code for the session cookie."""
        platform, code = str(payload.get("platform", "")), str(payload.get("code", ""))
        ident = self.identities.get(platform)
        if ident is None or not code:
            return JSONResponse({"error": "unknown platform or missing code"}, status_code=400)
        try:
            account = ident.user_for_code(code)
        except IdentityError as exc:
            logger.info("H5 identity exchange refused on %s: %s", platform, exc)
            title, text = strings.SIGNIN_IDENTITY_FAILED
            return JSONResponse({"error": "identity", "title": title, "message": text}, status_code=401)
        with unit_of_work(self.session_factory) as session:
            person = person_by_account(session, Platform(platform), ident.corp_id, account)
            if person is None:
                title, text = self.not_member
                return JSONResponse({"error": "not_member", "title": title, "message": text}, status_code=403)
            token = tokens.make_token(self.secret, person.id, self.clock() + SESSION_TTL, SESSION_PURPOSE)
            resp = JSONResponse({"ok": True, "name": person.name})
        resp.set_cookie(
            COOKIE,
            token,
            max_age=int(SESSION_TTL.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.core.public_base_url.startswith("https://"),
        )
        return resp

    def wecom_authorize(self, next: str, allowed: str) -> Response:
        """Send the browser through WeCom's OAuth page; it comes back to `next` with ?code=.

        `next` must be one of our own pages under `allowed` (never an open redirect): it is appended
        to our public URL, and must start with the prefix and a slash.
        """
        ident = self.identities.get("wecom")
        if ident is None or not next.startswith(allowed.rstrip("/") + "/"):
            return JSONResponse({"error": "wecom not configured or bad next"}, status_code=400)
        return RedirectResponse(
            ident.authorize_url(self.core.public_base_url.rstrip("/") + next, "zhibu"), status_code=302
        )

    def mount_identity(self, router: APIRouter, allowed: str | None = None) -> None:
        """Add POST /session and GET /auth/wecom to `router` (relative to its prefix); `next` under
        `allowed` (default: this feature's prefix)."""
        allowed = allowed or self.prefix

        @router.post("/session")
        def open_session(payload: dict = Body(...)):
            return self.open_session(payload)

        @router.get("/auth/wecom")
        def wecom_authorize(next: str = ""):
            return self.wecom_authorize(next, allowed)


def build_h5_router(
    session_factory: sessionmaker[Session],
    identities: Mapping[str, Any],
    core: CoreConfig | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> APIRouter:
    """/h5/session and /h5/auth/wecom for any H5 feature (`next` anywhere under /h5/)."""
    router = APIRouter(prefix=H5_ROOT, include_in_schema=False)
    H5Pages(session_factory, identities, core, prefix=H5_ROOT, clock=clock).mount_identity(router)
    return router
