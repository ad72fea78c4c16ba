"""The monthly random patrol (item 3) on a generated county, and the 交叉互查 pairing (item 4): the share,
the stratification by committee, the preference for branches not drawn recently, the seed that
reproduces a draw, the draw hidden from branches until the month ends, the inspectors' lists in chat."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from handlers.common import dates
from handlers.inspection import draw, rounds
from handlers.inspection.config import DEFAULT
from models.inspection import InspectionRound, RoundKind
from models.org import BranchCategory, Role, UnitKind
from models.outbox import OutboxMessage
from tests import builders
from tests.inspection.conftest import local, st

SIZES = [5, 12, 23, 40, 8, 60]  # 148 branches in 6 committees
MAY = date(2027, 5, 1)


@pytest.fixture
def generated(session):
    committees, branches = [], {}
    for i, n in enumerate(SIZES):
        c = builders.unit(session, f"第{i + 1}镇党委", UnitKind.COMMITTEE)
        committees.append(c)
        for j in range(n):
            b = builders.unit(session, f"第{i + 1}镇第{j + 1}支部", UnitKind.BRANCH, c, BranchCategory.RURAL)
            branches[b.id] = c.id
    staff = builders.person(session, "孙部长", None, account_id="sunbz", corp="x")
    builders.role(session, staff, None, Role.ORG_STAFF)
    town_staff = builders.person(session, "钱督查", None, account_id="qiandc", corp="x")
    builders.role(session, town_staff, committees[5], Role.ORG_STAFF)
    first = next(b for b, c in branches.items() if c == committees[0].id)
    secretary = builders.person(session, "一支书记", session.get(type(committees[0]), first))
    builders.role(session, secretary, session.get(type(committees[0]), first), Role.SECRETARY)
    session.commit()
    return committees, branches, staff, town_staff, secretary


def test_share_and_strata(session, generated):
    committees, branches, *_ = generated
    rnd = draw.patrol_month(session, MAY, now=local(MAY, 8), cfg=DEFAULT, seed=11)
    drawn = [u.branch_id for u in rnd.units]
    assert len(drawn) == round(len(branches) * DEFAULT.patrol_share) == 15
    per = Counter(branches[b] for b in drawn)
    for c, n in zip(committees, SIZES, strict=True):
        assert math.floor(n * 0.1) <= per[c.id] <= max(1, math.ceil(n * 0.1)), (c.name, per[c.id])
    assert rnd.seed == 11 and rnd.share == 0.1 and rnd.visible_from == date(2027, 6, 1)
    with pytest.raises(Refused) as again:
        draw.patrol_month(session, MAY, now=local(MAY, 9), cfg=DEFAULT)
    assert again.value.status == 409
    other = draw.patrol_month(session, date(2027, 6, 1), now=local(MAY, 8), cfg=DEFAULT, share=0.2, seed=3)
    assert len(other.units) == round(len(branches) * 0.2)


def test_branches_not_drawn_recently_come_first(session, generated):
    _, branches, *_ = generated
    seen: list[set[int]] = []
    for k in range(6):
        month = dates.add_months(MAY, k)
        seen.append(
            {u.branch_id for u in draw.patrol_month(session, month, now=local(month, 8), cfg=DEFAULT).units}
        )
    # The smallest committee (5 branches, 1 a month) repeats first, in the 6th month: before that no
    # branch anywhere is drawn twice.
    first_five = [b for s in seen[:5] for b in s]
    assert len(first_five) == len(set(first_five))
    assert seen[5] & seen[0]  # the 5-branch committee's first branch comes round again
    assert not seen[5] & (seen[1] | seen[2] | seen[3] | seen[4])


def test_the_seed_reproduces_the_draw(session, generated):
    before = draw.candidates(session, None)
    rnd = draw.patrol_month(session, MAY, now=local(MAY, 8), cfg=DEFAULT)  # a fresh random seed, recorded
    assert draw.draw(before, rnd.share, rnd.seed) == sorted(u.branch_id for u in rnd.units)
    assert draw.draw(before, 0.1, 1) == draw.draw(list(reversed(before)), 0.1, 1)
    assert draw.draw(before, 0.1, 1) != draw.draw(before, 0.1, 2)


def test_hidden_from_branches_until_the_month_ends(session, generated):
    committees, branches, staff, town_staff, secretary = generated
    # Draw until the secretary's branch is in (the 5-branch committee draws one a month).
    rnd = None
    for k in range(5):
        month = dates.add_months(MAY, k)
        candidate = draw.patrol_month(session, month, now=local(month, 8), cfg=DEFAULT, seed=k)
        if secretary.branch_id in {u.branch_id for u in candidate.units}:
            rnd = candidate
            break
    assert rnd is not None
    session.commit()
    month_end = dates.add_months(rnd.month, 1)
    last_day = date.fromordinal(month_end.toordinal() - 1)
    sec = st(session, secretary)
    assert rounds.visible_units(session, sec, rnd, last_day) == []
    assert rnd.id not in [r.id for r, _ in rounds.rounds_for(session, sec, last_day)]
    assert [u.branch_id for u in rounds.visible_units(session, sec, rnd, month_end)] == [secretary.branch_id]
    assert len(rounds.visible_units(session, st(session, staff), rnd, rnd.month)) == len(rnd.units)
    # Each inspector got their list in chat: 钱督查 the branches of the committee they are staff of.
    mine = {u.branch_id for u in rnd.units if u.inspector_id == town_staff.id}
    assert mine and all(branches[b] == committees[5].id for b in mine)
    sent = {
        m.person_id
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key == f"inspection:patrol:{rnd.id}")
        )
    }
    assert sent == {staff.id, town_staff.id}
    assert (
        session.scalar(select(InspectionRound.kind).where(InspectionRound.id == rnd.id)) == RoundKind.PATROL
    )


def test_pairing():
    ids = list(range(1, 8))
    first = draw.pair(ids, set(), seed=5)
    assert sorted(c for c, _ in first) == ids and sorted(b for _, b in first) == ids
    assert all(c != b for c, b in first)
    assert first == draw.pair(ids, set(), seed=5)
    second = draw.pair(ids, {frozenset(p) for p in first}, seed=6)
    assert not {frozenset(p) for p in second} & {frozenset(p) for p in first}
    assert all(c != b for c, b in second)
    assert draw.pair([1], set(), seed=1) == []
    assert draw.pair([1, 2], set(), seed=1) == [(1, 2), (2, 1)]
