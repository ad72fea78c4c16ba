"""Scores on crafted months: a compliant branch, one missing its quarterly 党员大会, one with a 叫停."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from handlers.meetings.plans import plan_on_time
from handlers.meetings.types import RestDayShift
from handlers.monthly import ranking, scoring, service
from handlers.monthly.config import LagKind, LagRule, MonthlyConfig, QuarterMode
from handlers.monthly.observers_bridge import ObserverSummary
from handlers.monthly.strings import explain, missing_text
from models.fees import LocalHoliday
from models.meetings import MeetingType, MonthlyPlan, PlanStatus
from models.monthly import MonthlyScore
from models.workcalendar import calendar_for_unit
from tests.monthly.conftest import CFG, QUARTER, TZ, comply, local, run_at
from tests.monthly.small import small_county

SEP = date(2026, 9, 1)  # a quarter's last month: 党员大会 and 党课 are due
AUG = date(2026, 8, 1)


def _september(session, county, observers):
    comply(session, county, county.b1, SEP, QUARTER)
    comply(session, county, county.b2, SEP, (MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE))
    comply(session, county, county.b3, SEP, QUARTER)
    comply(session, county, county.b4, SEP, QUARTER)
    observers[county.b3.id] = ObserverSummary(quality=0.6, observations=1, stops=1, grades=["C"])
    session.commit()


def test_crafted_september(session, county, observers):
    _september(session, county, observers)
    scores, stored = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    session.commit()
    b = scores.branches
    assert b[county.b1.id].score == 100.0
    assert b[county.b4.id].score == 100.0
    # Missing its 党员大会: meetings 2 of 3, everything else done; quality follows completion (no observer).
    exp2 = b[county.b2.id].explanation
    assert exp2["items"]["meetings"] == pytest.approx(2 / 3, abs=1e-4)
    assert exp2["quality_source"] == "proxy_completion"
    completion = (0.5 * 2 / 3 + 0.4) / 0.9
    assert b[county.b2.id].score == round(100 * (0.8 * completion + 0.2), 1)
    assert {"key": "meeting", "type": "party_congress", "held": 0, "required": 1.0} in exp2["missing"]
    assert "支部党员大会：已开0次，应开1次" in missing_text(exp2["missing"])
    # 叫停: observer quality 60 and a 5-point penalty.
    exp3 = b[county.b3.id].explanation
    assert b[county.b3.id].score == pytest.approx(100 * (0.5 + 0.3 * 0.6 + 0.2) - 5)
    assert exp3["penalties"] == [{"key": "stop", "count": 1, "points": 5.0}]
    assert exp3["quality_source"] == "observers"
    assert "叫停1次" in explain(b[county.b3.id].score, exp3)
    # Ranking inside peer groups (community / rural), bottom 1 lags; committees roll up.
    assert (b[county.b2.id].rank, b[county.b2.id].lagging) == (2, True)
    assert (b[county.b1.id].rank, b[county.b1.id].lagging) == (1, False)
    assert b[county.b3.id].lagging and not b[county.b4.id].lagging
    c = scores.committees
    assert c[county.c1.id].score == round((100 + b[county.b2.id].score) / 2, 1)
    assert c[county.c2.id].score == round((100 + b[county.b3.id].score) / 2, 1)
    # 91.5 < 92.6 is last of its two, but above 90 (lag_rank_below): last of a group that did well
    # is not behind (issue 15: 10); without the threshold it would be.
    assert not c[county.c2.id].lagging and not c[county.c1.id].lagging
    no_floor, _ = service.compute_and_store(
        session, SEP, now=run_at(SEP), mcfg=small_county(lag_rank_below=None), cfg=CFG
    )
    assert no_floor.committees[county.c2.id].lagging and not no_floor.committees[county.c1.id].lagging
    assert county.county.id not in c  # the county has no branches of its own
    assert stored.inserted == 6
    session.rollback()  # the no-threshold ranking was only looked at
    rows = session.query(MonthlyScore).filter_by(month=SEP).all()
    assert {r.unit_id: r.score for r in rows}[county.b2.id] == b[county.b2.id].score
    assert all(r.explanation["rank"]["of"] == 2 for r in rows)


def test_quarterly_obligation_only_at_quarter_end(session, county, observers):
    comply(session, county, county.b2, AUG, (MeetingType.THEME_DAY,))
    session.commit()
    scores, _ = service.compute_and_store(session, AUG, now=run_at(AUG), mcfg=small_county(), cfg=CFG)
    assert scores.branches[county.b2.id].score == 100.0
    assert [m["type"] for m in scores.branches[county.b2.id].explanation["meetings"]] == ["theme_day"]
    # Spread mode: a third of the quarter's 党员大会 is due in August too.
    spread = small_county(quarter_mode=QuarterMode.SPREAD)
    scores, _ = service.compute_and_store(session, AUG, now=run_at(AUG), mcfg=spread, cfg=CFG)
    types = {m["type"]: m for m in scores.branches[county.b2.id].explanation["meetings"]}
    assert types["party_congress"]["required"] == pytest.approx(1 / 3, abs=1e-3)
    assert scores.branches[county.b2.id].score < 100


def test_minutes_not_yet_due_count_as_held(session, county, observers):
    # A meeting on the 30th: on the 1st its minutes are not due yet, so it is not "missing".
    comply(session, county, county.b1, SEP, (MeetingType.THEME_DAY,), day=30)
    from models.meetings import Minutes

    session.query(Minutes).delete()
    session.commit()
    scores, _ = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    exp = scores.branches[county.b1.id].explanation
    assert {m["type"]: m["held"] for m in exp["meetings"]}["theme_day"] == 1
    assert exp["minutes"]["due"] == 0


@pytest.mark.parametrize("batch", [2000, 2], ids=["one-batch", "batches-of-two"])
def test_recompute_shows_the_difference(session, county, observers, batch, monkeypatch):
    """Also with the stored rows compared a few at a time (ranking._STORED_BATCH; a province's are streamed)."""
    monkeypatch.setattr(ranking, "_STORED_BATCH", batch)
    _september(session, county, observers)
    _, first = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    session.commit()
    _, again = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    assert (again.inserted, again.updated, again.changes) == (0, 0, [])
    assert again.unchanged == first.inserted and (batch > 2 or first.inserted > 2 * batch)
    # The 党员大会 is recorded late (minutes after their deadline): b2 catches up, minus late minutes.
    comply(
        session, county, county.b2, SEP, (MeetingType.PARTY_CONGRESS,), minutes_late=True, day=12, plan=False
    )
    session.commit()
    _, later = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    session.commit()
    change = next(c for c in later.changes if c.unit_id == county.b2.id)
    assert change.new_score > change.old_score
    assert {"meetings", "minutes"} <= set(change.changed_items)
    assert change.old_lagging and change.old_rank == 2
    row = session.query(MonthlyScore).filter_by(unit_id=county.b2.id, month=SEP).one()
    assert row.revision == 2 and row.score == change.new_score


def test_lagging_rules(session, county, observers):
    _september(session, county, observers)
    halt_only = small_county(lag_rules=(LagRule(LagKind.HALT),))
    scores, _ = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=halt_only, cfg=CFG)
    lagging = {u for u, s in scores.branches.items() if s.lagging}
    assert lagging == {county.b3.id}
    assert scores.branches[county.b3.id].lag_reasons == ["halt"]
    below = small_county(lag_rules=(LagRule(LagKind.BELOW, 84),))
    scores, _ = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=below, cfg=CFG)
    assert {u for u, s in scores.branches.items() if s.lagging} == {county.b3.id}  # 83 < 84 ≤ 85.2


def test_unpaid_counts_agree_with_the_fees_feature(session, county, observers):
    from collections import Counter

    from handlers.fees.arrears import arrears_counts
    from handlers.fees.policy import Policy
    from handlers.meetings.meetings import month_bounds_utc
    from handlers.monthly.scoring import _member_counts, load_units
    from models.fees import FeeExemption, FeePayment, FeePolicy, PaymentMethod, PaymentStatus
    from models.org import MemberStatus, Person
    from tests.monthly.conftest import local

    p = county.people
    session.add(FeePolicy(org_unit_id=county.c1.id, tracking_start=date(2026, 8, 1)))
    paid = {"amount": 5, "paid_at": local(SEP), "method": PaymentMethod.COLLECTOR}
    session.add(
        FeePayment(
            person_id=p["m1a"].id, branch_id=county.b1.id, month=SEP, status=PaymentStatus.CONFIRMED, **paid
        )
    )
    session.add(
        FeePayment(
            person_id=p["m2a"].id, branch_id=county.b2.id, month=SEP, status=PaymentStatus.REPORTED, **paid
        )
    )
    session.add(
        FeePayment(
            person_id=p["m2b"].id, branch_id=county.b2.id, month=SEP, status=PaymentStatus.REJECTED, **paid
        )
    )
    session.add(FeeExemption(person_id=p["m1b"].id, from_month=SEP, amount=0))
    session.add(
        Person(
            name="新党员",
            branch_id=county.b2.id,
            status=MemberStatus.PROBATIONARY,
            joined_on=date(2026, 10, 15),
        )
    )
    session.commit()
    _, hi = month_bounds_utc(SEP, CFG)
    ours = {
        b: unpaid
        for b, (_n, _full, unpaid) in _member_counts(session, SEP, hi, load_units(session), Policy()).items()
        if unpaid
    }
    theirs = Counter(a.branch_id for a in arrears_counts(session, SEP, tz=TZ).values())
    assert ours == dict(theirs) == {county.b1.id: 1, county.b2.id: 2}  # c2's branches are not tracked yet
    scores, _ = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    assert scores.branches[county.b2.id].explanation["fees"] == {"members": 4, "unpaid": 2}
    # The runs behind the member ladder: paid / 免交 up to August starts a new run in September.
    session.add(FeePayment(person_id=p["sec1"].id, branch_id=county.b1.id, month=date(2026, 8, 1),
                           status=PaymentStatus.CONFIRMED, **paid))  # fmt: skip
    session.add(
        FeeExemption(person_id=p["sec2"].id, from_month=date(2026, 6, 1), to_month=date(2026, 8, 1), amount=0)
    )
    session.commit()
    runs = {a.person_id: a.months for a in arrears_counts(session, date(2026, 12, 1), tz=TZ).values()}
    assert runs[p["sec1"].id] == 4 and runs[p["sec2"].id] == 4
    assert p["sec1"].id not in arrears_counts(session, date(2026, 8, 1), tz=TZ)


def test_rank_ties_share_a_rank_and_a_tied_group_has_no_laggard():
    from handlers.monthly.ranking import rank_group
    from handlers.monthly.scoring import UnitScore

    def group(*scores):
        return [UnitScore(i, f"u{i}", "branch", "rural", s) for i, s in enumerate(scores)]

    items = group(90, 80, 80, 70, 70)
    rank_group(items, (LagRule(LagKind.BOTTOM_N, 1),))
    assert [(s.rank, s.lagging) for s in items] == [(1, False), (2, False), (2, False), (4, True), (4, True)]
    items = group(100, 100, 100)
    rank_group(items, (LagRule(LagKind.BOTTOM_N, 1), LagRule(LagKind.BOTTOM_PCT, 10)))
    assert [s.rank for s in items] == [1, 1, 1] and not any(s.lagging for s in items)
    items = group(*range(100, 80, -1))  # 20 units, bottom 10% = 2
    rank_group(items, (LagRule(LagKind.BOTTOM_PCT, 10),))
    assert [s.score for s in items if s.lagging] == [82, 81] and items[-1].lag_reasons == ["bottom_pct:10"]


def test_a_monthly_type_counts_only_the_month_even_when_a_quarterly_window_is_read(
    session, county, observers
):
    # At a quarter's end the meetings of the whole quarter are read (for 党员大会 and 党课), and December
    # reads the whole year (组织生活会): a 主题党日 of August must not count for September's.
    comply(session, county, county.b1, AUG, (MeetingType.THEME_DAY, MeetingType.PARTY_CONGRESS))
    session.commit()
    scores, _ = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    held = {
        m["type"]: (m["held"], m["credit"]) for m in scores.branches[county.b1.id].explanation["meetings"]
    }
    assert held["theme_day"] == (0, 0)
    assert held["party_congress"] == (1, 1)  # a quarterly type still counts its whole quarter


def test_rule_g21_the_score_takes_the_plan_deadline_the_secretary_was_given(session, county, observers):
    """The plan item's "on time" is the meetings feature's deadline (rule G21), moved as configured.
    The 25th of July 2026 is a Saturday: with 顺延 a plan for August submitted on Monday the 27th is on
    time, as the reminder told the secretary, and a branch whose local day off is the 27th has until
    the 28th. Scoring kept the 25th whatever the setting, so these branches lost their plan points."""
    submitted = {county.b1.id: 27, county.b2.id: 28, county.b3.id: 28}
    for branch_id, day in submitted.items():
        session.add(MonthlyPlan(branch_id=branch_id, month=AUG, status=PlanStatus.APPROVED,
                                submitted_at=local(date(2026, 7, day), 20), revision=1))  # fmt: skip
    session.add(LocalHoliday(org_unit_id=county.b2.id, day=date(2026, 7, 27), name="本地假日"))
    session.commit()
    plans = {p.branch_id: p for p in session.query(MonthlyPlan)}

    def on_time(cfg):
        b = scoring.compute_month(
            session, AUG, now=run_at(AUG), mcfg=MonthlyConfig(), meetings_cfg=cfg
        ).branches
        scored = {bid: b[bid].explanation["plan"]["on_time"] for bid in submitted}
        told = {bid: plan_on_time(plans[bid], cfg, calendar_for_unit(session, plans[bid].branch_id))
                for bid in submitted}  # fmt: skip
        assert scored == told
        return scored

    postpone = replace(CFG, plan_deadline_on_rest_day=RestDayShift.POSTPONE)
    assert on_time(postpone) == {county.b1.id: True, county.b2.id: True, county.b3.id: False}
    assert on_time(CFG) == {county.b1.id: False, county.b2.id: False, county.b3.id: False}  # the 25th stays
