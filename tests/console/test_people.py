"""组织与党员 (#16 item 4): the tree and people in scope, search, a person's page; edits, moves and roles
through the roster import's own checks (all or nothing, Chinese errors next to the field); the roster
upload's dry run and apply of the previewed file; read-only observers; scope answers 404."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from bot.web.limits import BodyLimit
from handlers.roster import texts as T
from handlers.roster.fileio import write_roster
from models.audit import AuditEntry
from models.db import unit_of_work
from models.org import OrgUnit, Person, Role, RoleAssignment
from tests.console.people_world import NOW, build_world, console_app, csrf_of, login


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        return build_world(session)


@pytest.fixture
def app(session_factory, world, tmp_path):
    return console_app(session_factory, uploads=tmp_path / "uploads")


def names_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/console/people/\d+">([^<]+)</a>', html)


def post(client, url: str, data: dict | None = None, **kw):
    return client.post(url, data={"csrf_token": csrf_of(client), **(data or {})}, **kw)


def person(session, pid: int) -> Person:
    session.expire_all()
    return session.get(Person, pid)


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_the_tree_and_the_people_follow_the_scope(session_factory, app, world):
    zhao = login(session_factory, app, world.people["zhao"])
    page = zhao.get("/console/people")
    assert page.status_code == 200
    # The tree opens as far as the way to the chosen unit: 组织部 starts from the two committees.
    assert re.findall(r'title="([^"]+)"', page.text) == ["城关镇党委", "县直机关工委"]
    opened = zhao.get(f"/console/people?unit={world.units['b1']}").text
    assert re.findall(r'title="([^"]+)"', opened) == [
        "城关镇党委", "东风村党支部", "第一党小组", "幸福社区党支部", "县直机关工委",
    ]  # fmt: skip
    assert "刘医生" in names_listed(page.text) and "上传花名册" in page.text

    chen = login(session_factory, app, world.people["chen"])
    page = chen.get("/console/people")
    # One top unit is open from the start.
    assert re.findall(r'title="([^"]+)"', page.text) == ["城关镇党委", "东风村党支部", "幸福社区党支部"]
    assert "县人民医院党支部" not in page.text and "刘医生" not in names_listed(page.text)
    assert set(names_listed(page.text)) == {"陈志国", "王建国", "李小红", "张三", "马超"}
    assert chen.get(f"/console/people/{world.people['liu']}").status_code == 404
    assert chen.get(f"/console/people?unit={world.units['b3']}").status_code == 404

    wang = login(session_factory, app, world.people["wang"])
    assert set(names_listed(wang.get("/console/people").text)) == {"王建国", "李小红"}
    assert wang.get(f"/console/people/{world.people['zhang']}").status_code == 404


def test_search_by_name_phone_or_account_and_by_unit(session_factory, app, world):
    zhao = login(session_factory, app, world.people["zhao"])
    assert names_listed(zhao.get("/console/people", params={"q": "小红"}).text) == ["李小红"]
    assert names_listed(zhao.get("/console/people", params={"q": "139-0000-0007"}).text) == ["刘医生"]
    assert names_listed(zhao.get("/console/people", params={"q": "zhangsan"}).text) == ["张三"]
    under_b1 = zhao.get("/console/people", params={"unit": world.units["b1"]}).text
    assert set(names_listed(under_b1)) == {"王建国", "李小红"}
    # htmx asks for the same page and swaps the results.
    partial = zhao.get("/console/people", params={"q": "王"}, headers={"HX-Request": "true"})
    assert 'id="results"' in partial.text and names_listed(partial.text) == ["王建国"]


def test_person_page_shows_roles_and_accounts_and_edit_controls_only_to_editors(session_factory, app, world):
    li = world.people["li"]
    chen = login(session_factory, app, world.people["chen"])
    page = chen.get(f"/console/people/{li}").text
    assert "城关镇党委/东风村党支部" in page and "第一党小组" in page
    assert "钉钉：lixiaohong01" in page and "企业微信：lixiaohong01" in page
    assert 'id="edit-person"' in page and "任命" in page

    ma = login(session_factory, app, world.people["ma"])  # observer of 东风村党支部
    page = ma.get(f"/console/people/{li}")
    assert (
        page.status_code == 200
        and 'id="edit-person"' not in page.text
        and '<form class="role-add"' not in page.text
    )
    assert "上传花名册" not in ma.get("/console/people").text
    refused = post(ma, f"/console/people/{li}", {"name": "改名"})
    assert refused.status_code == 403
    assert (
        post(
            ma, f"/console/people/{li}/roles", {"role_unit": world.units["b1"], "role": "contact"}
        ).status_code
        == 403
    )
    assert ma.get("/console/people/roster/upload").status_code == 403


def test_an_edit_is_saved_through_the_roster_rules_and_logged(session_factory, app, world, session):
    li = world.people["li"]
    chen = login(session_factory, app, world.people["chen"])
    resp = post(
        chen,
        f"/console/people/{li}",
        {"name": "李晓红", "phone": "+86 138 1234 5678", "status": "正式", "joined_on": "2012-07-01",
         "fee_category": "在职", "fee_base": "4,500.00元", "fee_fixed": "", "is_mobile": "是", "exempt": ""},
    )  # fmt: skip
    assert resp.status_code == 200 and "已保存" in resp.text
    p = person(session, li)
    assert (p.name, p.phone, str(p.fee_base), p.is_mobile) == ("李晓红", "13812345678", "4500.00", True)
    assert p.group_id == world.units["g1"]  # the 党小组 stays when the form does not move her
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "person", AuditEntry.via == "console")
    ).one()
    assert (entry.via, entry.actor_person_id, entry.action) == ("console", world.people["chen"], "update")
    assert entry.at == NOW and entry.subject_person_id == li and entry.unit_id == world.units["b1"]
    assert entry.before == {"name": "李小红", "phone": "13900000004", "fee_base": None, "is_mobile": False}
    assert entry.after == {"name": "李晓红", "phone": "13812345678", "fee_base": "4500.00", "is_mobile": True}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("phone", "1234", "不是有效的手机号"),
        ("phone", "13900000005", "在系统中属于「张三」"),
        ("name", "", "不能为空"),
        ("joined_on", "2099-01-01", "2099-01-01"),
        ("fee_base", "12.345", "12.345"),
        ("status", "积极分子", "不是有效的党员类别"),
    ],
)
def test_a_bad_field_is_refused_next_to_it_and_nothing_is_written(
    session_factory, app, world, session, field, value, words
):
    li = world.people["li"]
    before = audit_count(session)
    chen = login(session_factory, app, world.people["chen"])
    # Every field valid but one: the name changes too, and must not be saved either.
    form = {"name": "新名字", "phone": "13900000004", "status": "正式", "fee_category": "在职", field: value}
    resp = post(chen, f"/console/people/{li}", form)
    assert resp.status_code == 200 and "没有保存" in resp.text
    errors = re.findall(r'<div class="field-error" role="alert">([^<]+)</div>', resp.text)
    assert any(words in e for e in errors), errors
    # The error sits right after its own field, before the next one's label.
    after_field = resp.text.split(f'name="{field}"', 1)[1].split("<label", 1)[0]
    assert words in after_field
    assert person(session, li).name == "李小红" and audit_count(session) == before


def test_fixed_fee_needs_its_amount(session_factory, app, world, session):
    chen = login(session_factory, app, world.people["chen"])
    resp = post(chen, f"/console/people/{world.people['li']}", {"fee_category": "固定金额", "fee_fixed": ""})
    assert T.E["fixed_required"] in resp.text
    resp = post(
        chen, f"/console/people/{world.people['li']}", {"fee_category": "固定金额", "fee_fixed": "20"}
    )
    assert "已保存" in resp.text and str(person(session, world.people["li"]).fee_fixed_amount) == "20.00"


def test_a_move_stays_inside_the_editors_scope_and_keeps_the_roles_where_they_are(
    session_factory, app, world, session
):
    wang_id, b1, b2, b3 = world.people["wang"], world.units["b1"], world.units["b2"], world.units["b3"]
    chen = login(session_factory, app, world.people["chen"])
    assert "只能调到您管理范围内的党支部" in post(chen, f"/console/people/{wang_id}", {"branch_id": b3}).text
    assert person(session, wang_id).branch_id == b1
    resp = post(chen, f"/console/people/{wang_id}", {"branch_id": b2, "group_id": ""})
    assert "已保存" in resp.text
    moved = person(session, wang_id)
    assert (moved.branch_id, moved.group_id) == (b2, None)
    # His 书记 role is 东风村党支部's: moving him does not make him 幸福社区's secretary.
    assert [(r.org_unit_id, r.role) for r in moved.roles] == [(b1, Role.SECRETARY)]
    # A 党小组 of another branch is refused.
    resp = post(chen, f"/console/people/{wang_id}", {"branch_id": b2, "group_id": world.units["g1"]})
    assert "所选党小组不属于所选党支部" in resp.text

    wang = login(session_factory, app, world.people["wang"])  # a branch secretary reaches his branch only
    assert post(wang, f"/console/people/{world.people['li']}", {"branch_id": b2}).status_code == 200
    assert person(session, world.people["li"]).branch_id == b1


def test_roles_are_added_and_ended_with_the_rosters_rules(session_factory, app, world, session):
    li, b1, g1 = world.people["li"], world.units["b1"], world.units["g1"]
    chen = login(session_factory, app, world.people["chen"])
    resp = post(chen, f"/console/people/{li}/roles", {"role_unit": b1, "role": "organization_member"})
    assert "已保存" in resp.text and "组织委员" in resp.text
    # A 党支部 has no 党小组组长: the roster's own message, next to the role form.
    resp = post(chen, f"/console/people/{li}/roles", {"role_unit": b1, "role": "group_leader"})
    assert "党支部不能设「党小组组长」" in resp.text
    assert re.search(r'class="field-error" role="alert">[^<]*党小组组长', resp.text)
    assert (
        post(chen, f"/console/people/{li}/roles", {"role_unit": g1, "role": "group_leader"}).status_code
        == 200
    )
    assert post(
        chen, f"/console/people/{li}/roles", {"role_unit": world.units["b3"], "role": "contact"}
    ).text.count("只能在您管理范围内的组织任免职务")
    held = {(r.org_unit_id, r.role): r.id for r in person(session, li).roles}
    assert set(held) == {(b1, Role.ORGANIZATION_MEMBER), (g1, Role.GROUP_LEADER)}
    resp = post(chen, f"/console/people/{li}/roles/{held[(b1, Role.ORGANIZATION_MEMBER)]}/end")
    assert "已免去组织委员（东风村党支部）" in resp.text
    assert [(r.org_unit_id, r.role) for r in person(session, li).roles] == [(g1, Role.GROUP_LEADER)]
    ended = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).one()
    assert (ended.entity, ended.subject_person_id, ended.unit_id) == ("role_assignment", li, b1)
    assert ended.before["role"] == "organization_member"


def test_forms_need_the_csrf_token(session_factory, app, world, session):
    chen = login(session_factory, app, world.people["chen"])
    resp = chen.post(f"/console/people/{world.people['li']}", data={"name": "改名"})
    assert resp.status_code == 403 and person(session, world.people["li"]).name == "李小红"


# ---- roster upload


def roster_row(**cells) -> dict:
    row = dict.fromkeys(T.HEADERS, "")
    row.update({T.STATUS: "正式", T.FEE_CATEGORY: "在职"})
    row.update(cells)
    return row


def upload(client, path):
    with open(path, "rb") as fh:
        return client.post(
            "/console/people/roster/upload",
            data={"csrf_token": csrf_of(client)},
            files={"file": (path.name, fh, "application/octet-stream")},
        )


def test_a_roster_with_errors_is_listed_by_row_and_writes_nothing(
    session_factory, app, world, session, tmp_path
):
    bad = tmp_path / "有错的花名册.xlsx"
    write_roster(bad, [
        roster_row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.NAME: "新党员", T.PHONE: "12345"}),
        roster_row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.NAME: "", T.PHONE: "13700000001"}),
    ])  # fmt: skip
    before = (session.scalar(select(func.count()).select_from(Person)), audit_count(session))
    zhao = login(session_factory, app, world.people["zhao"])
    resp = upload(zhao, bad)
    assert resp.status_code == 200 and "没有导入任何内容" in resp.text
    assert (
        "第2行「手机号」：「12345」不是有效的手机号" in resp.text and "第3行「姓名」：不能为空" in resp.text
    )
    assert 'name="token"' not in resp.text
    assert (session.scalar(select(func.count()).select_from(Person)), audit_count(session)) == before


def test_a_county_sized_roster_is_read_not_refused_as_too_large(
    session_factory, app, world, session, tmp_path
):
    # Far over the app's 64 KB default body limit, well under the importers' own file limit.
    big = tmp_path / "全县花名册.csv"
    write_roster(big, [
        roster_row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.NAME: f"党员{i}", T.PHONE: "12345"})
        for i in range(3000)
    ])  # fmt: skip
    assert big.stat().st_size > 128 * 1024
    app.add_middleware(BodyLimit)  # as create_app mounts it
    zhao = login(session_factory, app, world.people["zhao"])
    resp = upload(zhao, big)
    assert resp.status_code == 200 and "没有导入任何内容" in resp.text  # read and checked row by row


def test_a_good_roster_is_previewed_then_the_same_file_applied(
    session_factory, app, world, session, tmp_path
):
    good = tmp_path / "花名册.csv"
    write_roster(good, [
        roster_row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.NAME: "赵新", T.PHONE: "13700000001",
                      T.ROLES: "宣传委员"}),
        roster_row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "幸福社区党支部", T.NAME: "张三", T.PHONE: "13900000005",
                      T.STATUS: "正式"}),
    ])  # fmt: skip
    before = (session.scalar(select(func.count()).select_from(Person)), audit_count(session))
    chen = login(session_factory, app, world.people["chen"])
    preview = upload(chen, good)
    assert preview.status_code == 200 and 'name="token"' in preview.text
    # The file waits in the configured directory (ZHIBU_CONSOLE__UPLOADS), named by its hash.
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [
        hashlib.sha256(good.read_bytes()).hexdigest() + ".csv"
    ]
    assert "新增党员" in preview.text and "赵新" in preview.text and "新增职务" in preview.text
    assert re.search(
        r"党员类别：<span class=\"from\">预备</span> → <span class=\"to\">正式</span>", preview.text
    )
    # The dry run wrote nothing, not even to the log.
    assert (session.scalar(select(func.count()).select_from(Person)), audit_count(session)) == before
    token = re.search(r'name="token" value="([^"]+)"', preview.text)[1]

    # A token for another viewer, or a changed file, applies nothing.
    zhao = login(session_factory, app, world.people["zhao"])
    assert "预览已过期或文件已变化" in post(zhao, "/console/people/roster/apply", {"token": token}).text
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert "预览已过期或文件已变化" in post(chen, "/console/people/roster/apply", {"token": forged}).text
    assert session.scalar(select(func.count()).select_from(Person)) == before[0]

    applied = post(chen, "/console/people/roster/apply", {"token": token, "filename": good.name})
    assert applied.status_code == 200 and "已导入" in applied.text
    session.expire_all()
    new = session.scalars(select(Person).where(Person.name == "赵新")).one()
    assert new.branch_id == world.units["b1"]
    assert session.get(Person, world.people["zhang"]).status.value == "full"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.subject_person_id == new.id)).all()
    assert {(e.via, e.actor_person_id) for e in entries} == {("import", world.people["chen"])}
    # Applied once: the staged file is gone, so the same token cannot apply it again.
    assert "预览已过期或文件已变化" in post(chen, "/console/people/roster/apply", {"token": token}).text


def test_a_scoped_editors_roster_may_not_reach_outside_their_units(
    session_factory, app, world, session, tmp_path
):
    other = tmp_path / "县直.csv"
    write_roster(other, [
        roster_row(**{T.COMMITTEE: "县直机关工委", T.BRANCH: "县人民医院党支部", T.NAME: "刘医生", T.PHONE: "13900000007",
                      T.FEE_CATEGORY: "离退休"}),
        roster_row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "新建党支部", T.NAME: "新人", T.PHONE: "13700000009"}),
    ])  # fmt: skip
    wang = login(session_factory, app, world.people["wang"])
    resp = upload(wang, other)
    assert "不在您的管理范围内" in resp.text and 'name="token"' not in resp.text
    assert "第2行" in resp.text and "第3行" in resp.text
    chen = login(session_factory, app, world.people["chen"])
    resp = upload(chen, other)
    assert "第2行" in resp.text and "第3行" not in resp.text  # a new branch under his committee is his
    assert session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == "新建党支部")) == 0
    assert session.scalar(select(func.count()).select_from(RoleAssignment)) == 4
