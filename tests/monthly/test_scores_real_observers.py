"""Scores from REAL observer rows, written through the observers feature's own use cases (no faked bridge).

September 2026, every branch holds its quarter's meetings on the 10th. Then:
- b1 (community): an observer's form, 合格, 88/100;
- b2 (community): a form 88/100 with 责令纠正 due 09-20, reported fixed and confirmed on 09-26 (late);
- b3 (rural): a form 76/100 with 叫停;
- b4 (rural): never observed (quality follows completion).
The default formula (domain.md I26): 100 × (0.5 completion + 0.3 quality + 0.2 rectification) − penalties.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.monthly import service
from handlers.observers import assignments, observation, rectification
from handlers.observers.forms import DEFAULT_CONFIG as OCFG
from models.monthly import MonthlyScore
from tests.monthly.conftest import CFG, QUARTER, comply, local, run_at
from tests.monthly.small import small_county

SEP = date(2026, 9, 1)


def _form(outcome: str, **overrides) -> dict:
    raw = {
        "score_prep": "14",
        "score_procedure": "18",
        "score_attendance": "13",
        "score_content": "22",
        "score_record": "9",
        "score_followup": "12",
        "comment": "整体规范",
        "outcome": outcome,
    }  # 88 of 100
    raw.update(overrides)
    return raw


def _observe(session, county, observer_key, branch, meeting, raw):
    ocfg = OCFG
    observer = county.people[observer_key]
    assignments.assign_observer(session, observer.id, branch.id)
    return observation.submit_observation(
        session, observer, meeting.id, raw, now=local(date(2026, 9, 11), 20), cfg=ocfg
    )


def test_scores_from_real_observations(session, county):
    ocfg = OCFG
    meetings = {
        b.id: comply(session, county, b, SEP, QUARTER) for b in (county.b1, county.b2, county.b3, county.b4)
    }
    _observe(session, county, "c1org", county.b1, meetings[county.b1.id], _form("合格"))
    obs2 = _observe(
        session,
        county,
        "c1dep",
        county.b2,
        meetings[county.b2.id],
        _form("责令纠正", correct_by="2026-09-20", issues="会议记录不完整"),
    )
    (rect,) = obs2.rectifications
    rectification.report_fixed(
        session, county.people["sec2"], rect.id, "已补全记录", now=local(date(2026, 9, 25)), cfg=ocfg
    )
    rectification.confirm_fixed(
        session, county.people["c1dep"], rect.id, now=local(date(2026, 9, 26)), cfg=ocfg
    )
    _observe(session, county, "c2org", county.b3, meetings[county.b3.id], _form("叫停", score_content="10"))
    session.commit()

    scores, stored = service.compute_and_store(session, SEP, now=run_at(SEP), mcfg=small_county(), cfg=CFG)
    session.commit()
    b = scores.branches

    e1 = b[county.b1.id].explanation
    assert (e1["completion"], e1["quality"], e1["quality_source"]) == (1.0, 0.88, "observers")
    assert (e1["rectification"], e1["penalties"]) == (1.0, [])
    assert b[county.b1.id].score == pytest.approx(100 * (0.5 + 0.3 * 0.88 + 0.2))  # 96.4

    e2 = b[county.b2.id].explanation
    assert e2["quality"] == 0.88 and e2["quality_source"] == "observers"
    assert e2["rectifications"] == {"due": 1, "closed_on_time": 0}
    assert e2["rectification"] == 0.0
    assert {"key": "rect_open", "count": 1} in e2["missing"]
    assert b[county.b2.id].score == pytest.approx(100 * (0.5 + 0.3 * 0.88 + 0.2 * 0.0))  # 76.4

    e3 = b[county.b3.id].explanation
    assert e3["quality"] == 0.76 and e3["quality_source"] == "observers"
    assert e3["observers"]["stops"] == 1 and e3["observers"]["grades"] == ["D"]  # 叫停 forces the lowest
    assert e3["penalties"] == [{"key": "stop", "count": 1, "points": 5.0}]
    assert b[county.b3.id].halted
    assert b[county.b3.id].score == pytest.approx(100 * (0.5 + 0.3 * 0.76 + 0.2) - 5)  # 87.8

    e4 = b[county.b4.id].explanation
    assert (e4["quality_source"], e4["observers"]) == ("proxy_completion", None)
    assert b[county.b4.id].score == 100.0

    # 落后: the bottom branch of each peer group (community: b2, rural: b3).
    lagging = {s.unit_id for s in b.values() if s.lagging}
    assert lagging == {county.b2.id, county.b3.id}

    rows = {r.unit_id: r for r in session.query(MonthlyScore).filter_by(month=SEP)}
    assert stored.inserted == 6
    assert {u: rows[u].score for u in b} == {u: s.score for u, s in b.items()}
    assert {u for u in b if rows[u].lagging} == {county.b2.id, county.b3.id}
    assert rows[county.b2.id].explanation["rectification"] == 0.0
    assert rows[county.b3.id].explanation["penalties"][0]["points"] == 5.0
