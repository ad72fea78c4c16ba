"""The 谈心谈话 tests' branch (tests/talks/conftest.py) serves here too: 东门社区党支部 with 支委 王书记 (书记),
李委员 (组织委员), 赵委员 (宣传委员) and members 张三, 张三丰, 王小明, 陈红, 刘芳; 河西村党支部 with 孙书记 and 周杰."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handlers.meetings.meetings import schedule_meeting
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from models.meetings import Meeting, MeetingType
from models.org import Person
from tests.talks.conftest import TZ, branches, local  # noqa: F401  (fixtures and helpers shared)


def org_life_meeting(session: Session, secretary: Person, starts_at: datetime, *, now: datetime) -> Meeting:
    """The branch's 组织生活会, scheduled through the meetings feature as a secretary would."""
    meeting = schedule_meeting(
        session, secretary, types=[MeetingType.ORG_LIFE], starts_at=starts_at, place="党员活动室",
        topic="年度组织生活会", now=now, cfg=MEETINGS,
    )  # fmt: skip
    session.commit()
    return meeting
