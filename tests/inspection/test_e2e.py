"""督查/巡查 end to end through the sandbox and the real adapters, on DingTalk and on WeCom: on the 1st the
job draws the month's patrol and the inspector gets the list in chat (the drawn branch's secretary hears
nothing and 督查任务 tells them nothing); the inspector asks for their tasks; a problem recorded on the
visit reaches the branch's secretary with its rectification number; the secretary reports it fixed in
chat (督查任务 lists it for him, and the observers' 整改 points there), the inspector is told, and signs it
off."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from handlers.common.roles import people_with_roles
from handlers.inspection import rounds
from handlers.inspection.config import DEFAULT
from handlers.inspection.jobs import jobs
from models.inspection import InspectionRectification, InspectionRound, RoundKind
from models.observers import RectificationStatus
from models.org import ChatAccount, OrgUnit, Person, Platform, Role
from tests.core.e2e import running_bot
from tests.inspection.conftest import build, local

T0 = local(date(2027, 5, 1), 8)  # the job's hour: the clock stays put (WeCom checks its callbacks' times)


def _to(bot, platform, user):
    return [m for m in bot.sb.outbox(platform=platform) if user in m.get("to", [])]


def _say(bot, platform, user, text):
    if platform == "dingtalk":
        bot.sb.push_dingtalk_message(user, text)
        passive = ""
    else:
        result = bot.sb.deliver_wecom(user, text)
        assert result["delivered"], result
        passive = str((result.get("reply") or {}).get("fields", {}).get("Content", ""))
    bot.drain()
    return passive + str(_to(bot, platform, user)[-1])


def _account(s, person_id):
    return s.scalar(select(ChatAccount.account_id).where(ChatAccount.person_id == person_id))


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_patrol_to_signoff_through_the_sandbox(session_factory, database_url, platform):
    with session_factory() as s, s.begin():
        build(s, Platform(platform))
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        specs = {j.name: j for j in jobs(bot.service.core)}
        for _ in range(2):  # a rerun of the job draws nothing more
            with session_factory() as s, s.begin():
                specs["inspection.patrol"].function(s, bot.clock.now(), "")
        bot.drain()
        with session_factory() as s:
            patrol = s.scalars(select(InspectionRound).where(InspectionRound.kind == RoundKind.PATROL)).one()
            (ru,) = patrol.units
            inspector, branch_id = _account(s, ru.inspector_id), ru.branch_id
            branch_name = s.get(OrgUnit, branch_id).name
            secretary_id = people_with_roles(s, branch_id, [Role.SECRETARY])[0]
            secretary = _account(s, secretary_id)
        lists = [m for m in _to(bot, platform, inspector) if "随机抽查名单" in str(m)]
        assert len(lists) == 1 and branch_name in str(lists[0])
        assert f"/h5/inspection/{patrol.id}/units/{branch_id}" in str(lists[0])  # the phone form's link
        assert not [m for m in _to(bot, platform, secretary) if "抽查" in str(m)]
        assert "你目前没有督查或巡查任务" in _say(bot, platform, secretary, "督查任务")
        tasks = _say(bot, platform, inspector, "督查任务")
        assert branch_name in tasks and "随机抽查" in tasks
        # The visit: a problem recorded (as the console does) reaches the secretary with its number.
        with session_factory() as s, s.begin():
            rnd = s.get(InspectionRound, patrol.id)
            who = rounds.standing(s, ru.inspector_id, DEFAULT)
            rounds.record_finding(
                s, who, rnd, rounds.get_round_unit(s, rnd, branch_id), item="主题党日", ok=False,
                text="5月主题党日未按计划开展", now=bot.clock.now(), today=date(2027, 5, 1), cfg=DEFAULT,
            )  # fmt: skip
        bot.drain()
        told = [m for m in _to(bot, platform, secretary) if "5月主题党日未按计划开展" in str(m)]
        assert told, _to(bot, platform, secretary)
        rect_id = int(re.search(r"整改编号 (\d+)", str(told[-1])).group(1))
        # He finds it again by asking: 督查任务 lists it; the observers' 整改 points there.
        mine = _say(bot, platform, secretary, "督查任务")
        assert f"整改编号 {rect_id}（{branch_name}，整改中" in mine and "5月主题党日未按计划开展" in mine
        assert "督查整改 编号 整改情况" in mine and "你目前没有" not in mine
        assert "督查任务" in _say(bot, platform, secretary, "整改")
        assert "请这样写" in _say(bot, platform, secretary, "督查整改")
        assert "已报告整改完成" in _say(bot, platform, secretary, f"督查整改 {rect_id} 5月20日已补开")
        assert any("5月20日已补开" in str(m) for m in _to(bot, platform, inspector))
        assert "等待确认" in _say(bot, platform, secretary, f"督查整改 {rect_id} 再报一次")
        with session_factory() as s, s.begin():
            rect = s.get(InspectionRectification, rect_id)
            rounds.decide(
                s, rounds.standing(s, ru.inspector_id, DEFAULT), rect, confirm=True, now=bot.clock.now()
            )
    with session_factory() as s:
        assert s.get(InspectionRectification, rect_id).status == RectificationStatus.CLOSED
        assert s.get(Person, secretary_id) is not None
