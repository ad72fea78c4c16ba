"""The 主题党日 menu's penalty (issue 20 item 5): off by default; on, a branch whose month's 主题党日
minutes leave fixed items out loses the configured points per item, and the explanation says which."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from handlers.monthly import service
from handlers.monthly.strings import explain, missing_text
from models.meetings import MeetingType
from tests.monthly.conftest import CFG, comply, run_at
from tests.monthly.small import small_county

AUG = date(2026, 8, 1)  # not a quarter's last month: the 主题党日 is the one meeting due
SEVEN = list(CFG.activity.items)


def _august(session, county):
    full = comply(session, county, county.b1, AUG)
    full.minutes.menu_done = SEVEN
    short = comply(session, county, county.b2, AUG)
    short.minutes.menu_done = [i for i in SEVEN if i not in ("交纳党费", "党内关怀")]
    short.minutes.menu_extra = "参观红色教育基地"
    comply(session, county, county.b3, AUG)  # minutes saved without a menu: nothing to count
    # Two 主题党日 in the month: what either did counts.
    first = comply(session, county, county.b4, AUG, day=5)
    first.minutes.menu_done = SEVEN[:4]
    second = comply(session, county, county.b4, AUG, (MeetingType.THEME_DAY,), plan=False, day=20)
    second.minutes.menu_done = SEVEN[4:]
    session.commit()


def _scores(session, per_item: float):
    cfg = replace(CFG, activity=replace(CFG.activity, penalty_per_missing=per_item))
    scores, _ = service.compute_and_store(session, AUG, now=run_at(AUG), mcfg=small_county(), cfg=cfg)
    session.commit()
    return scores.branches


def test_menu_penalty_is_off_by_default(session, county, observers):
    _august(session, county)
    assert CFG.activity.penalty_per_missing == 0
    b = _scores(session, 0)
    assert [b[x.id].score for x in (county.b1, county.b2, county.b3, county.b4)] == [100.0] * 4
    assert all(not b[x.id].explanation["penalties"] for x in (county.b1, county.b2))
    assert not any(m["key"] == "menu" for m in b[county.b2.id].explanation["missing"])


def test_menu_penalty_on_counts_each_missing_fixed_item(session, county, observers):
    _august(session, county)
    b = _scores(session, 2)
    assert b[county.b1.id].score == 100.0
    assert b[county.b3.id].score == 100.0  # no menu recorded: not counted
    assert b[county.b4.id].score == 100.0  # the month's two 主题党日 did all seven between them
    exp = b[county.b2.id].explanation
    assert b[county.b2.id].score == 96.0
    assert exp["penalties"] == [{"key": "menu", "count": 2, "points": 4.0, "items": ["交纳党费", "党内关怀"]}]
    assert "主题党日规定动作缺2项（交纳党费、党内关怀）" in missing_text(exp["missing"])
    assert "− 4（主题党日规定动作缺2项）" in explain(b[county.b2.id].score, exp)
