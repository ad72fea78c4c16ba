"""The year's call: set by the committee (not by a branch secretary), its deadline and quota hold, and its
named reviewers all score before a project is decided (the 组织部 then does not score it)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.projects import chat as projects_chat
from models.projects import ProjectCall, ProjectStatus, SecretaryProject
from tests.harness import Chat
from tests.projects.conftest import REGISTRATION, local


def test_call_quota_deadline_and_a_named_panel(session_factory, session, org):
    chat = Chat(session_factory, [projects_chat.router], now=local(date(2027, 1, 5)))
    assert "只有党委书记、组织委员或组织部" in chat.say("wangsj", "项目征集 2027 2027-02-28 2").text
    usage = chat.say("fengsj", "项目征集 2027 二月底 2").text
    assert "请发送：项目征集" in usage and "例如：项目征集 2028 2028-03-31 1" in usage  # next year's example
    saved = chat.say("fengsj", "项目征集 2027 2027-02-28 2").text
    assert "已发布2027年书记项目征集（城关镇党委）：2027年2月28日前申报，每位书记2个" in saved
    assert "找不到“钱某”" in chat.say("fengsj", "项目评审人 2027 周组织、钱某").text
    assert "2027年书记项目评审人：周组织、冯书记" in chat.say("fengsj", "项目评审人 2027 周组织、冯书记").text
    call = session.scalars(select(ProjectCall)).one()
    assert call.per_secretary == 2 and call.unit_id == org.committee.id

    # Two projects each: the second is accepted by the quota of the call.
    chat.say("wangsj", "申报项目\n" + REGISTRATION["wangsj"])
    second = chat.say(
        "wangsj", "申报项目\n" + REGISTRATION["wangsj"].replace("村集体经济增收", "人居环境整治")
    )
    assert "已提交书记项目" in second.text
    assert "每位书记申报2个项目" in chat.say("wangsj", "申报项目\n" + REGISTRATION["wangsj"]).text
    pid = session.scalars(select(SecretaryProject.id).order_by(SecretaryProject.id)).first()
    chat.say("zhouzz", f"预审通过 #{pid}")
    # The panel, not the 组织部, scores; the project is decided when both have scored.
    assert "您不是项目" in chat.say("sunbz", f"项目评分 #{pid} 90").text
    assert "还有1位评审人未评分" in chat.say("zhouzz", f"项目评分 #{pid} 70").text
    assert "待我评分" in chat.say("fengsj", "书记项目").text
    assert "评审均分62.5分，项目已入库" in chat.say("fengsj", f"项目评分 #{pid} 55").text
    session.expire_all()
    assert session.get(SecretaryProject, pid).status == ProjectStatus.ACCEPTED  # (70 + 55) / 2 = 62.5 ≥ 60
    # After the deadline nobody registers.
    chat.now = local(date(2027, 3, 1))
    assert "已于2027年2月28日截止" in chat.say("lisj", "申报项目\n" + REGISTRATION["lisj"]).text
