"""The plan reminder and overdue jobs look up secretaries and committees in a fixed number of queries,
however many branches are late (N+1 guard). Queuing is the outbox's business and is recorded here instead."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.meetings import plans as uc
from models.org import Role, UnitKind
from tests.core.statements import count_statements, record_enqueues
from tests.meetings.conftest import CFG, _person, _role, _unit

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # the 20th: the plan for June is due
ON_26TH = datetime(2026, 5, 26, 2, 0, tzinfo=UTC)


def _run(session, engine, job, now) -> int:
    return count_statements(engine, lambda: job(session, now=now, cfg=CFG))


def test_plan_jobs_take_a_fixed_number_of_queries(session, engine, org, monkeypatch):
    queued = record_enqueues(monkeypatch)
    few = (
        _run(session, engine, uc.remind_missing_plans, NOW),
        _run(session, engine, uc.report_missing_plans, ON_26TH),
    )
    # Ten more late branches, five under a second committee, each with its own secretary.
    second = _unit(session, "河东镇党委", UnitKind.COMMITTEE)
    second_reviewer = _person(session, "何组织委员", None, "hezz")
    _role(session, second_reviewer, second, Role.ORGANIZATION_MEMBER)
    secretaries = {}
    for i in range(10):
        branch = _unit(session, f"新村{i}党支部", UnitKind.BRANCH, org.committee if i < 5 else second)
        secretaries[branch.id] = _person(session, f"新书记{i}", branch, f"xinsj{i}")
        _role(session, secretaries[branch.id], branch, Role.SECRETARY)
    session.commit()
    queued.clear()
    many = (
        _run(session, engine, uc.remind_missing_plans, NOW),
        _run(session, engine, uc.report_missing_plans, ON_26TH),
    )
    assert many == few
    # Same recipients as before the batching: each branch's managers, each committee's reviewers.
    for branch_id, secretary in secretaries.items():
        assert queued[f"plan:{branch_id}:2026-06:remind:20"] == {secretary.id}
    assert queued[f"plan:{org.branch.id}:2026-06:remind:20"] == {org.secretary.id, org.deputy.id}
    assert queued[f"plan:committee:{org.committee.id}:2026-06:overdue"] == {org.reviewer.id}
    assert queued[f"plan:committee:{second.id}:2026-06:overdue"] == {second_reviewer.id}
