"""One refusal path (issue #13.3): a use case raises bot.core.errors.Refused before it writes; the
dispatcher turns it into the Chinese reply, rolling back to its savepoint, and the web app's one
exception handler into the H5 message page or a JSON 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.core.dispatcher import Outcome
from bot.core.errors import Refused
from bot.core.messages import Text, from_payload
from bot.core.router import Router
from bot.web.app import create_app
from models.db import unit_of_work
from models.inbox import InboundEvent
from models.org import OrgUnit
from models.outbox import OutboxMessage
from tests.core.helpers import make_dispatcher, make_org, press_event, text_event


def _units_named(session, name: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == name))


def _texts(session) -> list[str]:
    session.expire_all()
    return [
        from_payload(r.payload).text
        for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    ]


def _refusing_router() -> Router:
    router = Router("refusing")

    @router.command("登记后拒绝")
    def write_then_refuse(ctx, args):
        # A careless use case: it writes and replies, then finds the request is not allowed.
        ctx.session.add(OrgUnit(kind="branch", name="不该留下"))
        ctx.session.flush()
        ctx.reply(Text("不该发出"))
        raise Refused("只有支部书记可以办理。")

    @router.command("登记")
    def write(ctx, args):
        ctx.session.add(OrgUnit(kind="branch", name=f"留下-{args}"))
        ctx.reply(Text("已登记"))

    @router.action("refuse")
    def refuse_press(ctx, params):
        ctx.session.add(OrgUnit(kind="branch", name="按钮不该留下"))
        raise Refused("这条记录已经处理过了。", status=409)

    return router


def test_a_refusal_rolls_back_what_the_handler_wrote_and_answers_in_chinese(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, [_refusing_router()])
    assert d.dispatch(text_event("登记后拒绝", event_id="r1")) == Outcome.HANDLED
    assert _units_named(session, "不该留下") == 0
    assert _texts(session) == ["只有支部书记可以办理。"]  # the reply queued before the refusal went too
    # The event is recorded as handled (a re-delivery does nothing) and is not a failure.
    assert session.scalar(select(InboundEvent.outcome).where(InboundEvent.event_id == "r1")) == "handled"
    assert d.dispatch(text_event("登记后拒绝", event_id="r1")) == Outcome.DUPLICATE
    assert len(_texts(session)) == 1


def test_a_refused_card_press_changes_nothing_and_the_next_event_still_writes(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, [_refusing_router()])
    assert d.dispatch(press_event("refuse", {"id": "1"}, event_id="p1")) == Outcome.HANDLED
    assert _units_named(session, "按钮不该留下") == 0
    assert d.dispatch(text_event("登记 甲", event_id="r2")) == Outcome.HANDLED
    assert _units_named(session, "留下-甲") == 1
    assert _texts(session) == ["这条记录已经处理过了。", "已登记"]


def test_a_refusal_is_always_a_4xx():
    with pytest.raises(ValueError):
        Refused("不行", status=500)
    assert Refused("不行").status == 400 and Refused("不行", ("reason",)).fields == ("reason",)


@pytest.fixture
def client(session_factory):
    app = create_app(session_factory)

    def refuse_after_writing(name: str, status: int = 403):
        with unit_of_work(session_factory) as s:
            s.add(OrgUnit(kind="branch", name=name))
            s.flush()
            raise Refused("请假原因不能为空。", ("reason",), status=status)

    @app.get("/h5/refusing/page")
    def page():
        refuse_after_writing("页面不该留下")

    @app.post("/h5/refusing/form")
    def form():
        refuse_after_writing("表单不该留下")

    @app.post("/api/v1/refusing")
    def api():
        refuse_after_writing("接口不该留下")

    @app.post("/api/v1/refusing-value")
    def api_value():
        refuse_after_writing("接口不该留下", status=400)

    class Confirmable(Refused):
        confirmable = True

    @app.post("/h5/refusing/confirmable")
    def confirmable():
        raise Confirmable("本月计划缺少支部党员大会，仍要提交吗？", status=409)

    return TestClient(app)


def test_a_browser_opening_a_page_sees_the_message_page(client, session):
    r = client.get("/h5/refusing/page", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "无法办理" in r.text and "请假原因不能为空。" in r.text
    assert _units_named(session, "页面不该留下") == 0


def test_an_h5_form_post_gets_json_naming_the_field(client, session):
    r = client.post("/h5/refusing/form", json={}, headers={"Accept": "*/*"})
    assert r.status_code == 403
    assert r.json() == {"error": "请假原因不能为空。", "fields": ["reason"]}
    assert _units_named(session, "表单不该留下") == 0


def test_the_json_api_gets_its_own_error_shape(client, session):
    r = client.post("/api/v1/refusing", json={}, headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert r.json() == {"detail": "请假原因不能为空。"}  # the API's Problem shape, as for any 403
    assert _units_named(session, "接口不该留下") == 0


def test_the_json_api_names_the_field_of_a_bad_value_in_a_422(client, session):
    r = client.post("/api/v1/refusing-value", json={})
    assert r.status_code == 422
    assert r.json() == {
        "detail": [{"loc": ["body", "reason"], "msg": "请假原因不能为空。", "type": "refused"}]
    }
    assert _units_named(session, "接口不该留下") == 0


def test_a_refusal_the_person_may_override_asks_the_form_to_confirm(client):
    r = client.post("/h5/refusing/confirmable", json={})
    assert r.status_code == 409 and r.json()["confirm"] is True
    assert "confirm" not in client.post("/h5/refusing/form", json={}).json()
