"""The yearly rating (handlers.rating): a year over without its 组织生活会 is 组织生活不经常 (seed 001), named
among the reasons and capped at 一般; a branch that held it (minutes recorded) is not named, nor is a year still
under way."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handlers.meetings.meetings import schedule_meeting
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.rating.config import DEFAULT as CFG
from handlers.rating.proposal import load_years, propose
from models import startmonth
from models.db import unit_of_work
from models.meetings import MeetingType, Minutes
from models.org import OrgUnit, Person, Role
from models.rating import RatingGrade
from tests import builders
from tests.console.people_world import TZ, build_world
from tests.rating.test_rating import fill


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        w = build_world(session)
        startmonth.set_start_month(session, date(2026, 1, 1))
        for b in ("b1", "b2"):
            fill(session, w.units[b], [95] * 12)
        # 幸福社区党支部 held its 组织生活会 on 10 December, minutes recorded.
        chen = session.get(Person, w.people["chen"])
        builders.role(session, chen, session.get(OrgUnit, w.units["b2"]), Role.SECRETARY)
        session.flush()
        meeting = schedule_meeting(
            session, chen, types=[MeetingType.ORG_LIFE], starts_at=datetime(2026, 12, 10, 1, tzinfo=UTC),
            place="会议室", topic="年度组织生活会", now=datetime(2026, 12, 1, tzinfo=UTC), cfg=MEETINGS,
        )  # fmt: skip
        session.add(Minutes(meeting_id=meeting.id, chair="陈志国", recorder="马超", topics="组织生活会",
                            submitted_at=datetime(2026, 12, 11, tzinfo=UTC), due_on=date(2026, 12, 15)))  # fmt: skip
        return w


def _proposal(session, branch_id, today):
    return propose(load_years(session, [branch_id], 2026, today=today, tz=TZ)[branch_id], CFG)


def test_a_year_without_its_org_life_meeting_is_capped_and_says_why(session_factory, world, session):
    missed = _proposal(session, world.units["b1"], date(2027, 1, 5))
    assert "全年未召开组织生活会（组织生活不经常），按规定不得评为较好及以上" in missed.sentences
    assert missed.figures["org_life_held"] is False
    held = _proposal(session, world.units["b2"], date(2027, 1, 5))
    assert held.figures["org_life_held"] is True
    assert not any("组织生活会" in s for s in held.sentences)
    assert held.grade == RatingGrade.GOOD and missed.grade == RatingGrade.AVERAGE
    assert "no_org_life" in missed.figures["caps"]
    # The year under way: nothing said yet.
    under_way = _proposal(session, world.units["b1"], date(2026, 12, 20))
    assert under_way.figures["org_life_held"] is None and under_way.grade == RatingGrade.GOOD
    assert not any("组织生活会" in s for s in under_way.sentences)
