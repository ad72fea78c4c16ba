"""The JSON API under /api/v1: bearer tokens, scope, pagination, errors, OpenAPI.

The organisation used throughout:

    城关镇党委 (C1)                        河口镇党委 (C2)
    ├── 东街社区党支部 (B1): 张三 (书记; also 观察员 of C2),   └── 东街社区党支部 (B3): 赵六
    │                        李四 (预备), 钱七 (inactive)
    └── 镇机关党总支 (GB)
        └── 机关第一党支部 (B2): 王五, in 第一党小组 (G)
    孙八: no branch, 组织部 of C1;  周九: no branch, 组织部 over the whole tree
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from bot.web.api import (
    MAX_LIMIT,
    LimitQuery,
    OffsetQuery,
    Page,
    PrincipalDep,
    SessionDep,
    build_api_router,
    paginate,
    unit_in_scope,
)
from bot.web.app import answer_refusals
from models.api_token import ApiToken, hash_token, issue_token, revoke
from models.org import MemberStatus, OrgUnit, Platform, Role, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage, TargetKind
from tests import builders

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Org:
    c1: int
    c2: int
    b1: int
    b2: int
    b3: int
    gb: int
    g: int
    people: dict[str, int]


@pytest.fixture
def org(session) -> Org:
    c1 = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    c2 = builders.unit(session, "河口镇党委", UnitKind.COMMITTEE)
    b1 = builders.unit(session, "东街社区党支部", UnitKind.BRANCH, c1, "community")
    gb = builders.unit(session, "镇机关党总支", UnitKind.GENERAL_BRANCH, c1)
    b2 = builders.unit(session, "机关第一党支部", UnitKind.BRANCH, gb, "government")
    g = builders.unit(session, "第一党小组", UnitKind.GROUP, b2)
    b3 = builders.unit(session, "东街社区党支部", UnitKind.BRANCH, c2, "community")
    zhang = builders.person(session, "张三", b1, account_id="zhangsan", corp="ding-corp")
    builders.account(session, zhang, "zhangsan", platform=Platform.WECOM, corp="ww-corp")
    li = builders.person(session, "李四", b1, status=MemberStatus.PROBATIONARY)
    qian = builders.person(session, "钱七", b1, active=False)
    wang = builders.person(session, "王五", b2, group=g)
    zhao = builders.person(session, "赵六", b3)
    sun = builders.person(session, "孙八")
    zhou = builders.person(session, "周九")
    builders.role(session, zhang, b1, Role.SECRETARY)
    builders.role(session, zhang, c2, Role.OBSERVER)
    builders.role(session, zhao, b3, Role.SECRETARY)
    builders.role(session, sun, c1, Role.ORG_STAFF)
    builders.role(session, zhou, None, Role.ORG_STAFF)
    session.commit()
    return Org(
        c1=c1.id,
        c2=c2.id,
        b1=b1.id,
        b2=b2.id,
        b3=b3.id,
        gb=gb.id,
        g=g.id,
        people={p.name: p.id for p in (zhang, li, qian, wang, zhao, sun, zhou)},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def client(session_factory, clock) -> TestClient:
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_api_router(session_factory, clock=clock))
    return TestClient(app)


@pytest.fixture
def make_token(session_factory):
    def make(scope_unit_id: int | None, name: str = "test") -> str:
        with session_factory() as s, s.begin():
            unit = s.get(OrgUnit, scope_unit_id) if scope_unit_id else None
            _, plain = issue_token(s, name=name, scope_unit=unit, now=T0)
        return plain

    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def names(page: dict) -> list[str]:
    return [item["name"] for item in page["items"]]


# --- authentication ---------------------------------------------------------------------------


def test_missing_token_is_401_with_bearer_challenge(client, org):
    r = client.get("/api/v1/people")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in r.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer zbt_not-a-real-token", "Bearer something-else", "Basic dXNlcjpwYXNz", "zbt_no_scheme"],
)
def test_invalid_token_is_401(client, org, make_token, header):
    make_token(None)
    r = client.get("/api/v1/people", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_revoked_token_is_refused(client, org, make_token, session_factory):
    token = make_token(None)
    assert client.get("/api/v1/people", headers=auth(token)).status_code == 200
    with session_factory() as s, s.begin():
        token_id = s.scalars(select(ApiToken.id)).one()
        revoke(s, token_id, now=T0 + timedelta(hours=1))
    r = client.get("/api/v1/people", headers=auth(token))
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert r.json()["detail"] == "invalid or revoked token"


def test_only_the_hash_is_stored(client, org, make_token, session_factory, engine):
    token = make_token(None, name="报表")
    assert token.startswith("zbt_") and len(token) > 40
    with session_factory() as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.token_hash == hash_token(token) != token
    # Nowhere in any table, in any column, not even a prefix of the secret part.
    secret_part = token.removeprefix("zbt_")[:12]
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for values in conn.execute(text(f'SELECT * FROM "{table}"')):
                assert not any(secret_part in str(v) for v in values), table


def test_last_used_is_recorded_at_most_once_a_minute(client, org, make_token, session_factory, clock):
    token = make_token(None)

    def last_used():
        with session_factory() as s:
            return s.scalars(select(ApiToken.last_used_at)).one()

    assert last_used() is None
    clock.now = T0 + timedelta(minutes=5)
    client.get("/api/v1/me", headers=auth(token))
    assert last_used() == T0 + timedelta(minutes=5)
    clock.now = T0 + timedelta(minutes=5, seconds=30)
    client.get("/api/v1/me", headers=auth(token))
    assert last_used() == T0 + timedelta(minutes=5)
    clock.now = T0 + timedelta(minutes=7)
    client.get("/api/v1/me", headers=auth(token))
    assert last_used() == T0 + timedelta(minutes=7)


def test_me_describes_the_token(client, org, make_token):
    r = client.get("/api/v1/me", headers=auth(make_token(org.b1, name="东街接口")))
    assert r.status_code == 200
    assert r.json()["name"] == "东街接口"
    assert r.json()["scope"] == {"id": org.b1, "name": "东街社区党支部", "kind": "branch"}
    assert client.get("/api/v1/me", headers=auth(make_token(None))).json()["scope"] is None


# --- scope ------------------------------------------------------------------------------------


def test_all_scope_sees_everything(client, org, make_token):
    token = make_token(None)
    units = client.get("/api/v1/units", headers=auth(token)).json()
    assert units["total"] == 7
    people = client.get("/api/v1/people", headers=auth(token)).json()
    assert sorted(names(people)) == sorted(["张三", "李四", "王五", "赵六", "孙八", "周九"])
    zhou = client.get(f"/api/v1/people/{org.people['周九']}", headers=auth(token)).json()
    assert zhou["roles"] == [{"role": "org_staff", "label": "组织部", "unit": None}]


def test_branch_token_cannot_see_another_branch(client, org, make_token):
    token = make_token(org.b1)
    people = client.get("/api/v1/people", headers=auth(token)).json()
    assert names(people) == ["张三", "李四"]
    assert people["total"] == 2
    # Another branch's people, by id or by filter, and units outside: all 404, as if absent.
    assert client.get(f"/api/v1/people/{org.people['赵六']}", headers=auth(token)).status_code == 404
    assert client.get(f"/api/v1/people/{org.people['王五']}", headers=auth(token)).status_code == 404
    r = client.get("/api/v1/people", params={"branch_id": org.b3}, headers=auth(token))
    assert r.status_code == 404
    assert r.json()["detail"] == f"unit {org.b3} not found"
    assert client.get(f"/api/v1/units/{org.c1}", headers=auth(token)).status_code == 404
    assert client.get("/api/v1/units/99999", headers=auth(token)).json()["detail"] == "unit 99999 not found"
    # Its own branch works.
    r = client.get("/api/v1/people", params={"branch_id": org.b1}, headers=auth(token))
    assert names(r.json()) == ["张三", "李四"]
    tree = client.get("/api/v1/org/tree", headers=auth(token)).json()
    assert [n["id"] for n in tree] == [org.b1] and tree[0]["children"] == []


def test_committee_token_sees_its_subtree_only(client, org, make_token):
    token = make_token(org.c1)
    units = client.get("/api/v1/units", headers=auth(token)).json()
    assert sorted(u["id"] for u in units["items"]) == sorted([org.c1, org.b1, org.gb, org.b2, org.g])
    people = client.get("/api/v1/people", headers=auth(token)).json()
    # 孙八 has no branch but holds a role in C1; 周九's org-wide role is not inside C1.
    assert names(people) == ["张三", "李四", "王五", "孙八"]
    zhang = next(p for p in people["items"] if p["name"] == "张三")
    # The 观察员 role 张三 holds in C2 stays invisible to C1's token.
    assert [(r["role"], r["unit"]["id"]) for r in zhang["roles"]] == [("secretary", org.b1)]
    assert {a["platform"] for a in zhang["chat_accounts"]} == {"dingtalk", "wecom"}
    assert client.get(f"/api/v1/units/{org.b3}", headers=auth(token)).status_code == 404
    assert client.get(f"/api/v1/people/{org.people['赵六']}", headers=auth(token)).status_code == 404
    roles = client.get("/api/v1/role-assignments", headers=auth(token)).json()
    assert sorted((r["person"]["name"], r["role"]) for r in roles["items"]) == [
        ("孙八", "org_staff"),
        ("张三", "secretary"),
    ]
    # unit_id narrows to the subtree of a unit inside the scope.
    r = client.get("/api/v1/people", params={"unit_id": org.gb}, headers=auth(token))
    assert names(r.json()) == ["王五"]
    assert client.get("/api/v1/people", params={"unit_id": org.c2}, headers=auth(token)).status_code == 404


def test_committee_sees_the_observer_it_appointed(client, org, make_token):
    token = make_token(org.c2)
    people = client.get("/api/v1/people", headers=auth(token)).json()
    assert names(people) == ["张三", "赵六"]
    zhang = people["items"][0]
    assert [(r["role"], r["unit"]["id"]) for r in zhang["roles"]] == [("observer", org.c2)]
    # The observer's own branch is named, though the branch itself stays out of reach.
    assert zhang["branch"]["id"] == org.b1
    assert client.get(f"/api/v1/units/{org.b1}", headers=auth(token)).status_code == 404


# --- organisation -----------------------------------------------------------------------------


def test_tree_hides_an_inactive_unit_with_everything_under_it(client, org, make_token, session):
    session.get(OrgUnit, org.gb).active = False  # 镇机关党总支 closed: its branch and group go with it
    session.commit()

    def ids(nodes):
        return [n["id"] for n in nodes] + [i for n in nodes for i in ids(n["children"])]

    token = make_token(None)
    shown = ids(client.get("/api/v1/org/tree", headers=auth(token)).json())
    assert org.c1 in shown and org.b1 in shown and org.b3 in shown
    assert not {org.gb, org.b2, org.g} & set(shown)
    every = client.get("/api/v1/org/tree", params={"include_inactive": "true"}, headers=auth(token)).json()
    assert {org.gb, org.b2, org.g} <= set(ids(every))


def test_tree_has_kinds_categories_parents_and_counts(client, org, make_token):
    tree = client.get("/api/v1/org/tree", headers=auth(make_token(None))).json()
    assert [n["name"] for n in tree] == ["城关镇党委", "河口镇党委"]
    c1 = tree[0]
    assert c1["kind"] == "committee" and c1["kind_label"] == "党委" and c1["parent_id"] is None
    # 钱七 is inactive and not counted.
    assert c1["counts"] == {"members": 3, "probationary": 1, "children": 2}
    b1, gb = c1["children"]
    assert (b1["name"], b1["category"], b1["category_label"]) == ("东街社区党支部", "community", "社区")
    assert b1["parent_id"] == org.c1 and b1["counts"] == {"members": 2, "probationary": 1, "children": 0}
    assert gb["kind_label"] == "党总支" and gb["counts"]["members"] == 1
    b2 = gb["children"][0]
    assert b2["children"][0]["kind"] == "group" and b2["children"][0]["path"].startswith(b2["path"])
    assert tree[1]["counts"] == {"members": 1, "probationary": 0, "children": 1}


def test_units_filters(client, org, make_token):
    token = make_token(None)
    r = client.get("/api/v1/units", params={"kind": "branch"}, headers=auth(token)).json()
    assert sorted(u["id"] for u in r["items"]) == sorted([org.b1, org.b2, org.b3])
    # Counts stay right for a page whose units sit under different committees.
    assert {u["id"]: u["counts"]["members"] for u in r["items"]} == {org.b1: 2, org.b2: 1, org.b3: 1}
    r = client.get("/api/v1/units", params={"parent_id": org.gb}, headers=auth(make_token(org.gb))).json()
    assert [(u["id"], u["counts"]["members"]) for u in r["items"]] == [(org.b2, 1)]
    r = client.get("/api/v1/units", params={"parent_id": org.c1}, headers=auth(token)).json()
    assert [u["id"] for u in r["items"]] == [org.b1, org.gb]
    one = client.get(f"/api/v1/units/{org.b2}", headers=auth(token)).json()
    assert one["counts"] == {"members": 1, "probationary": 0, "children": 1}


def test_people_filters(client, org, make_token):
    token = make_token(None)
    r = client.get("/api/v1/people", params={"status": "probationary"}, headers=auth(token)).json()
    assert names(r) == ["李四"] and r["items"][0]["status_label"] == "预备"
    r = client.get(
        "/api/v1/people", params={"branch_id": org.b1, "include_inactive": "true"}, headers=auth(token)
    )
    assert names(r.json()) == ["张三", "李四", "钱七"]
    r = client.get("/api/v1/people", params={"name": "王"}, headers=auth(token)).json()
    assert names(r) == ["王五"]
    assert r["items"][0]["group"] == {"id": org.g, "name": "第一党小组", "kind": "group"}
    # A LIKE wildcard in the name is a literal.
    assert client.get("/api/v1/people", params={"name": "%"}, headers=auth(token)).json()["total"] == 0


def test_role_catalog(client, org, make_token):
    catalog = client.get("/api/v1/roles", headers=auth(make_token(org.b1))).json()
    by_role = {entry["role"]: entry for entry in catalog}
    assert by_role["fee_collector"] == {
        "role": "fee_collector",
        "label": "党费收缴员",
        "unit_kinds": ["branch"],
    }
    assert "committee" in by_role["observer"]["unit_kinds"]


# --- pagination and bad input -----------------------------------------------------------------


def test_pagination_walks_every_item_once(client, org, make_token):
    token = make_token(None)
    seen = []
    for offset in range(0, 8, 2):
        page = client.get("/api/v1/people", params={"limit": 2, "offset": offset}, headers=auth(token)).json()
        assert page["total"] == 6 and page["limit"] == 2 and page["offset"] == offset
        seen += [p["id"] for p in page["items"]]
    assert len(seen) == len(set(seen)) == 6
    beyond = client.get("/api/v1/people", params={"offset": 100}, headers=auth(token)).json()
    assert beyond["items"] == [] and beyond["total"] == 6
    assert client.get("/api/v1/people", params={"limit": MAX_LIMIT}, headers=auth(token)).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 2**40}, "offset"),
        ({"branch_id": "abc"}, "branch_id"),
        ({"status": "honorary"}, "status"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_people_parameters_are_422_with_the_field(client, org, make_token, params, field):
    r = client.get("/api/v1/people", params=params, headers=auth(make_token(None)))
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["query", field]]


def test_bad_unit_parameters(client, org, make_token):
    token = make_token(None)
    r = client.get("/api/v1/units", params={"kind": "district"}, headers=auth(token))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "kind"]
    assert client.get("/api/v1/units/abc", headers=auth(token)).status_code == 422
    r = client.get("/api/v1/people", params={"branch_id": org.c1}, headers=auth(token))
    assert r.status_code == 422 and r.json()["detail"] == [
        {
            "loc": ["query", "branch_id"],
            "msg": f"unit {org.c1} is a committee, not a branch",
            "type": "refused",
        }
    ]


def test_unknown_query_parameter_is_400_not_ignored(client, org, make_token):
    r = client.get("/api/v1/people", params={"branch": org.b1}, headers=auth(make_token(None)))
    assert r.status_code == 400
    assert "unknown query parameter(s): branch" in r.json()["detail"]
    assert "branch_id" in r.json()["detail"]


# --- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_document_has_the_bearer_scheme(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert {
        "/api/v1/people",
        "/api/v1/units",
        "/api/v1/org/tree",
        "/api/v1/role-assignments",
        "/api/v1/deliveries",
    } <= set(doc["paths"])
    assert doc["paths"]["/api/v1/people"]["get"]["security"] == [{"bearerAuth": []}]
    assert "/api/v1/docs" not in doc["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "'/api/v1/openapi.json'" in docs.text
    # Behind a proxy that serves zhibu under a sub-path, the page still finds its document.
    proxied = TestClient(client.app, root_path="/zhibu").get("/api/v1/docs")
    assert "'/zhibu/api/v1/openapi.json'" in proxied.text


# --- delivery ledger --------------------------------------------------------------------------


@pytest.fixture
def ledger(session, org) -> dict[str, int]:
    rows = {
        "zhang_sent": ("p:张三", org.people["张三"], org.b1, DeliveryStatus.SENT, None),
        "li_failed": ("p:李四", org.people["李四"], org.b1, DeliveryStatus.FAILED, "未绑定"),
        "wang_queued": ("p:王五", org.people["王五"], org.b2, DeliveryStatus.QUEUED, None),
        "zhao_failed": ("p:赵六", org.people["赵六"], org.b3, DeliveryStatus.FAILED, "不在应用可见范围"),
        "group_sent": ("c:dingtalk:ding-corp:cid1", None, None, DeliveryStatus.SENT, None),
    }
    ids = {}
    for minute, (key, (recipient, person_id, branch_id, status, reason)) in enumerate(rows.items()):
        row = OutboxMessage(
            dedup_key="meeting:1:notice",
            recipient=recipient,
            platform="dingtalk" if person_id != org.people["李四"] else "",
            corp_id="ding-corp",
            target_kind=TargetKind.GROUP if person_id is None else TargetKind.USER,
            target=recipient,
            person_id=person_id,
            branch_id=branch_id,
            payload={"kind": "text", "text": "会议通知"},
            content_hash="h1",
            status=status,
            reason=reason,
            next_attempt_at=T0,
            created_at=T0 + timedelta(minutes=minute),
        )
        session.add(row)
        session.flush()
        ids[key] = row.id
    session.commit()
    return ids


def test_ledger_all_scope_newest_first(client, org, ledger, make_token):
    r = client.get("/api/v1/deliveries", headers=auth(make_token(None)))
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 5
    assert [d["id"] for d in page["items"]] == sorted(ledger.values(), reverse=True)
    li = next(d for d in page["items"] if d["id"] == ledger["li_failed"])
    assert (li["status"], li["status_label"], li["reason"]) == ("failed", "未送达", "未绑定")
    assert li["person"] == {"id": org.people["李四"], "name": "李四"}
    assert li["branch"]["id"] == org.b1 and li["platform"] == ""
    assert "payload" not in li


def test_ledger_respects_scope_and_filters(client, org, ledger, make_token):
    branch = make_token(org.b1)
    page = client.get("/api/v1/deliveries", headers=auth(branch)).json()
    assert sorted(d["id"] for d in page["items"]) == sorted([ledger["zhang_sent"], ledger["li_failed"]])
    failed = client.get("/api/v1/deliveries", params={"status": "failed"}, headers=auth(branch)).json()
    assert [d["id"] for d in failed["items"]] == [ledger["li_failed"]]
    assert (
        client.get("/api/v1/deliveries", params={"branch_id": org.b3}, headers=auth(branch)).status_code
        == 404
    )

    committee = make_token(org.c1)
    page = client.get("/api/v1/deliveries", params={"unit_id": org.gb}, headers=auth(committee)).json()
    assert [d["id"] for d in page["items"]] == [ledger["wang_queued"]]
    page = client.get("/api/v1/deliveries", params={"status": "failed"}, headers=auth(committee)).json()
    # 赵六's failure is in the other committee; the group message belongs to no branch.
    assert [d["id"] for d in page["items"]] == [ledger["li_failed"]]

    everything = make_token(None)
    window = {
        "created_from": (T0 + timedelta(minutes=1)).isoformat(),
        "created_before": (T0 + timedelta(minutes=3)).isoformat(),
    }
    page = client.get("/api/v1/deliveries", params=window, headers=auth(everything)).json()
    assert sorted(d["id"] for d in page["items"]) == sorted([ledger["li_failed"], ledger["wang_queued"]])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"created_from": "2026-03-02T09:00:00"}, "created_from"),  # no zone: ambiguous, refused
        ({"created_before": "yesterday"}, "created_before"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
    ],
)
def test_ledger_bad_parameters(client, org, ledger, make_token, params, field):
    r = client.get("/api/v1/deliveries", params=params, headers=auth(make_token(None)))
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["query", field]]


# --- a later feature's endpoints --------------------------------------------------------------


# What a feature writes: its own router over the shared session, caller and pagination. This module
# uses `from __future__ import annotations`, as feature modules may.
branches_api = APIRouter()


@branches_api.get("/feature/branches", response_model=Page[str])
def branch_names(
    session: SessionDep,
    principal: PrincipalDep,
    under: int | None = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> Page[str]:
    stmt = select(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH, principal.unit_clause())
    if under is not None:
        stmt = stmt.where(OrgUnit.path.startswith(unit_in_scope(session, principal, under).path))
    units, total = paginate(session, stmt, [OrgUnit.id], limit, offset)
    return Page(items=[u.name for u in units], total=total, limit=limit, offset=offset)


def test_feature_routes_share_auth_scope_and_checks(session_factory, org, make_token):
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_api_router(session_factory, features=[branches_api]))
    client = TestClient(app)
    assert client.get("/api/v1/feature/branches").status_code == 401
    token = make_token(org.c1)
    r = client.get("/api/v1/feature/branches", headers=auth(token)).json()
    assert r["items"] == ["东街社区党支部", "机关第一党支部"] and r["total"] == 2
    assert (
        client.get("/api/v1/feature/branches", params={"under": org.c2}, headers=auth(token)).status_code
        == 404
    )
    assert client.get("/api/v1/feature/branches", params={"limit": 0}, headers=auth(token)).status_code == 422
    assert client.get("/api/v1/feature/branches", params={"undr": 1}, headers=auth(token)).status_code == 400
    assert "/api/v1/feature/branches" in client.get("/api/v1/openapi.json").json()["paths"]
