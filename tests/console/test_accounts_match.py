"""按手机号匹配账号 in the console (#18 item 1): the button on 组织与党员 runs the dry run for the people
the viewer leads (the platforms are asked about nobody else), the report lists each outcome with its
fix, 应用 writes exactly the previewed matches, all or nothing, into the audit log under the viewer;
observers get 403, a missing CSRF token 403, a forged or someone else's token nothing written.
The platforms are the sandbox, reached through the real identities' API clients."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.core.context import CoreConfig
from bot.platforms.dingtalk.api import DingTalkApi
from bot.platforms.dingtalk.identity import DingTalkIdentity
from bot.platforms.wecom.client import ZhibuWeComClient
from bot.platforms.wecom.identity import WeComIdentity
from bot.web.console import build_console
from config import demo
from handlers.console.sessions import ConsoleConfig
from models.audit import SYSTEM, AuditEntry, act_as
from models.db import unit_of_work
from models.org import ChatAccount, OrgUnit, Person, Platform
from sandbox.testing import running_sandbox
from tests import builders
from tests.console.people_world import DT, NOW, SECRET, TZ, WC, build_world, csrf_of, login

NEW = {
    # name, branch key, phone, DingTalk userid (None: not in the directory), WeCom userid
    "xin1": ("新党员甲", "b1", "13700000001", "xinjia", "xinjia"),
    "xin2": ("新党员乙", "b1", "13700000002", None, "xinyi"),
    "xin3": ("新党员丙", "b2", "13700000003", "xinbing", None),
    "xin4": ("新党员丁", "b3", "13700000004", "liuyisheng01", None),  # the number of 刘医生's account
}


@pytest.fixture
def uploads(tmp_path) -> ConsoleConfig:
    """The console's rules with the staging directory a test's own (ZHIBU_CONSOLE__UPLOADS)."""
    return ConsoleConfig(uploads=tmp_path / "uploads")


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        w = build_world(session)
        act_as(session, SYSTEM)
        for key, (name, branch, phone, _, _) in NEW.items():
            unit = session.get(OrgUnit, w.units[branch])
            w.people[key] = builders.person(session, name, unit, phone=phone).id
        return w


def fixture() -> dict:
    ding = [{"userid": d, "name": n, "mobile": ph, "dept": [1]} for n, _, ph, d, _ in NEW.values() if d]
    wc = [{"userid": u, "name": n, "mobile": ph, "department": [1]} for n, _, ph, _, u in NEW.values() if u]
    return {
        "dingtalk": {
            "corp_id": DT,
            "app": {"client_id": demo.DINGTALK_CLIENT_ID, "client_secret": demo.DINGTALK_CLIENT_SECRET},
            "users": ding,
        },
        "wecom": {"corp_id": WC, "agent_id": demo.WECOM_AGENT_ID, "secret": demo.WECOM_SECRET, "users": wc},
    }


@pytest.fixture
def sb():
    with running_sandbox(fixture()) as running:
        yield running


@pytest.fixture
def app(session_factory, world, sb, uploads):
    api = DingTalkApi(
        demo.DINGTALK_CLIENT_ID, demo.DINGTALK_CLIENT_SECRET, openapi_endpoint=sb.url, oapi_endpoint=sb.url
    )
    client = ZhibuWeComClient(
        WC, demo.WECOM_SECRET, api_base=sb.wecom_api_base, oauth_base=sb.wecom_oauth_base
    )
    identities = {
        "dingtalk": DingTalkIdentity(api, DT),
        "wecom": WeComIdentity(
            client, corp_id=WC, agent_id=demo.WECOM_AGENT_ID, oauth_base=sb.wecom_oauth_base
        ),
    }
    app = FastAPI()
    core = CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET)
    build_console(app, session_factory, identities, core, clock=lambda: NOW, cfg=uploads)
    yield app
    api.close()


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": csrf_of(client), **(data or {})})


def token_of(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    return found[1] if found else ""


def section(html: str, label: str) -> str:
    """The rows under one outcome's heading."""
    start = html.index(f"{label}：")
    end = html.find('<h2 class="outcome', start)
    return html[start : end if end > 0 else len(html)]


def lookups(sb) -> int:
    calls = sb.counters()["calls"]
    return calls.get("POST /topapi/v2/user/getbymobile", 0) + calls.get("POST /cgi-bin/user/getuserid", 0)


def accounts(session) -> dict[tuple[int, str], str]:
    return {
        (pid, Platform(p).value): acc
        for pid, p, acc in session.execute(
            select(ChatAccount.person_id, ChatAccount.platform, ChatAccount.account_id)
        )
    }


def test_a_branch_secretary_matches_only_his_branch(session_factory, app, world, sb):
    wang = login(session_factory, app, world.people["wang"])
    page = wang.get("/console/people")
    assert "按手机号匹配账号" in page.text
    dry = post(wang, "/console/people/accounts/match")
    assert dry.status_code == 200
    # 东风村党支部's two newcomers, each asked of both platforms: nobody of another branch.
    assert lookups(sb) == 4
    assert "新党员丙" not in dry.text and "新党员丁" not in dry.text
    matched = section(dry.text, "已匹配")
    assert "新党员甲" in matched and "xinjia" in matched and "新党员乙" in matched and "xinyi" in matched
    missing = section(dry.text, "通讯录中没有这个手机号")
    assert "新党员乙" in missing and "加入钉钉通讯录" in missing
    assert "应用（绑定 3 个账号）" in dry.text
    with session_factory() as s:
        assert (world.people["xin1"], "dingtalk") not in accounts(s)  # a dry run writes nothing

    done = post(wang, "/console/people/accounts/apply", {"token": token_of(dry.text)})
    assert done.status_code == 200 and "已绑定 3 个账号" in done.text
    assert lookups(sb) == 4  # applying asks the platforms nothing again
    with session_factory() as s:
        held = accounts(s)
        assert held[(world.people["xin1"], "dingtalk")] == "xinjia"
        assert held[(world.people["xin1"], "wecom")] == "xinjia"
        assert held[(world.people["xin2"], "wecom")] == "xinyi"
        logged = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "chat_account", AuditEntry.action == "create")
        ).all()
        mine = [e for e in logged if e.actor_person_id == world.people["wang"]]
        assert len(mine) == 3 and {e.via for e in mine} == {"console"}

    # The same report cannot be applied twice.
    again = post(wang, "/console/people/accounts/apply", {"token": token_of(dry.text)})
    assert "已过期或无效" in again.text


def test_the_whole_tree_taken_accounts_and_refusals(session_factory, app, world, sb):
    zhao = login(session_factory, app, world.people["zhao"])
    dry = post(zhao, "/console/people/accounts/match")
    taken = section(dry.text, "该账号已绑定给其他人")
    assert "新党员丁" in taken and "另一人：刘医生" in taken
    assert "新党员丙" in section(dry.text, "已匹配")

    # Someone else's report, a forged one, and one whose people got accounts meanwhile.
    wang = login(session_factory, app, world.people["wang"])
    assert "已过期或无效" in post(wang, "/console/people/accounts/apply", {"token": token_of(dry.text)}).text
    pid, name, expiry, sig = token_of(dry.text).split(":")
    forged = ":".join([pid, name, str(int(expiry) + 86_400), sig])  # a longer life it was not signed for
    assert "已过期或无效" in post(zhao, "/console/people/accounts/apply", {"token": forged}).text
    with unit_of_work(session_factory) as s:
        builders.account(s, s.get(Person, world.people["xin3"]), "bound-by-hand", corp=DT)
    stale = post(zhao, "/console/people/accounts/apply", {"token": token_of(dry.text)})
    assert "没有绑定任何账号" in stale.text and "新党员丙" in stale.text
    with session_factory() as s:
        assert (world.people["xin1"], "dingtalk") not in accounts(s)  # all or nothing

    # An observer may not; a post without the CSRF token is refused before anything runs.
    ma = login(session_factory, app, world.people["ma"])
    assert "按手机号匹配账号" not in ma.get("/console/people").text
    assert post(ma, "/console/people/accounts/match").status_code == 403
    assert ma.get("/console/people/accounts/match").status_code == 403
    before = lookups(sb)
    assert zhao.post("/console/people/accounts/match").status_code == 403
    assert lookups(sb) == before
    with session_factory() as s:
        assert (
            s.scalar(select(func.count()).select_from(ChatAccount).where(ChatAccount.account_id == "xinbing"))
            == 0
        )
