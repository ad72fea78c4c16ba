"""The meetings tests' small county plus observers: 钱观察 (a member of 河西村) watches 城关社区."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from handlers.meetings import meetings as meetings_uc
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from handlers.observers import assignments
from handlers.observers.forms import TAIHU
from models.org import Person, Role
from tests import builders
from tests.meetings.conftest import Org, _person, build_org, recipients, sent  # noqa: F401

CFG = TAIHU
BASE = "http://testserver"
# Mon 2026-05-18 10:00 Shanghai.
NOW = datetime(2026, 5, 18, 2, 0, tzinfo=UTC)


@dataclass
class World:
    org: Org
    observer: Person  # 钱观察, member of the other branch, assigned to org.branch
    outsider: Person  # 孔观察, an observer of nobody
    committee_secretary: Person

    def __getattr__(self, name):
        return getattr(self.org, name)


def build_world(session) -> World:
    org = build_org(session)
    observer = _person(session, "钱观察", org.other_branch, "qiangc")
    outsider = _person(session, "孔观察", org.other_branch, "konggc")
    csec = _person(session, "冯书记", None, "fengsj")
    builders.role(session, observer, org.committee, Role.OBSERVER)
    builders.role(session, csec, org.committee, Role.SECRETARY)
    session.flush()
    assignments.assign_observer(session, observer.id, org.branch.id)
    session.flush()
    return World(org, observer, outsider, csec)


@pytest.fixture
def world(session) -> World:
    w = build_world(session)
    session.commit()
    return w


def make_meeting(session, w: World, starts_at, types=("主题党日",), topic="学习党章", branch=None):
    return meetings_uc.create_meeting(
        session,
        branch_id=(branch or w.org.branch).id,
        types=list(types),
        starts_at=starts_at,
        place="党员活动室",
        topic=topic,
        now=starts_at - timedelta(days=3),
        cfg=MCFG,
    )


def full_form(outcome="合格", **overrides) -> dict:
    raw = {
        "score_prep": "14",
        "score_procedure": "18",
        "score_attendance": "13",
        "score_content": "22",
        "score_record": "9",
        "score_followup": "12",
        "comment_content": "讨论较深入",
        "comment": "整体规范",
        "outcome": outcome,
    }
    raw.update(overrides)
    return raw
