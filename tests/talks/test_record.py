"""Recording a 谈心谈话 by chat through the real dispatcher (domain.md rule 8): a member records a talk
they took part in, the 书记/组织委员 any talk in the branch; bad input is refused in Chinese and writes
nothing; the same record twice is one talk."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from handlers import all_routers
from handlers.console.audit import AuditFilter, list_entries
from handlers.console.scope import scope_of
from handlers.talks import chat as talks_chat
from handlers.talks import record
from handlers.talks.config import DEFAULT
from handlers.talks.coverage import coverage
from handlers.talks.record import parse_day
from models.org import Role
from models.outbox import OutboxMessage
from models.talks import HeartTalk, HeartTalkPerson
from tests import builders, harness
from tests.talks.conftest import TZ, local

NOW = local(date(2026, 11, 25), 15)


def _talks(session) -> list[tuple[date, str, list[str], str]]:
    session.expire_all()
    out = []
    for talk in session.scalars(select(HeartTalk).order_by(HeartTalk.id)):
        names = sorted(p.person_id for p in talk.participants)
        out.append((talk.held_on, talk.topic, names, talk.recorded_by_id))
    return out


def _ids(branches, *names: str) -> list[int]:
    return sorted(branches.by_name(n).id for n in names)


def test_a_member_records_a_talk_they_took_part_in(session_factory, session, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    reply = chat.say("ch", "谈心谈话 刘芳 2026-11-20 工作和思想情况")
    assert (
        "已登记谈心谈话" in reply
        and "陈红、刘芳，2026年11月20日" in reply
        and "主题：工作和思想情况" in reply
    )
    # Its place in the branch's year: 3 支委 pairs + 5 members with a 支委 + 5 with a member = 13.
    assert "东门社区党支部2026年谈心谈话已完成2/13项" in reply
    assert _talks(session) == [
        (date(2026, 11, 20), "工作和思想情况", _ids(branches, "陈红", "刘芳"), branches.by_name("陈红").id)
    ]
    # A member may not record a talk between two others.
    refused = chat.say("ch", "谈心谈话 张三 王小明 2026-11-20 学习体会")
    assert "您只能登记自己参加的谈心谈话" in refused
    assert len(_talks(session)) == 1


def test_the_secretary_records_with_themselves_or_between_any_two(session_factory, session, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    assert "王书记、张三，2026年11月20日" in chat.say("wang", "谈心谈话 张三 11月20日 工作和思想情况")
    assert "张三、王小明，2026年11月18日" in chat.say("wang", "谈心谈话 张三、王小明 2026年11月18日 学习体会")
    # The 组织委员 records like the 书记; a few people at once is one talk.
    assert "李委员、赵委员、陈红" in chat.say("li", "谈心谈话 李委员 赵委员 陈红 昨天 班子团结")
    got = _talks(session)
    wang = branches.by_name("王书记").id
    assert got == [
        (date(2026, 11, 20), "工作和思想情况", _ids(branches, "王书记", "张三"), wang),
        (date(2026, 11, 18), "学习体会", _ids(branches, "张三", "王小明"), wang),
        (
            date(2026, 11, 24),
            "班子团结",
            _ids(branches, "李委员", "赵委员", "陈红"),
            branches.by_name("李委员").id,
        ),
    ]


def test_a_recorder_of_another_branch_records_there(session_factory, session, branches):
    """李委员, 组织委员 of 东门 (his own branch), is also 书记 of 河西村: 谈心谈话情况 shows him 河西村's
    missing names, so he records them there; the talk goes to the one branch where every name is found."""
    li = branches.by_name("李委员")
    builders.role(session, li, branches.west, Role.SECRETARY)
    session.commit()
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    assert "孙书记、周杰，2026年11月20日" in chat.say("li", "谈心谈话 孙书记 周杰 2026-11-20 工作情况")
    assert "李委员、周杰，2026年11月21日" in chat.say("li", "谈心谈话 周杰 2026-11-21 家庭情况")
    assert "张三、王小明，2026年11月22日" in chat.say("li", "谈心谈话 张三 王小明 2026-11-22 学习体会")
    session.expire_all()
    assert [(t.branch_id, t.held_on.day) for t in session.scalars(select(HeartTalk).order_by(HeartTalk.id))] == [
        (branches.west.id, 20), (branches.west.id, 21), (branches.east.id, 22),
    ]  # fmt: skip
    assert coverage(session, [branches.west.id], 2026, DEFAULT)[branches.west.id].members_missing == []
    # People of two branches in one talk: no branch has them all, refused with the closer branch's reason.
    assert "没有找到党员“周杰”" in chat.say("li", "谈心谈话 张三 周杰 2026-11-23 主题")
    # The same name in both branches he records in: he is asked which one, nothing is written.
    builders.person(
        session, "张三", branches.west, account_id="zs-west", corp=harness.DT, phone="13800000009"
    )
    session.commit()
    assert "东门社区党支部、河西村党支部都有“张三”，分不清这次谈话是哪个支部的" in chat.say(
        "li", "谈心谈话 张三 2026-11-23 主题"
    )
    assert "李委员、张三，2026年11月23日" in chat.say("li", "谈心谈话 13800000009 2026-11-23 主题")
    assert session.scalar(select(func.count()).select_from(HeartTalk)) == 4
    # A member records in their own branch only: the other branch's names are not found.
    assert "本支部（东门社区党支部）没有找到党员“周杰”" in chat.say("ch", "谈心谈话 周杰 2026-11-20 主题")


def test_names_are_found_loosely_within_the_branch_only(session_factory, session, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    # The exact name wins over a longer one that contains it; a unique part of a name finds it.
    assert "王书记、张三，" in chat.say("wang", "谈心谈话 张三 2026-11-20 工作情况")
    assert "王书记、王小明，" in chat.say("wang", "谈心谈话 小明 2026-11-20 工作情况")
    assert "王书记、张三丰，" in chat.say("wang", "谈心谈话 138-0000-0002 2026-11-20 工作情况")
    # One character is no name: not guessed from. A part that fits several asks for the full name.
    assert "没有找到党员“三”" in chat.say("wang", "谈心谈话 三 2026-11-20 工作情况")
    assert "“委员”可能是本支部的李委员、赵委员，请写全名" in chat.say(
        "wang", "谈心谈话 委员 2026-11-20 工作情况"
    )
    assert len(_talks(session)) == 3


def test_bad_input_is_refused_in_chinese_and_writes_nothing(session_factory, session, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    refusals = {
        ("wang", "谈心谈话"): "用法：谈心谈话 姓名 日期 主题",
        ("wang", "谈心谈话 张三"): "用法：谈心谈话 姓名 日期 主题",
        ("wang", "谈心谈话 张三 2026-13-40 主题"): "没有看懂日期“2026-13-40”",
        ("wang", "谈心谈话 张三 下周三 主题"): "没有看懂日期“下周三”",
        ("wang", "谈心谈话 张三 明天 主题"): "没有看懂日期“明天”",
        ("wang", "谈心谈话 张三 王月 主题"): "用法：谈心谈话 姓名 日期 主题",
        ("wang", "谈心谈话 张三 2026-11-20"): "请写明谈话主题（不需要写谈话内容）",
        ("wang", "谈心谈话 张三 2026-11-26 主题"): "2026年11月26日还没有到，谈话结束后再登记",
        ("wang", "谈心谈话 张三 2026-02-20 主题"): "2026年2月20日在本系统启用（2026年3月）之前，不用登记",
        ("wang", "谈心谈话 周杰 2026-11-20 主题"): "本支部（东门社区党支部）没有找到党员“周杰”",
        ("sun", "谈心谈话 张三 2026-11-20 主题"): "本支部（河西村党支部）没有找到党员“张三”",
        ("wang", "谈心谈话 张山 2026-11-20 主题"): "您是不是想写：张三",
        ("wang", "谈心谈话 王书记 2026-11-20 主题"): "请写上和您谈话的人的姓名",
        ("wang", "谈心谈话 张三 张三 2026-11-20 主题"): "“张三”写了两次",
        ("wang", "谈心谈话 张三 张三丰 王小明 陈红 刘芳 李委员 2026-11-20 主题"): "最多登记5人",
        ("wang", "谈心谈话 张三 2026-11-20 " + "很" * 101): "主题请写简短些",
        ("stranger", "谈心谈话 张三 2026-11-20 主题"): "系统里还没有登记您的钉钉账号",
    }
    for (who, text), expected in refusals.items():
        assert expected in chat.say(who, text).text, (who, text)
    assert session.scalar(select(func.count()).select_from(HeartTalk)) == 0
    assert session.scalar(select(func.count()).select_from(HeartTalkPerson)) == 0


def test_the_same_record_twice_is_one_talk(session_factory, session, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    first = chat.say("zs", "谈心谈话 王书记 2026-11-20 工作和思想情况")
    assert "已登记谈心谈话" in first
    # The other person records the same talk: the same record, told so.
    assert "已经登记过了" in chat.say("wang", "谈心谈话 张三 2026-11-20 工作和思想情况")
    # A platform redelivering the first message: the dispatcher's dedup, nothing new.
    chat.dispatch(first.event)
    assert "已把主题改为：家庭情况" in chat.say("wang", "谈心谈话 张三 2026-11-20 家庭情况")
    got = _talks(session)
    assert got == [
        (date(2026, 11, 20), "家庭情况", _ids(branches, "王书记", "张三"), branches.by_name("张三").id)
    ]
    # Another day is another talk.
    chat.say("wang", "谈心谈话 张三 2026-11-21 家庭情况")
    assert len(_talks(session)) == 2


def test_help_lists_the_commands_by_role(session_factory, branches):
    chat = harness.Chat(session_factory, all_routers(), now=NOW)
    member, secretary = chat.say("ch", "帮助").text, chat.say("wang", "帮助").text
    assert "谈心谈话 姓名 日期 主题" in member and "谈心谈话情况" not in member
    assert "谈心谈话 姓名 日期 主题" in secretary and "谈心谈话情况" in secretary


def test_day_forms():
    today = date(2026, 11, 25)
    assert parse_day("2026-11-20", today) == date(2026, 11, 20)
    assert parse_day("2026年11月20日", today) == date(2026, 11, 20)
    assert parse_day("11.20", today) == date(2026, 11, 20)
    assert parse_day("11月2号", today) == date(2026, 11, 2)
    assert parse_day("今天", today) == today and parse_day("前天", today) == date(2026, 11, 23)
    assert parse_day("2026-02-30", today) is None and parse_day("张三", today) is None
    # Full-width, as a Chinese IME types it.
    assert parse_day("２０２６－１１－２０", today) == date(2026, 11, 20)
    assert parse_day("１１月２０日", today) == date(2026, 11, 20)


def test_a_short_day_is_the_latest_such_day_not_after_today():
    """In January, 12-28 is last December's talk, not a day eleven months ahead."""
    january = date(2027, 1, 2)
    assert parse_day("12-28", january) == date(2026, 12, 28)
    assert parse_day("12月28日", january) == date(2026, 12, 28)
    assert parse_day("1-2", january) == date(2027, 1, 2) and parse_day("1.1", january) == date(2027, 1, 1)
    assert parse_day("1-3", january) == date(2026, 1, 3)


def test_in_january_a_december_talk_is_recorded_in_last_year(session_factory, session, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=local(date(2027, 1, 2), 15))
    assert "王书记、张三，2026年12月28日" in chat.say("wang", "谈心谈话 张三 12-28 工作和思想情况")
    assert _talks(session)[0][0] == date(2026, 12, 28)


def test_two_records_of_one_talk_racing_are_one_row(session_factory, session, branches, monkeypatch):
    """The unique (branch, day, people) decides a race the lookup cannot see: the second insert gives
    way to the first row, the reply says it was already recorded, and the transaction stays usable."""
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    assert "已登记谈心谈话" in chat.say("zs", "谈心谈话 王书记 2026-11-20 工作和思想情况")
    real = record._existing
    calls = []

    def blind_once(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)  # the first lookup misses the row, as in a race

    monkeypatch.setattr(record, "_existing", blind_once)
    assert "已经登记过了" in chat.say("wang", "谈心谈话 张三 2026-11-20 工作和思想情况")
    assert len(calls) == 2 and len(_talks(session)) == 1


def test_coverage_in_a_group_is_answered_privately(session_factory, branches):
    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    answer = chat.say("wang", "谈心谈话情况", group="cid-branch")
    with session_factory() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(f"reply:{answer.event.event_id}:"))
        ).all()
    to_group = [r.payload.get("text", "") for r in rows if r.target == "cid-branch"]
    to_him = [r.payload.get("text", "") for r in rows if r.target == "wang"]
    assert to_him and "还没谈到：张三" in to_him[0]
    assert to_group and all("张三" not in t for t in to_group)


def test_a_recorded_talk_and_a_changed_topic_are_in_the_audit_log(session_factory, session, branches):
    """The 审计日志 answers "who recorded this talk?": the recorder through chat, the branch, and the
    topic a second record of the same talk changed."""
    from models.audit import AuditEntry

    chat = harness.Chat(session_factory, [talks_chat.router], now=NOW)
    chat.say("wang", "谈心谈话 张三 2026-11-20 工作情况")
    chat.say("wang", "谈心谈话 张三 2026-11-20 思想情况")
    wang, branch = branches.by_name("王书记"), branches.by_name("王书记").branch_id
    with session_factory() as s:
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.via, AuditEntry.actor_person_id, AuditEntry.unit_id,
                   AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.entity == "heart_talk").order_by(AuditEntry.id)
        ).all()  # fmt: skip
    assert [r[:4] for r in rows] == [("create", "chat", wang.id, branch), ("update", "chat", wang.id, branch)]
    assert rows[0].after["topic"] == "工作情况" and rows[0].after["held_on"] == "2026-11-20"
    assert (rows[1].before, rows[1].after) == ({"topic": "工作情况"}, {"topic": "思想情况"})
    # Each participant's row is filed under them: the log filtered by 张三 shows the talk he took part in.
    zs = branches.by_name("张三")
    with session_factory() as s:
        talk_id = s.scalar(select(HeartTalk.id))
        people = s.execute(
            select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.subject_person_id, AuditEntry.unit_id)
            .where(AuditEntry.entity == "heart_talk_person").order_by(AuditEntry.subject_person_id)
        ).all()  # fmt: skip
        assert people == [("create", None, p.id, branch) for p in sorted([wang, zs], key=lambda p: p.id)]
        page = list_entries(s, scope_of(s, wang.id), AuditFilter(person_id=zs.id), tz=TZ)
    talks = [e for e in page.entries if e.entity.startswith("谈心谈话")]
    assert [(e.entity, e.action, e.subject, e.who) for e in talks] == [
        ("谈心谈话参加人", "新增", "张三", "王书记")
    ]
    assert [(c.label, c.after) for c in talks[0].changes] == [
        ("谈心谈话编号", str(talk_id)),
        ("党员", "张三"),
    ]
