"""No member-facing view, page, chat answer, console page or stored row links a ballot to its voter.

The strongest form of the check: two branch-years in which two voters exchange their grades for the
members both rate must be indistinguishable everywhere except in who voted what, which nothing records.
Every page a member, the secretary or the committee can open, the chat answers and the stored ballots
(without their random keys) are compared between the two, after the close and after the decision."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, inspect, select

from models.appraisal import Appraisal, AppraisalBallot, AppraisalGrade, AppraisalMember, Grade
from models.audit import AUDITED, AuditEntry
from tests.appraisal.conftest import AFTER_CLOSE, NOW
from tests.appraisal.test_flow import PLAN, ballot_form, mark_suspended, open_it, post

E, Q, B, U = Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED
ACCOUNTS = ("wang", "li", "zs", "ls", "ww", "zl", "cq", "zb")


def swapped(plan: dict) -> dict:
    """张三 and 李四 exchange what they gave every member both rate (all but themselves)."""
    out = {k: dict(v) for k, v in plan.items()}
    for subject in ACCOUNTS:
        if subject in ("zs", "ls"):
            continue
        out["zs"][subject], out["ls"][subject] = plan["ls"][subject], plan["zs"][subject]
    return out


def normalized(text: str, a_id: int) -> str:
    # The appraisal's id (in links) and the session's CSRF token differ between the two runs by nature.
    text = re.sub(rf"/h5/appraisal/{a_id}\b", "/h5/appraisal/ID", text)
    text = re.sub(r'"X-CSRF-Token": "[^"]*"', '"X-CSRF-Token"', text)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)


def everything_visible(world, a_id: int) -> dict[str, str]:
    pages = {}
    for acc in ACCOUNTS:
        pages[f"member:{acc}"] = world.h5(acc).get(f"/h5/appraisal/{a_id}").text
    pages["manage:wang"] = world.h5("wang").get(f"/h5/appraisal/{a_id}/manage").text
    pages["console:chen"] = world.console("chen").get("/console/appraisals?year=2026").text
    for acc in ("wang", "zs", "ls"):
        pages[f"chat:{acc}"] = world.say(acc, "民主评议").text
    return {k: normalized(v, a_id) for k, v in pages.items()}


def run(world, session, plan: dict) -> tuple[dict, dict, list]:
    world.clock.now = NOW
    a = open_it(world)
    mark_suspended(world, a.id)
    for acc, marks in plan.items():
        r = post(world.h5(acc), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, marks))
        assert r.status_code == 303
        # What the voter sees right after voting: thanks, and never their own grades again.
        after = world.h5(acc).get(r.headers["location"]).text
        assert "投票成功" in after and "selected" not in after
    world.clock.now = AFTER_CLOSE
    closed = everything_visible(world, a.id)
    ids = {acc: world.org[acc].id for acc in ACCOUNTS}
    proposal = {f"g{ids[acc]}": g.value for acc, g in {
        "wang": Q, "li": Q, "zs": E, "ls": Q, "ww": Q, "zl": B, "cq": Q, "zb": B}.items()}  # fmt: skip
    assert (
        post(world.h5("wang"), f"/h5/appraisal/{a.id}/proposal", proposal | {"day": "2026-12-10"}).status_code
        == 303
    )
    assert (
        post(world.h5("wang"), f"/h5/appraisal/{a.id}/decision", proposal | {"day": "2026-12-10"}).status_code
        == 303
    )
    decided = everything_visible(world, a.id)
    session.expire_all()
    ballots = sorted(
        (s, str(g))
        for s, g in session.execute(
            select(AppraisalBallot.subject_id, AppraisalBallot.grade).where(
                AppraisalBallot.appraisal_id == a.id
            )
        )
    )
    # Start the other run from the same place (the appraisal and its rows cascade away).
    session.execute(delete(Appraisal).where(Appraisal.id == a.id))
    session.commit()
    return closed, decided, ballots


def test_two_voters_exchanging_their_grades_leave_no_trace(world, session):
    first = run(world, session, PLAN)
    second = run(world, session, swapped(PLAN))
    assert PLAN["zs"]["wang"] != PLAN["ls"]["wang"]  # the exchange changes what each of them gave
    for label, one, other in (("closed", first[0], second[0]), ("decided", first[1], second[1])):
        for page in one:
            assert one[page] == other[page], f"{label} {page} tells the two runs apart"
    assert first[2] == second[2]  # the same marks, and nothing else stored about them


def test_the_ballot_table_names_no_voter_and_no_time(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("appraisal_ballot")}
    assert columns == {"id", "appraisal_id", "subject_id", "grade"}
    # The voter's trace is a flag on their membership, with no time and nothing pointing to a ballot.
    member = {c["name"] for c in inspect(engine).get_columns("appraisal_member")}
    assert "has_voted" in member and not {"voted_at", "ballot_id"} & member
    assert AppraisalBallot not in AUDITED and AppraisalMember not in AUDITED


def test_ballot_keys_are_random_not_in_voting_order(world, session):
    a = open_it(world)
    logged = session.scalar(select(func.max(AuditEntry.id)))
    for acc in ("wang", "li", "zs"):
        post(world.h5(acc), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, PLAN[acc]))
    session.expire_all()
    keys = session.scalars(select(AppraisalBallot.id)).all()
    assert len(keys) == 21 and len(set(keys)) == 21 and all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
    # Nothing was logged about the votes.
    assert session.scalar(select(func.max(AuditEntry.id))) == logged
    assert not session.scalars(select(AppraisalGrade)).all()
