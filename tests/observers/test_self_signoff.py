"""An observer who comes to run the branch they observe (say, sent there as its 副书记) no longer signs
off its rectifications or scores its meetings: the committee's 组织委员 confirms instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from bot.core.errors import Refused
from handlers.observers import observation, rectification
from models.observers import RectificationStatus
from models.org import Role, RoleAssignment
from tests.observers.conftest import CFG, NOW, full_form, make_meeting, recipients, sent


def _reported_by_the_observer(session, world):
    """The observer orders a fix, is then made 副书记 of the branch, and reports the fix himself."""
    held = make_meeting(session, world, NOW - timedelta(days=1))
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="会议记录补齐签名")
    obs = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    (rect,) = obs.rectifications
    session.add(
        RoleAssignment(person_id=world.observer.id, org_unit_id=world.branch.id, role=Role.DEPUTY_SECRETARY)
    )
    session.flush()
    rectification.report_fixed(session, world.observer, rect.id, "已补签", now=NOW, cfg=CFG)
    return held, rect


def test_the_observer_who_runs_the_branch_cannot_sign_off_its_fix(session, world):
    held, rect = _reported_by_the_observer(session, world)
    assert recipients(session, f"observers:rect:{rect.id}:reported") == {world.reviewer.id}
    reply = rectification.rect_reported_reply(session, rect, CFG)
    assert "不能确认" in reply and "上级党委的周组织委员" in reply
    with pytest.raises(Refused, match="不能确认或退回本支部的整改"):
        rectification.confirm_fixed(session, world.observer, rect.id, now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="不能确认或退回本支部的整改"):
        rectification.reopen_rect(session, world.observer, rect.id, "再看看", now=NOW, cfg=CFG)
    assert rect.status == RectificationStatus.REPORTED and rect.closed_at is None
    assert not sent(session, f"observers:rect:{rect.id}:closed")
    # Neither may anyone else on the branch, nor a committee member without the role.
    for person in (world.secretary, world.committee_secretary):
        with pytest.raises(Refused, match="不是您负责的"):
            rectification.confirm_fixed(session, person, rect.id, now=NOW, cfg=CFG)
    rectification.confirm_fixed(session, world.reviewer, rect.id, now=NOW, cfg=CFG)
    assert rect.status == RectificationStatus.CLOSED
    (told,) = {m.payload["text"] for m in sent(session, f"observers:rect:{rect.id}:closed")}
    assert told.startswith("上级党委的周组织委员已确认整改销号")
    # Nor does he score the branch's meetings any more.
    with pytest.raises(Refused, match="不能评价本支部的会议"):
        observation.open_form(session, world.observer, held.id, now=NOW, cfg=CFG)


def test_when_nobody_else_can_sign_off_the_secretary_is_told(session, world):
    session.execute(
        delete(RoleAssignment).where(
            RoleAssignment.person_id == world.reviewer.id, RoleAssignment.role == Role.ORGANIZATION_MEMBER
        )
    )
    _held, rect = _reported_by_the_observer(session, world)
    assert not sent(session, f"observers:rect:{rect.id}:reported")
    assert "组织部" in rectification.rect_reported_reply(session, rect, CFG)
    with pytest.raises(Refused, match="不能确认或退回本支部的整改"):
        rectification.confirm_fixed(session, world.observer, rect.id, now=NOW, cfg=CFG)
    assert rect.status == RectificationStatus.REPORTED


def test_an_ordinary_observer_still_signs_off(session, world):
    held = make_meeting(session, world, NOW - timedelta(days=1))
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="补充到会名单")
    (rect,) = observation.submit_observation(
        session, world.observer, held.id, raw, now=NOW, cfg=CFG
    ).rectifications
    rectification.report_fixed(session, world.secretary, rect.id, "已补充", now=NOW, cfg=CFG)
    assert recipients(session, f"observers:rect:{rect.id}:reported") == {world.observer.id}
    assert "等待观察员确认" in rectification.rect_reported_reply(session, rect, CFG)
    with pytest.raises(Refused, match="不是您负责的"):
        rectification.confirm_fixed(session, world.reviewer, rect.id, now=NOW, cfg=CFG)
    rectification.confirm_fixed(session, world.observer, rect.id, now=NOW, cfg=CFG)
    assert rect.status == RectificationStatus.CLOSED
