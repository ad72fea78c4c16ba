"""5,000 messages through the sandbox with the real platforms' limits: nothing throttled, nothing dropped.

The relay runs on an injected clock that moves the sandbox's clock with it, so the minutes WeCom's
per-member limit demands pass in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from bot.core import outbox
from bot.core.messages import Markdown, Text
from config import demo
from models.org import ChatAccount, OrgUnit, Person, Platform, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage
from tests.core.e2e import running_bot

START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
DING_PEOPLE = 2500
WECOM_PEOPLE, WECOM_MESSAGES_EACH = 50, 50


def _bulk_org(session_factory) -> tuple[list[int], list[int]]:
    with session_factory() as s, s.begin():
        branch = OrgUnit(kind=UnitKind.BRANCH, name="大支部", path="/1/")
        s.add(branch)
        s.flush()
        s.execute(
            insert(Person),
            [{"name": f"钉{i}", "branch_id": branch.id} for i in range(DING_PEOPLE)]
            + [{"name": f"微{i}", "branch_id": branch.id} for i in range(WECOM_PEOPLE)],
        )
        people = list(s.execute(select(Person.id, Person.name).order_by(Person.id)))
        ding = [pid for pid, name in people if name.startswith("钉")]
        wecom = [pid for pid, name in people if name.startswith("微")]
        s.execute(
            insert(ChatAccount),
            [
                {
                    "person_id": pid,
                    "platform": Platform.DINGTALK,
                    "corp_id": demo.DINGTALK_CORP_ID,
                    "account_id": f"d{pid}",
                }
                for pid in ding
            ]
            + [
                {
                    "person_id": pid,
                    "platform": Platform.WECOM,
                    "corp_id": demo.WECOM_CORP_ID,
                    "account_id": f"w{pid}",
                }
                for pid in wecom
            ],
        )
    return ding, wecom


def test_5000_messages_stay_inside_every_rate_limit(session_factory, session, database_url):
    ding, wecom = _bulk_org(session_factory)
    with running_bot(session_factory, database_url, clock_start=START) as bot:
        assert bot.sb.configure(
            dingtalk_qps=20, wecom_per_member_per_minute=30, wecom_per_member_per_hour=1000
        )
        with session_factory() as s, s.begin():
            outbox.enqueue_to_people(
                s, ding, Markdown("三月月报", "本月支部活动情况……"), dedup_key="digest", now=START
            )
            for i in range(WECOM_MESSAGES_EACH):
                outbox.enqueue_to_people(s, wecom, Text(f"第 {i + 1} 条提醒"), dedup_key=f"r{i}", now=START)
        bot.drain()
        counters = bot.sb.counters()
        assert counters["rate_limited_total"] == 0
        assert counters["wecom_dropped_total"] == 0
        delivered = sum(len(m["to"]) for m in bot.sb.outbox())
        assert delivered == DING_PEOPLE + WECOM_PEOPLE * WECOM_MESSAGES_EACH == 5000
        # 50 messages to each WeCom member need more than one minute, and the relay waited for it.
        assert (bot.clock.now() - START).total_seconds() >= 60
    session.expire_all()
    statuses = set(session.scalars(select(OutboxMessage.status).distinct()))
    assert statuses == {DeliveryStatus.SENT}
