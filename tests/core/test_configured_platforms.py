"""Messages go only to configured platforms, whatever process queues them; rows stranded on a platform
that is not configured are moved to the person's other account or fail at once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.core import outbox, texts
from bot.core.events import Account, Conversation
from bot.core.messages import CardUpdate, Text
from bot.core.ratelimit import ManualClock
from bot.core.relay import Relay
from config import Settings
from models.org import Platform
from models.outbox import DeliveryStatus, OutboxMessage
from tests.core.helpers import DT, T0, FakeSender, make_org

WECOM_ONLY = {"ZHIBU_WECOM__CORP_ID": "ww-corp", "ZHIBU_WECOM__SECRET": "wecom-secret"}
DINGTALK_VARS = ("ZHIBU_DINGTALK__CLIENT_ID", "ZHIBU_DINGTALK__CLIENT_SECRET")


def wecom_only(monkeypatch, database_url: str) -> None:
    """The environment of a deployment that has only WeCom configured."""
    monkeypatch.setenv("ZHIBU_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "a-long-enough-production-secret")
    for name in DINGTALK_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in WECOM_ONLY.items():
        monkeypatch.setenv(name, value)


def _rows(session):
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_factory_told_its_platforms_queues_only_on_them(session_factory, session):
    org = make_org(session_factory, members=4)  # secretary on both; members DingTalk, WeCom, …
    outbox.configure_platforms(session_factory, [Platform.WECOM])
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(
            s, [org.secretary_id, *org.member_ids, org.unbound_id], Text("通知"), dedup_key="k", now=T0
        )
    by_person = {r.person_id: r for r in _rows(session)}
    assert (by_person[org.secretary_id].platform, by_person[org.secretary_id].target) == (
        "wecom",
        "WangShuJi",
    )
    for i, pid in enumerate(org.member_ids):
        row = by_person[pid]
        if i % 2:  # a WeCom account
            assert (row.status, row.platform) == (DeliveryStatus.QUEUED, "wecom")
        else:  # DingTalk only, and DingTalk is not configured: failed now, with the reason
            assert (row.status, row.reason) == (DeliveryStatus.FAILED, texts.REASON_NO_PLATFORM)
    assert by_person[org.unbound_id].reason == texts.REASON_UNBOUND
    assert not [r for r in _rows(session) if r.platform == "dingtalk"]


def test_run_job_with_only_wecom_configured_queues_nothing_for_dingtalk(
    migrated_url, session_factory, monkeypatch
):
    from scheduler import jobs
    from tests.core import sample_jobs

    wecom_only(monkeypatch, migrated_url)
    monkeypatch.setattr(jobs, "JOB_MODULES", (sample_jobs,))
    factory = session_factory  # this test's own factory: not told anything
    org = make_org(factory, members=4)
    result = CliRunner().invoke(app, ["run-job", "hello_monthly", "--period", "2026-08"])
    assert result.exit_code == 0, result.output
    with factory() as s:
        rows = {r.person_id: r for r in _rows(s)}
    assert len(rows) == 6
    assert not [r for r in rows.values() if r.platform == "dingtalk"]
    assert (rows[org.secretary_id].status, rows[org.secretary_id].platform) == (
        DeliveryStatus.QUEUED,
        "wecom",
    )
    queued = [r for r in rows.values() if r.status == DeliveryStatus.QUEUED]
    assert {r.platform for r in queued} == {"wecom"} and len(queued) == 3  # secretary + 2 WeCom members
    failed = {r.person_id: r.reason for r in rows.values() if r.status == DeliveryStatus.FAILED}
    assert failed == {
        org.member_ids[0]: texts.REASON_NO_PLATFORM,
        org.member_ids[2]: texts.REASON_NO_PLATFORM,
        org.unbound_id: texts.REASON_UNBOUND,
    }


def test_serve_tells_its_session_factory_the_configured_platforms(session_factory):
    from bot.cli.serve import Service

    s = Settings(database_url="sqlite://", wecom={"corp_id": "ww-corp", "secret": "wecom-secret"})
    service = Service(s, session_factory, {"relay"})
    try:
        with session_factory() as session:
            assert outbox.reachable_platforms(session) == (Platform.WECOM,)
        assert [sender.platform for sender in service.platforms.senders] == ["wecom"]
    finally:
        service.platforms.close()


def strand(session_factory, org):
    """Rows queued while DingTalk was on (the default order, DingTalk first)."""
    with session_factory() as s, s.begin():
        outbox.enqueue_to_people(s, [org.secretary_id, *org.member_ids], Text("通知"), dedup_key="n", now=T0)
        outbox.enqueue_to_people(
            s, [org.secretary_id], CardUpdate("leave:1", "请假", "已批准"), dedup_key="u", now=T0
        )
        group = Conversation(Platform.DINGTALK, DT, "cidBranch0001==", is_group=True)
        sender = Account(Platform.DINGTALK, DT, "wangshuji")
        outbox.enqueue_reply(s, group, sender, Text("收到"), dedup_key="reply", now=T0)


def test_the_relay_moves_or_fails_rows_stranded_on_a_platform_that_is_not_configured(
    session_factory, session
):
    org = make_org(session_factory, members=3)  # members: DingTalk, WeCom, DingTalk
    strand(session_factory, org)
    assert {r.platform for r in _rows(session)} == {"dingtalk", "wecom"}
    wecom = FakeSender("wecom", batch_size=1000)
    result = Relay(session_factory, [wecom], clock=ManualClock(T0)).drain()
    rows = _rows(session)
    assert not [r for r in rows if r.status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)]
    by_key = {(r.dedup_key, r.person_id): r for r in rows}
    # The secretary has a WeCom account too: the notice goes there, sent in the same drain.
    moved = by_key[("n", org.secretary_id)]
    assert (moved.status, moved.platform, moved.target) == (DeliveryStatus.SENT, "wecom", "WangShuJi")
    assert sorted(wecom.sent_targets()) == ["WangShuJi", "member1"]
    # DingTalk-only members, a DingTalk group and a card living on DingTalk: failed, with the reason.
    for row in (
        by_key[("n", org.member_ids[0])],
        by_key[("n", org.member_ids[2])],
        by_key[("u", org.secretary_id)],
    ):
        assert (row.status, row.reason, row.platform) == (
            DeliveryStatus.FAILED,
            texts.REASON_NO_PLATFORM,
            "dingtalk",
        )
    (reply,) = [r for r in rows if r.dedup_key == "reply"]
    assert (reply.status, reply.reason) == (DeliveryStatus.FAILED, texts.REASON_NO_PLATFORM)
    assert (result.sent, result.failed) == (2, 0)  # the stranded failures are not send attempts


def test_a_relay_without_any_platform_leaves_the_queue_alone(session_factory, session):
    org = make_org(session_factory)
    strand(session_factory, org)
    assert Relay(session_factory, [], clock=ManualClock(T0)).drain().claimed == 0
    assert {r.status for r in _rows(session)} == {DeliveryStatus.QUEUED}


def test_serve_gives_its_dispatcher_the_configured_event_workers(session_factory):
    from bot.cli.serve import Service

    service = Service(Settings(database_url="sqlite://", event_workers=3), session_factory, {"relay"})
    try:
        # SQLite handles one event at a time whatever the setting: it has one writer.
        sqlite = session_factory.kw["bind"].dialect.name == "sqlite"
        assert service.dispatcher.workers == (1 if sqlite else 3)
    finally:
        service.platforms.close()
    with pytest.raises(ValidationError):
        Settings(event_workers=0)
