"""The chat harness goes through the real Dispatcher: what a chat test sees is what a person would get,
retries, unbound accounts and failing handlers included."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core.dispatcher import Outcome
from bot.core.messages import Text
from bot.core.router import Router
from handlers import all_routers
from models.org import OrgUnit, Platform
from models.outbox import OutboxMessage, TargetKind
from tests.core.helpers import make_org
from tests.harness import Chat


def _notes(calls: list) -> Router:
    router = Router("notes")

    @router.command("记一笔", help="测试命令")
    def note(ctx, args):
        ctx.session.add(OrgUnit(kind="branch", name=f"记-{args}"))
        calls.append((ctx.person.name, args))
        ctx.reply(Text(f"已记：{args}"))

    @router.command("出错")
    def boom(ctx, args):
        ctx.session.add(OrgUnit(kind="branch", name="不该留下"))
        ctx.reply(Text("不该发出"))
        raise RuntimeError("handler bug")

    @router.action("approve")
    def approve(ctx, params):
        calls.append((ctx.person.name, params))
        ctx.reply(Text(f"已批准 {params['id']}"))

    @router.form("leave")
    def leave(ctx, data):
        calls.append((ctx.person.name, data))
        ctx.reply(Text(f"请假已提交：{data['reason']}"))

    return router


def _units(session, name: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == name))


def test_a_message_a_press_and_a_form_reach_their_handlers_as_the_bound_person(session_factory, session):
    make_org(session_factory)
    calls: list = []
    chat = Chat(session_factory, [_notes(calls)])
    said = chat.say("wangshuji", "记一笔 三月会议")
    assert said.outcome == Outcome.HANDLED and said.text == "已记：三月会议"
    assert "已批准 7" in chat.press("wangshuji", "approve", id="7")
    assert chat.submit("wangshuji", "leave", {"reason": "出差"}).text == "请假已提交：出差"
    # The WeCom account of the same secretary is the same person.
    on_wecom = Chat(session_factory, [_notes(calls)], platform=Platform.WECOM)
    assert on_wecom.say("WangShuJi", "记一笔 四月").outcome == Outcome.HANDLED
    assert calls == [
        ("王书记", "三月会议"),
        ("王书记", {"id": "7"}),
        ("王书记", {"reason": "出差"}),
        ("王书记", "四月"),
    ]
    assert _units(session, "记-三月会议") == 1


def test_a_redelivered_message_has_one_effect_and_one_answer(session_factory, session):
    make_org(session_factory)
    calls: list = []
    chat = Chat(session_factory, [_notes(calls)])
    first = chat.say("member0", "记一笔 党费")
    again = chat.redeliver(first)
    assert again.outcome == Outcome.DUPLICATE and again.replies == first.replies
    assert len(calls) == 1 and _units(session, "记-党费") == 1


def test_an_unbound_account_gets_the_binding_hint_and_no_handler_runs(session_factory, session):
    make_org(session_factory)
    calls: list = []
    chat = Chat(session_factory, [_notes(calls)])
    said = chat.say("stranger", "记一笔 不该记")
    assert said.outcome == Outcome.UNBOUND and "还没有登记您的钉钉账号" in said
    pressed = chat.press("stranger", "approve", id="1")
    assert pressed.outcome == Outcome.UNBOUND and "加入党员名册" in pressed
    assert calls == [] and _units(session, "记-不该记") == 0


def test_a_failing_handler_is_rolled_back_and_the_person_gets_an_apology(session_factory, session):
    make_org(session_factory)
    chat = Chat(session_factory, [_notes([])])
    said = chat.say("wangshuji", "出错")
    assert said.outcome == Outcome.FAILED
    assert "处理您的消息时出了点问题" in said and "编号" in said and "不该发出" not in said
    assert _units(session, "不该留下") == 0


def test_a_group_question_is_answered_in_the_group_and_private_details_privately(session_factory, session):
    make_org(session_factory)
    chat = Chat(session_factory, all_routers())
    said = chat.say("wangshuji", "我的", group="cid-group-1")
    assert said.outcome == Outcome.HANDLED
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(f"reply:{said.event.event_id}:"))
    ).all()
    assert {(r.target_kind, r.target) for r in rows} == {
        (TargetKind.USER, "wangshuji"),
        (TargetKind.GROUP, "cid-group-1"),
    }
    assert "王书记" in said and "已单独发给您" in said
