"""What every console route shares: the app's parts, the page renderer, and the viewer dependency.

`viewer` is the one gate: it finds the live session from the cookie (models.console), the person and
their Scope (handlers.console.scope), opens the request's unit of work with the audit actor set to that
person, and checks the CSRF token of every state-changing request. A route that takes a Viewer cannot
run for someone who is not logged in, and reads only through viewer.scope.

A 包保 cadre's scope is narrowed to their liaison committees (Scope.to_liaison) unless the browser
chose the whole scope (SCOPE_COOKIE = "all", set by /console/scope, the top bar's 查看全县 link):
narrowing is the default for them, and the cookie can only ever choose between the person's own scope
and a part of it.

The scope is read again on every request, so a role ended (in the console, chat or a roster import)
closes the console to that person at their next click, without waiting for the session to end.

A route module that declares `Viewer = viewer_type(console)` must not use `from __future__ import
annotations`: the annotation would stay a string naming a local, which FastAPI cannot resolve, and the
route would answer 422.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core import signing
from bot.core.context import CoreConfig
from handlers.common.dates import add_months
from handlers.console import overview, strings
from handlers.console.scope import Scope, scope_of
from handlers.console.sessions import ConsoleConfig, live_session
from handlers.meetings.types import meetings_config
from handlers.monthly.config import monthly_config
from handlers.observers.forms import observers_config
from models.audit import Actor, act_as
from models.console import ConsoleSession
from models.db import unit_of_work
from models.org import OrgUnit, Person, UnitKind

log = logging.getLogger(__name__)

PREFIX = "/console"
COOKIE = "zhibu_console"
SCOPE_COOKIE = "zhibu_console_scope"  # "all": a 包保 cadre's whole scope; anything else: their committees
WHOLE_SCOPE = "all"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ConsoleApp:
    """The console's share of the composition root, handed to every console router."""

    session_factory: sessionmaker[Session]
    identities: Mapping[str, Any]
    core: CoreConfig
    clock: Callable[[], datetime]
    cfg: ConsoleConfig = field(default_factory=ConsoleConfig)
    # The whole organisation's figures per month, shared by every viewer of this process: the 总览's
    # pages and the 月积分台账's current month read them.
    months: overview.MonthCache = field(init=False)

    def __post_init__(self) -> None:
        self.months = overview.MonthCache(factory=self.session_factory)

    def this_month(self) -> date:
        return overview.current_month(self.clock(), meetings_config(self.core))

    def month_data(self, session: Session, month: date, *, prime: bool = False) -> overview.MonthData:
        """The month's whole-organisation figures (built on the process's first look at it; `prime`:
        with the whole tree's trend too, MonthCache.prime)."""
        core = self.core
        get = self.months.prime if prime else self.months.get
        return get(
            session, month, now=self.clock(), mcfg=monthly_config(core), cfg=meetings_config(core),
            ocfg=observers_config(core),
        )  # fmt: skip

    def warm(self) -> threading.Thread:
        """Build this month and the last in the background, so the first viewer after a start does
        not wait seconds for a city's month to be scored; the server answers meanwhile (a request for
        a month being built waits for that build rather than starting a second). From then on each
        month built is kept out of the garbage collector's full passes (MonthCache.freeze). `zhibu
        serve` calls it (and bench/console.py); the tests' apps do not."""
        self.months.freeze = True

        def run() -> None:
            this = self.this_month()
            for month in (this, add_months(this, -1)):
                try:
                    with self.session_factory() as session:
                        self.month_data(session, month, prime=True)
                except Exception:  # a page builds the month itself on its first look
                    log.exception("warming the console's overview of %s failed", month)

        thread = threading.Thread(target=run, name="console-warm", daemon=True)
        thread.start()
        return thread

    def csrf(self, cookie: str) -> str:
        return signing.signature(self.core.secret_key, "console.csrf", cookie)

    def page(
        self, request: Request, name: str, *, viewer: Viewer | None = None, status_code: int = 200, **context
    ) -> HTMLResponse:
        base = {
            "request": request,
            "prefix": PREFIX,
            "viewer": viewer,
            "csrf": viewer.csrf if viewer is not None else "",
            "s": strings,
        }
        resp = TEMPLATES.TemplateResponse(request, name, {**base, **context})
        resp.status_code = status_code
        return resp

    def message(
        self, request: Request, title: str, text: str, *, status: int = 200, viewer: Viewer | None = None
    ):
        return self.page(
            request, "console/message.html", viewer=viewer, status_code=status, title=title, text=text
        )


PAGE_SIZE = 100  # rows of a console list page


@dataclass
class Viewer:
    session: Session  # the request's unit of work: commits when the route returns, rolls back on error
    person: Person
    scope: Scope
    console_session: ConsoleSession
    csrf: str

    def branches_page(self, page: int, *, led: bool = False) -> tuple[list[OrgUnit], int, int]:
        """One page (PAGE_SIZE, in tree order) of the active branches the viewer sees — or only those they lead
        (`led`: scope.unit_clause(editable=True)) — with how many there are and the number of pages: the list of
        the yearly pages."""
        in_scope = (
            OrgUnit.kind == UnitKind.BRANCH,
            OrgUnit.active.is_(True),
            self.scope.unit_clause(editable=led),
        )
        total = self.session.scalar(select(func.count()).select_from(OrgUnit).where(*in_scope)) or 0
        units = self.session.scalars(
            select(OrgUnit)
            .where(*in_scope)
            .order_by(OrgUnit.path)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        return list(units), total, max(1, -(-total // PAGE_SIZE))


class LoginRequired(Exception):
    """No live console session: a page redirects to the login page, a script gets 401."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def login_url(next_url: str = "") -> str:
    return f"{PREFIX}/login" + (f"?next={quote(next_url, safe='')}" if next_url else "")


def build_viewer_dependency(app: ConsoleApp):
    async def viewer(request: Request) -> Iterator[Viewer]:
        cookie = request.cookies.get(COOKIE, "")
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                sent = str((await request.form()).get(CSRF_FIELD, ""))
            if not cookie or not hmac.compare_digest(sent.encode(), app.csrf(cookie).encode()):
                raise HTTPException(status_code=403, detail=strings.CSRF_FAILED)
        next_url = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        with unit_of_work(app.session_factory) as session:
            row = live_session(session, cookie, now=app.clock(), cfg=app.cfg)
            person = session.get(Person, row.person_id) if row is not None else None
            scope = scope_of(session, person.id) if person is not None and person.active else None
            if row is None or person is None or scope is None:
                raise LoginRequired(next_url)
            if request.cookies.get(SCOPE_COOKIE) != WHOLE_SCOPE:
                scope = scope.to_liaison()
            act_as(session, Actor("console", person.id), clock=app.clock)
            yield Viewer(
                session=session, person=person, scope=scope, console_session=row, csrf=app.csrf(cookie)
            )

    return viewer


def viewer_type(app: ConsoleApp):
    """`Annotated[Viewer, Depends(...)]` for this app's routes. scope="function": the unit of work
    commits when the route returns, before the response is sent, so a failed commit is an error page,
    never a "saved" page over nothing saved."""
    return Annotated[Viewer, Depends(build_viewer_dependency(app), scope="function")]
