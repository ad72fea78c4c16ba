"""Scope (#16 item 2): every console route, as every kind of console user, with another scope's objects.

The routes are read from the app (everything under /console, the parts other people build included,
as they land), so a new route is covered the day it is added. Each path parameter must name a kind
of object this test can supply (OBJECT_PARAMS) or be one of the login's own (PUBLIC_PARAMS): an
unknown name fails the test, so no route slips past without an object of its kind being tried.

Asked for objects outside their scope, every role gets 404 or 403 and a body naming none of them;
asked for their own, they get the page. Pages without parameters name nothing outside the scope.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from bot.web.console.deps import COOKIE, CSRF_HEADER, PREFIX
from models.db import unit_of_work
from models.exports import READY, LedgerExport, LedgerExportChunk
from models.meetings import Meeting
from models.org import RoleAssignment
from models.projects import ProjectStatus, SecretaryProject
from tests.console.test_overview import Org, build_org, console_app, login

# Path parameters that name an object of the organisation: which one of an ObjectSet fills each.
OBJECT_PARAMS = {
    "unit_id": "unit",
    "branch_id": "branch",
    "committee_id": "committee",
    "person_id": "person",
    "member_id": "person",
    "meeting_id": "meeting",
    "assignment_id": "assignment",
    "role_id": "assignment",
    "export_id": "export",
    "project_id": "project",
}
# The login's own parameters (no viewer yet, no object of anyone's scope behind them).
PUBLIC_PARAMS = {"platform": "dingtalk", "token": "not-a-real-token"}
LOGIN = f"{PREFIX}/login"


@dataclass
class ObjectSet:
    """Objects of one scope, and the names a page about them would show."""

    unit: int
    branch: int
    committee: int
    person: int
    meeting: int
    assignment: int
    names: tuple[str, ...]
    project: int = 0  # a 书记项目 of `branch`
    export: int = 0  # a ledger file of `unit`, asked for by the viewer under test (with_exports)


def console_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path, path parameters) of every route under /console, through included routers."""

    def walk(routes, prefix=""):
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI's included-router wrapper
                yield from walk(r.original_router.routes, prefix + r.include_context.prefix)
            elif isinstance(r, APIRoute):
                yield prefix + r.path, r
            # A Mount (the vendored static files) carries no object of anyone's scope.

    out = []
    for path, route in walk(app.routes):
        if path.startswith(PREFIX):
            for method in sorted(route.methods - {"HEAD"}):
                out.append((method, path, list(route.param_convertors)))
    return out


def objects(session, org: Org) -> dict[str, ObjectSet]:
    c = org.county
    with session.begin():
        titles = {}
        for key, title in (("b1-nov", "城关社区十一月主题党日"), ("b3-nov", "河西村十一月主题党日")):
            m = session.get(Meeting, org.meetings[key])
            m.title = titles[key] = title
        b2_meeting = session.get(Meeting, org.meetings["b2-nov"])
        b2_meeting.title = titles["b2-nov"] = "东门社区十一月主题党日"

        def assignment(person_key: str) -> int:
            return session.scalar(
                select(RoleAssignment.id).where(RoleAssignment.person_id == org.id(person_key))
            )

        def project(branch_id: int, secretary_key: str) -> int:
            p = SecretaryProject(unit_id=branch_id, secretary_id=org.id(secretary_key), year=2026, title="书记项目",
                                 problem="问题", content="举措", expected="目标", leaders=secretary_key,
                                 status=ProjectStatus.ACCEPTED, submitted_at=datetime(2026, 3, 1, tzinfo=UTC),
                                 return_count=0, rating_public=False)  # fmt: skip
            session.add(p)
            session.flush()
            return p.id

        sets = {
            "b1": ObjectSet(c.b1.id, c.b1.id, c.c1.id, org.id("m1a"), org.meetings["b1-nov"], assignment("sec1"),
                            ("城关社区党支部", "党员1甲", titles["b1-nov"])),
            "b2": ObjectSet(c.b2.id, c.b2.id, c.c1.id, org.id("m2a"), org.meetings["b2-nov"], assignment("sec2"),
                            ("东门社区党支部", "党员2甲", titles["b2-nov"])),
            "c2": ObjectSet(c.c2.id, c.b3.id, c.c2.id, org.id("m3a"), org.meetings["b3-nov"], assignment("sec3"),
                            ("河西乡党委", "河西村党支部", "河东村党支部", "党员3甲", "书记3", titles["b3-nov"])),
        }  # fmt: skip
        for key, secretary in (("b1", "sec1"), ("b2", "sec2"), ("c2", "sec3")):
            sets[key].project = project(sets[key].branch, secretary)
        return sets


def with_exports(session_factory, sets: dict[str, ObjectSet], person: int) -> dict[str, ObjectSet]:
    """Each set with a finished ledger file of its unit that `person` asked for: a file is its
    requester's alone, so whether a file of another scope is refused is asked of the viewer's own."""
    at = datetime(2026, 11, 20, tzinfo=UTC)
    out = {}
    with unit_of_work(session_factory) as session:
        for key, objs in sets.items():
            row = LedgerExport(requested_by=person, unit_id=objs.unit, ledger="meetings", period="2026",
                               status=READY, filename=f"{objs.names[0]}.xlsx", size=2, created_at=at,
                               finished_at=at)  # fmt: skip
            session.add(row)
            session.flush()
            session.add(LedgerExportChunk(export_id=row.id, seq=0, data=b"PK"))
            out[key] = replace(objs, export=row.id)
    return out


# role → (person key or attribute, objects of its own scope, objects of others)
ROLES = {
    "committee_staff": ("staff_c1", ["b1", "b2"], ["c2"]),
    "committee_secretary": ("c1sec", ["b1", "b2"], ["c2"]),
    "branch_secretary": ("sec1", ["b1"], ["b2", "c2"]),
    "observer": ("observer", ["b1"], ["b2", "c2"]),
}


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    with session_factory() as session:
        sets = objects(session, org)
    return org, sets, console_app(session_factory)


def person_id(org: Org, key: str) -> int:
    return org.observer.id if key == "observer" else org.staff_c1.id if key == "staff_c1" else org.id(key)


def fill(path: str, params: list[str], objs: ObjectSet) -> str:
    for name in params:
        if name in PUBLIC_PARAMS:
            value = PUBLIC_PARAMS[name]
        else:
            value = getattr(objs, OBJECT_PARAMS[name])
        path = path.replace("{" + name + "}", str(value))
    return path


def test_every_path_parameter_is_known(world):
    _, _, app = world
    routes = console_routes(app)
    assert any(p == f"{PREFIX}/units/{{unit_id}}" for _, p, _ in routes)  # the walk finds the parts
    unknown = {(m, p, n) for m, p, params in routes for n in params if n not in OBJECT_PARAMS | PUBLIC_PARAMS}
    assert not unknown, f"routes with a path parameter this test cannot supply an object for: {unknown}"


@pytest.mark.parametrize("role", list(ROLES))
def test_another_scopes_objects_answer_404_or_403_and_disclose_nothing(session_factory, world, role):
    org, sets, app = world
    who, _, others = ROLES[role]
    client = login(session_factory, app, person_id(org, who))
    sets = with_exports(session_factory, sets, person_id(org, who))
    csrf = app.state.console.csrf(client.cookies.get(COOKIE))
    tried = 0
    for method, path, params in console_routes(app):
        if not params or any(n in PUBLIC_PARAMS for n in params):
            continue
        for other in others:
            objs = sets[other]
            url = fill(path, params, objs)
            response = client.request(
                method, url, headers={CSRF_HEADER: csrf}, data={"csrf_token": csrf}, follow_redirects=False
            )
            assert response.status_code in (403, 404), (role, method, url, response.status_code)
            leaked = [n for n in objs.names if n in response.text]
            assert not leaked, (role, method, url, leaked)
            tried += 1
    assert tried >= 3 * len(others)


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_sees_its_own_objects(session_factory, world, role):
    org, sets, app = world
    who, own, _ = ROLES[role]
    client = login(session_factory, app, person_id(org, who))
    sets = with_exports(session_factory, sets, person_id(org, who))
    for method, path, params in console_routes(app):
        if method != "GET" or not params or any(n in PUBLIC_PARAMS for n in params):
            continue
        if path.startswith(f"{PREFIX}/ledgers/all/"):
            continue  # a file of a whole scope is no set's object: tests/ledgers/test_exports.py gives its own
        # The 消息台账 and the 年终通报 are for those who lead the unit: an observer is refused them as
        # outside the scope (an observer's scope holds the branch read-only; the report is read out by
        # its leaders at the year-end 党员大会).
        leaders_only = (f"{PREFIX}/ledgers/{{unit_id}}/messages", f"{PREFIX}/year-reports/")
        expected = 404 if role == "observer" and path.startswith(leaders_only) else 200
        for mine in own:
            url = fill(path, params, sets[mine])
            response = client.get(url, follow_redirects=False)
            assert response.status_code == expected, (role, url, response.status_code)
        # And the pages say what they are about: the branch with its meeting, the meeting with its people.
        branch_name, person_name, title = sets[mine].names[:3]
        unit = client.get(f"{PREFIX}/units/{sets[mine].unit}?month=2026-11").text
        assert branch_name in unit and title in unit
        assert person_name in client.get(f"{PREFIX}/meetings/{sets[mine].meeting}").text


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_without_parameters_name_nothing_outside_the_scope(session_factory, world, role):
    org, sets, app = world
    who, _, others = ROLES[role]
    client = login(session_factory, app, person_id(org, who))
    for method, path, params in console_routes(app):
        if method != "GET" or params or path.startswith(LOGIN):
            continue
        for query in ("", "?month=2026-11"):
            response = client.get(path + query, follow_redirects=False)
            assert response.status_code in (200, 403), (role, path, response.status_code)
            for other in others:
                leaked = [n for n in sets[other].names if n in response.text]
                assert not leaked, (role, path + query, leaked)


def test_without_a_session_every_scoped_route_asks_for_login(world):
    _, sets, app = world
    from fastapi.testclient import TestClient

    client = TestClient(app)
    for method, path, params in console_routes(app):
        if path.startswith(LOGIN) or any(n in PUBLIC_PARAMS for n in params):
            continue
        url = fill(path, params, sets["c2"])
        response = client.request(method, url, follow_redirects=False)
        assert response.status_code in (303, 401, 403), (method, url, response.status_code)
        assert not [n for n in sets["c2"].names if n in response.text]
