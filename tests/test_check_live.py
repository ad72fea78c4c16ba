"""`zhibu check --live` (#18 item 4) against the sandbox and a running bot: with the right credentials
every line passes; each wrong one (secret, robot code, agent id, card template, Token/EncodingAESKey,
public address) gives its own Chinese line with the fix and exit 1; nothing is sent to anyone; plain
`zhibu check` stays offline."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from config import demo
from tests.core.e2e import running_bot

SECRET = "a-long-enough-secret-key-for-zhibu-check"


@pytest.fixture
def bot(migrated_url, session_factory):
    with running_bot(session_factory, migrated_url) as harness:
        yield harness


def env_for(url: str, bot_url: str, sb_url: str, **overrides) -> dict:
    env = {
        "ZHIBU_DATABASE_URL": url,
        "ZHIBU_SECRET_KEY": SECRET,
        "ZHIBU_PUBLIC_BASE_URL": bot_url,
        "ZHIBU_DINGTALK__CLIENT_ID": demo.DINGTALK_CLIENT_ID,
        "ZHIBU_DINGTALK__CLIENT_SECRET": demo.DINGTALK_CLIENT_SECRET,
        "ZHIBU_DINGTALK__ROBOT_CODE": demo.DINGTALK_ROBOT_CODE,
        "ZHIBU_DINGTALK__CORP_ID": demo.DINGTALK_CORP_ID,
        "ZHIBU_DINGTALK__OPENAPI_ENDPOINT": sb_url,
        "ZHIBU_DINGTALK__OAPI_ENDPOINT": sb_url,
        "ZHIBU_WECOM__CORP_ID": demo.WECOM_CORP_ID,
        "ZHIBU_WECOM__AGENT_ID": demo.WECOM_AGENT_ID,
        "ZHIBU_WECOM__SECRET": demo.WECOM_SECRET,
        "ZHIBU_WECOM__TOKEN": demo.WECOM_TOKEN,
        "ZHIBU_WECOM__ENCODING_AES_KEY": demo.WECOM_ENCODING_AES_KEY,
        "ZHIBU_WECOM__API_BASE": sb_url + "/cgi-bin/",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return env | overrides


def live(env: dict):
    return CliRunner().invoke(cli, ["check", "--live"], env=env)


def lines(output: str) -> dict[str, str]:
    """'✔ name：detail' lines by name."""
    out = {}
    for line in output.splitlines():
        if line[:2] in ("✔ ", "✘ "):
            name, _, detail = line[2:].partition("：")
            out[name] = line[0] + detail
    return out


def test_right_credentials_pass_every_check_and_send_nothing(migrated_url, bot):
    sb = bot.sb
    sent_before = len(sb.outbox())
    result = live(env_for(migrated_url, bot.url, sb.url))
    assert result.exit_code == 0, result.output
    got = lines(result.output)
    assert set(got) == {
        "钉钉 访问凭证", "钉钉 机器人 robotCode", "钉钉 互动卡片模板", "企业微信 访问凭证", "企业微信 AgentId",
        "企业微信 回调 Token/EncodingAESKey", "企业微信 回调地址", "公网地址 ZHIBU_PUBLIC_BASE_URL",
    }  # fmt: skip
    assert all(v.startswith("✔") for v in got.values()), got
    # The card check says honestly what it cannot read.
    assert "钉钉不提供读取模板变量的接口" in got["钉钉 互动卡片模板"] and "title" in got["钉钉 互动卡片模板"]
    assert "全部检查通过" in result.output
    assert len(sb.outbox()) == sent_before  # nothing reached anyone
    calls = sb.counters()["calls"]
    assert calls.get("POST /v1.0/card/instances") == 1 and "POST /v1.0/card/instances/deliver" not in calls


def test_each_wrong_setting_gets_its_own_line_with_the_fix(migrated_url, bot):
    sb = bot.sb
    wrong = live(
        env_for(
            migrated_url, bot.url, sb.url,
            ZHIBU_DINGTALK__CLIENT_SECRET="not-the-secret", ZHIBU_WECOM__SECRET="not-the-secret",
        )
    )  # fmt: skip
    assert wrong.exit_code == 1
    got = lines(wrong.output)
    assert got["钉钉 访问凭证"].startswith("✘") and "ZHIBU_DINGTALK__CLIENT_SECRET" in got["钉钉 访问凭证"]
    assert "invalidClientIdOrSecret" in got["钉钉 访问凭证"] or "clientSecret" in got["钉钉 访问凭证"]
    assert got["钉钉 其余检查"].startswith("✘") and "已跳过" in got["钉钉 其余检查"]
    assert got["企业微信 访问凭证"].startswith("✘") and "ZHIBU_WECOM__SECRET" in got["企业微信 访问凭证"]
    assert "已跳过" in got["企业微信 AgentId"]

    other = live(
        env_for(
            migrated_url, bot.url, sb.url,
            ZHIBU_DINGTALK__ROBOT_CODE="dingNoSuchRobot", ZHIBU_WECOM__AGENT_ID="1000999",
            ZHIBU_WECOM__CORP_ID="ww-not-the-corp",
        )
    )  # fmt: skip
    got = lines(other.output)
    assert got["钉钉 访问凭证"].startswith("✔")
    assert got["钉钉 机器人 robotCode"].startswith("✘") and "dingNoSuchRobot" in got["钉钉 机器人 robotCode"]
    assert got["企业微信 访问凭证"].startswith("✘") and "ZHIBU_WECOM__CORP_ID" in got["企业微信 访问凭证"]

    agent = live(env_for(migrated_url, bot.url, sb.url, ZHIBU_WECOM__AGENT_ID="1000999"))
    got = lines(agent.output)
    assert got["企业微信 AgentId"].startswith("✘") and "1000999" in got["企业微信 AgentId"]

    sb.fault(
        "/v1.0/robot/plugins/query",
        http=403,
        body={
            "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            "message": "没有调用该接口的权限",
        },
    )
    denied = lines(live(env_for(migrated_url, bot.url, sb.url)).output)["钉钉 机器人 robotCode"]
    assert denied.startswith("✘") and "Robot.SingleChat.ReadWrite" in denied

    sb.fault(
        "/v1.0/card/instances",
        http=400,
        body={"code": "InvalidParameter.CardTemplateId", "message": "卡片模板不存在"},
    )
    card = live(env_for(migrated_url, bot.url, sb.url))
    got = lines(card.output)
    assert card.exit_code == 1
    assert got["钉钉 互动卡片模板"].startswith("✘") and "卡片模板不存在" in got["钉钉 互动卡片模板"]
    assert "ZHIBU_DINGTALK__CARD_TEMPLATE_ID" in got["钉钉 互动卡片模板"]


def test_callback_pair_and_public_address(migrated_url, bot):
    sb = bot.sb
    malformed = live(env_for(migrated_url, bot.url, sb.url, ZHIBU_WECOM__ENCODING_AES_KEY="!" * 43))
    got = lines(malformed.output)
    assert (
        got["企业微信 回调 Token/EncodingAESKey"].startswith("✘")
        and "43" in got["企业微信 回调 Token/EncodingAESKey"]
    )
    assert "企业微信 回调地址" not in got  # nothing to try with a broken pair

    # A well-formed pair the running bot does not use: WeCom's verification would fail the same way.
    other_token = live(env_for(migrated_url, bot.url, sb.url, ZHIBU_WECOM__TOKEN="AnotherToken123"))
    got = lines(other_token.output)
    assert got["企业微信 回调 Token/EncodingAESKey"].startswith("✔")
    assert got["企业微信 回调地址"].startswith("✘") and "HTTP 403" in got["企业微信 回调地址"]

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    away = live(env_for(migrated_url, nowhere, sb.url))
    got = lines(away.output)
    assert away.exit_code == 1
    assert (
        got["公网地址 ZHIBU_PUBLIC_BASE_URL"].startswith("✘")
        and "/healthz" in got["公网地址 ZHIBU_PUBLIC_BASE_URL"]
    )
    assert got["企业微信 回调地址"].startswith("✘")


def test_plain_check_stays_offline(migrated_url, bot):
    sb = bot.sb
    before = dict(sb.counters()["calls"])
    result = CliRunner().invoke(cli, ["check"], env=env_for(migrated_url, bot.url, sb.url))
    assert result.exit_code == 0, result.output
    assert "联网检查" not in result.output
    assert dict(sb.counters()["calls"]) == before
