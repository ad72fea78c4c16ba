"""Logging in to the console, three ways, and out.

- DingTalk scan-to-login and WeCom web login: /login/{platform}/start sends the browser to the
  platform's login page with a `state` that is signed and bound to this browser (a short-lived cookie
  holds the nonce the signature covers); the platform sends it back to /login/{platform} with a code,
  which the platform's identity adapter turns into the corp's userid; the roster's ChatAccount names
  the person.
- 登录后台 in chat answers with /login/link/{token}: the page asks for one press, and the POST redeems
  the single-use ticket. A GET does not spend it, since chat clients and link checkers fetch links
  before the person taps them.
- POST /logout (CSRF-checked by the Viewer dependency) revokes the session row.

Whoever logs in must have a console scope (handlers.console.scope); a member gets a polite page and
no session. Failed attempts are counted per client IP and per account, in this process (see
LoginThrottle for why that is enough), and past the limit every attempt answers 429.
"""

# No `from __future__ import annotations`: FastAPI must see the Viewer dependency type of each route,
# which is built per app inside build_router, not a module-level name a string could be resolved to.
import base64
import hmac
import secrets
import threading
from collections import deque
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.core import signing
from bot.core.errors import IdentityError
from bot.web.console.deps import COOKIE, PREFIX, ConsoleApp, viewer_type
from handlers.console import strings
from handlers.console.scope import scope_of
from handlers.console.sessions import live_session, open_session, redeem_ticket, revoke, ticket_usable
from models.db import unit_of_work
from models.org import PLATFORM_LABELS, Person, Platform, person_by_account

STATE_COOKIE = "zhibu_console_login"
STATE_PURPOSE = "console.login-state"
STATE_TTL = timedelta(minutes=10)  # from pressing the button to scanning and coming back
THROTTLE_LIMIT = 10
THROTTLE_WINDOW = timedelta(minutes=10)
LOGIN_PLATFORMS = ("dingtalk", "wecom")


class LoginThrottle:
    """Failed login attempts per key (a client IP, an account) in a sliding window.

    In this process only, not in a table shared by replicas: every credential the console accepts is
    unguessable (a platform's single-use code behind the user's own scan, a 256-bit ticket, a signed
    state), so this is a brake on a noisy or broken client and on our calls to the platforms, not the
    defence against guessing; with a few replicas the brake is a few times looser, and still a brake.
    """

    def __init__(self, limit: int = THROTTLE_LIMIT, window: timedelta = THROTTLE_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: datetime) -> deque[datetime] | None:
        q = self._failures.get(key)
        while q and q[0] <= now - self.window:
            q.popleft()
        if q is not None and not q:
            del self._failures[key]
            return None
        return q

    def blocked(self, key: str, now: datetime) -> bool:
        with self._lock:
            q = self._trim(key, now)
            return q is not None and len(q) >= self.limit

    def fail(self, *keys: str, now: datetime) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # forget the quiet keys rather than grow without end
                for key in list(self._failures):
                    self._trim(key, now)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: a console page of this site, never another site or the login."""
    home = f"{PREFIX}/"
    if not raw or not (raw == PREFIX or raw.startswith(f"{PREFIX}/")) or "\\" in raw or "//" in raw:
        return home
    if raw.startswith((f"{PREFIX}/login", f"{PREFIX}/logout")):
        return home
    return raw


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    Viewer = viewer_type(console)  # noqa: N806 - a type alias for route signatures
    throttle = LoginThrottle()
    https = console.core.public_base_url.startswith("https://")

    def identity(platform: str):
        ident = console.identities.get(platform)
        return ident if platform in LOGIN_PLATFORMS and hasattr(ident, "login_url") else None

    def redirect_uri(platform: str) -> str:
        return f"{console.core.public_base_url.rstrip('/')}{PREFIX}/login/{platform}"

    def state_signature(platform: str, nonce: str, expiry: int) -> str:
        raw = signing.signature(console.core.secret_key, STATE_PURPOSE, f"{platform}|{nonce}|{expiry}")
        # Hex: WeCom allows only letters and digits in a state.
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()

    def state_ok(request: Request, platform: str, state: str, now: datetime) -> bool:
        nonce = request.cookies.get(STATE_COOKIE, "").partition(".")[0]
        expiry, sep, sig = state.partition("z")
        if not nonce or not sep or not expiry.isdigit() or len(expiry) > 12:
            return False
        if now.timestamp() > int(expiry):
            return False
        return hmac.compare_digest(sig.encode(), state_signature(platform, nonce, int(expiry)).encode())

    def client_key(request: Request) -> str:
        return f"ip:{request.client.host if request.client else '-'}"

    def failed(request: Request, title: str, text: str, *, status: int, keys: tuple[str, ...] = ()):
        throttle.fail(client_key(request), *keys, now=console.clock())
        return console.page(request, "console/message.html", status_code=status, title=title, text=text,
                            link=f"{PREFIX}/login", link_text=strings.BACK_TO_LOGIN)  # fmt: skip

    def throttled(request: Request) -> HTMLResponse:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        return console.page(request, "console/message.html", status_code=429,
                            title=strings.LOGIN_THROTTLED_TITLE,
                            text=strings.LOGIN_THROTTLED.format(minutes=minutes))  # fmt: skip

    def log_in(request: Request, person_id: int, method: str, next_url: str) -> Response:
        """The person's session, if their roles open the console; the member's page otherwise."""
        now = console.clock()
        with unit_of_work(console.session_factory) as session:
            person = session.get(Person, person_id)
            if person is None or not person.active:
                return failed(request, strings.LOGIN_FAILED_TITLE, strings.LOGIN_INACTIVE, status=403)
            if scope_of(session, person.id) is None:
                return console.page(request, "console/message.html", status_code=403,
                                    title=strings.LOGIN_MEMBER_TITLE,
                                    text=strings.LOGIN_MEMBER.format(name=person.name))  # fmt: skip
            token = open_session(session, person.id, method, now=now, cfg=console.cfg,
                                 user_agent=request.headers.get("user-agent", ""))  # fmt: skip
        response = RedirectResponse(safe_next(next_url), status_code=303)
        response.set_cookie(COOKIE, token, max_age=int(console.cfg.lifetime.total_seconds()), path=PREFIX,
                            httponly=True, samesite="lax", secure=https)  # fmt: skip
        response.delete_cookie(STATE_COOKIE, path=f"{PREFIX}/login")
        return response

    @router.get("/login")
    def login_page(request: Request, next: str = "", out: str = "") -> Response:  # noqa: A002
        now = console.clock()
        cookie = request.cookies.get(COOKIE, "")
        if cookie and not out:
            with unit_of_work(console.session_factory) as session:
                row = live_session(session, cookie, now=now, cfg=console.cfg)
                if row is not None and scope_of(session, row.person_id) is not None:
                    return RedirectResponse(safe_next(next), status_code=303)
        buttons = [
            (p, strings.LOGIN_DINGTALK if p == "dingtalk" else strings.LOGIN_WECOM)
            for p in LOGIN_PLATFORMS
            if identity(p) is not None
        ]
        return console.page(request, "console/login.html", title=strings.LOGIN_TITLE, buttons=buttons,
                            next=safe_next(next), logged_out=bool(out))  # fmt: skip

    @router.get("/login/{platform}/start")
    def start(request: Request, platform: str, next: str = "") -> Response:  # noqa: A002
        ident = identity(platform)
        if ident is None:
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        nonce = secrets.token_urlsafe(16)
        expiry = int((console.clock() + STATE_TTL).timestamp())
        state = f"{expiry}z{state_signature(platform, nonce, expiry)}"
        response = RedirectResponse(ident.login_url(redirect_uri(platform), state), status_code=302)
        response.set_cookie(STATE_COOKIE, f"{nonce}.{_b64(safe_next(next))}", path=f"{PREFIX}/login",
                            max_age=int(STATE_TTL.total_seconds()), httponly=True, samesite="lax",
                            secure=https)  # fmt: skip
        return response

    def come_back(request: Request, platform: str, code: str, state: str, declined: bool) -> Response:
        now = console.clock()
        label = PLATFORM_LABELS[Platform(platform)]
        if throttle.blocked(client_key(request), now):
            return throttled(request)
        ident = identity(platform)
        if ident is None or not state_ok(request, platform, state, now):
            return failed(request, strings.LOGIN_FAILED_TITLE, strings.LOGIN_STATE_BAD, status=400)
        if declined or not code:
            return console.page(request, "console/message.html", status_code=400,
                                title=strings.LOGIN_FAILED_TITLE, text=strings.LOGIN_DECLINED.format(platform=label),
                                link=f"{PREFIX}/login", link_text=strings.BACK_TO_LOGIN)  # fmt: skip
        try:
            account = ident.user_for_auth_code(code) if platform == "dingtalk" else ident.user_for_code(code)
        except IdentityError:
            text = strings.LOGIN_PLATFORM_FAILED.format(platform=label)
            return failed(request, strings.LOGIN_FAILED_TITLE, text, status=400)
        account_key = f"account:{platform}:{account}"
        if throttle.blocked(account_key, now):
            return throttled(request)
        with unit_of_work(console.session_factory) as session:
            person = person_by_account(session, Platform(platform), ident.corp_id, account)
            person_id = person.id if person is not None and person.active else None
        if person_id is None:
            text = strings.LOGIN_UNKNOWN_ACCOUNT.format(platform=label, account=account)
            return failed(request, strings.LOGIN_FAILED_TITLE, text, status=403, keys=(account_key,))
        next_url = _unb64(request.cookies.get(STATE_COOKIE, "").partition(".")[2])
        return log_in(request, person_id, platform, next_url)

    @router.get("/login/dingtalk")
    def dingtalk_back(request: Request, authCode: str = "", state: str = "", error: str = "") -> Response:  # noqa: N803
        return come_back(request, "dingtalk", authCode, state, declined=bool(error))

    @router.get("/login/wecom")
    def wecom_back(request: Request, code: str = "", state: str = "") -> Response:
        return come_back(request, "wecom", code, state, declined=not code)

    @router.get("/login/link/{token}")
    def link_page(request: Request, token: str) -> Response:
        with unit_of_work(console.session_factory) as session:
            usable = ticket_usable(session, token, now=console.clock())
        if not usable:
            return console.page(request, "console/message.html", status_code=410,
                                title=strings.LINK_INVALID_TITLE, text=strings.LINK_INVALID)  # fmt: skip
        return console.page(request, "console/login_link.html", title=strings.LINK_TITLE)

    @router.post("/login/link/{token}")
    def link_redeem(request: Request, token: str) -> Response:
        now = console.clock()
        if throttle.blocked(client_key(request), now):
            return throttled(request)
        with unit_of_work(console.session_factory) as session:
            person_id = redeem_ticket(session, token, now=now)
        if person_id is None:
            return failed(request, strings.LINK_INVALID_TITLE, strings.LINK_INVALID, status=410)
        return log_in(request, person_id, "link", f"{PREFIX}/")

    @router.post("/logout")
    def logout(viewer: Viewer) -> Response:
        revoke(viewer.session, viewer.console_session, now=console.clock())
        response = RedirectResponse(f"{PREFIX}/login?out=1", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    return router
