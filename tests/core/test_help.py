"""帮助 grouped by what the person does, the closest commands suggested for text that is not one, and
arguments kept as the person typed them (issue #15, also seen)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core.messages import from_payload
from bot.core.router import Router, Routes, fold_args
from handlers import all_routers
from handlers import help as help_module
from models.lifemeeting import LifeMeetingPlan
from models.org import OrgUnit, Role, UnitKind
from models.outbox import OutboxMessage
from tests import builders
from tests.core.helpers import make_dispatcher, make_org, text_event
from tests.harness import DT, T0


def _last(session) -> str:
    session.expire_all()
    row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return from_payload(row.payload).text


def _say(d, session, text: str, account: str = "wangshuji", n=[0]) -> str:  # noqa: B006 - a counter
    n[0] += 1
    d.dispatch(text_event(text, account=account, event_id=f"h{n[0]}"))
    return _last(session)


def _help(d, session, account: str = "wangshuji") -> list:
    """The messages 帮助 answers with, in order."""
    before = session.scalar(select(func.count()).select_from(OutboxMessage))
    _say(d, session, "帮助", account=account)
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id).offset(before)).all()
    return [from_payload(r.payload) for r in rows]


def test_help_is_grouped_by_what_the_person_does_most_used_first(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers(), fallback=help_module.fallback)
    (member,) = _help(d, session, account="member0")
    assert member.title == "我能帮您做什么" and "\n\n**我是党员**\n" in member.text
    lines = member.text.splitlines()
    assert lines.index("- **请假 原因**：为下一次会议请假") < lines.index(
        "- **我的**：查看我在系统里的身份：姓名、支部、职务"
    )
    assert "本月会议" not in member.text and "查看我能帮您做什么" not in member.text
    secretary = _help(d, session)
    # One message per group (each within WeCom's 2,048-byte markdown), the member's first.
    assert [m.text.split("\n")[0] for m in secretary[1:5]] == [
        "**我是书记（支委）**",
        "**组织生活会和民主评议（书记、支委）**",
        "**书记项目**",
        "**我管党费**",
    ]
    assert all(len(m.text.encode()) < 2048 for m in secretary)
    body = secretary[1].text
    assert body.index("本月会议") < body.index("签到码") < body.index("未送达名单")


def test_every_command_of_the_features_is_filed_in_a_group():
    """A feature's command left out of HELP_GROUPS lands in 其他, one more message in everyone's 帮助."""
    filed = {w for _, words in help_module.HELP_GROUPS for w in words}
    shown = {c.words[0] for r in all_routers() for c in r.commands if c.help and c.words[0] != "帮助"}
    assert shown - filed == set()


# The commands of 书记项目, 组织生活会 and 民主评议 that are for a unit's leaders or the committee above.
LEADERS_ONLY = (
    "组织生活会计划",
    "组织生活会情况",
    "标记完成",
    "批评和自我批评",
    "查摆问题",
    "开始民主评议",
    "申报项目",
    "项目进展",
    "督办完成",
    "预审通过",
    "项目评分",
    "项目征集",
    "项目评审人",
    "督办 ",
)


def test_a_member_sees_their_own_steps_and_no_leaders_command(session_factory, session):
    """In a year their branch has planned its 组织生活会 a member's 帮助 gains their own steps, in the one
    message under 我是党员; the secretary's and the committee's commands stay out of it. The committee's
    组织委员 finds 书记项目's review and 督办 under 我在上级党委."""
    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        day = T0.date().replace(month=12, day=20)
        s.add(
            LifeMeetingPlan(
                branch_id=org.branch_id, year=T0.year, planned_on=day, study_due=day, opinions_due=day,
                talks_due=day, materials_due=day, set_by_id=org.secretary_id, set_at=T0,
            )
        )  # fmt: skip
        zhou = builders.person(s, "周组织", None, account_id="zhouzz", corp=DT)
        builders.role(s, zhou, s.get(OrgUnit, org.committee_id), Role.ORGANIZATION_MEMBER)
    d = make_dispatcher(session_factory, all_routers(), fallback=help_module.fallback)
    (member,) = _help(d, session, account="member0")
    for word in ("组织生活会", "学习研讨", "征求意见", "对照检查材料"):
        assert f"- **{word}" in member.text
    for word in LEADERS_ONLY:
        assert f"- **{word}" not in member.text, word
    committee = {m.text.split("\n")[0]: m.text for m in _help(d, session, account="zhouzz")}
    above = committee["**我在上级党委**"]
    assert "- **预审通过 #编号" in above and "- **督办 #项目编号" in above
    assert "**其他**" not in committee


def test_a_command_nobody_filed_shows_under_other():
    extra = Router("extra")

    @extra.command("新功能", help="新功能：试试看")
    def new(ctx, args):
        pass

    routes = Routes([help_module.router, extra])
    groups = help_module.grouped(routes.commands)
    assert [(t, [c.words[0] for c in cs]) for t, cs in groups] == [
        ("我是党员", ["我的"]),
        ("其他", ["新功能"]),
    ]


def test_unknown_text_suggests_the_closest_commands_this_person_may_use(session_factory, session):
    make_org(session_factory)
    d = make_dispatcher(session_factory, all_routers(), fallback=help_module.fallback)
    leave = _say(d, session, "怎么请假", account="member0")
    assert leave.startswith("没太明白“怎么请假”的意思。您是不是想：\n· 请假 原因：为下一次会议请假")
    assert leave.endswith("发送“帮助”可以查看全部功能。")
    signin = _say(d, session, "签到")  # the secretary
    assert "· 签到码：" in signin and "· 签到情况：" in signin
    # A member may not use 签到码: nothing of it is suggested to them.
    member = _say(d, session, "签到", account="member0")
    assert "签到码" not in member and "帮助" in member
    assert _say(d, session, "今天天气怎么样", account="member0") == (
        "没太明白“今天天气怎么样”的意思。发送“帮助”可以查看您能使用的功能。"
    )


def test_free_text_arguments_keep_the_persons_punctuation(session_factory, session):
    got: list[str] = []
    router = Router("args")

    @router.command("请假", help="请假 原因：请假")
    def leave(ctx, args):
        got.append(args)

    routes = Routes([router])
    assert routes.match("＠支部助手 请假，家中老人住院，需陪护（已和书记说过）")[1] == (
        "家中老人住院，需陪护（已和书记说过）"
    )
    # Inside the text, as typed; at its ends, punctuation goes as before ("恢复联系 张三。" names 张三).
    assert routes.match("请假：第一行：原因；\n第二行！")[1] == "第一行：原因；\n第二行"
    # What handlers parse is still folded: a number, a date, a time typed full-width.
    assert (
        fold_args("＃１２ ２０２６－０５－０８ ９：００ 会议室（三楼）")
        == "#12 2026-05-08 9:00 会议室（三楼）"
    )
    assert routes.match("ＨＥＬＰ") is None and routes.match("请假")[1] == ""


def test_the_observers_group_is_for_observers_only(session_factory, session):
    """A branch's 书记 is no observer: 观察统计's audience lets any 书记 in (it also answers a committee's
    leaders), but the command refuses him, so 帮助 must not show him 我是观察员. An observer (the role on
    the committee, linked to a branch) finds the group with its three commands."""
    from models.observers import ObserverAssignment

    org = make_org(session_factory)
    with session_factory() as s, s.begin():
        other = builders.unit(s, "第二党支部", UnitKind.BRANCH, s.get(OrgUnit, org.committee_id))
        qian = builders.person(s, "钱观察", other, account_id="qiangc", corp=DT)
        builders.role(s, qian, s.get(OrgUnit, org.committee_id), Role.OBSERVER)
        s.flush()
        s.add(ObserverAssignment(observer_id=qian.id, branch_id=org.branch_id, active=True))
    d = make_dispatcher(session_factory, all_routers(), fallback=help_module.fallback)
    secretary = "\n".join(m.text for m in _help(d, session))
    assert (
        "我是观察员" not in secretary and "- **观察统计" not in secretary and "- **我要列席" not in secretary
    )
    assert "**其他**" not in secretary  # the group's commands do not fall to 其他 either
    observer = {m.text.split("\n")[0]: m.text for m in _help(d, session, account="qiangc")}
    group = observer["**我是观察员**"]
    assert "- **我的支部" in group and "- **我要列席" in group and "- **观察统计" in group
