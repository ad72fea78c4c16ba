"""A person with both accounts chooses where notices go (消息发到企业微信 / 消息发到钉钉; issue #15, also
seen); the outbox queues on that platform and the relay sends there. Default: the deployment's order."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import outbox
from bot.core.messages import Text, from_payload
from bot.core.ratelimit import ManualClock
from bot.core.relay import Relay, RelayConfig
from handlers import all_routers
from models.org import Person, Platform
from models.outbox import OutboxMessage
from tests.core.helpers import T0, FakeSender, make_dispatcher, make_org, text_event


def _notify(session_factory, person_id: int, key: str) -> None:
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, [person_id], Text(f"会议通知{key}"), dedup_key=key, now=T0)


def _relay_once(session_factory) -> tuple[FakeSender, FakeSender]:
    dingtalk, wecom = FakeSender("dingtalk"), FakeSender("wecom")
    relay = Relay(
        session_factory, [dingtalk, wecom], clock=ManualClock(T0), config=RelayConfig(concurrency=1)
    )
    relay.run_once()
    return dingtalk, wecom


def _notices(sender: FakeSender) -> list[tuple[str, list[str]]]:
    return [(b.message.text, b.targets) for b in sender.calls if b.message.text.startswith("会议通知")]


def _reply(session) -> str:
    session.expire_all()
    row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return from_payload(row.payload).text


def test_notices_follow_the_persons_choice_and_default_as_before(session_factory, session):
    org = make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers())
    _notify(session_factory, org.secretary_id, "1")  # no choice yet: the deployment's first platform
    dingtalk, wecom = _relay_once(session_factory)
    assert _notices(dingtalk) == [("会议通知1", ["wangshuji"])] and _notices(wecom) == []

    d.dispatch(text_event("消息发到企业微信", event_id="e1"))
    assert _reply(session) == "好的，以后的通知和提醒都发到您的企业微信。您在哪里问我，我仍在哪里回答。"
    _notify(session_factory, org.secretary_id, "2")
    dingtalk, wecom = _relay_once(session_factory)
    assert _notices(wecom) == [("会议通知2", ["WangShuJi"])] and _notices(dingtalk) == []
    # The answer itself went where the question was asked.
    assert [b.targets for b in dingtalk.calls] == [["wangshuji"]]

    d.dispatch(text_event("我的", event_id="me"))
    assert "- 通知发到：企业微信（可发送“消息发到钉钉”改用钉钉）" in _reply(session)
    d.dispatch(text_event("消息发到 钉钉", platform=Platform.WECOM, account="WangShuJi", event_id="e2"))
    _notify(session_factory, org.secretary_id, "3")
    dingtalk, wecom = _relay_once(session_factory)
    assert _notices(dingtalk) == [("会议通知3", ["wangshuji"])] and _notices(wecom) == []


def test_a_choice_that_cannot_be_kept_is_refused_in_chinese_and_changes_nothing(session_factory, session):
    org = make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers())
    d.dispatch(text_event("消息发到企业微信", account="member0", event_id="e1"))  # DingTalk only
    assert _reply(session) == (
        "您还没有绑定企业微信账号，通知仍发到您的钉钉。如需改用企业微信，请联系支部书记在党员名册中登记。"
    )
    d.dispatch(text_event("消息发到微博", event_id="e2"))
    assert _reply(session) == "请说明发到哪里，例如“消息发到企业微信”或“消息发到钉钉”。"
    outbox.configure_platforms(session_factory, [Platform.DINGTALK])  # this deployment has no WeCom
    d.dispatch(text_event("消息发到企业微信", event_id="e3"))
    assert _reply(session) == "本系统没有启用企业微信，通知仍发到您的钉钉。"
    session.expire_all()
    assert [p.preferred_platform for p in session.scalars(select(Person).order_by(Person.id))] == [None] * 5
    assert org.secretary_id


def test_only_people_with_both_accounts_see_the_choice_in_help(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers())
    d.dispatch(text_event("帮助", event_id="e1"))
    d.dispatch(text_event("帮助", account="member0", event_id="e2"))
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    secretary = "".join(from_payload(r.payload).text for r in rows if r.dedup_key.startswith("reply:e1:"))
    member = "".join(from_payload(r.payload).text for r in rows if r.dedup_key.startswith("reply:e2:"))
    assert "消息发到企业微信" in secretary and "请假" in member and "消息发到" not in member
