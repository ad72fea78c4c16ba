"""The QR sign-in's hot path (issue 22 item 4): a successful scan is three statements, its chat receipt
is one outbox row in the attendance row's transaction, queued where enqueue_to_people would queue it,
and a session whose person is gone is no identity."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, func, select, update

from bot.core import outbox, texts
from bot.core.context import CoreConfig
from bot.core.dispatcher import Dispatcher, Outcome
from bot.core.router import Routes
from bot.web.app import answer_refusals
from bot.web.h5 import COOKIE, CSRF_HEADER, csrf_token, session_token
from bot.web.meetings import build_meetings_router
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import signin as uc
from models.db import one_writer, unit_of_work
from models.meetings import Attendance, AttendanceStatus, SigninAttempt, SigninOutcome
from models.org import ChatAccount, Person, Platform
from models.outbox import DeliveryStatus
from tests.core.helpers import CONFIG, text_event
from tests.meetings.conftest import CFG, CORP, NOW, SECRET, sent

START = NOW + timedelta(days=1)
WECOM_CORP = "wwsigninfast"


@pytest.fixture
def meeting(session, org):
    m = meetings_uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="会议室", topic="学习", now=NOW, cfg=CFG
    )  # fmt: skip
    session.commit()
    return m


def _scan(session, meeting, person, now):
    return uc.sign_in(
        session,
        meeting_id=meeting.id,
        token=uc.chat_token(SECRET, meeting, now, CFG),
        person=person,
        now=now,
        cfg=CFG,
        secret=SECRET,
    )


def _count(session_factory, engine, call):
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with unit_of_work(session_factory) as s:
            result = call(s)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return result, statements


def test_a_scan_is_three_statements_and_its_receipt_commits_with_it(
    session_factory, engine, session, org, meeting
):
    at = START - timedelta(minutes=3)
    result, statements = _count(session_factory, engine, lambda s: _scan(s, meeting, org.alice.id, at))
    assert result.outcome == SigninOutcome.OK and result.person.name == "张丽"
    # Meeting, person and accounts read together; the attendance insert; the receipt's insert. No
    # NOTIFY: the relays' poll picks the receipt up.
    assert len(statements) == 3, statements
    assert statements[0].lstrip().upper().startswith("SELECT")
    assert all("NOTIFY" not in s.upper() for s in statements)
    (receipt,) = sent(session, f"meeting:{meeting.id}:signin:")
    assert receipt.person_id == org.alice.id and receipt.status == DeliveryStatus.QUEUED
    assert (receipt.platform, receipt.corp_id, receipt.target) == (Platform.DINGTALK, CORP, "zhangli")
    assert "您已签到" in receipt.payload["text"] and "迟到" not in receipt.payload["text"]

    # Both or neither: a receipt that cannot be written takes the attendance row with it.
    def broken(*_args, **_kwargs):
        raise RuntimeError("outbox unavailable")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outbox, "enqueue_rows", broken)
        with pytest.raises(RuntimeError), unit_of_work(session_factory) as s:
            _scan(s, meeting, org.bob, at)
    assert session.scalar(select(func.count()).where(Attendance.person_id == org.bob.id)) == 0
    # Scanned again once the outbox is back: one row and one receipt, the late mark in both.
    late = START + timedelta(minutes=12)
    with unit_of_work(session_factory) as s:
        assert _scan(s, meeting, org.bob, late).outcome == SigninOutcome.LATE
    with unit_of_work(session_factory) as s:
        again = _scan(s, meeting, org.bob, late + timedelta(minutes=1))
        assert again.outcome == SigninOutcome.ALREADY and again.at == late
    session.expire_all()
    rows = session.scalars(select(Attendance).where(Attendance.person_id == org.bob.id)).all()
    assert [r.status for r in rows] == [AttendanceStatus.LATE]
    bob = [m for m in sent(session, f"meeting:{meeting.id}:signin:") if m.person_id == org.bob.id]
    assert len(bob) == 1 and "记为迟到" in bob[0].payload["text"]


def test_the_receipt_goes_where_enqueue_to_people_would_send_it(session_factory, session, org, meeting):
    # 张丽 prefers WeCom and has both; 陈刚 has no account; 刘芳's only account left its directory;
    # 李副书记 has DingTalk only.
    session.add(
        ChatAccount(person_id=org.alice.id, platform=Platform.WECOM, corp_id=WECOM_CORP, account_id="ZhangLi")
    )
    session.execute(update(Person).where(Person.id == org.alice.id).values(preferred_platform=Platform.WECOM))
    session.execute(delete(ChatAccount).where(ChatAccount.person_id == org.bob.id))
    session.execute(
        update(ChatAccount).where(ChatAccount.person_id == org.carol.id).values(left_directory_at=NOW)
    )  # fmt: skip
    session.commit()
    people = [org.alice.id, org.bob.id, org.carol.id, org.deputy.id]
    for pid in people:
        with unit_of_work(session_factory) as s:
            assert _scan(s, meeting, pid, START).signed_in
    session.expire_all()
    with session_factory() as s:
        expected = outbox.reach_people(s, people)
    receipts = {m.person_id: m for m in sent(session, f"meeting:{meeting.id}:signin:")}
    for pid in people:
        row, reach = receipts[pid], expected[pid]
        got = (row.platform, row.corp_id, row.target) if row.status == DeliveryStatus.QUEUED else None
        assert got == reach.account and row.reason == reach.reason and row.branch_id == reach.branch_id, pid
    assert (receipts[org.alice.id].platform, receipts[org.alice.id].target) == (Platform.WECOM, "ZhangLi")
    assert receipts[org.deputy.id].platform == Platform.DINGTALK
    assert receipts[org.bob.id].status == DeliveryStatus.FAILED
    assert receipts[org.bob.id].reason == texts.REASON_UNBOUND
    assert receipts[org.carol.id].reason == texts.REASON_LEFT_DIRECTORY


def test_a_session_whose_person_is_gone_is_no_identity_and_writes_nothing(
    session_factory, session, org, meeting
):
    gone = session.scalar(select(func.max(Person.id))) + 1
    with unit_of_work(session_factory) as s:
        assert _scan(s, meeting, gone, START) is None
    # Over HTTP: a validly signed cookie for nobody is a 401 with a reason, as no cookie is.
    now = START.astimezone(UTC)
    app = FastAPI()
    answer_refusals(app, session_factory)
    core = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://testserver", secret_key=SECRET)
    app.include_router(build_meetings_router(session_factory, {}, core, cfg=CFG, clock=lambda: now))
    client = TestClient(app)
    path = f"/h5/meetings/{meeting.id}/signin"
    token = uc.chat_token(SECRET, meeting, now, CFG)
    cookie = session_token(SECRET, gone, now)
    client.cookies.set(COOKIE, cookie)
    r = client.post(path, json={"t": token}, headers={CSRF_HEADER: csrf_token(SECRET, cookie)})
    assert r.status_code == 401 and r.json() == {"error": "need_identity"}
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert session.scalar(select(func.count()).select_from(SigninAttempt)) == 0
    assert sent(session, f"meeting:{meeting.id}:signin:") == []
    # The same request with the member's own session signs in and says so in Chinese.
    cookie = session_token(SECRET, org.alice.id, now)
    client.cookies.set(COOKIE, cookie)
    r = client.post(path, json={"t": token}, headers={CSRF_HEADER: csrf_token(SECRET, cookie)}).json()
    assert r["outcome"] == "ok" and r["title"] == "签到成功" and r["message"].startswith("张丽，您已签到")


def test_on_sqlite_a_scan_and_a_chat_event_queue_behind_the_process_writer(
    session_factory, session, org, meeting
):
    """SQLite's writers of the busy paths wait their turn in the process (models.db.one_writer) rather
    than colliding in SQLite's sleeping busy handler; on PostgreSQL neither waits for it."""
    now = START.astimezone(UTC)
    app = FastAPI()
    core = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://testserver", secret_key=SECRET)
    app.include_router(build_meetings_router(session_factory, {}, core, cfg=CFG, clock=lambda: now))
    client = TestClient(app)
    cookie = session_token(SECRET, org.alice.id, now)
    client.cookies.set(COOKIE, cookie)
    answers: list = []
    scan = threading.Thread(
        target=lambda: answers.append(
            client.post(
                f"/h5/meetings/{meeting.id}/signin",
                json={"t": uc.chat_token(SECRET, meeting, now, CFG)},
                headers={CSRF_HEADER: csrf_token(SECRET, cookie)},
            ).json()
        )
    )
    dispatcher = Dispatcher(session_factory, Routes([]), CONFIG)
    outcomes: list = []
    chat = threading.Thread(
        target=lambda: outcomes.append(dispatcher.dispatch(text_event("你好", event_id="w1")))
    )
    sqlite = session_factory.kw["bind"].dialect.name == "sqlite"
    with one_writer(session_factory):  # no database lock is held: only the process's queue
        scan.start()
        chat.start()
        scan.join(0.5 if sqlite else 30)
        chat.join(0.5 if sqlite else 30)
        assert (scan.is_alive(), chat.is_alive()) == (sqlite, sqlite)
    scan.join(30)
    chat.join(30)
    assert answers and answers[0]["outcome"] == "ok"
    assert outcomes and outcomes[0] != Outcome.DUPLICATE
    assert session.scalar(select(func.count()).select_from(Attendance)) == 1
