"""The composition root mounts every feature's H5 pages: a feature whose chat sends a link to its page must have
that page in the app `zhibu serve` runs, not only in its own tests' app."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from bot.core.context import CoreConfig
from bot.web import appraisal, fees, inspection, projects
from bot.web.app import create_app
from bot.web.h5 import COOKIE, H5_ROOT, UNSAFE_METHODS, session_token
from handlers.meetings import strings
from models.base import utcnow


def test_every_h5_feature_is_mounted_in_the_app():
    client = TestClient(create_app(lambda: None))  # no page is rendered: no session is opened
    assert client.get("/h5/nothing-here/session").status_code == 404
    for prefix in (fees.PREFIX, appraisal.PREFIX, projects.PREFIX, inspection.PREFIX):
        # Every H5 feature has its login-free session endpoint (POST): a GET is refused (405, or 422 where a
        # page's path parameter takes the word), never unknown.
        assert client.get(f"{prefix}/session").status_code in (405, 422), prefix


def test_no_h5_route_changes_anything_without_the_session_s_csrf_token(monkeypatch):
    """Every state-changing H5 route of the app `zhibu serve` runs is behind bot.web.h5's guard: the
    routers' own dependency, or, for the QR sign-in POST (a plain Starlette route for speed), its own
    call. A session cookie without its CSRF token is refused before any handler runs: no database is
    given here, so a handler that ran would fail with a 500 instead."""
    routers: list[APIRouter] = []
    include = FastAPI.include_router

    def capture(self, router, *args, **kwargs):
        routers.append(router)
        return include(self, router, *args, **kwargs)

    monkeypatch.setattr(FastAPI, "include_router", capture)
    core = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://testserver", secret_key="k" * 32)
    client = TestClient(create_app(lambda: None, core=core), raise_server_exceptions=False)
    client.cookies.set(COOKIE, session_token(core.secret_key, 1, utcnow()))
    unsafe = sorted(
        {
            (re.sub(r"\{[^}]+\}", "1", route.path), method)
            for router in routers
            for route in router.routes
            if isinstance(route, Route)
            and route.path.startswith(H5_ROOT)
            and not route.path.endswith("/session")
            for method in route.methods or ()
            if method in UNSAFE_METHODS
        }
    )
    assert ("/h5/meetings/1/signin", "POST") in unsafe and len(unsafe) > 10
    for path, method in unsafe:
        r = client.request(method, path, json={})
        assert r.status_code == 403 and r.json()["detail"] == strings.H5_CROSS_SITE, (method, path, r.text)
