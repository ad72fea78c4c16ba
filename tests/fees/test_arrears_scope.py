"""arrears_counts for one unit reads that unit's branches only: a branch's 党费台账 asks it per month, and
at city scale reading every branch's path and policy each time was the page's cost."""

from __future__ import annotations

from datetime import date

from handlers.fees.arrears import arrears_counts
from handlers.fees.policy import PolicyBook
from models.fees import FeePolicy
from tests.fees.conftest import TZ


def test_a_units_arrears_resolve_only_its_own_branches_policies(session, org, monkeypatch):
    session.add(FeePolicy(org_unit_id=org.committee.id, tracking_start=date(2026, 5, 1)))
    session.commit()
    asked: list[int] = []
    real = PolicyBook.policy

    def spy(self, unit_ids):
        asked.append(unit_ids[-1])
        return real(self, unit_ids)

    monkeypatch.setattr(PolicyBook, "policy", spy)
    counts = arrears_counts(session, date(2026, 10, 1), org.other_branch, tz=TZ)
    assert set(asked) == {org.other_branch.id}
    # The committee's tracking start still reaches the branch below it: May to October.
    assert {p: a.months for p, a in counts.items()} == {org.other_collector.id: 6, org.other_member.id: 6}
    asked.clear()
    arrears_counts(session, date(2026, 10, 1), tz=TZ)
    assert set(asked) == {org.branch.id, org.other_branch.id}
