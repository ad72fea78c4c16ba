"""Meetings in the JSON API: create, scope, validation, move, cancel, attendance, list filters."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.web.api import build_api_router
from bot.web.app import answer_refusals
from bot.web.meetings_api import meetings_api
from handlers.meetings import strings
from models.api_token import issue_token
from models.meetings import Invitee, Meeting
from models.org import OrgUnit
from models.outbox import OutboxMessage
from tests.meetings.conftest import NOW, build_org

WHEN = "2026-05-20T15:00:00+08:00"


@pytest.fixture
def ids(session_factory) -> dict[str, int]:
    with session_factory() as s:
        o = build_org(s)
        out = {
            "committee": o.committee.id,
            "branch": o.branch.id,
            "group": o.group.id,
            "other": o.other_branch.id,
            "other_member": o.other_member.id,
        }
        s.commit()
    return out


@pytest.fixture
def client(session_factory) -> TestClient:
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_api_router(session_factory, clock=lambda: NOW, features=[meetings_api]))
    return TestClient(app)


@pytest.fixture
def token(session_factory):
    def make(scope_unit_id: int | None, write: bool = True) -> dict[str, str]:
        with session_factory() as s, s.begin():
            unit = s.get(OrgUnit, scope_unit_id) if scope_unit_id else None
            _, plain = issue_token(s, name="t", scope_unit=unit, now=NOW, can_write=write)
        return {"Authorization": f"Bearer {plain}"}

    return make


def body(branch_id: int, **kw) -> dict:
    return {"branch_id": branch_id, "types": ["party_congress"], "starts_at": WHEN, "place": "党员活动室",
            "topic": "学习党章", **kw}  # fmt: skip


def outbox(session_factory, prefix: str) -> set[int]:
    with session_factory() as s:
        return set(
            s.scalars(select(OutboxMessage.person_id).where(OutboxMessage.dedup_key.startswith(prefix)))
        )


def invitees(session_factory, meeting_id: int) -> set[int]:
    with session_factory() as s:
        return set(s.scalars(select(Invitee.person_id).where(Invitee.meeting_id == meeting_id)))


def test_create_schedules_the_meeting_and_queues_notices(client, ids, token, session_factory):
    h = token(ids["branch"])
    r = client.post(
        "/api/v1/meetings", json=body(ids["branch"], types=["party_congress", "party_lecture"]), headers=h
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["types"] == ["party_congress", "party_lecture"]
    assert m["type_labels"] == [strings.TYPE_LABELS[t] for t in ("party_congress", "party_lecture")]
    assert m["branch"]["id"] == ids["branch"] and m["status"] == "scheduled"
    assert m["starts_at"].startswith("2026-05-20T07:00:00")
    with session_factory() as s:
        row = s.get(Meeting, m["id"])
        assert row.place == "党员活动室" and row.created_by_id is None
    invited = invitees(session_factory, m["id"])
    assert invited and ids["other_member"] not in invited
    assert m["invitees"] == len(invited)
    assert outbox(session_factory, f"meeting:{m['id']}:notice") == invited

    detail = client.get(f"/api/v1/meetings/{m['id']}", headers=h).json()
    assert detail["attendance"] == {
        "expected": len(invited), "present": 0, "late": 0, "leave": 0, "missing": len(invited)
    }  # fmt: skip
    att = client.get(f"/api/v1/meetings/{m['id']}/attendance", headers=h).json()
    assert {p["id"] for p in att["missing"]} == invited and att["present"] == []


def test_group_meeting_needs_a_group_of_the_branch(client, ids, token):
    h = token(ids["branch"])
    r = client.post("/api/v1/meetings", json=body(ids["branch"], types=["group_meeting"]), headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "group_id"]
    assert r.json()["detail"][0]["msg"] == strings.GROUP_REQUIRED
    r = client.post(
        "/api/v1/meetings",
        json=body(ids["branch"], types=["group_meeting"], group_id=ids["group"]),
        headers=h,
    )
    assert r.status_code == 201 and r.json()["group"]["id"] == ids["group"]


def test_branch_token_cannot_touch_another_branch(client, ids, token, session_factory):
    own, other = token(ids["branch"]), token(ids["other"])
    r = client.post("/api/v1/meetings", json=body(ids["other"]), headers=own)
    assert r.status_code == 404
    with session_factory() as s:
        assert s.scalar(select(Meeting.id)) is None
    mid = client.post("/api/v1/meetings", json=body(ids["other"]), headers=other).json()["id"]
    for method, path, payload in [
        ("GET", f"/api/v1/meetings/{mid}", None),
        ("GET", f"/api/v1/meetings/{mid}/attendance", None),
        ("PATCH", f"/api/v1/meetings/{mid}", {"place": "别处"}),
        ("POST", f"/api/v1/meetings/{mid}/cancel", {"reason": "不开了"}),
    ]:
        assert client.request(method, path, json=payload, headers=own).status_code == 404, path
    assert client.get("/api/v1/meetings", headers=own).json()["total"] == 0
    assert client.get(f"/api/v1/meetings?branch_id={ids['other']}", headers=own).status_code == 404
    # Nothing changed through the refused calls.
    assert client.get(f"/api/v1/meetings/{mid}", headers=other).json()["status"] == "scheduled"
    # The committee's token sees both.
    assert client.get("/api/v1/meetings", headers=token(ids["committee"])).json()["total"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "2026-05-20 15:00"}, "starts_at"),  # no offset
        ({"starts_at": "明天下午"}, "starts_at"),
        ({"starts_at": "2026-05-17T15:00:00+08:00"}, "starts_at"),  # in the past
        ({"types": ["tea_party"]}, "types"),
        ({"types": []}, "types"),
        ({"place": ""}, "place"),
        ({"topic": "长" * 501}, "topic"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, ids, token, session_factory, change, field):
    r = client.post("/api/v1/meetings", json=body(ids["branch"], **change), headers=token(ids["branch"]))
    assert r.status_code == 422
    assert any(d["loc"][:2] == ["body", field] for d in r.json()["detail"]), r.json()
    with session_factory() as s:
        assert s.scalar(select(Meeting.id)) is None
        assert s.scalar(select(OutboxMessage.id)) is None


def test_move_and_cancel_notify_invitees_and_second_cancel_conflicts(client, ids, token, session_factory):
    h = token(ids["branch"])
    mid = client.post("/api/v1/meetings", json=body(ids["branch"]), headers=h).json()["id"]
    invited = invitees(session_factory, mid)

    r = client.patch(
        f"/api/v1/meetings/{mid}",
        json={"starts_at": "2026-05-21T09:00:00+08:00", "place": "会议室"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["notified"] == len(invited)
    assert r.json()["meeting"]["place"] == "会议室" and r.json()["meeting"]["version"] == 2
    assert outbox(session_factory, f"meeting:{mid}:v2:moved") == invited

    assert client.patch(f"/api/v1/meetings/{mid}", json={}, headers=h).status_code == 422
    r = client.patch(f"/api/v1/meetings/{mid}", json={"starts_at": "2026-05-01T09:00:00+08:00"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "starts_at"]

    assert client.post(f"/api/v1/meetings/{mid}/cancel", json={"reason": ""}, headers=h).status_code == 422
    r = client.post(f"/api/v1/meetings/{mid}/cancel", json={"reason": "与上级会议冲突"}, headers=h)
    assert r.status_code == 200 and r.json()["notified"] == len(invited)
    assert r.json()["meeting"]["status"] == "cancelled"
    assert r.json()["meeting"]["cancel_reason"] == "与上级会议冲突"
    assert outbox(session_factory, f"meeting:{mid}:cancelled") == invited

    r = client.post(f"/api/v1/meetings/{mid}/cancel", json={"reason": "再取消"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"] == strings.MEETING_CANCELLED
    r = client.patch(f"/api/v1/meetings/{mid}", json={"place": "别处"}, headers=h)
    assert r.status_code == 409
    with session_factory() as s:
        assert s.get(Meeting, mid).cancel_reason == "与上级会议冲突"


def test_list_filters_and_pagination(client, ids, token):
    h = token(ids["committee"])
    starts = ["2026-05-20T15:00:00+08:00", "2026-05-28T15:00:00+08:00", "2026-06-03T15:00:00+08:00"]
    made = [
        client.post("/api/v1/meetings", json=body(ids["branch"], starts_at=t), headers=h).json()["id"]
        for t in starts
    ]
    other = client.post("/api/v1/meetings", json=body(ids["other"]), headers=h).json()["id"]
    client.post(f"/api/v1/meetings/{made[1]}/cancel", json={"reason": "改期"}, headers=h)

    def ids_of(query: str) -> list[int]:
        r = client.get(f"/api/v1/meetings{query}", headers=h)
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["items"]]

    assert ids_of("") == [made[0], other, made[1], made[2]]  # by start time
    assert ids_of(f"?branch_id={ids['branch']}") == made
    assert ids_of(f"?branch_id={ids['branch']}&month=2026-05") == made[:2]
    assert ids_of("?month=2026-06") == [made[2]]
    assert ids_of("?status=cancelled") == [made[1]]
    page = client.get("/api/v1/meetings?limit=2&offset=2", headers=h).json()
    assert page["total"] == 4 and [m["id"] for m in page["items"]] == [made[1], made[2]]
    assert client.get("/api/v1/meetings?month=2026-13", headers=h).status_code == 422
    assert client.get("/api/v1/meetings?status=done", headers=h).status_code == 422
    assert client.get("/api/v1/meetings?mnth=2026-05", headers=h).status_code == 400
    assert client.get("/api/v1/meetings/999999", headers=h).status_code == 404


def test_meeting_moved_into_another_month_follows_the_filter(client, ids, token):
    h = token(ids["branch"])
    mid = client.post("/api/v1/meetings", json=body(ids["branch"]), headers=h).json()["id"]
    client.patch(f"/api/v1/meetings/{mid}", json={"starts_at": "2026-06-02T09:00:00+08:00"}, headers=h)
    assert client.get("/api/v1/meetings?month=2026-05", headers=h).json()["total"] == 0
    assert client.get("/api/v1/meetings?month=2026-06", headers=h).json()["items"][0]["id"] == mid
