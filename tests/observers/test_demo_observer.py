"""The observer the README tells a newcomer to play (马超, appointed by 城关镇党委) has a journey in the
demo (issue 15: 3): branches of his committee to observe, not his own, their meetings, and the observer
commands in 帮助. Before, the seed made random secretaries observers and left the appointed ones idle."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.cli.serve import DEMO_HISTORY_MONTHS, _core_config, _routes, demo_settings
from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, Conversation, TextReceived
from config import demo
from models.observers import ObserverAssignment
from models.org import OrgUnit, Person, Platform
from models.outbox import OutboxMessage
from models.seed import seed
from models.seed.demo import DEMO_PEOPLE

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
    dispatcher = Dispatcher(
        session_factory, routes, _core_config(settings), fallback=fallback, clock=lambda: NOW
    )
    account = DEMO_PEOPLE["observer"]

    def say(n: int, text: str) -> str:
        sender = Account(Platform.DINGTALK, demo.DINGTALK_CORP_ID, account)
        conv = Conversation(Platform.DINGTALK, demo.DINGTALK_CORP_ID, account)
        dispatcher.dispatch(TextReceived(f"m{n}", sender, "马超", conv, text, NOW))
        with session_factory() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(f"reply:m{n}:")))
            return "\n".join(str(r.payload) for r in rows)

    mine = say(1, "我的支部")
    assert "东风村党支部" in mine and "幸福社区党支部" in mine
    assert "只有观察员" not in say(2, "观察统计")
    assert "我的支部" in say(3, "帮助") and "观察统计" in say(4, "帮助")
