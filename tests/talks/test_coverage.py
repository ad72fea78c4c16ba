"""The coverage rule of handlers.talks.config on a crafted branch with known talks, the secretary's
谈心谈话情况, and the digest's section from July (Q3) on and not before."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from config.rules import Rules, TalksRules
from handlers.help import router as help_router
from handlers.monthly import service
from handlers.talks import chat as talks_chat
from handlers.talks.config import DEFAULT, TalksConfig
from handlers.talks.coverage import branch_coverage, coverage
from handlers.talks.record import branch_people
from models.org import Role
from models.talks import HeartTalk, HeartTalkPerson
from tests import builders, harness
from tests.monthly.conftest import BASE, CFG, SECRET, comply, outbox, run_at
from tests.monthly.small import small_county
from tests.talks.conftest import local


def _talk(session, branch, day: date, *people) -> None:
    ids = sorted(p.id for p in people)
    session.add(
        HeartTalk(branch_id=branch.id, held_on=day, topic="谈心", people_key=",".join(map(str, ids)),
                  recorded_at=local(day), participants=[HeartTalkPerson(person_id=i) for i in ids])
    )  # fmt: skip


def test_the_rule_on_a_crafted_branch():
    """支委 A, B, C (A the 书记); members m1..m4. Talks: A–B, A–m1, B–m2, {C, m3, m4} together, m1–m2."""
    names = {1: "A", 2: "B", 3: "C", 11: "m1", 12: "m2", 13: "m3", 14: "m4"}
    roles = {1: {Role.SECRETARY}, 2: {Role.ORGANIZATION_MEMBER}, 3: {Role.PROPAGANDA_MEMBER}}
    talks = [{1, 2}, {1, 11}, {2, 12}, {3, 13, 14}, {11, 12}]
    row = branch_coverage(7, 2026, names, roles, talks, DEFAULT)
    assert row.committee == [1, 2, 3] and row.members == [11, 12, 13, 14]
    # 3 支委 pairs, 4 members with a 支委, 4 members with a member: 11 in all.
    assert row.required == 11
    assert row.committee_missing == [(1, 3), (2, 3)]
    assert row.members_missing == []  # the group talk counts C with m3 and with m4
    assert row.peers_missing == []  # m1–m2, and m3–m4 within the group talk
    assert row.done == 9 and not row.complete
    assert row.missing_people() == [1, 2, 3]

    # Asking for the 书记 with every member: only m1 talked with A.
    strict = branch_coverage(7, 2026, names, roles, talks, replace(DEFAULT, member_talks_with="secretary"))
    assert strict.members_missing == [12, 13, 14]
    # Without 党员↔党员, and a branch with one ordinary member, which cannot be asked for it.
    assert (
        branch_coverage(7, 2026, names, roles, talks, replace(DEFAULT, member_peer_talk=False)).required == 7
    )
    small = branch_coverage(8, 2026, {1: "A", 11: "m1"}, {1: {Role.SECRETARY}}, [], DEFAULT)
    assert (small.required, small.members_missing, small.peers_required) == (1, [11], False)


def test_coverage_reads_the_year_and_the_roster(session, branches):
    east, people = branches.east, branches.by_name
    _talk(session, east, date(2026, 4, 2), people("王书记"), people("李委员"))
    _talk(session, east, date(2026, 5, 6), people("王书记"), people("张三"), people("陈红"))
    _talk(session, east, date(2025, 12, 30), people("王书记"), people("赵委员"))  # last year: not counted
    _talk(session, branches.west, date(2026, 5, 6), people("孙书记"), people("周杰"))
    people("刘芳").active = False  # left the branch: no longer owed a talk
    session.commit()
    rows = coverage(session, [east.id, branches.west.id], 2026, DEFAULT)
    east_row = rows[east.id]
    assert east_row.talks == 2
    assert [(east_row.names[a], east_row.names[b]) for a, b in east_row.committee_missing] == [
        ("王书记", "赵委员"), ("李委员", "赵委员"),
    ]  # fmt: skip
    assert [east_row.names[p] for p in east_row.members_missing] == ["张三丰", "王小明"]
    assert [east_row.names[p] for p in east_row.peers_missing] == ["张三丰", "王小明"]
    assert (east_row.required, east_row.done) == (3 + 4 + 4, 1 + 2 + 2)
    west = rows[branches.west.id]
    assert (west.required, west.done, west.complete) == (1, 1, True)
    assert coverage(session, None, 2026, DEFAULT).keys() == {east.id, branches.west.id}


def test_the_people_recorded_are_the_people_counted(session, branches):
    """record.branch_people (whom a talk may name) and the coverage (who is owed one) read one
    definition: active members and active 支委, a 支委 from another branch included, a leaver not."""
    people = branches.by_name
    builders.role(
        session, people("周杰"), branches.east, Role.DISCIPLINE_MEMBER
    )  # 河西村's member, 东门's 支委
    people("刘芳").active = False
    session.commit()
    for branch in (branches.east, branches.west):
        row = coverage(session, [branch.id], 2026, DEFAULT)[branch.id]
        assert [p.id for p in branch_people(session, branch)] == sorted(row.names)
    east = coverage(session, [branches.east.id], 2026, DEFAULT)[branches.east.id]
    assert people("周杰").id in east.committee and people("刘芳").id not in east.names


def test_the_secretary_asks_for_the_coverage(session_factory, session, branches):
    _talk(session, branches.east, date(2026, 4, 2), branches.by_name("王书记"), branches.by_name("李委员"))
    session.commit()
    chat = harness.Chat(session_factory, [talks_chat.router], now=local(date(2026, 11, 25)))
    text = chat.say("wang", "谈心谈话情况").text
    assert (
        "2026年谈心谈话情况" in text
        and "**东门社区党支部**：2026年已登记谈心谈话1次，应谈13项，已完成1项" in text
    )
    assert "- 支委之间：1/3" in text and "还没谈：王书记—赵委员、李委员—赵委员" in text
    assert "- 支委与党员：0/5" in text and "还没谈到：张三、张三丰、王小明、陈红、刘芳" in text
    assert "- 党员之间：0/5" in text
    assert "周杰" not in text and "河西村" not in text  # another branch's people are not this secretary's
    # Last year's, asked for by year: nothing recorded then.
    assert "2025年已登记谈心谈话0次" in chat.say("wang", "谈心谈话情况 2025")
    # A plain member is refused, in Chinese.
    assert "只给支部书记、副书记和组织委员查看" in chat.say("ch", "谈心谈话情况")
    assert "**河西村党支部**：2026年已登记谈心谈话0次，应谈1项" in chat.say("sun", "谈心谈话情况")


def _digest_text(session, county, month: date) -> str:
    comply(session, county, county.b2, month)
    session.commit()
    service.run_month(session, month, now=run_at(month), send=True, base_url=BASE, secret=SECRET,
                      mcfg=small_county(), cfg=CFG)  # fmt: skip
    session.commit()
    secretary = county.people["sec2"].id
    (card,) = [m.payload for m in outbox(session, f"monthly:digest:{county.b2.id}:{month:%Y-%m}")
               if m.person_id == secretary]  # fmt: skip
    return card["text"]


def test_the_digest_shows_the_year_from_july_on(session, county, observers):
    """东门社区党支部 (b2): 书记2 and members 党员2甲, 党员2乙; 书记2 talked with 党员2甲 in May."""
    _talk(session, county.b2, date(2026, 5, 8), county.people["sec2"], county.people["m2a"])
    # Held in August: not in July's digest, which reads the year up to the end of July.
    _talk(session, county.b2, date(2026, 8, 3), county.people["m2a"], county.people["m2b"])
    session.commit()
    june = _digest_text(session, county, date(2026, 6, 1))
    assert "谈心谈话" not in june
    july = _digest_text(session, county, date(2026, 7, 1))
    # No 支委 pairs (one 支委); 1 of 2 members with the 书记; 0 of 2 members with each other.
    assert "**谈心谈话（2026年）**：已完成1/4项（支委之间0/0，支委与党员1/2，党员之间0/2）" in july
    assert "还没谈到：党员2甲、党员2乙" in july
    # Another branch's secretary reads their own line, never b2's names.
    b1 = [m.payload["text"] for m in outbox(session, f"monthly:digest:{county.b1.id}:2026-07")]
    assert b1 and all("党员2乙" not in t and "谈心谈话（2026年）" in t for t in b1)


def test_the_configured_rule_reaches_the_chat_and_the_digest(session_factory, session, county, observers):
    """ZHIBU_TALKS__MEMBER_TALKS_WITH=secretary, ZHIBU_TALKS__MEMBER_PEER_TALK=false,
    ZHIBU_TALKS__RECORDER_ROLES=secretary and ZHIBU_TALKS__DIGEST_FROM_MONTH=6: the 书记 must talk with
    every member, no 党员之间 is asked, only the 书记 records others' talks, and June's digest already
    shows the year, all in the words of that rule. An unknown role is refused at start-up."""
    core = replace(
        harness.CONFIG,
        rules=Rules(
            talks=TalksRules(member_talks_with="secretary", digest_from_month=6, member_peer_talk=False,
                             recorder_roles=["secretary"])
        ),
    )  # fmt: skip
    b2 = county.b2
    dep = county.people["m2b"]
    builders.role(session, dep, b2, Role.DEPUTY_SECRETARY)  # 党员2乙 joins the committee as 副书记
    _talk(session, b2, date(2026, 5, 8), dep, county.people["m2a"])  # a 支委 with 党员2甲, not the 书记
    session.commit()
    chat = harness.Chat(
        session_factory, [talks_chat.router, help_router], now=local(date(2026, 6, 20)), config=core
    )
    text = chat.say("sec2", "谈心谈话情况").text
    assert "- 支部书记与党员：0/1" in text and "还没谈到：党员2甲" in text and "党员之间" not in text
    assert "- 支委之间：0/1" in text and "还没谈：书记2—党员2乙" in text
    # The 副书记 is no recorder here: every text names the 书记 alone.
    assert chat.say("m2b", "谈心谈话情况").text == "谈心谈话情况只给支部书记查看。"
    assert chat.say("m2b", "谈心谈话 书记2 党员2甲 2026-06-01 主题").text == (
        "您只能登记自己参加的谈心谈话（支部书记可以登记本支部任何人之间的谈话）。"
    )
    assert "支部书记登记别人之间的谈话时写两个姓名" in chat.say("m2b", "谈心谈话")
    deputy_help, secretary_help = chat.say("m2b", "帮助").text, chat.say("sec2", "帮助").text
    assert "登记一次您参加的谈心谈话" in deputy_help and "任意两人" not in deputy_help
    assert "也可登记本支部任意两人的谈话" in secretary_help

    comply(session, county, b2, date(2026, 6, 1))
    session.commit()
    service.run_month_for(session, date(2026, 6, 1), core, now=run_at(date(2026, 6, 1)), send=True)
    session.commit()
    cards = [m.payload["text"] for m in outbox(session, f"monthly:digest:{b2.id}:2026-06")]
    line = "**谈心谈话（2026年）**：已完成0/2项（支委之间0/1，支部书记与党员0/1）；还没谈到：书记2、党员2乙、党员2甲"
    assert cards and all(line in t.split("\n") for t in cards)

    with pytest.raises(ValueError, match="ZHIBU_TALKS__RECORDER_ROLES"):
        TalksConfig.from_rules(TalksRules(recorder_roles=["secretary", "boss"]))
