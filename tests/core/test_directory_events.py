"""Directory changes through DirectoryEvents and the roster's use case: marks, notices, the outbox and the
relay skipping accounts that left, userid and mobile changes. The SDKs' wire formats are in
tests/core/test_directory_e2e.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core import outbox
from bot.core.directory import ChangeKind, DirectoryChange
from bot.core.dispatcher import Outcome
from bot.core.messages import Text
from bot.core.texts import REASON_LEFT_DIRECTORY
from bot.platforms.wiring import directory_events
from handlers.delivery import unreachable_members
from models.audit import AuditEntry
from models.inbox import InboundEvent
from models.org import ChatAccount, Person, Platform, Role
from models.outbox import CardRef, DeliveryStatus, OutboxMessage
from tests import builders
from tests.core.helpers import DT, T0, WC, FakeSender, make_dispatcher, make_org
from tests.core.test_relay import _relay

_ids = iter(range(1, 10_000))


def change(kind, *accounts, platform=Platform.DINGTALK, event_id=None, at=None, **kw) -> DirectoryChange:
    return DirectoryChange(
        event_id=event_id or f"ev{next(_ids)}",
        platform=platform,
        corp_id=DT if platform == Platform.DINGTALK else WC,
        kind=kind,
        account_ids=accounts,
        occurred_at=at,
        **kw,
    )


@pytest.fixture
def directory(session_factory):
    return directory_events(make_dispatcher(session_factory, []))


def _notices(session, person_id=None):
    session.expire_all()
    stmt = select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("directory:"))
    if person_id is not None:
        stmt = stmt.where(OutboxMessage.person_id == person_id)
    return list(session.scalars(stmt.order_by(OutboxMessage.id)))


def _account(session, account_id):
    session.expire_all()
    return session.scalars(select(ChatAccount).where(ChatAccount.account_id == account_id)).one()


def test_a_member_who_left_is_marked_and_the_secretary_told_once(session_factory, session, directory):
    org = make_org(session_factory)  # 党员0: DingTalk member0 only
    left = change(ChangeKind.LEFT, "member0", at=T0 - timedelta(minutes=5))
    assert directory.handle(left) == Outcome.HANDLED
    assert directory.handle(left) == Outcome.DUPLICATE  # the same event delivered again
    # Another event saying the same (DingTalk re-announcing, a second leave): still one notice.
    assert directory.handle(change(ChangeKind.LEFT, "member0")) == Outcome.HANDLED

    account = _account(session, "member0")
    assert account.left_directory_at == T0 - timedelta(minutes=5)
    notices = _notices(session)
    assert [n.person_id for n in notices] == [org.secretary_id]
    text = notices[0].payload["text"]
    assert "第一党支部党员党员0已不在本单位钉钉通讯录中" in text
    assert "“member0”" in text and "今后不再向其发送消息" in text
    assert "调离" in text and "组织与党员" in text and "重新加入通讯录" in text
    # Nothing deleted; the change is in the audit log as the directory's doing.
    assert session.get(Person, org.member_ids[0]) is not None
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "chat_account", AuditEntry.action == "update")
    ).one()
    assert entry.via == "system" and entry.actor_label == "钉钉通讯录"
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 2


def test_no_more_sends_to_an_account_that_left(session_factory, session, directory):
    org = make_org(session_factory)
    member0, member1 = org.member_ids[0], org.member_ids[1]
    with session_factory() as s, s.begin():  # a message queued before the news, due later
        outbox.enqueue_to_people(s, [member0], Text("周五的会"), dedup_key="early", now=T0)
    directory.handle(change(ChangeKind.LEFT, "member0"))
    directory.handle(change(ChangeKind.LEFT, "member1", platform=Platform.WECOM))
    # The secretary's DingTalk account left too: his notices go to his WeCom account instead.
    directory.handle(change(ChangeKind.LEFT, "wangshuji"))
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(
            s, [org.secretary_id, member0, member1, org.member_ids[2]], Text("通知"), dedup_key="late", now=T0
        )
    dingtalk, wecom = FakeSender("dingtalk"), FakeSender("wecom")
    _relay(session_factory, dingtalk, wecom).drain()

    sent = set(dingtalk.sent_targets()) | set(wecom.sent_targets())
    assert "member0" not in sent and "member1" not in sent and "wangshuji" not in sent
    assert "member2" in sent and "WangShuJi" in sent
    session.expire_all()
    rows = {
        (r.dedup_key, r.person_id): r
        for r in session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.in_(["early", "late"])))
    }
    for key in (("early", member0), ("late", member0), ("late", member1)):
        assert rows[key].status == DeliveryStatus.FAILED and rows[key].reason == REASON_LEFT_DIRECTORY
        assert rows[key].attempts == 0  # never tried at the platform
    assert rows[("late", org.secretary_id)].platform == "wecom"

    # The secretary's 未送达名单 says why, and since when.
    gone = {u.person_id: u for u in unreachable_members(session, org.branch_id)}
    assert gone[member0].reason == "已不在钉钉通讯录中" and gone[member0].failed_at == T0
    assert gone[member1].reason == "已不在企业微信通讯录中"
    assert org.secretary_id not in gone  # still reached on WeCom


def test_an_account_that_left_does_not_stop_the_same_userid_on_the_other_platform(
    session_factory, session, directory, caplog
):
    # Userids are often a name's pinyin on both platforms: 张伟's DingTalk "zhangwei" leaving says
    # nothing about another 张伟's WeCom "zhangwei", whose messages still go.
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        branch = s.get(Person, org.secretary_id).branch
        left = builders.person(s, "张伟", branch, account_id="zhangwei", corp=DT).id
        stays = builders.person(s, "张伟", branch, account_id="zhangwei", corp=WC, platform=Platform.WECOM).id
    directory.handle(change(ChangeKind.LEFT, "zhangwei"))
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, [left, stays], Text("通知"), dedup_key="k", now=T0)
    dingtalk, wecom = FakeSender("dingtalk"), FakeSender("wecom")
    with caplog.at_level("WARNING", logger="bot.core.relay"):
        _relay(session_factory, dingtalk, wecom).drain()
    assert "zhangwei" in wecom.sent_targets() and "zhangwei" not in dingtalk.sent_targets()
    # Sent as queued, not taken for a departed account and moved back onto itself.
    assert not [r for r in caplog.records if "accounts that left" in r.getMessage()]
    session.expire_all()
    status = dict(session.execute(select(OutboxMessage.person_id, OutboxMessage.status).where(
        OutboxMessage.dedup_key == "k")).all())  # fmt: skip
    assert status == {left: DeliveryStatus.FAILED, stays: DeliveryStatus.SENT}


def test_a_secretary_whose_other_account_remains_is_told_where_notices_go(
    session_factory, session, directory
):
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        deputy = builders.person(
            s, "李副书记", s.get(Person, org.secretary_id).branch, account_id="lifu", corp=DT
        )
        builders.role(s, deputy, deputy.branch, Role.DEPUTY_SECRETARY)
        deputy_id = deputy.id
    directory.handle(change(ChangeKind.LEFT, "wangshuji"))
    notices = _notices(session)
    # The secretary himself is not told about his own account: the deputy is.
    assert [n.person_id for n in notices] == [deputy_id]
    assert "今后的通知改发到其企业微信" in notices[0].payload["text"]


def test_coming_back_clears_the_mark_unless_the_news_is_older(session_factory, session, directory):
    org = make_org(session_factory)
    directory.handle(change(ChangeKind.LEFT, "member0", at=T0))
    # A "joined" that happened before the departure (delivered late) changes nothing.
    directory.handle(change(ChangeKind.JOINED, "member0", at=T0 - timedelta(hours=1)))
    assert _account(session, "member0").left_directory_at is not None
    directory.handle(change(ChangeKind.JOINED, "member0", at=T0 + timedelta(hours=1)))
    assert _account(session, "member0").left_directory_at is None
    notices = _notices(session, org.secretary_id)
    assert len(notices) == 2
    assert "已重新加入本单位钉钉通讯录" in notices[1].payload["text"]
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, [org.member_ids[0]], Text("通知"), dedup_key="after", now=T0)
    session.expire_all()
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == "after")).one()
    assert row.status == DeliveryStatus.QUEUED and row.target == "member0"
    # Leaving again is news again: a second notice.
    directory.handle(change(ChangeKind.LEFT, "member0", at=T0 + timedelta(days=3)))
    assert len(_notices(session, org.secretary_id)) == 3


def test_a_new_userid_is_followed_with_the_queued_messages_and_cards(session_factory, session, directory):
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, [org.member_ids[1]], Text("通知"), dedup_key="q", now=T0)
        s.add(CardRef(platform="wecom", corp_id=WC, target="member1", card_key="leave:1", card_id="t1"))
    directory.handle(
        change(ChangeKind.UPDATED, "member1", platform=Platform.WECOM, new_account_id="zhang.new")
    )
    account = _account(session, "zhang.new")
    assert account.person_id == org.member_ids[1]
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == "q")).one()
    assert row.target == "zhang.new"
    assert session.scalars(select(CardRef)).one().target == "zhang.new"
    assert "由“member1”改为“zhang.new”" in _notices(session)[0].payload["text"]
    # The bot now knows the member by the new id.
    sender = FakeSender("wecom")
    _relay(session_factory, FakeSender("dingtalk"), sender).drain()
    assert sender.sent_targets() == ["zhang.new"]


def test_a_new_userid_held_by_someone_else_is_not_taken(session_factory, session, directory):
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        other = builders.person(s, "重名者", account_id="member3", platform=Platform.WECOM, corp=WC)
        other_id = other.id
    directory.handle(change(ChangeKind.UPDATED, "member1", platform=Platform.WECOM, new_account_id="member3"))
    assert _account(session, "member1").person_id == org.member_ids[1]
    assert _account(session, "member3").person_id == other_id
    text = _notices(session)[0].payload["text"]
    assert "“member3”在党员名册中登记的是重名者" in text and "没有自动更新" in text


def test_a_changed_mobile_is_noted_only_when_it_conflicts(session_factory, session, directory):
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        s.get(Person, org.member_ids[1]).phone = "13800000001"
        builders.person(s, "另一人", phone="13900000002")
    wecom = {"platform": Platform.WECOM}
    directory.handle(change(ChangeKind.UPDATED, "member1", mobile="138-0000-0001", **wecom))  # the same
    assert _notices(session) == []
    directory.handle(change(ChangeKind.UPDATED, "member1", mobile="13700000003", **wecom))
    directory.handle(change(ChangeKind.UPDATED, "member1", mobile="13900000002", **wecom))
    texts = [n.payload["text"] for n in _notices(session)]
    assert "手机号改为 13700000003，与党员名册登记的13800000001不一致" in texts[0]
    assert "这个号码在党员名册中登记的是另一人" in texts[1]
    session.expire_all()
    assert session.get(Person, org.member_ids[1]).phone == "13800000001"  # the roster is the record


def test_accounts_nobody_holds_and_other_corps_change_nothing(session_factory, session, directory):
    make_org(session_factory)
    assert directory.handle(change(ChangeKind.LEFT, "stranger")) == Outcome.HANDLED
    other_corp = DirectoryChange("x1", Platform.DINGTALK, "dingOTHER", ChangeKind.LEFT, ("member0",))
    directory.handle(other_corp)
    assert _account(session, "member0").left_directory_at is None
    assert _notices(session) == []


def test_a_failing_use_case_stores_nothing_so_the_platform_may_deliver_again(session_factory, session):
    make_org(session_factory)
    calls = []

    def broken(session, change, now, config):
        calls.append(change.event_id)
        session.get(ChatAccount, 1).left_directory_at = now
        raise RuntimeError("database went away")

    from bot.core.directory import DirectoryEvents

    events = DirectoryEvents(make_dispatcher(session_factory, []), broken)
    with pytest.raises(RuntimeError):
        events.handle(change(ChangeKind.LEFT, "member0", event_id="again"))
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0
    assert session.get(ChatAccount, 1).left_directory_at is None


def test_dingtalk_contact_events_translate_from_the_sdk_frames():
    from dingtalk_stream.frames import EventMessage

    from bot.platforms.dingtalk.stream import translate_contact_event

    def frame(event_type, data, **headers):
        return EventMessage.from_dict(
            {
                "specVersion": "1.0",
                "type": "EVENT",
                "headers": {
                    "messageId": "m1",
                    "eventType": event_type,
                    "eventId": "e1",
                    "eventCorpId": DT,
                    "eventBornTime": "1772413200000",
                    **headers,
                },  # fmt: skip
                "data": json.dumps(data),
            }
        )

    msg = frame("user_leave_org", {"timeStamp": "1772409600000", "userId": ["a", "b"]})
    left = translate_contact_event(msg.headers, msg.data, "fallback")
    assert (left.kind, left.account_ids, left.corp_id, left.event_id) == (
        ChangeKind.LEFT,
        ("a", "b"),
        DT,
        "user_leave_org:e1",
    )
    assert left.occurred_at == T0 - timedelta(hours=1)  # the data's timeStamp, in ms
    msg = frame("user_modify_org", {"diffInfo": {"userid": "c", "prev": {}, "curr": {}}})
    modified = translate_contact_event(msg.headers, msg.data, "fallback")
    assert modified.kind == ChangeKind.UPDATED and modified.account_ids == ("c",)
    assert modified.occurred_at == T0  # no timeStamp: eventBornTime
    for other in (frame("chat_update_title", {"chatId": "x"}), frame("user_add_org", {"userId": []})):
        assert translate_contact_event(other.headers, other.data, "fallback") is None


def test_wecom_change_contact_translates_from_wechatpy():
    from wechatpy.enterprise import parse_message

    from bot.platforms.wecom.callback import translate_contact

    def xml(change_type, *fields):
        return (
            f"<xml><ToUserName>{WC}</ToUserName><FromUserName>sys</FromUserName><CreateTime>1772413200</CreateTime>"
            f"<MsgType>event</MsgType><Event>change_contact</Event><ChangeType>{change_type}</ChangeType>"
            + "".join(fields)
            + "</xml>"
        )

    gone = translate_contact(parse_message(xml("delete_user", "<UserID>zs</UserID>")), WC)
    assert (gone.kind, gone.account_ids, gone.occurred_at) == (ChangeKind.LEFT, ("zs",), T0)
    assert gone.event_id == "change_contact:1772413200:delete_user:zs:"
    moved = translate_contact(
        parse_message(
            xml("update_user", "<UserID>zs</UserID><NewUserID>zs2</NewUserID><Mobile>139</Mobile>")
        ),
        WC,
    )
    assert (moved.kind, moved.new_account_id, moved.mobile) == (ChangeKind.UPDATED, "zs2", "139")
    # Departments and tags are not members; a text message is not a contact change.
    assert translate_contact(parse_message(xml("create_party", "<Id>2</Id>")), WC) is None
    text = f"<xml><ToUserName>{WC}</ToUserName><FromUserName>zs</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>"
    assert translate_contact(parse_message(text), WC) is None


def test_a_member_already_off_the_roster_is_followed_without_a_notice(session_factory, session, directory):
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        s.get(Person, org.member_ids[0]).active = False  # transferred out earlier
    directory.handle(change(ChangeKind.LEFT, "member0"))
    assert _account(session, "member0").left_directory_at is not None
    assert _notices(session) == []
