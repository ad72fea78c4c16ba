"""The committees' Q4 digest section: which branches have held the 组织生活会 by the month's end, which have not,
and which still miss steps; nothing outside Q4."""

from __future__ import annotations

from datetime import date

from handlers.lifemeeting.digest import digest_section, month_status
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.talks.config import DEFAULT as TALKS
from models.lifemeeting import LifeMeetingPlan
from models.meetings import Minutes
from models.talks import HeartTalk, HeartTalkPerson
from tests.lifemeeting.conftest import local, org_life_meeting


def test_the_q4_section_names_branches_not_held_and_steps_missing(session, branches):
    east, west = branches.east, branches.west
    session.add(LifeMeetingPlan(
        branch_id=west.id, year=2026, planned_on=date(2026, 12, 28), study_due=date(2026, 12, 7),
        opinions_due=date(2026, 12, 14), talks_due=date(2026, 12, 21), materials_due=date(2026, 12, 25),
        set_by_id=branches.by_name("孙书记").id, set_at=local(date(2026, 11, 1)),
    ))  # fmt: skip
    meeting = org_life_meeting(
        session, branches.by_name("王书记"), local(date(2026, 12, 10), 9), now=local(date(2026, 12, 1))
    )
    # Held as the points count it: its minutes recorded (a meeting whose minutes are overdue is not).
    session.add(Minutes(meeting_id=meeting.id, chair="王书记", recorder="李委员", topics="组织生活会",
                        submitted_at=local(date(2026, 12, 11)), due_on=date(2026, 12, 15)))  # fmt: skip
    session.commit()
    ids = [east.id, west.id]
    names = {east.id: east.name, west.id: west.name}
    november = month_status(session, ids, date(2026, 11, 1), meetings_cfg=MEETINGS, talks_cfg=TALKS)
    assert digest_section(november, ids, names.get, 2026) == (
        "**组织生活会（2026年）**：0/2个支部已召开；未召开：东门社区党支部、河西村党支部；会前步骤未完成：东门社区党支部、河西村党支部"
    )
    december = month_status(session, ids, date(2026, 12, 1), meetings_cfg=MEETINGS, talks_cfg=TALKS)
    assert digest_section(december, ids, names.get, 2026) == (
        "**组织生活会（2026年）**：1/2个支部已召开；未召开：河西村党支部；会前步骤未完成：河西村党支部"
    )
    assert month_status(session, ids, date(2026, 9, 1), meetings_cfg=MEETINGS, talks_cfg=TALKS) == {}
    assert digest_section({}, ids, names.get, 2026) == ""


def test_a_month_s_digest_counts_only_the_talks_held_by_its_end(session, branches):
    """河西村党支部 owes one talk (孙书记 with 周杰); it is held on 5 December: November's digest, however late
    it is opened, still reads it as missing, December's does not."""
    west, people = branches.west, branches.by_name
    ids = sorted([people("孙书记").id, people("周杰").id])
    session.add(
        HeartTalk(branch_id=west.id, held_on=date(2026, 12, 5), topic="谈心", people_key=",".join(map(str, ids)),
                  recorded_at=local(date(2026, 12, 5)), participants=[HeartTalkPerson(person_id=i) for i in ids])
    )  # fmt: skip
    session.commit()
    november = month_status(session, [west.id], date(2026, 11, 1), meetings_cfg=MEETINGS, talks_cfg=TALKS)
    assert november[west.id].talks.talks == 0 and not november[west.id].talks.complete
    december = month_status(session, [west.id], date(2026, 12, 1), meetings_cfg=MEETINGS, talks_cfg=TALKS)
    assert december[west.id].talks.talks == 1 and december[west.id].talks.complete
