"""Directory changes end to end: the sandbox takes a member out of (or back into) its corp's directory and
tells the bot as the platform does, a contact EVENT over the DingTalk Stream (dingtalk-stream 0.24.3) or an
encrypted change_contact callback (parsed by wechatpy); the bot marks, notices and stops sending."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import outbox
from bot.core.messages import Text
from bot.core.texts import REASON_LEFT_DIRECTORY
from models.base import utcnow
from models.inbox import InboundEvent
from models.org import ChatAccount
from models.outbox import DeliveryStatus, OutboxMessage
from tests.core.e2e import running_bot
from tests.core.helpers import make_org


def _sent_to(sb, platform: str, user: str) -> list[dict]:
    return [m for m in sb.outbox(platform=platform) if user in m.get("to", [])]


def _account(session, account_id: str) -> ChatAccount:
    session.expire_all()
    return session.scalars(select(ChatAccount).where(ChatAccount.account_id == account_id)).one()


def _notify(session_factory, person_id: int, key: str) -> None:
    """A notice queued for one member, as any feature queues it."""
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(
            s, [person_id], Text("请参加周五的支部党员大会"), dedup_key=key, now=utcnow()
        )


def test_dingtalk_member_leaves_and_comes_back_over_the_stream(session_factory, session, database_url):
    org = make_org(session_factory)  # 党员0 is DingTalk member0; 王书记 is wangshuji (+ WeCom)
    with running_bot(session_factory, database_url) as bot:
        pushed = bot.sb.change_directory("dingtalk", "leave", "member0", repeat=2)
        # Each delivery of the EVENT is ACKed with the protocol's SUCCESS once stored; the second is a duplicate.
        assert pushed["deliveries"] == 2
        assert [a["data"]["status"] for a in pushed["acks"]] == ["SUCCESS", "SUCCESS"]
        assert _account(session, "member0").left_directory_at is not None
        event_id = f"directory:user_leave_org:{pushed['eventId']}"
        assert session.scalars(select(InboundEvent).where(InboundEvent.event_id == event_id)).one()

        _notify(session_factory, org.member_ids[0], "meeting-1")
        bot.drain()
        told = [m["text"] for m in _sent_to(bot.sb, "dingtalk", "wangshuji")]
        assert len(told) == 1 and "党员0已不在本单位钉钉通讯录中" in told[0]
        assert _sent_to(bot.sb, "dingtalk", "member0") == []  # no call for the member who left
        session.expire_all()
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == "meeting-1")).one()
        assert row.status == DeliveryStatus.FAILED and row.reason == REASON_LEFT_DIRECTORY

        # Re-added in DingTalk: the mark goes, the secretary hears it, messages go out again.
        back = bot.sb.change_directory("dingtalk", "join", "member0")
        assert back["ack"]["data"]["status"] == "SUCCESS"
        assert _account(session, "member0").left_directory_at is None
        _notify(session_factory, org.member_ids[0], "meeting-2")
        bot.drain()
        assert [m["text"] for m in _sent_to(bot.sb, "dingtalk", "member0")] == ["请参加周五的支部党员大会"]
        told = [m["text"] for m in _sent_to(bot.sb, "dingtalk", "wangshuji")]
        assert len(told) == 2 and "已重新加入本单位钉钉通讯录" in told[1]


def test_dingtalk_event_not_stored_is_asked_for_again(session_factory, session, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        directory = bot.service.platforms.stream.client.event_handler.directory
        real, calls = directory.handler, []

        def flaky(*args):
            calls.append(args[1].event_id)
            if len(calls) == 1:
                raise RuntimeError("database unavailable")
            return real(*args)

        directory.handler = flaky
        pushed = bot.sb.change_directory("dingtalk", "leave", "member0")
        # The first delivery was answered LATER; DingTalk pushed the same event again and it was stored.
        assert pushed["attempts"] == 2 and pushed["ack"]["data"]["status"] == "SUCCESS"
        assert len(calls) == 2 and calls[0] == calls[1]
        assert _account(session, "member0").left_directory_at is not None
        # Any other event the app is subscribed to is ACKed and left alone.
        other = bot.sb.push_event("chat_update_title", {"chatId": "cid1", "title": "新群名"})
        assert other["attempts"] == 1 and other["ack"]["data"]["status"] == "SUCCESS"
        assert len(calls) == 2


def test_wecom_change_contact_delete_update_and_create(session_factory, session, database_url):
    org = make_org(session_factory)  # 党员1 is WeCom member1
    with running_bot(session_factory, database_url) as bot:
        gone = bot.sb.change_directory("wecom", "leave", "member1", repeat=2)
        assert gone["delivered"] and [r["status"] for r in gone["results"]] == [200, 200]
        assert "<ChangeType><![CDATA[delete_user]]></ChangeType>" in gone["plaintext"]
        assert _account(session, "member1").left_directory_at is not None
        _notify(session_factory, org.member_ids[1], "fees-1")
        bot.drain()
        # The secretary is reached on DingTalk first (the deployment's order): one notice, however many
        # times WeCom delivered the callback.
        told = [m["text"] for m in _sent_to(bot.sb, "dingtalk", "wangshuji")]
        assert len(told) == 1 and "党员1已不在本单位企业微信通讯录中" in told[0]
        assert _sent_to(bot.sb, "wecom", "member1") == []

        bot.sb.change_directory("wecom", "join", "member1")
        assert _account(session, "member1").left_directory_at is None

        # The administrator changes the userid: the roster's account follows, and so do messages.
        renamed = bot.sb.change_directory("wecom", "update", "member1", new_userid="dangyuan1")
        assert "<NewUserID><![CDATA[dangyuan1]]></NewUserID>" in renamed["plaintext"]
        assert _account(session, "dangyuan1").person_id == org.member_ids[1]
        _notify(session_factory, org.member_ids[1], "fees-2")
        bot.drain()
        assert [m["text"] for m in _sent_to(bot.sb, "wecom", "dangyuan1")] == ["请参加周五的支部党员大会"]

        # A callback configuration from before 2022-08-15 also sends the mobile: noted, never applied.
        bot.sb.change_directory("wecom", "update", "dangyuan1", mobile="13912345678")
        bot.drain()
        texts = [m["text"] for m in _sent_to(bot.sb, "dingtalk", "wangshuji")]
        assert any("手机号改为 13912345678" in t for t in texts)
        session.expire_all()
        assert _account(session, "dangyuan1").person.phone != "13912345678"
