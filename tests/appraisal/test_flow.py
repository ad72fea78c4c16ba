"""民主评议党员 through the chat harness and the H5 pages: opening, 个人自评, ballots (one each, the window, who
votes), the count, the 支委会's proposal (the 1/3 cap, 不合格's handling), the 支部大会's decision (a reason
where it differs; once), the audit, and the roles (403/404/409/422, each changing nothing)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from handlers.appraisal import grades
from handlers.appraisal.config import DEFAULT as CFG
from models.appraisal import Appraisal, AppraisalBallot, AppraisalGrade, AppraisalMember, Grade, Handling
from models.audit import AuditEntry
from models.org import MemberStatus, Person
from models.outbox import OutboxMessage
from tests.appraisal.conftest import AFTER_CLOSE, NOW

E, Q, B, U = Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED
VOTERS = ("wang", "li", "zs", "ls", "ww", "zl")  # 周八 is marked 留党察看, 陈七 is 预备
# Who gives what to whom (by account): crafted so that 张三 and 李四 have 优秀 majorities, 王五 too (a tie
# for the second seat with 李四), 赵六 a 不合格 majority and 周八 a 基本合格 one.
PLAN = {
    "wang": {"li": Q, "zs": E, "ls": E, "ww": E, "zl": U, "cq": Q, "zb": B},
    "li": {"wang": E, "zs": E, "ls": E, "ww": E, "zl": U, "cq": Q, "zb": B},
    "zs": {"wang": E, "li": Q, "ls": E, "ww": E, "zl": U, "cq": Q, "zb": B},
    "ls": {"wang": Q, "li": Q, "zs": E, "ww": Q, "zl": U, "cq": E, "zb": Q},
    "ww": {"wang": Q, "li": Q, "zs": E, "ls": Q, "zl": B, "cq": Q, "zb": B},
    "zl": {"wang": Q, "li": Q, "zs": E, "ls": Q, "ww": Q, "cq": Q, "zb": Q},
}


def ballot_form(world, plan: dict) -> dict:
    return {f"p{world.org[acc].id}": g.value for acc, g in plan.items()}


def open_it(world, args: str = "12-03 12-09"):
    answer = world.say("wang", f"开始民主评议 {args}".strip())
    assert "已开启东门社区党支部2026年民主评议" in answer.text, answer.text
    with world.session_factory() as s:
        return s.scalar(select(Appraisal))


def post(client, path: str, data: dict):
    return client.post(path, data=data, follow_redirects=False)


def mark_suspended(world, a_id: int, account: str = "zb"):
    r = post(
        world.h5("wang"),
        f"/h5/appraisal/{a_id}/suspended",
        {"person_id": world.org[account].id, "suspended": "1"},
    )
    assert r.status_code == 303, r.text


def vote_all(world, a_id: int, plan=PLAN):
    for acc, marks in plan.items():
        r = post(world.h5(acc), f"/h5/appraisal/{a_id}/ballot", ballot_form(world, marks))
        assert r.status_code == 303 and r.headers["location"].endswith("saved=ballot"), (acc, r.text)


def counts(session):
    return {
        t: session.scalar(select(func.count()).select_from(t))
        for t in (AppraisalBallot, AppraisalGrade, AuditEntry, OutboxMessage)
    }


def test_opening_sends_every_member_the_card_on_their_platform(world, session):
    a = open_it(world)
    assert (a.year, a.opens_at, a.closes_at.isoformat()) == (
        2026,
        NOW.replace(hour=16, day=2),
        "2026-12-09T16:00:00+00:00",
    )
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key == f"appraisal:{a.id}:open")
    ).all()
    assert {r.person_id for r in rows} == {
        world.org[x].id for x in ("wang", "li", "zs", "ls", "ww", "zl", "cq", "zb")
    }
    card = rows[0].payload
    assert card["title"] == "民主评议党员（2026年）" and "2026年12月3日至2026年12月9日" in card["text"]
    assert card["buttons"][0]["url"] == f"/h5/appraisal/{a.id}"
    members = session.scalars(select(AppraisalMember).where(AppraisalMember.appraisal_id == a.id)).all()
    assert {m.person_id for m in members if m.probationary} == {world.org["cq"].id}
    # Once a year: a second opening is refused and changes nothing.
    again = world.say("li", "开始民主评议")
    assert "已经开启" in again.text and session.scalar(select(func.count()).select_from(Appraisal)) == 1


def test_bad_windows_and_roles_are_refused_in_chinese(world, session):
    assert "已经过去" in world.say("wang", "开始民主评议 12-01 12-09").text
    assert "早于开始日期" in world.say("wang", "开始民主评议 12-09 12-05").text
    assert "没有看懂日期“下周”" in world.say("wang", "开始民主评议 下周").text
    assert "最长31天" in world.say("wang", "开始民主评议 12-03 2027-01-20").text
    member = world.say("zs", "开始民主评议")
    assert "已开启" not in member.text  # not a manager: the command is not theirs
    assert session.scalar(select(func.count()).select_from(Appraisal)) == 0
    assert "还没有开启民主评议" in world.say("zs", "民主评议").text


def test_the_whole_flow_counts_proposes_and_records_the_decision(world, session):
    a = open_it(world)
    mark_suspended(world, a.id)
    zs = world.h5("zs")
    page = zs.get(f"/h5/appraisal/{a.id}")
    assert (
        page.status_code == 200
        and "提交选票" in page.text
        and "张三" not in re.findall(r"<label[^>]*>([^<]*)", page.text)
    )
    r = post(zs, f"/h5/appraisal/{a.id}/self", {"self_assessment": "按时参加组织生活，学习还不够深入。"})
    assert r.status_code == 303
    r = post(zs, f"/h5/appraisal/{a.id}/self", {"self_assessment": "按时参加组织生活，理论学习还不够深入。"})
    assert r.status_code == 303  # editable until the close
    assert "理论学习还不够深入" in zs.get(f"/h5/appraisal/{a.id}").text

    # An incomplete ballot keeps what was chosen and says who is missing; nothing is stored.
    partial = dict(list(ballot_form(world, PLAN["zs"]).items())[:3])
    r = post(zs, f"/h5/appraisal/{a.id}/ballot", partial)
    assert r.status_code == 422 and "还有4人没有评价" in r.text and "selected" in r.text
    assert session.scalar(select(func.count()).select_from(AppraisalBallot)) == 0

    before = counts(session)
    vote_all(world, a.id)
    session.expire_all()
    after = counts(session)
    # 6 ballots of 7 marks each; voting writes neither audit entries nor messages.
    assert after[AppraisalBallot] == 42
    assert (after[AuditEntry], after[OutboxMessage]) == (before[AuditEntry], before[OutboxMessage])

    # One ballot each: a second one is refused (409) and adds nothing.
    again = post(world.h5("zs"), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, PLAN["zs"]))
    assert again.status_code == 409 and "每人一票" in again.text
    # 预备党员 and 留党察看 do not vote.
    r = post(
        world.h5("cq"),
        f"/h5/appraisal/{a.id}/ballot",
        ballot_form(world, {k: Q for k in PLAN if k != "cq"} | {"zb": Q}),
    )
    assert r.status_code == 403 and "预备党员" in r.text
    r = post(
        world.h5("zb"), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, dict.fromkeys(PLAN, Q) | {"cq": Q})
    )
    assert r.status_code == 403 and "留党察看" in r.text
    assert "不参加投票" in world.h5("cq").get(f"/h5/appraisal/{a.id}").text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AppraisalBallot)) == 42

    # No counting, proposing or marking before the close; the manage page shows no count yet.
    manage = world.h5("wang").get(f"/h5/appraisal/{a.id}/manage")
    assert (
        manage.status_code == 200 and "应投票6人，已投6人" in manage.text and 'id="count"' not in manage.text
    )
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/proposal", {"day": "2026-12-05"})
    assert r.status_code == 409 and "截止后" in r.text

    world.clock.now = AFTER_CLOSE
    # After the close: no more ballots or self-assessments.
    late = post(world.h5("zb"), f"/h5/appraisal/{a.id}/self", {"self_assessment": "迟到的自评"})
    assert late.status_code == 409 and "已于2026年12月9日截止" in late.text

    with world.session_factory() as s:
        c = grades.count(s, s.get(Appraisal, a.id), CFG)
    by = {m.name: m for m in c.members}
    assert (c.voters, c.voted, c.cap, c.low_turnout) == (6, 6, 2, False)
    assert by["张三"].counts == {E: 5} and by["张三"].suggestion == E
    assert by["李四"].counts == {E: 3, Q: 2} and by["王五"].counts == {E: 3, Q: 2}
    assert by["李四"].suggestion == Q and by["李四"].tie and by["王五"].tie  # one seat left, two tied
    assert by["赵六"].counts == {U: 4, B: 1} and by["赵六"].suggestion == U
    assert by["周八"].counts == {B: 4, Q: 2} and by["周八"].suggestion == B
    assert by["陈七"].counts == {Q: 5, E: 1} and by["陈七"].suggestion == Q
    assert by["王书记"].counts == {E: 2, Q: 3} and by["王书记"].suggestion == Q

    manage = world.h5("wang").get(f"/h5/appraisal/{a.id}/manage")
    assert (
        'id="count"' in manage.text and "与王五并列（3票优秀），优秀名额只剩1个，由支委会决定" in manage.text
    )

    ids = {acc: p.id for acc, p in world.org.people.items()}
    proposal = {f"g{ids[acc]}": g.value for acc, g in {
        "wang": Q, "li": Q, "zs": E, "ls": E, "ww": E, "zl": U, "cq": Q, "zb": B}.items()}  # fmt: skip
    proposal["day"] = "2026-12-10"
    before = counts(session)
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/proposal", proposal)
    assert r.status_code == 422 and "优秀3人，超过党员人数的1/3（最多2人）" in r.text
    proposal[f"g{ids['ww']}"] = Q
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/proposal", proposal)
    assert r.status_code == 422 and "赵六评为不合格，请选择组织处置方式" in r.text
    assert 'value="2026-12-10"' in r.text  # what was entered is kept
    session.expire_all()
    assert counts(session) == before
    proposal[f"h{ids['zl']}"] = Handling.RECTIFY.value
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/proposal", proposal | {"day": "2026-12-08"})
    assert r.status_code == 422 and "早于投票截止日" in r.text
    r = post(world.h5("li"), f"/h5/appraisal/{a.id}/proposal", proposal)
    assert r.status_code == 303, r.text
    saved = world.h5("li").get(r.headers["location"]).text
    assert "已记录支委会2026年12月10日提出的评定建议" in saved
    # The 支部大会 to come is also a meeting of both types (rule 6): the secretary is told to schedule it so.
    assert "会议类型同时选“支部党员大会”和“民主评议党员”（一次会议可计入两类）" in saved

    world.clock.move(days=2)  # Saturday 12 December: the 支部大会
    decision = {k: v for k, v in proposal.items() if k.startswith(("g", "h"))} | {"day": "2026-12-12"}
    decision[f"g{ids['zl']}"] = Grade.BASIC.value  # the 支部大会 differs from the 支委会 on 赵六
    decision.pop(f"h{ids['zl']}")
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/decision", decision)
    assert r.status_code == 422 and "赵六的决定与支委会建议不同，请写明理由" in r.text
    decision[f"r{ids['zl']}"] = "本人在会上作了深刻检查，支部大会表决评为基本合格"
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/decision", decision)
    assert r.status_code == 303, r.text
    saved = world.h5("wang").get(r.headers["location"]).text
    assert "已记录支部大会2026年12月12日的决定" in saved
    assert "类型同时有“支部党员大会”和“民主评议党员”" in saved and "请发“会议记录”填写它的记录" in saved
    again = post(world.h5("wang"), f"/h5/appraisal/{a.id}/decision", decision)
    assert again.status_code == 409 and "已于2026年12月12日作出决定" in again.text

    session.expire_all()
    decided = {g.person_id: g for g in session.scalars(select(AppraisalGrade))}
    zl = decided[ids["zl"]]
    assert (zl.proposed_grade, zl.proposed_handling, zl.decided_grade, zl.decided_handling) == (
        U,
        Handling.RECTIFY,
        B,
        None,
    )
    assert decided[ids["zs"]].decided_grade == E and decided[ids["ls"]].decided_grade == E
    a2 = session.get(Appraisal, a.id)
    assert (a2.proposed_on.isoformat(), a2.decided_on.isoformat(), a2.decided_by_id) == (
        "2026-12-10",
        "2026-12-12",
        ids["wang"],
    )
    # Audited, under who recorded it; a member's standing is untouched.
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "appraisal_grade")).all()
    assert entries and {e.actor_person_id for e in entries} == {ids["li"], ids["wang"]}
    assert all(e.unit_id == world.org.branch.id for e in entries)
    assert not session.scalars(
        select(AuditEntry).where(AuditEntry.entity.in_(["appraisal_ballot", "appraisal_member"]))
    ).all()
    zhao = session.get(Person, ids["zl"])
    assert (zhao.status, zhao.active, zhao.branch_id) == (MemberStatus.FULL, True, world.org.branch.id)


def test_the_window_is_enforced_before_it_opens(world, session):
    a = open_it(world, "12-05 12-09")
    zs = world.h5("zs")
    r = post(zs, f"/h5/appraisal/{a.id}/ballot", ballot_form(world, PLAN["zs"]))
    assert r.status_code == 409 and "2026年12月5日开始" in r.text
    r = post(zs, f"/h5/appraisal/{a.id}/self", {"self_assessment": "提前写好"})
    assert r.status_code == 409
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AppraisalBallot)) == 0
    assert session.get(AppraisalMember, (a.id, world.org["zs"].id)).self_assessment is None
    world.clock.move(days=2)
    r = post(world.h5("zs"), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, PLAN["zs"]))
    assert r.status_code == 303


def test_who_may_see_and_do_what(world, session):
    a = open_it(world)
    base = f"/h5/appraisal/{a.id}"
    # Not a member of this appraisal (another branch, the committee): 403; no such appraisal: 404.
    assert world.h5("zj").get(base).status_code == 403
    assert world.h5("chen").get(base).status_code == 403
    assert world.h5("zs").get("/h5/appraisal/99999").status_code == 404
    # The manage page and its forms are the branch's 书记/副书记/组织委员's only.
    assert world.h5("zs").get(f"{base}/manage").status_code == 403
    assert world.h5("sun").get(f"{base}/manage").status_code == 403
    r = post(world.h5("zs"), f"{base}/suspended", {"person_id": world.org["zb"].id, "suspended": "1"})
    assert r.status_code == 403
    assert (
        post(
            world.h5("wang"), f"{base}/suspended", {"person_id": world.org["cq"].id, "suspended": "1"}
        ).status_code
        == 422
    )
    session.expire_all()
    assert not session.get(AppraisalMember, (a.id, world.org["zb"].id)).suspended
    # No session: the login-free identify page, nothing stored. A forged CSRF token: 403.
    from fastapi.testclient import TestClient

    anonymous = TestClient(world.app)
    assert "requestAuthCode" in anonymous.get(base).text
    zs = world.h5("zs")
    zs.headers["X-CSRF-Token"] = "forged"
    assert post(zs, f"{base}/ballot", ballot_form(world, PLAN["zs"])).status_code == 403
    # 察看 can be marked only before the first ballot (a cast ballot cannot be taken out again).
    post(world.h5("ls"), f"{base}/ballot", ballot_form(world, PLAN["ls"]))
    r = post(world.h5("wang"), f"{base}/suspended", {"person_id": world.org["zb"].id, "suspended": "1"})
    assert r.status_code == 409 and "已经有人投票" in r.text
    # A manager's chat card has the turnout and the manage link; a member's has the page only.
    answer = world.say("wang", "民主评议")
    assert "应投票7人，已投1人" in answer.text
    member = world.say("zs", "民主评议")
    assert "参加评议" in member.text


def test_a_secretary_of_two_branches_names_the_one(world, session):
    from models.org import Role
    from tests import builders

    builders.role(session, world.org["wang"], world.org.other, Role.SECRETARY)
    session.commit()
    answer = world.say("wang", "开始民主评议 河西村党支部 12-04 12-10")
    assert "已开启河西村党支部2026年民主评议：2026年12月4日至2026年12月10日，已通知2名党员" in answer.text
    assert "已开启东门社区党支部" in world.say("wang", "开始民主评议").text  # their own by default
    assert "没有看懂日期“东风村党支部”" in world.say("wang", "开始民主评议 东风村党支部").text


def test_a_secretary_from_outside_the_branch_manages_without_a_ballot(world, session):
    from models.org import Role
    from tests import builders

    builders.role(session, world.org["chen"], world.org.other, Role.SECRETARY)  # sent from the 党委
    session.commit()
    assert "已通知2名党员" in world.say("chen", "开始民主评议").text
    card = world.say("chen", "民主评议").text
    assert "评议管理" in card and "参加评议" not in card and "应投票2人，已投0人" in card
    with world.session_factory() as s:
        a = s.scalar(select(Appraisal))
    assert world.h5("chen").get(f"/h5/appraisal/{a.id}/manage").status_code == 200
    assert world.h5("chen").get(f"/h5/appraisal/{a.id}").status_code == 403
