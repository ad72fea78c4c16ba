"""zhibu api-token create / list / revoke, on a database built by the real migrations."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.web.api import build_api_router
from models.api_token import ApiToken, hash_token
from models.org import UnitKind
from tests import builders

TOKEN_RE = re.compile(r"^(zbt_[A-Za-z0-9_-]{40,})$", re.MULTILINE)


@pytest.fixture
def db(migrated_url, session_factory):
    """A migrated database (the CLI refuses any other) with two committees and their branches."""
    with session_factory() as s, s.begin():
        c1 = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        c2 = builders.unit(s, "河口镇党委", UnitKind.COMMITTEE)
        b1 = builders.unit(s, "东街社区党支部", UnitKind.BRANCH, c1)
        b2 = builders.unit(s, "西街社区党支部", UnitKind.BRANCH, c1)
        builders.unit(s, "东街社区党支部", UnitKind.BRANCH, c2)  # the same name under another committee
        builders.person(s, "张三", b1)
        builders.person(s, "李四", b2)
    return migrated_url, session_factory


def run(url: str, *args: str):
    return CliRunner().invoke(app, ["api-token", *args], env={"ZHIBU_DATABASE_URL": url})


def created_token(result) -> str:
    assert result.exit_code == 0, result.output
    found = TOKEN_RE.findall(result.output)
    assert len(found) == 1, result.output
    return found[0]


def test_create_prints_a_token_that_works_within_its_scope(db):
    url, factory = db
    result = run(url, "create", "--name", "西街报表", "--scope", "branch:城关镇党委/西街社区党支部")
    token = created_token(result)
    assert "只显示这一次" in result.output and "党支部 西街社区党支部" in result.output

    client = TestClient(FastAPI())
    client.app.include_router(build_api_router(factory))
    r = client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert [p["name"] for p in r.json()["items"]] == ["李四"]

    with factory() as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.name == "西街报表" and row.token_hash == hash_token(token)
        assert row.scope_unit.name == "西街社区党支部"


def test_committee_and_all_scopes(db):
    url, factory = db
    created_token(run(url, "create", "--name", "镇里", "--scope", "committee:城关镇党委"))
    created_token(run(url, "create", "--name", "全部", "--scope", "all"))
    with factory() as s:
        scopes = {t.name: t.scope_unit for t in s.scalars(select(ApiToken))}
    assert scopes["镇里"].kind == UnitKind.COMMITTEE and scopes["镇里"].name == "城关镇党委"
    assert scopes["全部"] is None


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("branch:南街社区党支部", "没有找到范围“branch:南街社区党支部”所指的组织"),
        ("committee:东街社区党支部", "没有找到范围"),  # a branch's name is not a committee
        ("branch:东街社区党支部", "对应多个组织"),
        ("town:城关镇", "写法不对"),
        ("branch:", "写法不对"),
    ],
)
def test_bad_scope_is_a_chinese_error_and_creates_nothing(db, scope, message):
    url, factory = db
    result = run(url, "create", "--name", "x", "--scope", scope)
    assert result.exit_code != 0
    assert message in result.output
    assert "zbt_" not in result.output
    with factory() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_ambiguous_branch_lists_the_candidates_and_the_way_out(db):
    url, _ = db
    result = run(url, "create", "--name", "x", "--scope", "branch:东街社区党支部")
    assert "城关镇党委/东街社区党支部" in result.output and "河口镇党委/东街社区党支部" in result.output
    assert "branch:上级组织名称/支部名称" in result.output
    # Full-width punctuation, as a Chinese keyboard types it, is understood.
    created_token(run(url, "create", "--name", "x", "--scope", "branch：河口镇党委／东街社区党支部"))


def test_list_shows_tokens_without_the_secret_and_revoke_stops_them(db):
    url, factory = db
    token = created_token(run(url, "create", "--name", "东街", "--scope", "committee:城关镇党委"))
    listing = run(url, "list")
    assert listing.exit_code == 0
    assert "#1" in listing.output and "东街" in listing.output and "有效" in listing.output
    assert "从未使用" in listing.output
    assert token not in listing.output

    result = run(url, "revoke", "1")
    assert result.exit_code == 0 and "已吊销" in result.output
    assert "已吊销" in run(url, "list").output
    again = run(url, "revoke", "1")
    assert again.exit_code == 0 and "早已" in again.output

    client = TestClient(FastAPI())
    client.app.include_router(build_api_router(factory))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_revoke_unknown_id_fails_clearly(db):
    url, _ = db
    result = run(url, "revoke", "42")
    assert result.exit_code != 0
    assert "没有编号为 42 的令牌" in result.output


def test_empty_name_is_refused(db):
    url, factory = db
    result = run(url, "create", "--name", "  ", "--scope", "all")
    assert result.exit_code != 0 and "名称不能为空" in result.output
    with factory() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_tokens_are_read_only_unless_created_with_write(db):
    url, factory = db
    created = run(url, "create", "--name", "报表", "--scope", "all")
    reader = created_token(created)
    assert "权限：只读" in created.output
    created = run(url, "create", "--name", "排会", "--scope", "committee:城关镇党委", "--write")
    writer = created_token(created)
    assert "权限：读写" in created.output
    listing = run(url, "list").output
    assert "报表  全部组织  只读" in listing and "排会  党委 城关镇党委  读写" in listing

    with factory() as s:
        assert {t.name: t.can_write for t in s.scalars(select(ApiToken))} == {"报表": False, "排会": True}
    client = TestClient(FastAPI())
    client.app.include_router(build_api_router(factory))
    for token, can_write in ((reader, False), (writer, True)):
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["can_write"] is can_write
