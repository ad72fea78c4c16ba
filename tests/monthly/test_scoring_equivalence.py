"""The per-month shortcuts of compute_month keep every branch's own numbers.

compute_month works some things out once per month instead of once per branch (the re-weighting
for each pattern of items with data, the committee for each parent path, the minutes' due dates
per day). These months mix branches that differ in exactly those things, in one run.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.monthly import scoring
from handlers.monthly.config import MonthlyConfig, QuarterMode
from models.meetings import Attendance, MeetingType, Minutes
from models.org import BranchCategory, UnitKind
from tests.monthly.conftest import CFG, _unit, comply, run_at

SEP = date(2026, 9, 1)
AUG = date(2026, 8, 1)
JUL = date(2026, 7, 1)


def _compute(session, month, mcfg=None):
    return scoring.compute_month(
        session, month, now=run_at(month), mcfg=mcfg or MonthlyConfig(), meetings_cfg=CFG
    )


def test_each_branch_is_reweighted_by_its_own_items(session, county, observers):
    comply(session, county, county.b1, AUG)  # every item has data
    bare = comply(session, county, county.b2, AUG)  # a meeting nobody was invited to: no attendance
    session.query(Attendance).filter(Attendance.meeting_id == bare.id).delete()
    session.commit()  # b3 and b4: no meeting at all, so no minutes and no attendance either
    b = _compute(session, AUG).branches
    weights = {bid: b[bid].explanation["item_weights"] for bid in b}
    assert set(weights[county.b1.id]) == {"meetings", "plan", "minutes", "attendance", "fees"}
    assert set(weights[county.b2.id]) == {"meetings", "plan", "minutes", "fees"}
    assert set(weights[county.b3.id]) == set(weights[county.b4.id]) == {"meetings", "plan", "fees"}
    assert weights[county.b2.id]["meetings"] == round(0.5 / 0.8, 4)
    for s in b.values():
        items, shares = s.explanation["items"], s.explanation["item_weights"]
        assert sum(shares.values()) == pytest.approx(1, abs=1e-3)
        assert s.explanation["completion"] == pytest.approx(
            sum(items[k] * w for k, w in shares.items()), abs=1e-3
        )
    # Dicts of their own: changing one branch's explanation leaves its twin alone.
    weights[county.b3.id]["plan"] = 0
    assert weights[county.b4.id]["plan"] > 0


def test_minutes_never_recorded_are_due_from_the_meeting_day(session, county, observers):
    comply(session, county, county.b1, SEP, (MeetingType.THEME_DAY,), day=3)
    unrecorded = comply(session, county, county.b2, SEP, (MeetingType.THEME_DAY,), day=3)
    session.query(Minutes).filter(Minutes.meeting_id == unrecorded.id).delete()
    session.commit()
    b = _compute(session, SEP).branches
    assert b[county.b1.id].explanation["minutes"] == {"due": 1, "on_time": 1, "late": 0}
    # Due three working days after the 3rd, long past on October 1st: late, and the meeting not held.
    exp = b[county.b2.id].explanation
    assert exp["minutes"] == {"due": 1, "on_time": 0, "late": 1}
    assert {m["type"]: m["held"] for m in exp["meetings"]}["theme_day"] == 0


def test_spread_quarter_counts_meetings_of_earlier_months(session, county, observers):
    # 党员大会 in July only: in August (spread mode) it still covers the quarter's running third.
    comply(session, county, county.b1, JUL, (MeetingType.PARTY_CONGRESS,))
    comply(session, county, county.b1, AUG, (MeetingType.THEME_DAY,))
    comply(session, county, county.b2, AUG, (MeetingType.THEME_DAY,))
    session.commit()
    b = _compute(session, AUG, MonthlyConfig(quarter_mode=QuarterMode.SPREAD)).branches
    congress = {bid: next(m for m in b[bid].explanation["meetings"] if m["type"] == "party_congress")
                for bid in (county.b1.id, county.b2.id)}  # fmt: skip
    assert congress[county.b1.id] == {"type": "party_congress", "period": "quarter", "held": 1,
                                      "required": 0.333, "credit": 0.333}  # fmt: skip
    assert congress[county.b2.id]["held"] == 0 and congress[county.b2.id]["credit"] == 0
    # July's meeting is not this month's: its minutes are not counted in August.
    assert b[county.b1.id].explanation["minutes"]["due"] == 1


def test_committee_found_through_a_general_branch(session, county, observers):
    general = _unit(session, "城关镇机关党总支", UnitKind.GENERAL_BRANCH, county.c1)
    b5 = _unit(session, "财政所党支部", UnitKind.BRANCH, general, BranchCategory.GOVERNMENT)
    b6 = _unit(session, "税务所党支部", UnitKind.BRANCH, general, BranchCategory.GOVERNMENT)
    session.commit()
    scores = _compute(session, SEP)
    b = scores.branches
    assert b[b5.id].committee_id == b[b6.id].committee_id == county.c1.id
    assert b[county.b3.id].committee_id == county.c2.id
    assert scores.committees[county.c1.id].explanation["branches"] == 4
    assert scores.committees[county.c2.id].explanation["branches"] == 2


def test_score_month_leaves_the_collector_running(session, county, observers, monkeypatch):
    """Issue #13 point 7: the collector is process-wide; scoring a month must not stop it for the
    whole threaded server."""
    import gc

    from handlers.monthly import service

    seen = []
    compute, rank = scoring.compute_month, service.ranking.rank
    monkeypatch.setattr(
        scoring, "compute_month", lambda *a, **kw: (seen.append(gc.isenabled()), compute(*a, **kw))[1]
    )
    monkeypatch.setattr(
        service.ranking, "rank", lambda *a, **kw: (seen.append(gc.isenabled()), rank(*a, **kw))[1]
    )
    month = date(2026, 9, 1)
    assert gc.isenabled()
    scores = service.score_month(session, month, now=run_at(month), mcfg=MonthlyConfig(), cfg=CFG)
    assert seen == [True, True] and gc.isenabled() and scores.branches[county.b1.id].rank >= 1


def test_the_month_is_loaded_once_and_each_branch_scored_without_the_database(
    engine, session, county, observers
):
    """Issue #13 point 6: load_month reads the inputs (a constant number of statements, the same as the
    whole compute), score_branch is a pure function of them: no statement, and the score compute_month
    gives."""
    from tests.core.statements import count_statements

    for b in (county.b1, county.b2, county.b3):
        comply(
            session, county, b, SEP, (MeetingType.THEME_DAY,), absent=("党员2乙",) if b == county.b2 else ()
        )
    session.commit()
    box = {}
    loading = count_statements(
        engine,
        lambda: box.setdefault(
            "inputs",
            scoring.load_month(session, SEP, now=run_at(SEP), mcfg=MonthlyConfig(), meetings_cfg=CFG),
        ),
    )
    inputs = box["inputs"]
    whole = count_statements(engine, lambda: _compute(session, SEP))
    assert loading == whole > 0
    expected = _compute(session, SEP).branches
    for bid, unit in inputs.branches.items():
        got = []
        assert (
            count_statements(
                engine,
                lambda u=unit, out=got: out.append(scoring.score_branch(u, inputs, MonthlyConfig(), CFG)),
            )
            == 0
        )
        assert (got[0].score, got[0].explanation) == (expected[bid].score, expected[bid].explanation)
    assert expected[county.b4.id].score < expected[county.b1.id].score  # b4 held nothing: the inputs differ


def test_held_meetings_are_counted_per_group_and_per_type(session, county, observers):
    """The tally counts distinct meetings per branch and type, and for 党小组会 distinct groups: two
    meetings of one group are one group, a meeting recorded without a group counts for none, and an
    event counting as two types counts once for each."""
    g1, g2 = (_unit(session, f"第{n}党小组", UnitKind.GROUP, county.b1) for n in "一二")
    h1, h2 = (_unit(session, f"第{n}党小组", UnitKind.GROUP, county.b2) for n in "一二")
    for branch, group, day in ((county.b1, g1, 3), (county.b1, g1, 17), (county.b1, g2, 20),
                               (county.b2, h1, 3), (county.b2, h1, 17), (county.b2, None, 20)):  # fmt: skip
        m = comply(session, county, branch, SEP, (MeetingType.GROUP_MEETING,), day=day)
        m.group_id = group.id if group else None
    comply(session, county, county.b1, SEP, (MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE), day=24)
    session.commit()
    b = _compute(session, SEP).branches
    held = {bid: {m["type"]: (m["held"], m["required"]) for m in b[bid].explanation["meetings"]}
            for bid in (county.b1.id, county.b2.id)}  # fmt: skip
    assert held[county.b1.id]["group_meeting"] == (2, 2)
    assert held[county.b2.id]["group_meeting"] == (1, 2)
    assert held[county.b1.id]["theme_day"] == (1, 1) and held[county.b1.id]["party_lecture"][0] == 1
    assert held[county.b2.id]["theme_day"] == (0, 1)
    # Every meeting of the month is one minutes record, whatever it counts as.
    assert b[county.b1.id].explanation["minutes"] == {"due": 4, "on_time": 4, "late": 0}


def test_the_month_is_read_into_values_the_collector_lets_go(session, county, observers):
    """Issue #13 point 7: with the collector running, a month's inputs must not be objects it keeps
    walking (enum members in rows, a set per branch and type): a full collection leaves them untracked.
    (The units are named tuples, which CPython keeps tracking, so they are not among them.)"""
    import gc

    for b in (county.b1, county.b2):
        comply(session, county, b, SEP, (MeetingType.THEME_DAY,))
    session.commit()
    inputs = scoring.load_month(session, SEP, now=run_at(SEP), mcfg=MonthlyConfig(), meetings_cfg=CFG)
    gc.collect()
    per_branch = {
        "plans": inputs.plans, "members": inputs.members,
        "attendance": inputs.attendance, "held": inputs.tally.held, "minutes": inputs.tally.minutes,
    }  # fmt: skip
    for name, values in per_branch.items():
        assert values, name
        kept = [x for x in (*values, *values.values()) if gc.is_tracked(x)]
        assert not kept and not gc.is_tracked(values), (name, kept[:3])
