"""审计日志 (#16 item 5): the flush listener (one entry per audited row, before → after, the door and
the person who acted, one INSERT per flush whatever the row count), changes by the console, the chat and
the API each under the right actor, the page (scope, filters by unit, person and date, newest first,
paged), and the database refusing UPDATE and DELETE on the log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DatabaseError

from bot.web.api import build_api_router
from bot.web.app import answer_refusals
from bot.web.observers import observers_api
from handlers import all_routers
from handlers.console import audit as audit_view
from models.api_token import issue_token
from models.audit import APPEND_ONLY_DDL, DROP_APPEND_ONLY_DDL, Actor, AuditEntry, act_as, append_only_lifted
from models.db import make_engine, make_sessionmaker, unit_of_work
from models.org import ChatAccount, Person, Platform, Role, RoleAssignment, UnitKind
from tests import builders
from tests.console.people_world import NOW, build_world, console_app, csrf_of, login
from tests.harness import Chat


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        return build_world(session)


def entries(session, **where) -> list[AuditEntry]:
    session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return list(session.scalars(stmt))


# ---- the listener


def test_each_row_inserted_updated_or_deleted_is_one_entry_with_before_and_after(session_factory, session):
    clock = lambda: datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # noqa: E731
    with unit_of_work(session_factory) as s:
        act_as(s, Actor("import", label="县委组织部 张科长"), clock=clock)
        committee = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        branch = builders.unit(s, "东风村党支部", UnitKind.BRANCH, committee)
        p = builders.person(s, "李小红", branch, account_id="lxh", corp="ding", phone="13800000001")
        builders.role(s, p, branch, Role.CONTACT)
    (created,) = entries(session, entity="person")
    assert (created.via, created.actor_person_id, created.actor_label) == (
        "import",
        None,
        "县委组织部 张科长",
    )
    assert (created.action, created.entity_id, created.unit_id, created.subject_person_id) == (
        "create", p.id, branch.id, p.id,
    )  # fmt: skip
    assert created.at == clock() and created.before is None
    assert created.after["name"] == "李小红" and created.after["status"] == "full"
    assert "created_at" not in created.after and "updated_at" not in created.after
    # A chat account names no unit: it is filed under its person's branch.
    (acc,) = entries(session, entity="chat_account")
    assert (acc.unit_id, acc.subject_person_id) == (branch.id, p.id)
    # A unit's path is derived (its parent is recorded): setting it after the insert is no change.
    assert [e.action for e in entries(session, entity="org_unit")] == ["create", "create"]

    with unit_of_work(session_factory) as s:  # no door said who: 系统
        q = s.get(Person, p.id)
        q.phone, q.name = "13800000002", "李小红"  # the name set to what it was: not a change
        s.delete(s.scalars(select(RoleAssignment)).one())
    (updated,) = entries(session, entity="person", action="update")
    assert (updated.via, updated.before, updated.after) == (
        "system", {"phone": "13800000001"}, {"phone": "13800000002"},
    )  # fmt: skip
    (deleted,) = entries(session, action="delete")
    assert (
        deleted.entity == "role_assignment" and deleted.before["role"] == "contact" and deleted.after is None
    )

    with unit_of_work(session_factory) as s:  # an orphan removed from a collection is a delete too
        q = s.get(Person, p.id)
        q.chat_accounts.remove(q.chat_accounts[0])
    assert [e.entity for e in entries(session, action="delete")] == ["role_assignment", "chat_account"]


def test_a_rolled_back_change_leaves_no_entry(session_factory, session):
    with pytest.raises(RuntimeError), unit_of_work(session_factory) as s:
        builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        raise RuntimeError
    assert entries(session) == []


def test_a_bulk_write_adds_one_insert_per_flush_not_one_per_row(engine, session_factory):
    """A roster import of thousands of people must not add a query per row: the entries of a flush go
    in one executemany (and the branch lookup of chat accounts comes from the session's own rows)."""

    def audit_statements(n: int) -> int:
        seen: list[str] = []

        def listen(_conn, _cursor, statement, *_args) -> None:
            seen.append(statement)

        with unit_of_work(session_factory) as s:
            branch = builders.unit(s, f"党支部{n}", UnitKind.BRANCH)
            s.flush()
            event.listen(engine, "before_cursor_execute", listen)
            try:
                people = [Person(name=f"党员{i}", branch_id=branch.id) for i in range(n)]
                s.add_all(people)
                s.flush()
                for i, person in enumerate(people):
                    s.add(
                        ChatAccount(
                            person_id=person.id,
                            platform=Platform.DINGTALK,
                            corp_id="c",
                            account_id=f"u{n}-{i}",
                        )
                    )
                s.flush()
            finally:
                event.remove(engine, "before_cursor_execute", listen)
        return sum(1 for st in seen if "audit_entry" in st or "FROM person" in st)

    small, large = audit_statements(10), audit_statements(300)
    assert small == large, (small, large)
    assert small <= 3  # two flushes' inserts, at most one lookup


# ---- each door under its own actor


def test_console_chat_and_api_changes_each_appear_with_their_actor(session_factory, session, world):
    # The console: 陈志国 edits 李小红.
    app = console_app(session_factory)
    chen = login(session_factory, app, world.people["chen"])
    resp = chen.post(
        f"/console/people/{world.people['li']}", data={"csrf_token": csrf_of(chen), "name": "李晓红"}
    )
    assert "已保存" in resp.text
    # The chat: 王建国 asks for his notices on WeCom (a change to his own record).
    chat = Chat(session_factory, all_routers(), now=NOW + timedelta(hours=1))
    assert "企业微信" in chat.say("wangjianguo01", "消息发到企业微信").text
    by_door = {e.via: e for e in entries(session, entity="person", action="update")}
    assert (by_door["console"].actor_person_id, by_door["console"].after) == (
        world.people["chen"],
        {"name": "李晓红"},
    )
    assert by_door["chat"].actor_person_id == world.people["wang"]
    assert by_door["chat"].after == {"preferred_platform": "wecom"} and by_door["chat"].at == chat.now

    # The page says who, through which door, what, before → after.
    zhao = login(session_factory, app, world.people["zhao"])
    page = zhao.get("/console/audit").text
    rows = re.findall(r"<tr>\s*<td class=\"when\">(.*?)</tr>", page, re.S)
    assert "王建国" in rows[0] and "聊天" in rows[0] and "消息发到" in rows[0] and "企业微信" in rows[0]
    assert "2026-12-03 11:00:00" in rows[0]  # local time
    assert "陈志国" in rows[1] and "管理后台" in rows[1] and "修改党员" in rows[1]
    assert re.search(r"姓名：<span class=\"from\">李小红</span> → 李晓红", rows[1])


def test_an_api_change_is_logged_under_its_token(session_factory, session, world):
    with unit_of_work(session_factory) as s:
        _, plain = issue_token(s, name="县委组织部接口", scope_unit=None, now=NOW, can_write=True)
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_api_router(session_factory, clock=lambda: NOW, features=[observers_api]))
    made = TestClient(app).post(
        "/api/v1/observers/assignments",
        json={"observer_id": world.people["ma"], "branch_id": world.units["b3"]},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert made.status_code == 201, made.text
    (entry,) = entries(session, entity="observer_assignment", action="create", unit_id=world.units["b3"])
    assert (entry.via, entry.actor_label, entry.subject_person_id) == (
        "api",
        "县委组织部接口",
        world.people["ma"],
    )


# ---- the page


def test_the_log_is_scoped_filtered_newest_first_and_paged(session_factory, session, world, monkeypatch):
    b1, b3, li, liu = world.units["b1"], world.units["b3"], world.people["li"], world.people["liu"]
    day = lambda d: datetime(2026, 11, d, 4, 0, tzinfo=UTC)  # noqa: E731
    for d, pid in ((5, li), (6, liu), (7, li)):
        with unit_of_work(session_factory) as s:
            act_as(s, Actor("console", world.people["zhao"]), clock=lambda d=d: day(d))
            s.get(Person, pid).attendance_exempt_reason = f"11月{d}日"
    app = console_app(session_factory)
    chen = login(session_factory, app, world.people["chen"])
    page = chen.get("/console/audit").text
    assert "11月5日" in page and "11月7日" in page and "11月6日" not in page  # 刘医生 is 县直机关工委's
    whens = re.findall(r'<td class="when">([^<]+)</td>', page)
    assert (
        whens == sorted(whens, reverse=True) and "→ 11月7日" in page.split('<td class="when">')[1]
    )  # newest first

    zhao = login(session_factory, app, world.people["zhao"])
    assert "11月6日" in zhao.get("/console/audit").text
    by_unit = zhao.get("/console/audit", params={"unit": world.units["c2"]}).text  # a committee: its subtree
    assert "11月6日" in by_unit and "11月5日" not in by_unit
    by_person = zhao.get("/console/audit", params={"person": li}).text
    assert "11月5日" in by_person and "11月6日" not in by_person and "李小红" in by_person
    dated = zhao.get("/console/audit", params={"since": "2026-11-06", "until": "2026-11-06"}).text
    assert "11月6日" in dated and "11月5日" not in dated and "11月7日" not in dated
    assert "日期格式应为" in zhao.get("/console/audit", params={"since": "11/6"}).text
    # Another scope's unit or person answers as if it did not exist.
    assert chen.get("/console/audit", params={"unit": b3}).status_code == 404
    assert chen.get("/console/audit", params={"person": liu}).status_code == 404
    assert chen.get("/console/audit", params={"unit": b1}).status_code == 200
    # The htmx filter swaps the table.
    partial = zhao.get("/console/audit", params={"person": li}, headers={"HX-Request": "true"})
    assert 'id="entries"' in partial.text

    monkeypatch.setattr(audit_view, "PAGE_SIZE", 2)
    first, second = (zhao.get("/console/audit", params={"page": n}).text for n in (1, 2))
    assert "第 1 / " in first and "较早" in first and "11月7日" in first and "11月6日" in first
    assert "第 2 / " in second and "11月5日" in second and "11月7日" not in second


def test_the_log_has_no_route_that_changes_it(session_factory, world):
    app = console_app(session_factory)
    zhao = login(session_factory, app, world.people["zhao"])
    for method in ("post", "put", "patch", "delete"):
        resp = getattr(zhao, method)("/console/audit", headers={"X-CSRF-Token": csrf_of(zhao)})
        assert resp.status_code == 405


# ---- append-only in the database


def _refuses(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s, s.begin():
            builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        for statement in ("UPDATE audit_entry SET via = 'system'", "DELETE FROM audit_entry"):
            with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(AuditEntry)) == 1
    finally:
        if engine.dialect.name == "postgresql":
            # The run's schemas are emptied between tests; TRUNCATE fires no row trigger.
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE audit_entry"))
        engine.dispose()


def test_the_migrated_database_refuses_update_and_delete_on_the_log(migrated_url):
    _refuses(migrated_url)


def test_the_triggers_refuse_whatever_built_the_tables(engine, database_url):
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for statement in APPEND_ONLY_DDL[dialect]:
            conn.exec_driver_sql(statement)
    try:
        _refuses(database_url)
        # Wiping a whole database (zhibu seed --reset) lifts them for its transaction only.
        with engine.begin() as conn, append_only_lifted(conn):
            conn.execute(text("DELETE FROM audit_entry"))
        _refuses(database_url)
    finally:
        with engine.begin() as conn:
            for statement in DROP_APPEND_ONLY_DDL[dialect]:
                conn.exec_driver_sql(statement)
