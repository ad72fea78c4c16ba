"""The 已交 page the reminder links to (bot.web.fees): who may see it, what it shows, what a POST records."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.core.context import CoreConfig
from bot.web.app import create_app
from bot.web.h5 import COOKIE
from models.fees import FeePayment, PaymentStatus
from models.outbox import OutboxMessage
from tests.fees.conftest import NOW
from tests.web import set_session

SECRET = "test-secret-for-the-fees-page"
PAGE = "/h5/fees/pay/2026-11"


def _client(session_factory, person=None) -> TestClient:
    core = CoreConfig(
        tz=ZoneInfo("Asia/Shanghai"), public_base_url="https://zhibu.example.org", secret_key=SECRET
    )
    # The whole app: a refusal is answered by its one exception handler (bot.web.app).
    client = TestClient(create_app(session_factory, core=core, clock=lambda: NOW))
    if person is not None:
        set_session(client, SECRET, person.id, NOW)
    return client


def _payments(session):
    session.expire_all()
    return session.scalars(select(FeePayment)).all()


def test_the_page_shows_the_amount_and_records_paid_once(session_factory, session, org):
    client = _client(session_factory, org.alice)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "张三" in page.text and "每月应交：40.00 元" in page.text and "我已交纳2026年11月党费" in page.text

    done = client.post(PAGE)
    assert done.status_code == 200 and "已记录：2026年11月党费已交（40.00 元）" in done.text
    [pay] = _payments(session)
    assert (pay.person_id, pay.status, pay.amount) == (org.alice.id, PaymentStatus.REPORTED, 40)
    # The collector gets the pending card, as after 已交 in chat.
    [card] = session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == org.collector.id)).all()
    assert "张三" in card.payload["text"] and card.payload["card_key"] == f"fee-pending:{org.branch.id}"

    again = client.get(PAGE)
    assert "我已交纳" not in again.text and "无需再报告" in again.text
    assert "无需重复报告" in client.post(PAGE).text
    assert len(_payments(session)) == 1


def test_identity_comes_from_the_session_only(session_factory, session, org):
    anonymous = _client(session_factory)
    assert "requestAuthCode" in anonymous.get(PAGE).text  # the login-free identify page, not the form
    assert "requestAuthCode" in anonymous.post(PAGE).text
    forged = _client(session_factory)
    forged.cookies.set(COOKIE, f"{org.alice.id}.forged")
    assert "requestAuthCode" in forged.post(PAGE).text
    assert _payments(session) == []


def test_bad_input_gets_a_chinese_answer_and_changes_nothing(session_factory, session, org):
    client = _client(session_factory, org.alice)
    bad = client.get("/h5/fees/pay/十一月")
    assert bad.status_code == 400 and "月份不正确" in bad.text
    assert client.post("/h5/fees/pay/2026-13").status_code == 400
    too_early = client.post("/h5/fees/pay/2027-06")  # beyond the 3 months a member may pay ahead
    assert too_early.status_code == 400 and "预交" in too_early.text
    not_member = _client(session_factory, org.org_member)  # the committee's 组织委员 has no branch
    answer = not_member.get(PAGE)
    assert answer.status_code == 400 and "不在任何党支部" in answer.text
    assert not_member.post(PAGE).status_code == 400
    assert _payments(session) == []
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
