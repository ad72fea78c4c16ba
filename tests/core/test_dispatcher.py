"""The dispatcher: dedup, one transaction, routing, unbound accounts, failing handlers."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.core.dispatcher import Outcome
from bot.core.messages import Text, from_payload
from bot.core.router import Router
from handlers import all_routers
from handlers import help as help_module
from models.inbox import InboundEvent
from models.org import OrgUnit, Platform
from models.outbox import DeliveryStatus, OutboxMessage, TargetKind
from tests.core.helpers import make_dispatcher, make_org, press_event, text_event


def _outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _texts(session) -> list[str]:
    return [from_payload(r.payload).text for r in _outbox(session)]


def _feature_router(calls: list):
    router = Router("feature")

    @router.command("记一笔", help="测试命令")
    def note(ctx, args):
        ctx.session.add(OrgUnit(kind="branch", name=f"由命令创建-{args}"))
        calls.append(args)
        ctx.reply(Text(f"已记：{args}"))

    @router.command("出错")
    def boom(ctx, args):
        """会出错的命令"""
        ctx.session.add(OrgUnit(kind="branch", name="不该留下"))
        ctx.reply(Text("不该发出"))
        raise RuntimeError("handler bug")

    @router.action("approve")
    def approve(ctx, params):
        calls.append(("approve", params))
        ctx.reply(Text(f"已批准 {params['id']}"))

    return router


def test_text_reaches_its_handler_and_reply_is_queued_in_the_same_chat(session_factory, session):
    make_org(session_factory)
    calls: list = []
    d = make_dispatcher(session_factory, [_feature_router(calls)])
    assert d.dispatch(text_event("＠支部助手  记一笔  三月会议")) == Outcome.HANDLED
    assert calls == ["三月会议"]
    rows = _outbox(session)
    assert [from_payload(r.payload) for r in rows] == [Text("已记：三月会议")]
    assert (rows[0].platform, rows[0].target_kind, rows[0].target) == (
        "dingtalk",
        TargetKind.USER,
        "wangshuji",
    )
    assert rows[0].person_id is not None and rows[0].status == DeliveryStatus.QUEUED


def test_group_message_is_answered_in_the_group(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, [_feature_router([])])
    d.dispatch(text_event("@支部助手 记一笔 x", group="cidGROUP=="))
    (row,) = _outbox(session)
    assert (row.target_kind, row.target) == (TargetKind.GROUP, "cidGROUP==")


def test_a_duplicate_delivery_has_one_effect(session_factory, session):
    make_org(session_factory)
    calls: list = []
    d = make_dispatcher(session_factory, [_feature_router(calls)])
    assert d.dispatch(text_event("记一笔 a", event_id="same")) == Outcome.HANDLED
    assert d.dispatch(text_event("记一笔 a", event_id="same")) == Outcome.DUPLICATE
    # The same id on the other platform is a different event.
    assert d.dispatch(
        text_event("记一笔 a", event_id="same", platform=Platform.WECOM, account="WangShuJi")
    ) == (Outcome.HANDLED)
    assert calls == ["a", "a"]
    assert len(_outbox(session)) == 2


def test_concurrent_duplicates_run_the_handler_once(session_factory, session):
    make_org(session_factory)
    calls: list = []
    d = make_dispatcher(session_factory, [_feature_router(calls)])
    outcomes: list = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(d.dispatch(text_event("记一笔 b", event_id="dup"))))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted([Outcome.HANDLED] + [Outcome.DUPLICATE] * 3)
    assert calls == ["b"]


def test_handler_exception_rolls_back_and_apologises_once(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, [_feature_router([])])
    assert d.dispatch(text_event("出错", event_id="e1")) == Outcome.FAILED
    assert session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == "不该留下")) == 0
    texts = _texts(session)
    assert len(texts) == 1 and texts[0].startswith("抱歉") and "不该发出" not in texts[0]
    # A re-delivery of the failed event neither retries the handler nor apologises again.
    assert d.dispatch(text_event("出错", event_id="e1")) == Outcome.DUPLICATE
    assert len(_outbox(session)) == 1
    assert session.scalar(select(InboundEvent.outcome).where(InboundEvent.event_id == "e1")) == "failed"


def test_unbound_account_is_told_what_to_do_and_nothing_runs(session_factory, session):
    make_org(session_factory)
    calls: list = []
    d = make_dispatcher(session_factory, [_feature_router(calls), *all_routers()])
    assert d.dispatch(text_event("记一笔 x", account="stranger")) == Outcome.UNBOUND
    assert calls == []
    (text,) = _texts(session)
    assert "钉钉账号" in text and "名册" in text
    # 我的 still answers, with the account id to give the secretary.
    d.dispatch(text_event("我的", account="stranger", event_id="m2"))
    me = _texts(session)[-1]
    assert me.startswith("未绑定") and "stranger" in me


def test_unknown_text_gets_the_polite_fallback(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers(), fallback=help_module.fallback)
    d.dispatch(text_event("今天天气怎么样"))
    (text,) = _texts(session)
    assert "帮助" in text and "今天天气怎么样" in text


def test_help_lists_only_what_this_person_may_do(session_factory, session):
    org = make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers())
    d.dispatch(text_event("帮助"))  # the secretary: one message per group of commands
    secretary_help = "\n".join(_texts(session))
    seen = len(_outbox(session))
    d.dispatch(text_event("帮助", account="member0", event_id="m2"))  # an ordinary member
    member_help = "\n".join(_texts(session)[seen:])
    assert "未送达名单" in secretary_help
    assert "未送达名单" not in member_help and "我的" in member_help
    assert org.secretary_id


def test_who_am_i_shows_name_branch_and_roles(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers())
    d.dispatch(text_event("我的"))
    text = from_payload(_outbox(session)[-1].payload).text
    assert "王书记" in text and "第一党支部" in text and "第一党支部书记" in text


def test_who_am_i_in_a_group_answers_privately(session_factory, session):
    """Issue 15: 我的 in a group chat posted a person's accounts and roles into the group."""
    make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers())
    d.dispatch(text_event("@支部助手 我的", group="cidGROUP=="))
    rows = _outbox(session)
    private = [r for r in rows if r.target_kind == TargetKind.USER]
    group = [r for r in rows if r.target_kind == TargetKind.GROUP]
    assert len(private) == 1 and private[0].target == "wangshuji"
    assert "第一党支部书记" in from_payload(private[0].payload).text
    assert len(group) == 1 and "王书记" not in str(group[0].payload) and "单独发给您" in str(group[0].payload)
    # Someone not yet registered gets their account id privately too.
    d.dispatch(text_event("@支部助手 我的", account="stranger", group="cidGROUP==", event_id="m2"))
    rows = [r for r in _outbox(session) if r.dedup_key.startswith("reply:m2:")]
    assert {r.target_kind for r in rows} == {TargetKind.USER, TargetKind.GROUP}
    assert all("stranger" not in str(r.payload) for r in rows if r.target_kind == TargetKind.GROUP)


def test_card_press_reaches_its_action(session_factory, session):
    make_org(session_factory)
    calls: list = []
    d = make_dispatcher(session_factory, [_feature_router(calls)])
    assert d.dispatch(press_event("approve", {"id": "42"})) == Outcome.HANDLED
    assert calls == [("approve", {"id": "42"})]
    assert _texts(session) == ["已批准 42"]
    d.dispatch(press_event("no-such-action", {}, event_id="c2"))
    assert "按钮已失效" in _texts(session)[-1]


def test_committed_callback_runs_after_commit(session_factory, session):
    make_org(session_factory)
    seen = []

    def on_committed():
        with session_factory() as s:
            seen.append(s.scalar(select(func.count()).select_from(OutboxMessage)))

    d = make_dispatcher(session_factory, [_feature_router([])], on_committed=on_committed)
    d.dispatch(text_event("记一笔 y"))
    assert seen == [1]


def test_help_line_shows_usage_once():
    from handlers.help import help_line

    assert (
        help_line("本月会议", "本月会议：查看本支部本月的会议和状态")
        == "- **本月会议**：查看本支部本月的会议和状态"
    )
    assert (
        help_line("调整会议", "调整会议 #编号 时间：调整会议时间")
        == "- **调整会议 #编号 时间**：调整会议时间"
    )
    assert (
        help_line("我的", "查看我在系统里的身份：姓名、支部")
        == "- **我的**：查看我在系统里的身份：姓名、支部"
    )


def test_claimed_gives_one_transaction_per_event_and_a_failure_gives_the_event_back(session_factory, session):
    """The public claim other transports' events use (bot.core.directory): a second delivery gets
    None, and a block that raised leaves no claim behind, so the platform's next delivery runs."""
    d = make_dispatcher(session_factory, [])
    now = d.clock()
    try:
        with d.claimed("wecom", "ev-1", now) as s:
            s.add(OrgUnit(kind="branch", name="回滚的支部"))
            raise RuntimeError("the use case failed")
    except RuntimeError:
        pass
    with d.claimed("wecom", "ev-1", now) as s:
        assert s is not None
        s.add(OrgUnit(kind="branch", name="留下的支部"))
    with d.claimed("wecom", "ev-1", now) as s:
        assert s is None
    names = session.scalars(select(OrgUnit.name)).all()
    assert "留下的支部" in names and "回滚的支部" not in names
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1


def test_a_reply_names_its_sender_read_once(session_factory, session):
    """The dispatcher reads the sender's person and roles in one statement; the reply reuses that person
    for its row's person and branch instead of reading the chat account again (the callback's hot path)."""
    from sqlalchemy import event

    from models.org import ChatAccount, Person

    make_org(session_factory)
    d = make_dispatcher(session_factory, [_feature_router([])])
    engine = session_factory.kw["bind"]
    seen: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement.lower())

    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert d.dispatch(text_event("@支部助手 记一笔 x")) == Outcome.HANDLED
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    sender = session.scalars(
        select(Person).join(ChatAccount).where(ChatAccount.account_id == "wangshuji")
    ).one()
    (row,) = _outbox(session)
    assert (row.person_id, row.branch_id) == (sender.id, sender.branch_id)
    assert sum("from person join chat_account" in s for s in seen) == 1, seen


def test_events_beyond_the_process_workers_wait_for_a_slot(session_factory, session):
    """At most `workers` events' transactions at once (one on SQLite, its single writer); the rest wait,
    then are handled, none lost."""
    make_org(session_factory)
    router = Router("held")
    state = threading.Condition()
    inside = {"now": 0, "peak": 0}
    release = threading.Event()

    @router.command("等一下")
    def held(ctx, args):
        with state:
            inside["now"] += 1
            inside["peak"] = max(inside["peak"], inside["now"])
            state.notify_all()
        assert release.wait(30)
        with state:
            inside["now"] -= 1
        ctx.reply(Text(f"好了 {args}"))

    d = make_dispatcher(session_factory, [router], workers=2)
    limit = 1 if session_factory.kw["bind"].dialect.name == "sqlite" else 2
    assert d.workers == limit
    outcomes: list = []
    threads = [
        threading.Thread(
            target=lambda i=i: outcomes.append(d.dispatch(text_event(f"等一下 {i}", event_id=f"w{i}")))
        )
        for i in range(6)
    ]
    for t in threads:
        t.start()
    with state:
        assert state.wait_for(lambda: inside["now"] == limit, timeout=30)
        # Six are in flight; were the slots not kept, the other four would be in the handler at once.
        assert not state.wait_for(lambda: inside["now"] > limit, timeout=0.5)
    release.set()
    for t in threads:
        t.join(30)
    assert inside["peak"] == limit
    assert outcomes == [Outcome.HANDLED] * 6
    assert sorted(_texts(session)) == sorted(f"好了 {i}" for i in range(6))
