"""包保联系 through every console route (tests/console/test_scope.py's walk): 组织部小刘, 组织部 over the whole
county and the 包保 cadre of 城关镇党委, narrowed (the default) is refused every object of 河西乡党委 on
every route, as a 城关镇党委 leader is, and names none of them; his own committee's objects open. Widened
(查看全县), 河西乡党委's pages open again: the narrowing is his choice, never a loss of his role's reach.
"""

from __future__ import annotations

import pytest

from bot.web.console.deps import COOKIE, CSRF_HEADER, SCOPE_COOKIE
from models.db import unit_of_work
from models.inspection import Liaison
from tests.console.test_overview import build_org, console_app, login
from tests.console.test_scope import LOGIN, PUBLIC_PARAMS, console_routes, fill, objects, with_exports

# Pages that read the person's roles, not the console's Scope: the 典型项目 page is the county's showcase, and
# 督查巡查 is the 组织部's own work over what it organises (handlers.inspection.rounds.Standing: rounds, the
# patrol draw, the 包保 form), whichever committees the viewer is linked to.
COUNTY_WIDE = ("/console/projects/showcase/page", "/console/inspection")


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        org = build_org(session)
        session.add(Liaison(person_id=org.id("staff"), committee_id=org.county.c1.id))
    with session_factory() as session:
        sets = objects(session, org)
    return org, sets, console_app(session_factory)


def test_a_narrowed_cadre_is_refused_the_other_committee_on_every_route(session_factory, world):
    org, sets, app = world
    cadre = org.id("staff")
    client = login(session_factory, app, cadre)
    sets = with_exports(session_factory, sets, cadre)
    csrf = app.state.console.csrf(client.cookies.get(COOKIE))
    tried = 0
    for method, path, params in console_routes(app):
        if not params or any(n in PUBLIC_PARAMS for n in params):
            continue
        url = fill(path, params, sets["c2"])
        response = client.request(
            method, url, headers={CSRF_HEADER: csrf}, data={"csrf_token": csrf}, follow_redirects=False
        )
        assert response.status_code in (403, 404), (method, url, response.status_code)
        leaked = [n for n in sets["c2"].names if n in response.text]
        assert not leaked, (method, url, leaked)
        tried += 1
    assert tried >= 3
    for method, path, params in console_routes(app):
        if method != "GET" or params or path.startswith(LOGIN) or path.startswith(COUNTY_WIDE):
            continue
        response = client.get(path + "?month=2026-11", follow_redirects=False)
        assert response.status_code in (200, 403), (path, response.status_code)
        assert not [n for n in sets["c2"].names if n in response.text], path


def test_the_cadres_own_committee_opens_and_widening_opens_the_rest(session_factory, world):
    org, sets, app = world
    cadre = org.id("staff")
    client = login(session_factory, app, cadre)
    sets = with_exports(session_factory, sets, cadre)
    checked = 0
    for method, path, params in console_routes(app):
        if method != "GET" or not params or any(n in PUBLIC_PARAMS for n in params):
            continue
        if path.startswith("/console/ledgers/all/"):
            continue  # a whole scope's file is no set's object (as in test_scope)
        for key in ("b1", "b2"):
            url = fill(path, params, sets[key])
            assert client.get(url, follow_redirects=False).status_code == 200, url
        client.cookies.set(SCOPE_COOKIE, "all")
        url = fill(path, params, sets["c2"])  # (a committee's meetings ledger is a 400: not a branch)
        assert client.get(url, follow_redirects=False).status_code not in (403, 404), url
        client.cookies.delete(SCOPE_COOKIE)
        checked += 1
    assert checked >= 3
