"""handlers.common.proposals.save_as_system: the software's proposals are written as 系统, and a second viewer
whose insert meets the first's rows gets those rows back instead of an error."""

from __future__ import annotations

from sqlalchemy import select

from handlers.common.proposals import save_as_system
from models.audit import Actor, AuditEntry, act_as, actor_of
from models.db import unit_of_work
from models.org import UnitKind
from models.rating import BranchRating, RatingGrade
from tests import builders


def _branch(session_factory) -> int:
    with unit_of_work(session_factory) as s:
        return builders.unit(s, "东风村党支部", UnitKind.BRANCH).id


def _read(session, branch_id):
    return lambda: {
        r.branch_id: r
        for r in session.scalars(select(BranchRating).where(BranchRating.branch_id == branch_id))
    }


def test_a_new_proposal_is_saved_as_the_system(session_factory):
    b = _branch(session_factory)
    viewer = Actor("console", label="周明华")  # whoever opened the page
    with unit_of_work(session_factory) as s:
        act_as(s, viewer)
        row = BranchRating(branch_id=b, year=2026, proposal={}, proposed_grade=RatingGrade.GOOD)
        assert save_as_system(s, [row], _read(s, b)) is None
        assert actor_of(s) == viewer  # the viewer acts again afterwards
    with unit_of_work(session_factory) as s:
        assert s.scalars(select(BranchRating)).one().proposed_grade == RatingGrade.GOOD
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "branch_rating")).one()
        assert (entry.via, entry.actor_person_id, entry.actor_label) == ("system", None, "")


def test_a_second_viewer_gets_the_first_viewers_rows(session_factory):
    b = _branch(session_factory)
    with unit_of_work(session_factory) as first:
        first.add(BranchRating(branch_id=b, year=2026, proposal={"who": "first"}))
    with unit_of_work(session_factory) as second:
        late = BranchRating(branch_id=b, year=2026, proposal={"who": "second"})
        rows = save_as_system(second, [late], _read(second, b))
        assert rows is not None and rows[b].proposal == {"who": "first"}
    with unit_of_work(session_factory) as s:
        assert [r.proposal for r in s.scalars(select(BranchRating))] == [{"who": "first"}]
