"""The cancellation and missed-reopen jobs read what they need in a fixed number of queries, however
many branches and meetings there are (N+1 guard). Queuing is the outbox's business and is recorded here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.meetings import meetings as meetings_uc
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from handlers.observers import assignments, notices, observation
from models.org import Role, UnitKind
from tests.core.statements import count_statements, record_enqueues
from tests.meetings.conftest import _person, _role, _unit
from tests.observers.conftest import CFG, NOW, full_form, make_meeting


def _observed_branch(session, world, i):
    """A branch of the committee with a secretary, watched by 钱观察."""
    branch = _unit(session, f"新村{i}党支部", UnitKind.BRANCH, world.committee)
    secretary = _person(session, f"新书记{i}", branch, f"xinsj{i}")
    _role(session, secretary, branch, Role.SECRETARY)
    session.flush()
    assignments.assign_observer(session, world.observer.id, branch.id)
    return branch, secretary


def _cancel_told_meeting(session, world, branch, secretary):
    meeting = make_meeting(session, world, NOW + timedelta(days=2), branch=branch)
    session.commit()
    notices.send_notices(session, now=NOW, cfg=CFG, public_base_url="http://h")
    meetings_uc.cancel_meeting(session, secretary, meeting.id, reason="与防汛冲突", now=NOW, cfg=MCFG)
    session.commit()
    return meeting


def _count_with_recording(monkeypatch, engine, call) -> tuple[int, dict[str, set[int]]]:
    """(statements sent by call(), what it would queue); the outbox is back to normal afterwards."""
    queued = record_enqueues(monkeypatch)
    n = count_statements(engine, call)
    monkeypatch.undo()
    return n, queued


def test_cancellations_take_a_fixed_number_of_queries(session, engine, world, monkeypatch):
    meetings = [_cancel_told_meeting(session, world, world.branch, world.secretary)]
    untold = make_meeting(session, world, NOW + timedelta(days=3))  # cancelled before any notice
    meetings_uc.cancel_meeting(session, world.secretary, untold.id, reason="改期", now=NOW, cfg=MCFG)
    session.commit()

    def run():
        return notices.send_cancellations(session, now=NOW, cfg=CFG)

    few, _ = _count_with_recording(monkeypatch, engine, run)
    for i in range(6):
        branch, secretary = _observed_branch(session, world, i)
        meetings.append(_cancel_told_meeting(session, world, branch, secretary))
    many, queued = _count_with_recording(monkeypatch, engine, run)
    assert many == few
    assert queued == {f"observers:cancelled:{m.id}": {world.observer.id} for m in meetings}


def _reopen_ordered(session, world, branch):
    held = make_meeting(session, world, NOW - timedelta(days=1), branch=branch)
    session.commit()
    return observation.submit_observation(
        session, world.observer, held.id, full_form("责令重开"), now=NOW, cfg=CFG
    )


def test_missed_reopens_take_a_fixed_number_of_queries(session, engine, world, monkeypatch):
    first = _reopen_ordered(session, world, world.branch)
    session.commit()
    after = datetime.combine(first.reopen_by + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def run():
        return observation.report_missed_reopens(session, now=after, cfg=CFG)

    few, _ = _count_with_recording(monkeypatch, engine, run)
    missed = {first.id: {world.secretary.id, world.deputy.id}}
    reconvened = None
    for i in range(6):
        branch, secretary = _observed_branch(session, world, i)
        obs = _reopen_ordered(session, world, branch)
        missed[obs.id] = {secretary.id}
        reconvened = (obs, branch)
    # The last branch met again in time: it is not reported.
    obs, branch = reconvened
    make_meeting(session, world, NOW + timedelta(days=7), branch=branch)
    del missed[obs.id]
    session.commit()
    many, queued = _count_with_recording(monkeypatch, engine, run)
    assert many == few
    # Each branch's secretaries and the committee's 组织委员 (CFG.committee_roles), as before the batching.
    assert queued == {
        f"observers:reopen_missed:{oid}": people | {world.reviewer.id} for oid, people in missed.items()
    }
