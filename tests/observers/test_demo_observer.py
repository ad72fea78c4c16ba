"""The observer the README tells a newcomer to play (马超, appointed by 城关镇党委) has a journey in the
demo (issue 15: 3): branches of his committee to observe, not his own, their meetings, and the observer
commands in 帮助. Before, the seed made random secretaries observers and left the appointed ones idle."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.cli.common import core_config
from bot.cli.serve import DEMO_HISTORY_MONTHS, _routes, demo_settings
from config import demo
from models.observers import ObserverAssignment
from models.org import OrgUnit, Person
from models.seed import seed
from models.seed.demo import DEMO_PEOPLE
from tests.harness import Chat

NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)


def test_the_readme_s_observer_observes_his_committee_s_other_branches(
    session, session_factory, database_url
):
    seed(session, "demo", dingtalk_corp_id=demo.DINGTALK_CORP_ID, wecom_corp_id=demo.WECOM_CORP_ID,
         months=DEMO_HISTORY_MONTHS, today=NOW.date(), now=NOW)  # fmt: skip
    session.commit()
    machao = session.scalar(select(Person).where(Person.name == "马超"))
    branches = session.scalars(
        select(OrgUnit.name)
        .join(ObserverAssignment, ObserverAssignment.branch_id == OrgUnit.id)
        .where(ObserverAssignment.observer_id == machao.id, ObserverAssignment.active.is_(True))
        .order_by(OrgUnit.name)
    ).all()
    assert branches == ["东风村党支部", "幸福社区党支部"]  # 城关镇党委's branches but his own

    routes, fallback = _routes()
    settings = demo_settings(database_url, "http://127.0.0.1:18080", "http://127.0.0.1:8000")
    chat = Chat(session_factory, routes=routes, fallback=fallback, config=core_config(settings), now=NOW)
    account = DEMO_PEOPLE["observer"]
    mine = chat.say(account, "我的支部")
    assert "东风村党支部" in mine and "幸福社区党支部" in mine
    stats = chat.say(account, "观察统计")  # his own statistics, not the refusal a non-observer gets
    assert "只有观察员" not in stats and "**马超**：联系 2 个支部" in stats
    help_text = chat.say(account, "帮助")
    assert "我的支部" in help_text and "观察统计" in help_text
