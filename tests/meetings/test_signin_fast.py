"""The QR sign-in's hot path (issue 22 item 4): a successful scan is one statement; its chat receipt is
queued by the relays from the attendance row (queue_signin_receipts), where enqueue_to_people would
queue it, once; and a session whose person is gone is no identity."""

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
from handlers.common.dates import fmt_when
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import signin as uc
from handlers.meetings import strings
from models.db import one_writer, unit_of_work
from models.meetings import Attendance, AttendanceStatus, Meeting, MeetingStatus, SigninAttempt, SigninOutcome
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


def _queue_receipts(session_factory, now):
    with unit_of_work(session_factory) as s:
        return uc.queue_signin_receipts(s, now, cfg=CFG)


def _pages(session_factory, now) -> TestClient:
    """The meetings pages over HTTP, refusals answered as the app answers them, at `now`."""
    app = FastAPI()
    answer_refusals(app, session_factory)
    core = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://testserver", secret_key=SECRET)
    app.include_router(build_meetings_router(session_factory, {}, core, cfg=CFG, clock=lambda: now))
    return TestClient(app)


def _due(session):
    session.expire_all()
    return session.scalars(select(Attendance.person_id).where(Attendance.receipt_due)).all()


def test_a_scan_is_one_statement_and_the_relays_queue_its_receipt(
    session_factory, engine, session, org, meeting
):
    at = START - timedelta(minutes=3)
    result, statements = _count(session_factory, engine, lambda s: _scan(s, meeting, org.alice.id, at))
    assert result.outcome == SigninOutcome.OK and result.person.name == "张丽"
    # The attendance insert, which returns what the page shows: nothing of the receipt, no NOTIFY.
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("INSERT INTO ATTENDANCE")
    assert _due(session) == [org.alice.id] and sent(session, uc.receipt_key(meeting.id)) == []

    # The relays' feeder queues it, naming the meeting and its start, and marks it done.
    later = at + timedelta(seconds=1)
    assert _queue_receipts(session_factory, later) == 1
    (receipt,) = sent(session, uc.receipt_key(meeting.id))
    assert (receipt.dedup_key, receipt.recipient) == (f"meeting:{meeting.id}:signin", f"p:{org.alice.id}")
    assert receipt.person_id == org.alice.id and receipt.status == DeliveryStatus.QUEUED
    assert (receipt.platform, receipt.corp_id, receipt.target) == (Platform.DINGTALK, CORP, "zhangli")
    when = fmt_when(START, CFG.tz)
    assert receipt.payload["text"] == f"您已签到：{meeting.title}（{when}）"
    assert _due(session) == []
    # Asked again (every relay, every second): one read of the index, no write, nothing queued.
    count, statements = _count(session_factory, engine, lambda s: uc.queue_signin_receipts(s, later, cfg=CFG))
    assert count == 0 and len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
    assert len(sent(session, uc.receipt_key(meeting.id))) == 1

    # A feeder that fails takes back its marks: the receipt stays due and is queued by the next call.
    late = START + timedelta(minutes=12)
    with unit_of_work(session_factory) as s:
        assert _scan(s, meeting, org.bob, late).outcome == SigninOutcome.LATE

    def broken(*_args, **_kwargs):
        raise RuntimeError("outbox unavailable")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outbox, "enqueue_many", broken)
        with pytest.raises(RuntimeError):
            _queue_receipts(session_factory, late)
    assert _due(session) == [org.bob.id]
    with unit_of_work(session_factory) as s:
        again = _scan(s, meeting, org.bob, late + timedelta(minutes=1))
        assert again.outcome == SigninOutcome.ALREADY and again.at == late
    assert _queue_receipts(session_factory, late + timedelta(minutes=1)) == 1
    session.expire_all()
    rows = session.scalars(select(Attendance).where(Attendance.person_id == org.bob.id)).all()
    assert [r.status for r in rows] == [AttendanceStatus.LATE]
    bob = [m for m in sent(session, uc.receipt_key(meeting.id)) if m.person_id == org.bob.id]
    assert len(bob) == 1 and bob[0].payload["text"] == f"您已签到：{meeting.title}（{when}），记为迟到"
    # Only a scan asks for a receipt: the secretary's 代签 does not.
    with unit_of_work(session_factory) as s:
        secretary = s.get(Person, org.secretary.id)
        uc.proxy_sign_in(s, secretary, meeting.id, name="刘芳", reason="扫码失败", now=late, cfg=CFG)
    assert _due(session) == [] and _queue_receipts(session_factory, late) == 0


# Instants around each bound of the window and of 迟到, as offsets from the start (opens 30 minutes before,
# closes 30 after, late after 10: CFG), a microsecond either side.
_EDGE = timedelta(microseconds=1)
_MOMENTS = [
    edge + side
    for edge in (-CFG.signin_opens_before, CFG.late_after, CFG.signin_closes_after)
    for side in (-_EDGE, timedelta(0), _EDGE)
]


@pytest.mark.parametrize("offset", _MOMENTS, ids=lambda o: f"{o.total_seconds():+.6f}s")
def test_the_one_statement_decides_every_scan_as_the_slow_path_would(
    session_factory, engine, session, org, meeting, offset
):
    """The one-statement path writes exactly when sign_in's own checks (the path taken whenever it writes
    nothing) would, with the same outcome, at each bound of the window and of 迟到; a repeat or a
    non-invitee never adds a row."""
    at = START + offset

    def scan(person, slow: bool):
        with pytest.MonkeyPatch.context() as mp:
            if slow:
                mp.setattr(uc, "_sign_in_at_once", lambda *_a, **_k: None)
            result, statements = _count(session_factory, engine, lambda s: _scan(s, meeting, person, at))
            # The page as the member reads it, their name aside (the title, the start when late).
            page = uc.outcome_page(result, CFG)[1].replace(result.person.name, "")
            return result.outcome, result.at, page, len(statements)

    fast, slow = scan(org.alice.id, False), scan(org.bob.id, True)
    assert fast[:3] == slow[:3]
    if START - CFG.signin_opens_before <= at <= START + CFG.signin_closes_after:
        expected = SigninOutcome.LATE if at > START + CFG.late_after else SigninOutcome.OK
        # Written by the one statement, not by the slow path after it.
        assert (fast[0], fast[1], fast[3]) == (expected, at, 1)
        assert meeting.title in fast[2] and (
            expected == SigninOutcome.OK or fmt_when(START, CFG.tz) in fast[2]
        )
    else:
        assert fast[0] in (SigninOutcome.NOT_OPEN, SigninOutcome.CLOSED, SigninOutcome.EXPIRED)
    # Repeats and a non-invitee: never a second row.
    assert scan(org.alice.id, False)[0] in (SigninOutcome.ALREADY, fast[0])
    assert scan(org.other_member.id, False)[0] in (SigninOutcome.NOT_EXPECTED, fast[0])
    counts = dict(
        session.execute(select(Attendance.person_id, func.count()).group_by(Attendance.person_id))
        .tuples()
        .all()
    )
    assert set(counts.values()) <= {1} and org.other_member.id not in counts


def test_the_one_statement_writes_nothing_for_a_cancelled_or_ended_meeting(
    session_factory, session, org, meeting
):
    for change, expected in (
        ({"closed_at": START}, SigninOutcome.CLOSED),
        ({"status": MeetingStatus.CANCELLED, "closed_at": None}, SigninOutcome.CANCELLED),
    ):
        session.execute(update(Meeting).where(Meeting.id == meeting.id).values(**change))
        session.commit()
        with unit_of_work(session_factory) as s:
            assert _scan(s, meeting, org.alice.id, START).outcome == expected
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_one_feeder_call_names_each_meeting_in_its_own_receipts(session_factory, session, org, meeting):
    """Receipts are made once per meeting and lateness: a call that takes scans of two meetings, on time
    and late, gives each member the text of their own meeting."""
    other_start = START + timedelta(hours=3)
    other = meetings_uc.schedule_meeting(
        session, org.secretary, types=["支部委员会"], starts_at=other_start, place="活动室", topic="议事",
        now=NOW, cfg=CFG,
    )  # fmt: skip
    session.commit()
    late = START + timedelta(minutes=15)
    with unit_of_work(session_factory) as s:
        assert _scan(s, meeting, org.alice.id, START).outcome == SigninOutcome.OK
        assert _scan(s, meeting, org.bob.id, late).outcome == SigninOutcome.LATE
        assert _scan(s, other, org.deputy.id, other_start).outcome == SigninOutcome.OK
    assert _queue_receipts(session_factory, late) == 3
    texts_by_person = {
        m.person_id: m.payload["text"]
        for key in (meeting.id, other.id)
        for m in sent(session, uc.receipt_key(key))
    }
    first, second = fmt_when(START, CFG.tz), fmt_when(other_start, CFG.tz)
    assert texts_by_person == {
        org.alice.id: f"您已签到：{meeting.title}（{first}）",
        org.bob.id: f"您已签到：{meeting.title}（{first}），记为迟到",
        org.deputy.id: f"您已签到：{other.title}（{second}）",
    }


def test_relays_in_two_processes_never_take_the_same_receipts(session_factory, session, org, meeting):
    """On PostgreSQL a second feeder skips the rows the first has locked, and finds none left once it
    has committed (SQLite has one writer: the second would wait for the first)."""
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite has one writer; the second feeder waits for the first")
    for pid in (org.alice.id, org.bob.id, org.deputy.id):
        with unit_of_work(session_factory) as s:
            assert _scan(s, meeting, pid, START).signed_in
    first = session_factory()
    first.begin()
    try:
        assert uc.queue_signin_receipts(first, START, cfg=CFG) == 3
        assert _queue_receipts(session_factory, START) == 0  # all three are the first's, not committed
        first.commit()
    finally:
        first.close()
    assert _queue_receipts(session_factory, START) == 0
    receipts = sent(session, uc.receipt_key(meeting.id))
    assert sorted(m.person_id for m in receipts) == sorted([org.alice.id, org.bob.id, org.deputy.id])


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
    assert _queue_receipts(session_factory, START) == len(people)
    session.expire_all()
    with session_factory() as s:
        expected = outbox.reach_people(s, people)
    receipts = {m.person_id: m for m in sent(session, uc.receipt_key(meeting.id))}
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
    client = _pages(session_factory, now)
    path = f"/h5/meetings/{meeting.id}/signin"
    token = uc.chat_token(SECRET, meeting, now, CFG)
    cookie = session_token(SECRET, gone, now)
    client.cookies.set(COOKIE, cookie)
    r = client.post(path, json={"t": token}, headers={CSRF_HEADER: csrf_token(SECRET, cookie)})
    assert r.status_code == 401 and r.json() == {"error": "need_identity"}
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert session.scalar(select(func.count()).select_from(SigninAttempt)) == 0
    assert sent(session, uc.receipt_key(meeting.id)) == []
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


def test_the_sign_in_post_answers_bad_requests_in_kind_and_writes_nothing(
    session_factory, session, org, meeting
):
    """The sign-in POST is a plain Starlette route (bot.web.meetings): it checks its id and body itself,
    answering in Chinese, before anything is written (neither attendance nor the attempt log)."""
    now = START.astimezone(UTC)
    client = _pages(session_factory, now)
    cookie = session_token(SECRET, org.alice.id, now)
    client.cookies.set(COOKIE, cookie)
    page = {CSRF_HEADER: csrf_token(SECRET, cookie)}
    path = f"/h5/meetings/{meeting.id}/signin"
    broken = client.post(path, content=b'{"t": ', headers={**page, "content-type": "application/json"})
    assert broken.status_code == 400 and broken.json() == {"error": strings.H5_BAD_REQUEST, "fields": []}
    assert (
        client.post(path, content=b"t=x", headers={**page, "content-type": "text/plain"}).status_code == 415
    )
    for bad_id in ("0", "-1", "abc", "１", str(2**31)):
        r = client.post(f"/h5/meetings/{bad_id}/signin", json={"t": "x"}, headers=page)
        assert r.status_code == 422 and r.json()["detail"] == strings.H5_BAD_REQUEST, bad_id
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert session.scalar(select(func.count()).select_from(SigninAttempt)) == 0
    token = uc.chat_token(SECRET, meeting, now, CFG)
    assert client.post(path, json={"t": token}, headers=page).json()["outcome"] == "ok"
