"""Chat accounts found by phone (#18 item 1): who is asked, what each platform answer means for the
roster, all-or-nothing writes with the audit log; the real adapters against the sandbox (DingTalk
getbymobile at 20 calls a second on an injected clock, WeCom getuserid suspended past 20% errors);
and `zhibu accounts match` dry run and --apply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.core.errors import PlatformError, TransientPlatformError
from bot.core.ratelimit import ManualClock
from bot.platforms.dingtalk.api import DingTalkApi
from bot.platforms.dingtalk.directory import GET_BY_MOBILE, DingTalkDirectory
from bot.platforms.wecom.client import ZhibuWeComClient
from bot.platforms.wecom.directory import WeComDirectory
from config import demo
from handlers.roster import accounts as A
from models.audit import Actor, AuditEntry, act_as
from models.db import unit_of_work
from models.org import ChatAccount, Person, Platform, UnitKind
from sandbox.testing import running_sandbox
from tests import builders
from tests.core.e2e import sandbox_clock_listener

DT, WC = demo.DINGTALK_CORP_ID, demo.WECOM_CORP_ID
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


class FakeLookup:
    def __init__(self, platform: Platform, corp_id: str, answers: dict) -> None:
        self.platform, self.corp_id, self.answers = platform, corp_id, answers
        self.asked: list[str] = []

    def userid_by_mobile(self, mobile: str):
        self.asked.append(mobile)
        answer = self.answers.get(mobile)
        if isinstance(answer, Exception):
            raise answer
        return answer


def org(session):
    c = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    b1 = builders.unit(session, "东风村党支部", UnitKind.BRANCH, c)
    b2 = builders.unit(session, "幸福社区党支部", UnitKind.BRANCH, c)
    people = {
        "wang": builders.person(session, "王建国", b1, phone="13900000001"),
        "li": builders.person(session, "李小红", b1, phone="13900000002"),
        "zhang": builders.person(session, "张三", b2, phone="13900000003"),
        "zhao": builders.person(session, "赵六", b2, phone="13900000004"),
        "qian": builders.person(session, "钱七", b2, phone="13900000005"),
        "sun": builders.person(session, "孙八", b2, phone="13900000006", account_id="sunba", corp=DT),
        "nophone": builders.person(session, "周九", b2),
    }
    session.flush()
    return {k: p.id for k, p in people.items()}, b1.id


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as s:
        return org(s)


def test_who_is_asked_and_what_each_answer_means(session_factory, world):
    ids, b1 = world
    dt = FakeLookup(Platform.DINGTALK, DT, {
        "13900000001": "wangjg", "13900000002": None, "13900000003": "same",
        "13900000004": "same", "13900000005": A.NumberNotUsable("40104"),
    })  # fmt: skip
    with session_factory() as s:
        wanted = A.candidates(s, [(Platform.DINGTALK, DT)])
    # Everyone with a phone and no DingTalk account in this corp: not 孙八 (has one), not 周九 (no phone).
    assert sorted(c.name for c in wanted) == ["张三", "李小红", "王建国", "赵六", "钱七"]
    report = A.look_up(wanted, [dt])
    outcome = {r.candidate.name: r.outcome for r in report.rows}
    assert outcome == {
        "王建国": A.Outcome.MATCHED, "李小红": A.Outcome.NOT_FOUND, "张三": A.Outcome.DUPLICATE,
        "赵六": A.Outcome.DUPLICATE, "钱七": A.Outcome.INVALID,
    }  # fmt: skip
    assert {r.other for r in report.of(A.Outcome.DUPLICATE)} == {"张三", "赵六"}
    assert report.summary().startswith("钉钉：查询 5 人，已匹配 1 人，通讯录中没有这个手机号 1 人")

    # Scoped: only people of one branch.
    with session_factory() as s:
        scoped = A.candidates(s, [(Platform.DINGTALK, DT)], people=Person.branch_id == b1)
    assert sorted(c.name for c in scoped) == ["李小红", "王建国"]


def test_a_platform_that_stops_answering_is_asked_nothing_more(session_factory, world):
    wc = FakeLookup(Platform.WECOM, WC, {"13900000002": TransientPlatformError("45009")})
    with session_factory() as s:
        wanted = A.candidates(s, [(Platform.WECOM, WC)])
    report = A.look_up(wanted, [wc])
    assert wc.asked == ["13900000001", "13900000002"]  # nothing after the refusal
    assert [r.outcome for r in report.rows][1:] == [A.Outcome.NOT_ASKED] * 5
    assert report.stopped[Platform.WECOM].startswith("企业微信停止了查询（45009")


def test_apply_writes_every_match_or_none_and_logs_them(session_factory, world):
    ids, _ = world
    with session_factory() as s:
        wanted = A.candidates(s, [(Platform.DINGTALK, DT)])
    # 王建国's number gives 孙八's account (WeCom and DingTalk ids compare without case): taken, named.
    answers = {"13900000001": "SunBa", "13900000002": "lixh", "13900000003": "zhangs"}
    report = A.look_up(wanted, [FakeLookup(Platform.DINGTALK, DT, answers)])
    with unit_of_work(session_factory) as s:
        act_as(s, Actor("system", label="test"))
        assert A.apply_matches(s, report) == 2
    taken = report.of(A.Outcome.TAKEN)
    assert [(r.candidate.name, r.other) for r in taken] == [("王建国", "孙八")]
    with session_factory() as s:
        rows = dict(s.execute(select(ChatAccount.person_id, ChatAccount.account_id)).all())
        assert rows[ids["li"]] == "lixh" and rows[ids["zhang"]] == "zhangs" and ids["wang"] not in rows
        logged = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "chat_account", AuditEntry.actor_label == "test")
        ).all()
        assert {(e.action, e.after["account_id"]) for e in logged} == {
            ("create", "lixh"),
            ("create", "zhangs"),
        }

    # A second run asked before someone bound 赵六 by hand: nothing of it is written.
    with session_factory() as s:
        wanted = A.candidates(s, [(Platform.DINGTALK, DT)])
    report = A.look_up(
        wanted, [FakeLookup(Platform.DINGTALK, DT, {"13900000004": "zhaol", "13900000005": "qianq"})]
    )
    with unit_of_work(session_factory) as s:
        builders.account(s, s.get(Person, ids["zhao"]), "zhao-by-hand", corp=DT)
    with unit_of_work(session_factory) as s:
        assert A.apply_matches(s, report) == 0
    assert [r.candidate.name for r in report.stale] == ["赵六"] and not report.applied
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(ChatAccount.account_id == "qianq")) == 0


# ---- the real adapters against the sandbox


def fixture_with_mobiles(*, seats: int = 200) -> dict:
    users = [
        {"userid": "wangjg", "name": "王建国", "mobile": "13900000001"},
        {"userid": "lixh", "name": "李小红", "mobile": "+86 139-0000-0002"},
        {"userid": "zhangs", "name": "张三", "mobile": "13900000003", "in_range": False},
    ]
    return {
        "dingtalk": {
            "corp_id": DT,
            "app": {"client_id": demo.DINGTALK_CLIENT_ID, "client_secret": demo.DINGTALK_CLIENT_SECRET},
            "users": [{**u, "dept": [1]} for u in users],
        },
        "wecom": {
            "corp_id": WC, "agent_id": demo.WECOM_AGENT_ID, "secret": demo.WECOM_SECRET, "seats": seats,
            "users": [{**u, "department": [1]} for u in users],
        },
    }  # fmt: skip


def dingtalk(sb, clock=None, secret=demo.DINGTALK_CLIENT_SECRET) -> DingTalkDirectory:
    api = DingTalkApi(demo.DINGTALK_CLIENT_ID, secret, openapi_endpoint=sb.url, oapi_endpoint=sb.url)
    return DingTalkDirectory(api, DT, clock=clock)


def wecom(sb, clock=None) -> WeComDirectory:
    client = ZhibuWeComClient(
        WC, demo.WECOM_SECRET, api_base=sb.wecom_api_base, oauth_base=sb.wecom_oauth_base
    )
    return WeComDirectory(client, WC, clock=clock)


def test_dingtalk_lookups_through_the_sandbox_within_20_a_second():
    with running_sandbox(fixture_with_mobiles()) as sb:
        clock = ManualClock(T0)
        clock.listeners.append(sandbox_clock_listener(sb, T0))
        d = dingtalk(sb, clock)
        assert d.userid_by_mobile("13900000001") == "wangjg"
        assert d.userid_by_mobile("13900000002") == "lixh"  # the directory's "+86 139-…" is the same number
        assert d.userid_by_mobile("13800000000") is None  # 60121
        with pytest.raises(A.OutOfRange):
            d.userid_by_mobile("13900000003")  # 50004
        with pytest.raises(A.NumberNotUsable):
            d.userid_by_mobile("12")  # 40104
        for _ in range(40):
            d.userid_by_mobile("13900000001")
        # 45 calls at most 20 in any second: the clock moved by about two seconds, nothing was refused.
        assert sb.counters()["rate_limited_total"] == 0
        assert clock.slept >= 2.0
        # DingTalk's "too many calls" (90018) is waited out on the clock and asked again.
        slept = clock.slept
        sb.fault(GET_BY_MOBILE, errcode=90018, times=2)
        assert d.userid_by_mobile("13900000002") == "lixh"
        assert clock.slept - slept >= 2.0 and sb.counters()["faults_fired"][GET_BY_MOBILE] == 2
        # A wrong secret: the platform stopped answering, a PlatformError, never "not found".
        with pytest.raises(PlatformError):
            dingtalk(sb, secret="wrong").userid_by_mobile("13900000001")


def test_wecom_lookups_and_the_day_long_suspension():
    with running_sandbox(fixture_with_mobiles(seats=10)) as sb:
        w = wecom(sb)
        assert w.userid_by_mobile("13900000001") == "wangjg"
        with pytest.raises(A.OutOfRange):
            w.userid_by_mobile("13900000003")  # 60011
        assert w.userid_by_mobile("13800000000") is None  # 46004, error 1 of 10 seats' 20%
        with pytest.raises(A.NumberNotUsable):
            w.userid_by_mobile("12")  # 60103, error 2
        assert w.userid_by_mobile("13800000001") is None  # error 3: past 20% of 10 seats
        with pytest.raises(PlatformError) as stopped:
            w.userid_by_mobile("13900000001")
        assert "45009" in stopped.value.reason and "明天" in stopped.value.reason
        sb.move_clock(86_400)  # the next day
        assert w.userid_by_mobile("13900000002") == "lixh"


def test_cli_dry_run_then_apply(migrated_url, session_factory, tmp_path):
    with unit_of_work(session_factory) as s:
        ids, _ = org(s)
    with running_sandbox(fixture_with_mobiles()) as sb:
        env = {
            "ZHIBU_DATABASE_URL": migrated_url,
            "ZHIBU_DINGTALK__CLIENT_ID": demo.DINGTALK_CLIENT_ID,
            "ZHIBU_DINGTALK__CLIENT_SECRET": demo.DINGTALK_CLIENT_SECRET,
            "ZHIBU_DINGTALK__CORP_ID": DT,
            "ZHIBU_DINGTALK__OPENAPI_ENDPOINT": sb.url,
            "ZHIBU_DINGTALK__OAPI_ENDPOINT": sb.url,
            "ZHIBU_WECOM__CORP_ID": "",
            "ZHIBU_WECOM__SECRET": "",
        }
        dry = CliRunner().invoke(cli, ["accounts", "match"], env=env)
        assert dry.exit_code == 0, dry.output
        assert "已匹配：钉钉 2 人" in dry.output and "王建国 13900000001 → wangjg" in dry.output
        assert "不在应用的可见范围内：钉钉 1 人" in dry.output and "--apply" in dry.output
        assert "钉钉：查询 5 人，已匹配 2 人" in dry.output
        with session_factory() as s:
            assert s.scalar(select(func.count()).select_from(ChatAccount)) == 1  # only 孙八's
        done = CliRunner().invoke(cli, ["accounts", "match", "--platform", "dingtalk", "--apply"], env=env)
        assert done.exit_code == 0, done.output
        assert "已绑定 2 个账号" in done.output
        with session_factory() as s:
            bound = dict(s.execute(select(ChatAccount.person_id, ChatAccount.account_id)).all())
            assert bound[ids["wang"]] == "wangjg" and bound[ids["li"]] == "lixh"
            logged = s.scalars(
                select(AuditEntry).where(AuditEntry.entity == "chat_account", AuditEntry.action == "create")
            ).all()
            mine = [e for e in logged if "zhibu accounts match" in e.actor_label]
            assert {e.after["account_id"] for e in mine} == {"wangjg", "lixh"}
        again = CliRunner().invoke(cli, ["accounts", "match", "--platform", "wecom"], env=env)
        assert again.exit_code != 0 and "企业微信没有配置" in again.output


def test_the_demo_sandbox_knows_its_people_by_phone(session):
    from bot.cli.serve import sandbox_fixture
    from models.seed import seed

    seed(session, "demo", dingtalk_corp_id=DT, wecom_corp_id=WC)
    session.flush()
    fixture = sandbox_fixture(session, callback_url="http://127.0.0.1:9/wecom/callback")
    account = session.scalars(
        select(ChatAccount).where(ChatAccount.platform == Platform.DINGTALK).order_by(ChatAccount.id)
    ).first()
    phone = session.get(Person, account.person_id).phone
    with running_sandbox() as sb:
        sb.load_fixture(fixture)
        assert dingtalk(sb).userid_by_mobile(phone) == account.account_id
