"""责令重开 (domain.md §5 rule 58 ④): a meeting an observer ordered reconvened no longer counts as held,
in the score, the digest and every held-meeting count, through one definition.

September 2026 (a quarter's last month), every branch holds its 主题党日 + 党员大会 + 党课 on the 10th,
minutes on time. Then, with real observer forms (the observers feature's own use case):
- 城关社区 (b1): 责令重开, never reconvened, and 党员1乙 was absent from the voided meeting;
- 东门社区 (b2): 责令重开, reconvened on the 20th with a 主题党日 only;
- 河西村 / 河东村 (b3, b4): no observation.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from handlers.meetings.minutes import held_meeting_kinds
from handlers.monthly import service
from handlers.monthly.config import MonthlyConfig
from handlers.observers import assignments, observation
from handlers.observers.forms import DEFAULT_CONFIG as OCFG
from models.meetings import MeetingType
from tests.monthly.conftest import CFG, QUARTER, comply, local, outbox, run_at

SEP = date(2026, 9, 1)
OCT = date(2026, 10, 1)


def _reopen(session, county, observer_key, branch, meeting):
    observer = county.people[observer_key]
    assignments.assign_observer(session, observer.id, branch.id)
    raw = {"score_prep": "10", "score_procedure": "10", "score_attendance": "8", "score_content": "10",
           "score_record": "6", "score_followup": "8", "comment": "走过场，需重新召开", "outcome": "责令重开"}  # fmt: skip
    return observation.submit_observation(
        session, observer, meeting.id, raw, now=local(date(2026, 9, 11), 20), cfg=OCFG
    )


@pytest.fixture
def september(session, county):
    voided = comply(session, county, county.b1, SEP, QUARTER, absent=("党员1乙",))
    comply(session, county, county.b3, SEP, QUARTER)
    comply(session, county, county.b4, SEP, QUARTER)
    redo = comply(session, county, county.b2, SEP, QUARTER)
    session.commit()
    _reopen(session, county, "c1org", county.b1, voided)
    _reopen(session, county, "c1dep", county.b2, redo)
    comply(session, county, county.b2, SEP, (MeetingType.THEME_DAY,), day=20)  # the 主题党日 held again
    session.commit()
    run = service.run_month(session, SEP, now=run_at(SEP), send=True, base_url="", secret="",
                            mcfg=MonthlyConfig(), cfg=CFG)  # fmt: skip
    session.commit()
    return run


def _held(score) -> dict[str, int]:
    return {m["type"]: m["held"] for m in score.explanation["meetings"]}


def test_rule_58_reopened_meeting_does_not_count_as_held_in_the_score(session, county, september):
    b = september.scores.branches
    e1 = b[county.b1.id].explanation
    # Before: 主题党日 1/1, 党员大会 1/1, 党课 1/1, with only the 5-point penalty.
    assert _held(b[county.b1.id]) == {"theme_day": 0, "party_congress": 0, "party_lecture": 0}
    assert e1["items"]["meetings"] == 0.0
    assert {"key": "meeting", "type": "theme_day", "held": 0, "required": 1.0} in e1["missing"]
    assert {"key": "reopen", "count": 1} in e1["missing"]
    assert e1["penalties"] == [{"key": "reopen", "count": 1, "points": 5.0}]
    # Its sign-ins and minutes count for nothing either: no attendance or minutes item this month.
    assert e1["attendance"] == {"present": 0, "total": 0, "absent": 0, "leave": 0}
    assert e1["minutes"] == {"due": 0, "on_time": 0, "late": 0}
    assert e1["items"]["attendance"] is None and e1["items"]["minutes"] is None

    # Reconvened: the new 主题党日 counts; the voided 党员大会 and 党课 still do not; the penalty stays.
    e2 = b[county.b2.id].explanation
    assert _held(b[county.b2.id]) == {"theme_day": 1, "party_congress": 0, "party_lecture": 0}
    assert e2["penalties"] == [{"key": "reopen", "count": 1, "points": 5.0}]
    assert e2["minutes"] == {"due": 1, "on_time": 1, "late": 0}
    assert _held(b[county.b3.id]) == {"theme_day": 1, "party_congress": 1, "party_lecture": 1}
    assert b[county.b1.id].score < b[county.b2.id].score < b[county.b3.id].score


def test_rule_58_every_count_of_held_meetings_agrees_with_the_score(session, county, september):
    """held_meeting_kinds (the listing) and the score read the same definition."""
    listed = Counter(
        (branch, t.value) for branch, t, *_ in held_meeting_kinds(session, SEP, OCT, CFG, now=run_at(SEP))
    )
    for s in september.scores.branches.values():
        for m in s.explanation["meetings"]:
            assert listed[(s.unit_id, m["type"])] == m["held"], (s.name, m)
    assert not any(branch == county.b1.id for branch, _ in listed)


def test_rule_58_the_digest_shows_the_voided_meeting_as_not_held(session, county, september):
    (card,) = [m.payload for m in outbox(session, f"monthly:digest:{county.b1.id}:")]
    assert "主题党日 0/1" in card["text"] and "支部党员大会 0/1" in card["text"]
    assert "被责令重开1次" in card["text"] or "责令重开1次" in card["text"]
    # The absent list matches the attendance figures: the voided meeting's absentee is not named (the
    # year's 谈心谈话 line after it names members still owed a talk, 党员1乙 among them).
    attendance = card["text"].split("谈心谈话（")[0]
    assert "党员1乙" not in attendance and "本月没有签到记录" in attendance
    (card2,) = [m.payload for m in outbox(session, f"monthly:digest:{county.b2.id}:")]
    assert "主题党日 1/1" in card2["text"]


def test_rule_22_not_due_yet_is_judged_on_the_branch_calendar(session, county, observers):
    """The one definition's "minutes not due yet" follows each branch's working days (rule 22, within
    3 working days; local days off from the shared calendar): a 主题党日 on Thu 24 September without
    minutes is overdue on 1 October for 城关社区 (due 30 September), but not for 河西村, whose 河西乡党委
    took 29 September off (due 8 October, after 国庆): there it still counts as held."""
    from models.fees import LocalHoliday
    from models.meetings import Minutes

    national = comply(session, county, county.b1, SEP, (MeetingType.THEME_DAY,), day=24)
    local_day_off = comply(session, county, county.b3, SEP, (MeetingType.THEME_DAY,), day=24)
    session.query(Minutes).filter(Minutes.meeting_id.in_([national.id, local_day_off.id])).delete()
    session.add(LocalHoliday(org_unit_id=county.c2.id, day=date(2026, 9, 29), name="乡庆"))
    session.commit()
    b = service.score_month(session, SEP, now=run_at(SEP), mcfg=MonthlyConfig(), cfg=CFG).branches
    assert _held(b[county.b1.id])["theme_day"] == 0
    assert b[county.b1.id].explanation["minutes"] == {"due": 1, "on_time": 0, "late": 1}
    assert _held(b[county.b3.id])["theme_day"] == 1
    assert b[county.b3.id].explanation["minutes"] == {"due": 0, "on_time": 0, "late": 0}
    listed = {branch for branch, *_ in held_meeting_kinds(session, SEP, OCT, CFG, now=run_at(SEP))}
    assert listed == {county.b3.id}
