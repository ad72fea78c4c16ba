"""The observers' endpoints under /api/v1, through build_api_router(features=...): auth, scope, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.web.api import build_api_router
from bot.web.app import answer_refusals
from bot.web.observers import observers_api
from models.api_token import issue_token
from models.observers import ObserverAssignment
from models.org import OrgUnit, Role, RoleAssignment, UnitKind, set_path

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def client(session_factory, world):
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_api_router(session_factory, features=[observers_api]))
    return TestClient(app)


@pytest.fixture
def token(session_factory):
    def make(scope_unit_id: int | None, write: bool = True) -> dict[str, str]:
        with session_factory() as s, s.begin():
            unit = s.get(OrgUnit, scope_unit_id) if scope_unit_id else None
            _, plain = issue_token(s, name="t", scope_unit=unit, now=T0, can_write=write)
        return {"Authorization": f"Bearer {plain}"}

    return make


def make_observer(session, person, committee) -> None:
    session.add(RoleAssignment(person_id=person.id, org_unit_id=committee.id, role=Role.OBSERVER))
    session.commit()


def test_list_create_refuse_and_end(client, token, world, session):
    make_observer(session, world.outsider, world.committee)
    county = token(None)
    assert client.get("/api/v1/observers/assignments").status_code == 401
    page = client.get("/api/v1/observers/assignments", headers=county).json()
    assert page["total"] == 1
    assert (
        page["items"][0]["observer"]["name"] == "钱观察"
        and page["items"][0]["branch"]["name"] == "城关社区党支部"
    )
    # Their own branch: refused with the reason, nothing written.
    own = client.post(
        "/api/v1/observers/assignments",
        json={"observer_id": world.outsider.id, "branch_id": world.other_branch.id},
        headers=county,
    )
    assert own.status_code == 422 and "不能观察本人所在的支部" in own.json()["detail"][0]["msg"]
    twice = client.post(
        "/api/v1/observers/assignments",
        json={"observer_id": world.observer.id, "branch_id": world.branch.id},
        headers=county,
    )
    assert twice.status_code == 422 and "已经是" in twice.json()["detail"][0]["msg"]
    made = client.post(
        "/api/v1/observers/assignments",
        json={"observer_id": world.outsider.id, "branch_id": world.branch.id},
        headers=county,
    )
    assert made.status_code == 201 and made.json()["active"] is True
    listed = client.get(
        "/api/v1/observers/assignments", params={"branch_id": world.branch.id}, headers=county
    ).json()
    assert listed["total"] == 2
    assert (
        client.delete(f"/api/v1/observers/assignments/{made.json()['id']}", headers=county).status_code == 204
    )
    ended = client.get("/api/v1/observers/assignments", params={"active": "false"}, headers=county).json()
    assert [i["observer"]["name"] for i in ended["items"]] == ["孔观察"]
    assert client.get("/api/v1/observers/assignments", params={"actve": 1}, headers=county).status_code == 400
    assert (
        client.post("/api/v1/observers/assignments", json={"observer_id": "x"}, headers=county).status_code
        == 422
    )


def test_a_token_sees_and_changes_only_its_subtree(client, token, world, session):
    other = OrgUnit(name="别的镇党委", kind=UnitKind.COMMITTEE)
    session.add(other)
    session.flush()
    set_path(other, None)
    session.commit()
    scoped = token(other.id)
    assert client.get("/api/v1/observers/assignments", headers=scoped).json()["total"] == 0
    (link,) = session.scalars(select(ObserverAssignment)).all()
    assert client.delete(f"/api/v1/observers/assignments/{link.id}", headers=scoped).status_code == 404
    resp = client.post(
        "/api/v1/observers/assignments",
        json={"observer_id": world.outsider.id, "branch_id": world.branch.id},
        headers=scoped,
    )
    assert resp.status_code == 404
    session.expire_all()
    assert session.get(ObserverAssignment, link.id).active is True
    assert len(session.scalars(select(ObserverAssignment)).all()) == 1


def test_only_a_person_holding_the_observer_role_can_be_assigned(client, token, world, session):
    county = token(None)
    body = {"observer_id": world.outsider.id, "branch_id": world.branch.id}
    refused = client.post("/api/v1/observers/assignments", json=body, headers=county)
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "observer_id"],
            "msg": f"{world.outsider.name}不是观察员，不能联系支部。请先在花名册的“职务”中登记观察员，"
            "例如“观察员（县直机关工委）”，导入后再分配。",
            "type": "refused",
        }
    ]
    assert (
        session.scalars(
            select(ObserverAssignment).where(ObserverAssignment.observer_id == body["observer_id"])
        ).all()
        == []
    )
    # A secretary of another branch is not an observer either, whatever roles they hold.
    session.add(
        RoleAssignment(person_id=world.outsider.id, org_unit_id=world.other_branch.id, role=Role.SECRETARY)
    )
    session.commit()
    assert client.post("/api/v1/observers/assignments", json=body, headers=county).status_code == 422
    # Appointed by any committee, they may be linked.
    make_observer(session, world.outsider, world.committee)
    made = client.post("/api/v1/observers/assignments", json=body, headers=county)
    assert made.status_code == 201 and made.json()["observer"]["id"] == world.outsider.id


def test_a_read_only_token_cannot_change_assignments(client, token, world, session):
    make_observer(session, world.outsider, world.committee)
    reader = token(None, write=False)
    assert client.get("/api/v1/observers/assignments", headers=reader).json()["total"] == 1
    made = client.post(
        "/api/v1/observers/assignments",
        json={"observer_id": world.outsider.id, "branch_id": world.branch.id},
        headers=reader,
    )
    assert (
        made.status_code == 403
        and "read-only" in made.json()["detail"]
        and "--write" in made.json()["detail"]
    )
    (link,) = session.scalars(select(ObserverAssignment)).all()
    assert client.delete(f"/api/v1/observers/assignments/{link.id}", headers=reader).status_code == 403
    session.expire_all()
    assert len(session.scalars(select(ObserverAssignment)).all()) == 1 and link.active is True
