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
- ``feature_router``: the decorator that turns a feature's pages into its router builder (one
  signature for all).
- ``build_h5_router``: the same two endpoints once at ``/h5/session`` and ``/h5/auth/wecom``, whose
  ``next`` may be any of our own /h5/ pages.

``identities``: platform name ("dingtalk" / "wecom") → the adapter's identity object, with
``corp_id``, ``user_for_code(code) -> account id`` (raises bot.core.errors.IdentityError) and, for
WeCom, ``authorize_url(redirect_uri, state)``. A platform that is not configured is simply absent.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from bot.core import signing
from bot.core.context import CoreConfig
from bot.core.errors import IdentityError
from handlers.meetings import strings
from models import attachments
from models.base import utcnow
from models.db import unit_of_work
from models.meetings import SigninOutcome
from models.org import Person, Platform, person_by_account

logger = logging.getLogger(__name__)

H5_ROOT = "/h5"
COOKIE = "zhibu_h5"
# The header every state-changing H5 request carries: a token bound to the session cookie. A page on
# another origin (a sibling host of the same site included) can neither read the token nor set a custom
# header without a CORS preflight, which we never grant.
CSRF_HEADER = "X-CSRF-Token"
# The WeCom OAuth round trip's state lives in this short-lived cookie: a code that comes back to a
# browser which did not start the round trip (login CSRF) is refused.
OAUTH_STATE_COOKIE = "zhibu_oauth_state"
OAUTH_STATE_TTL = timedelta(minutes=10)
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON, MULTIPART, URLENCODED = "application/json", "multipart/form-data", "application/x-www-form-urlencoded"
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


LOOPBACK = ("http://127.0.0.1", "http://localhost")
# Set by the sandbox's chat page on 127.0.0.1 (cookies ignore the port): which client it plays.
SANDBOX_PLATFORM_COOKIE = "sandbox_platform"


def _dingtalk_oapi(identities: Mapping[str, Any]) -> str:
    return str(getattr(getattr(identities.get("dingtalk"), "api", None), "oapi", "") or "")


def on_sandbox(identities: Mapping[str, Any]) -> bool:
    """The platforms are the local emulator (the demo, the tests): every configured one is on loopback.
    Real DingTalk and WeCom never are, so nothing below is ever relaxed in production."""
    endpoints = [_dingtalk_oapi(identities)] if "dingtalk" in identities else []
    if "wecom" in identities:
        endpoints.append(str(getattr(identities["wecom"], "oauth_base", "") or ""))
    return bool(endpoints) and all(e.startswith(LOOPBACK) for e in endpoints)


def default_jsapi_url(identities: Mapping[str, Any]) -> str:
    """DingTalk's JSAPI, or the sandbox's stand-in when the DingTalk adapter talks to a loopback server
    (the demo and the tests): there is no DingTalk client there to provide `dd`.
    """
    oapi = _dingtalk_oapi(identities)
    if oapi.startswith(LOOPBACK):
        return f"{oapi}/_sandbox/dd-shim.js"
    return DINGTALK_JSAPI


def core_from_settings() -> CoreConfig:
    """The app factory's core config, from the settings: tz, public URL, secret key and the features'
    rules (the pages a router builds with core=None follow the configured rules too)."""
    from config.settings import get_settings

    return CoreConfig.from_settings(get_settings())


def content_type(request: Request) -> str:
    """The declared media type, lower-case, without parameters ("" when none is declared)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def session_token(secret: str, person_id: int, now: datetime) -> str:
    """The value of the session cookie: the person, signed, for SESSION_TTL."""
    return signing.TokenSigner(secret, SESSION_PURPOSE).sign(person_id, expires_at=now + SESSION_TTL)


def csrf_token(secret: str, session_cookie: str) -> str:
    """The CSRF token of one H5 session: an HMAC of its cookie, so a new session has a new token and a
    token is worth nothing without the HttpOnly cookie it belongs to."""
    return signing.signature(secret, "h5.csrf", session_cookie)


async def read_form(
    request: Request, files_field: str = "photos"
) -> tuple[dict[str, Any], list[attachments.Upload]]:
    """A form POST's fields and uploaded files: multipart (a form with photos) or JSON (without).

    A body is parsed only as the Content-Type it declares: anything else is refused with 415, so a
    cross-site "simple" request (text/plain, no type) can never pass for JSON.
    """
    ctype = content_type(request)
    if ctype == MULTIPART:
        # Many more parts than photos are allowed through so that check_photos can say "too many".
        form = await request.form(max_files=attachments.MAX_PHOTOS * 4, max_fields=100)
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
    if ctype != JSON:
        raise HTTPException(415, detail=strings.H5_BAD_REQUEST)
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
        self.sandboxed = on_sandbox(identities)
        self.clock = clock
        self.context = dict(context or {})
        # What a platform account bound to nobody is told (a feature may word it its own way).
        self.not_member = not_member or strings.SIGNIN_PAGE[SigninOutcome.NOT_MEMBER]

    @property
    def secret(self) -> str:
        return self.core.secret_key

    # ---- pages

    def page(self, request: Request, name: str, *, status_code: int = 200, **context) -> HTMLResponse:
        # status_code, not status: page contexts use "status" (a plan's status) for themselves.
        base = {
            "request": request,
            "prefix": self.prefix,
            "platform": self.platform(request),
            "dingtalk_jsapi_url": self.dingtalk_jsapi_url,
            "dingtalk_corp_id": getattr(self.identities.get("dingtalk"), "corp_id", ""),
            "csrf": self.csrf(request),
            "s": strings,
            **self.context,
        }
        resp = TEMPLATES.TemplateResponse(request, name, {**base, **context})
        resp.status_code = status_code
        return resp

    def platform(self, request: Request) -> str:
        """The client that opened the page, by its User-Agent; on the sandbox, an ordinary browser
        playing a client through the chat page says which by the sandbox's cookie."""
        found = platform_of(request.headers.get("user-agent", ""))
        if not found and self.sandboxed:
            cookie = request.cookies.get(SANDBOX_PLATFORM_COOKIE, "")
            found = cookie if cookie in ("dingtalk", "wecom") else ""
        return found

    def message(self, request: Request, title: str, text: str, status: int = 200, ok: bool = False):
        return self.page(request, "h5/message.html", status_code=status, title=title, text=text, ok=ok)

    def identify(self, request: Request) -> HTMLResponse:
        """The page that gets an auth code, opens the session and reloads the page it stands for."""
        return self.page(request, "h5/identify.html")

    # ---- identity

    def session_person_id(self, request: Request) -> int | None:
        """The person id of the request's valid session cookie (signature and expiry; no database), else
        None. Checked once a request: the guard's answer is kept on the request for its handler, under
        the secret that checked it (an app built with pages of two secrets must not share the answer)."""
        state = request.state
        kept = getattr(state, "h5_session", None)
        if kept is None or kept[0] != self.secret:
            try:
                token = request.cookies.get(COOKIE, "")
                pid = signing.TokenSigner(self.secret, SESSION_PURPOSE).unsign(token, now=self.clock())
            except signing.BadToken:
                pid = None
            state.h5_session = kept = (self.secret, pid)
        return kept[1]

    def person(self, request: Request, session: Session) -> Person | None:
        """The person of a valid session cookie, else None."""
        pid = self.session_person_id(request)
        return session.get(Person, pid) if pid is not None else None

    def csrf(self, request: Request) -> str:
        """The CSRF token a page embeds for its own POSTs ("" before the session is open)."""
        if self.session_person_id(request) is None:
            return ""
        return csrf_token(self.secret, request.cookies.get(COOKIE, ""))

    async def guard(self, request: Request) -> None:
        """Every state-changing H5 request, before its handler reads the body: a declared JSON, multipart
        or plain-form body (or none), then, with a session, its CSRF token; a multipart body needs a
        session before it is read; opening a session takes JSON from our own origin.

        Mounted as a dependency of each feature's router (``router()``), so it runs before a handler
        reads a multipart form; a JSON body is small (bot.web.limits caps it) when FastAPI reads it first.
        A plain Starlette route on such a router (the QR sign-in POST, for speed) is outside FastAPI's
        dependencies and calls it first itself (tests/test_app_routes.py holds every route to it).
        Pages send the token in the X-CSRF-Token header (zbPost); a plain HTML form, which cannot set a
        header, sends it as the field ``csrf_token``.
        """
        if request.method not in UNSAFE_METHODS:
            return
        ctype = content_type(request)
        bodyless = request.headers.get("content-length") == "0" and not ctype
        if ctype not in (JSON, MULTIPART, URLENCODED) and not bodyless:
            raise HTTPException(415, detail=strings.H5_BAD_REQUEST)
        if request.scope["path"].endswith("/session"):
            if ctype != JSON or not self._same_origin(request):
                raise HTTPException(403, detail=strings.H5_CROSS_SITE)
            return
        if self.session_person_id(request) is None:
            if ctype == MULTIPART:  # never spool an upload for nobody
                raise HTTPException(401, detail=strings.NEED_LOGIN)
            return  # no identity to misuse: the handler asks for one (401 or the identify page)
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent and ctype == URLENCODED:
            sent = str((await request.form(max_fields=20)).get(CSRF_FIELD, ""))
        expected = csrf_token(self.secret, request.cookies.get(COOKIE, ""))
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise HTTPException(403, detail=strings.H5_CROSS_SITE)

    def _same_origin(self, request: Request) -> bool:
        """A browser's Origin (or Referer) names our public URL or the host it asked; a client that
        sends neither is no browser page, so there is no victim's cookie to misuse."""
        claimed = request.headers.get("origin") or request.headers.get("referer") or ""
        if not claimed:
            return True
        ours = {_origin(self.core.public_base_url), _origin(str(request.base_url))}
        return _origin(claimed) in ours

    def open_session(self, request: Request, payload: Mapping[str, Any]) -> JSONResponse:
        """Exchange a platform auth code for the session cookie (and the page's CSRF token).

        A WeCom code must come back with the OAuth state this browser was given on the way out
        (``wecom_authorize``): a code planted by someone else (login CSRF) is refused.
        """
        platform, code = str(payload.get("platform", "")), str(payload.get("code", ""))
        ident = self.identities.get(platform)
        if ident is None or not code:
            return JSONResponse({"error": "unknown platform or missing code"}, status_code=400)
        title, text = strings.SIGNIN_IDENTITY_FAILED
        if platform == "wecom":
            expected = request.cookies.get(OAUTH_STATE_COOKIE, "")
            state = str(payload.get("state", ""))
            if not expected or not hmac.compare_digest(state.encode(), expected.encode()):
                logger.info("H5 WeCom code refused: OAuth state missing or not this browser's")
                return JSONResponse({"error": "state", "title": title, "message": text}, status_code=400)
        try:
            account = ident.user_for_code(code)
        except IdentityError as exc:
            logger.info("H5 identity exchange refused on %s: %s", platform, exc)
            return JSONResponse({"error": "identity", "title": title, "message": text}, status_code=401)
        with unit_of_work(self.session_factory) as session:
            person = person_by_account(session, Platform(platform), ident.corp_id, account)
            if person is None:
                title, text = self.not_member
                return JSONResponse({"error": "not_member", "title": title, "message": text}, status_code=403)
            token = session_token(self.secret, person.id, self.clock())
            resp = JSONResponse({"ok": True, "name": person.name, "csrf": csrf_token(self.secret, token)})
        self._set_cookie(resp, COOKIE, token, SESSION_TTL)
        resp.delete_cookie(OAUTH_STATE_COOKIE, path="/")
        return resp

    def _set_cookie(self, resp: Response, name: str, value: str, ttl: timedelta) -> None:
        """HttpOnly, SameSite=Lax, and Secure when the public URL is https (the browser would not send
        a Secure cookie back over plain http, as in the demo)."""
        resp.set_cookie(
            name,
            value,
            max_age=int(ttl.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.core.public_base_url.startswith("https://"),
        )

    def wecom_authorize(self, next: str, allowed: str) -> Response:
        """Send the browser through WeCom's OAuth page; it comes back to `next` with ?code=&state=.

        `next` must be one of our own pages under `allowed` (never an open redirect): it is appended
        to our public URL, and must start with the prefix and a slash. The state is random and kept in
        a short-lived cookie of this browser, which ``open_session`` compares.
        """
        ident = self.identities.get("wecom")
        if ident is None or not next.startswith(allowed.rstrip("/") + "/"):
            return JSONResponse({"error": "wecom not configured or bad next"}, status_code=400)
        state = secrets.token_urlsafe(16)
        resp = RedirectResponse(
            ident.authorize_url(self.core.public_base_url.rstrip("/") + next, state), status_code=302
        )
        self._set_cookie(resp, OAUTH_STATE_COOKIE, state, OAUTH_STATE_TTL)
        return resp

    def router(self, allowed: str | None = None) -> APIRouter:
        """This feature's router at its prefix: every FastAPI route behind ``guard``, with POST /session and
        GET /auth/wecom mounted (`next` under `allowed`, default this feature's prefix)."""
        router = APIRouter(prefix=self.prefix, include_in_schema=False, dependencies=[Depends(self.guard)])
        allowed = allowed or self.prefix

        @router.post("/session")
        def open_session(request: Request, payload: dict = Body(...)):
            return self.open_session(request, payload)

        @router.get("/auth/wecom")
        def wecom_authorize(next: str = ""):
            return self.wecom_authorize(next, allowed)

        return router


def feature_router(
    *,
    prefix: str,
    context: Mapping[str, Any] | None = None,
    not_member: tuple[str, str] | None = None,
) -> Callable[[Callable[..., APIRouter]], Callable[..., APIRouter]]:
    """Make a feature's `pages(h5, **options) -> APIRouter` into the router builder every H5 feature
    exposes, `build(session_factory, identities, core=None, *, dingtalk_jsapi_url=None, clock=utcnow,
    **options)`, so the composition root and the tests call each feature the same way."""

    def wrap(pages: Callable[..., APIRouter]) -> Callable[..., APIRouter]:
        def build(
            session_factory: sessionmaker[Session],
            identities: Mapping[str, Any],
            core: CoreConfig | None = None,
            *,
            dingtalk_jsapi_url: str | None = None,
            clock: Callable[[], datetime] = utcnow,
            **options: Any,
        ) -> APIRouter:
            h5 = H5Pages(
                session_factory,
                identities,
                core,
                prefix=prefix,
                dingtalk_jsapi_url=dingtalk_jsapi_url,
                clock=clock,
                context=context,
                not_member=not_member,
            )
            return pages(h5, **options)

        build.__name__, build.__qualname__ = pages.__name__, pages.__qualname__
        build.__doc__, build.__module__ = pages.__doc__, pages.__module__
        return build

    return wrap


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def build_h5_router(
    session_factory: sessionmaker[Session],
    identities: Mapping[str, Any],
    core: CoreConfig | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> APIRouter:
    """/h5/session and /h5/auth/wecom for any H5 feature (`next` anywhere under /h5/)."""
    return H5Pages(session_factory, identities, core, prefix=H5_ROOT, clock=clock).router()
