"""The JSON API's edges (issue #12): ids past the database's integers, read-only tokens, the 405 Allow
header, the shape of every 422, date-times and months at the calendar's ends.

The schemathesis run (tests/test_api_fuzz.py) finds such things at random; these pin each one down.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.web.api import build_api_router
from bot.web.app import answer_refusals
from bot.web.meetings_api import meetings_api
from bot.web.observers import observers_api
from models.api_token import ApiToken, issue_token
from models.meetings import Meeting
from models.observers import ObserverAssignment
from models.org import OrgUnit, Role, RoleAssignment
from tests.meetings.conftest import NOW, build_org

WHEN = "2026-05-20T15:00:00+08:00"
# The contract, spelt out: ids are PostgreSQL INTEGERs; a rule's refusal is a 422 of this type.
MAX_ID = 2**31 - 1
REFUSED = "refused"
# Past PostgreSQL's INTEGER, and past SQLite's (and Python's sqlite3's) 64-bit integer.
HUGE = [2**31, 2**63, 10**30]


@pytest.fixture
def ids(session_factory) -> dict[str, int]:
    with session_factory() as s:
        o = build_org(s)
        s.add(RoleAssignment(person_id=o.other_member.id, org_unit_id=o.committee.id, role=Role.OBSERVER))
        out = {
            "committee": o.committee.id,
            "branch": o.branch.id,
            "other": o.other_branch.id,
            "observer": o.other_member.id,
            "member": o.alice.id,
        }
        s.commit()
    return out


@pytest.fixture
def client(session_factory) -> TestClient:
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    router = build_api_router(session_factory, clock=lambda: NOW, features=[observers_api, meetings_api])
    app.include_router(router)
    return TestClient(app)


@pytest.fixture
def token(session_factory):
    def make(write: bool, scope_unit_id: int | None = None) -> dict[str, str]:
        with session_factory() as s, s.begin():
            unit = s.get(OrgUnit, scope_unit_id) if scope_unit_id else None
            _, plain = issue_token(s, name="报表", scope_unit=unit, now=NOW, can_write=write)
        return {"Authorization": f"Bearer {plain}"}

    return make


def meeting_body(branch_id: int, **kw) -> dict:
    return {"branch_id": branch_id, "types": ["party_congress"], "starts_at": WHEN, "place": "党员活动室",
            "topic": "学习党章", **kw}  # fmt: skip


def count(session_factory, model) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- (8) ids beyond the database's integers ---------------------------------------------------


@pytest.mark.parametrize("value", [*HUGE, 0, -1])
def test_ids_out_of_range_are_422_naming_the_parameter(client, ids, token, session_factory, value):
    h = token(write=True)
    requests = [
        ("GET", f"/api/v1/units/{value}", None, ["path", "unit_id"]),
        ("GET", f"/api/v1/people/{value}", None, ["path", "person_id"]),
        ("GET", f"/api/v1/meetings/{value}", None, ["path", "meeting_id"]),
        ("GET", f"/api/v1/meetings/{value}/attendance", None, ["path", "meeting_id"]),
        ("PATCH", f"/api/v1/meetings/{value}", {"place": "别处"}, ["path", "meeting_id"]),
        ("POST", f"/api/v1/meetings/{value}/cancel", {"reason": "改期"}, ["path", "meeting_id"]),
        ("DELETE", f"/api/v1/observers/assignments/{value}", None, ["path", "assignment_id"]),
        ("GET", f"/api/v1/units?parent_id={value}", None, ["query", "parent_id"]),
        ("GET", f"/api/v1/people?branch_id={value}", None, ["query", "branch_id"]),
        ("GET", f"/api/v1/people?unit_id={value}", None, ["query", "unit_id"]),
        ("GET", f"/api/v1/role-assignments?person_id={value}", None, ["query", "person_id"]),
        ("GET", f"/api/v1/deliveries?person_id={value}", None, ["query", "person_id"]),
        ("GET", f"/api/v1/meetings?branch_id={value}", None, ["query", "branch_id"]),
        ("GET", f"/api/v1/observers/assignments?observer_id={value}", None, ["query", "observer_id"]),
        ("POST", "/api/v1/meetings", meeting_body(value), ["body", "branch_id"]),
        ("POST", "/api/v1/meetings", meeting_body(ids["branch"], group_id=value), ["body", "group_id"]),
        (
            "POST",
            "/api/v1/observers/assignments",
            {"observer_id": value, "branch_id": ids["branch"]},
            ["body", "observer_id"],
        ),
    ]
    for method, url, body, loc in requests:
        r = client.request(method, url, json=body, headers=h)
        assert r.status_code == 422, (method, url, r.status_code, r.text)
        assert [e["loc"] for e in r.json()["detail"]] == [loc], (method, url, r.text)
    assert count(session_factory, Meeting) == 0 and count(session_factory, ObserverAssignment) == 0


def test_the_largest_id_is_looked_up_and_not_found(client, ids, token):
    h = token(write=False)
    assert client.get(f"/api/v1/units/{MAX_ID}", headers=h).status_code == 404
    assert client.get(f"/api/v1/people?branch_id={MAX_ID}", headers=h).status_code == 404


def test_every_id_parameter_states_its_range_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json()
    seen = 0
    for path, item in doc["paths"].items():
        for operation in item.values():
            for p in operation.get("parameters", []):
                if p["name"] == "id" or p["name"].endswith("_id"):
                    schema = p["schema"]
                    schema = next((s for s in schema.get("anyOf", []) if s.get("type") == "integer"), schema)
                    assert (schema["minimum"], schema["maximum"]) == (1, MAX_ID), (path, p)
                    seen += 1
    assert seen >= 14
    for model in ("MeetingIn", "AssignmentIn"):
        for name, prop in doc["components"]["schemas"][model]["properties"].items():
            if name.endswith("_id"):
                prop = next((s for s in prop.get("anyOf", []) if s.get("type") == "integer"), prop)
                assert (prop["minimum"], prop["maximum"]) == (1, MAX_ID), (model, name)


# --- (12) read-only tokens --------------------------------------------------------------------


def test_new_tokens_are_read_only(session_factory, ids):
    with session_factory() as s, s.begin():
        token, _ = issue_token(s, name="报表", scope_unit=None, now=NOW)
    with session_factory() as s:
        assert s.get(ApiToken, token.id).can_write is False


def test_a_read_only_token_reads_but_every_write_is_403_with_the_reason(client, ids, token, session_factory):
    writer, reader = token(write=True), token(write=False)
    mid = client.post("/api/v1/meetings", json=meeting_body(ids["branch"]), headers=writer).json()["id"]
    link = client.post(
        "/api/v1/observers/assignments", json={"observer_id": ids["observer"], "branch_id": ids["branch"]}, headers=writer
    ).json()["id"]  # fmt: skip

    me = client.get("/api/v1/me", headers=reader).json()
    assert me["can_write"] is False and client.get("/api/v1/me", headers=writer).json()["can_write"] is True
    assert client.get(f"/api/v1/meetings/{mid}", headers=reader).status_code == 200
    assert client.get("/api/v1/observers/assignments", headers=reader).json()["total"] == 1

    writes = [
        ("POST", "/api/v1/meetings", meeting_body(ids["branch"])),
        ("PATCH", f"/api/v1/meetings/{mid}", {"place": "别处"}),
        ("POST", f"/api/v1/meetings/{mid}/cancel", {"reason": "改期"}),
        (
            "POST",
            "/api/v1/observers/assignments",
            {"observer_id": ids["observer"], "branch_id": ids["committee"]},
        ),
        ("DELETE", f"/api/v1/observers/assignments/{link}", None),
    ]
    for method, url, body in writes:
        r = client.request(method, url, json=body, headers=reader)
        assert r.status_code == 403, (method, url, r.text)
        assert "read-only" in r.json()["detail"] and "--write" in r.json()["detail"]
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    with session_factory() as s:
        meeting = s.get(Meeting, mid)
        assert meeting.place == "党员活动室" and meeting.status.value == "scheduled"
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1
        assert [a.active for a in s.scalars(select(ObserverAssignment))] == [True]


def test_write_endpoints_document_the_403(client):
    doc = client.get("/api/v1/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "get":
                assert "403" not in operation["responses"], (method, path)
            else:
                assert "403" in operation["responses"], (method, path)


# --- the OpenAPI contract: 405 Allow, 422 shape -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/meetings", "GET, HEAD, POST"),
        ("/api/v1/meetings/1", "GET, HEAD, PATCH"),
        ("/api/v1/meetings/1/cancel", "POST"),
        ("/api/v1/observers/assignments", "GET, HEAD, POST"),
        ("/api/v1/observers/assignments/1", "DELETE"),
        ("/api/v1/units", "GET, HEAD"),
    ],
)
def test_a_method_a_path_lacks_is_405_listing_all_it_has(client, path, allow):
    for method in ("PUT", "OPTIONS", "TRACE", "DELETE", "PATCH", "POST"):
        if method in allow:
            continue
        r = client.request(method, path)
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == allow, (method, path)


def test_every_422_has_the_documented_shape(client, ids, token):
    h = token(write=True)
    mid = client.post("/api/v1/meetings", json=meeting_body(ids["branch"]), headers=h).json()["id"]
    answers = [
        client.get("/api/v1/people", params={"branch_id": ids["committee"]}, headers=h),
        client.post("/api/v1/meetings", json=meeting_body(ids["committee"]), headers=h),
        client.post("/api/v1/meetings", json=meeting_body(ids["branch"], starts_at="2020-01-01T00:00:00Z"), headers=h),
        client.patch(f"/api/v1/meetings/{mid}", json={}, headers=h),
        client.patch(f"/api/v1/meetings/{mid}", json={"place": None}, headers=h),
        client.post(
            "/api/v1/observers/assignments", json={"observer_id": ids["member"], "branch_id": ids["other"]}, headers=h
        ),
        client.post(
            "/api/v1/observers/assignments", json={"observer_id": ids["observer"], "branch_id": ids["other"]}, headers=h
        ),
    ]  # fmt: skip
    for r in answers:
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert isinstance(detail, list) and detail, r.text
        for error in detail:
            assert isinstance(error["loc"], list) and error["msg"] and error["type"], r.text
    refusals = [r.json()["detail"][0] for r in answers]
    assert refusals[0] == {
        "loc": ["query", "branch_id"],
        "msg": f"unit {ids['committee']} is a committee, not a branch",
        "type": REFUSED,
    }
    assert refusals[1]["loc"] == ["body", "branch_id"] and refusals[1]["type"] == REFUSED
    assert refusals[2]["loc"] == ["body", "starts_at"] and refusals[2]["type"] == REFUSED


def test_422_responses_are_declared_with_the_array_shape(client):
    doc = client.get("/api/v1/openapi.json").json()
    detail = doc["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    assert detail["type"] == "array"
    for item in doc["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status not in ("200", "201", "204", "422"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Problem", (status, operation["summary"])


# --- date-times and months --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"created_from": "0.5"},
        {"created_from": "1700000000"},
        {"created_from": "0001-01-01T00:00:00+08:00"},
        {"created_before": "9999-12-31T23:59:59-08:00"},
    ],
)
def test_date_times_that_are_not_iso_8601_or_have_no_utc_instant_are_422(client, ids, token, query):
    r = client.get("/api/v1/deliveries", params=query, headers=token(write=False))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", next(iter(query))]


def test_date_times_at_the_calendar_ends_that_exist_in_utc_are_fine(client, ids, token):
    h = token(write=False)
    for query in ({"created_from": "0001-01-01T00:00:00Z"}, {"created_before": "9999-12-31T23:59:59Z"}):
        assert client.get("/api/v1/deliveries", params=query, headers=h).status_code == 200


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "9999-12", "1999-12"])
def test_months_outside_the_supported_years_are_422(client, ids, token, month):
    r = client.get("/api/v1/meetings", params={"month": month}, headers=token(write=False))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "month"]


def test_a_move_with_a_number_for_a_time_is_422(client, ids, token):
    h = token(write=True)
    mid = client.post("/api/v1/meetings", json=meeting_body(ids["branch"]), headers=h).json()["id"]
    r = client.patch(f"/api/v1/meetings/{mid}", json={"starts_at": 1790000000}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "starts_at"]
