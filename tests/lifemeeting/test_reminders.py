"""The daily reminders with an injected clock: nothing before a step is due, the members whose step is due and
not done get one reminder (one more once overdue), those done get none, the secretary gets the names once the
due day has come, a second run sends nothing; a measure's owner as it falls due; nothing after the meeting."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.lifemeeting.config import DEFAULT
from handlers.lifemeeting.reminders import remind
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.talks.config import DEFAULT as TALKS
from models.lifemeeting import LifeMeetingMeasure, LifeMeetingPlan, LifeMeetingStep, LifeStep
from models.outbox import OutboxMessage
from tests.lifemeeting.conftest import local, org_life_meeting

PLANNED = date(2026, 12, 20)


def _plan(session, branches) -> LifeMeetingPlan:
    plan = LifeMeetingPlan(
        branch_id=branches.east.id, year=2026, planned_on=PLANNED, study_due=date(2026, 11, 29),
        opinions_due=date(2026, 12, 6), talks_due=date(2026, 12, 13), materials_due=date(2026, 12, 17),
        set_by_id=branches.by_name("王书记").id, set_at=local(date(2026, 11, 1)),
    )  # fmt: skip
    session.add(plan)
    session.flush()
    return plan


def _run(session, day: date) -> int:
    sent = remind(session, now=local(day, 9), cfg=DEFAULT, talks_cfg=TALKS, meetings_cfg=MEETINGS)
    session.commit()
    return sent


def _sent(session, key_part: str) -> dict[str, list[int]]:
    """{dedup key: person ids} of the queued messages whose key contains `key_part`."""
    session.expire_all()
    found: dict[str, list[int]] = {}
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.contains(key_part))):
        found.setdefault(row.dedup_key, []).append(row.person_id)
    return {k: sorted(v) for k, v in found.items()}


def test_steps_due_not_due_done_and_once(session, branches):
    plan = _plan(session, branches)
    ids = {
        n: branches.by_name(n).id
        for n in ("王书记", "李委员", "赵委员", "张三", "张三丰", "王小明", "陈红", "刘芳")
    }
    # 陈红 has done the study (marked), 刘芳 submitted it (waiting for the mark: not reminded either).
    session.add_all([
        LifeMeetingStep(plan_id=plan.id, person_id=ids["陈红"], step=LifeStep.STUDY,
                        submitted_at=local(date(2026, 11, 20)), done_at=local(date(2026, 11, 21))),
        LifeMeetingStep(plan_id=plan.id, person_id=ids["刘芳"], step=LifeStep.STUDY,
                        submitted_at=local(date(2026, 11, 22))),
    ])  # fmt: skip
    session.commit()

    # Not due yet: two days before the study's due day nothing is sent.
    assert _run(session, date(2026, 11, 27)) == 0
    assert _sent(session, "lifemeeting:") == {}

    # The day before it is due: the members not done and not waiting, once.
    _run(session, date(2026, 11, 28))
    due_key = f"lifemeeting:{plan.id}:study:20261129:due"
    reminded = sorted(v for k, v in ids.items() if k not in ("陈红", "刘芳"))
    assert _sent(session, "lifemeeting:") == {due_key: reminded}
    assert _run(session, date(2026, 11, 28)) == 0  # a second run that day: nothing new
    # The due day: the members were told already; the secretary gets the names, once.
    assert _run(session, date(2026, 11, 29)) == 1
    assert _sent(session, due_key) == {due_key: reminded}
    report = _sent(session, ":report")
    assert report == {f"lifemeeting:{plan.id}:study:20261129:report": [ids["王书记"]]}
    text = session.scalar(select(OutboxMessage.payload).where(OutboxMessage.dedup_key.contains(":report")))
    assert "还有6人未完成" in str(text) and "另有1人已提交待您确认：刘芳" in str(text)

    # Overdue: one more reminder each; 张三 has now been marked done and is left out.
    session.add(LifeMeetingStep(plan_id=plan.id, person_id=ids["张三"], step=LifeStep.STUDY,
                                done_at=local(date(2026, 11, 30))))  # fmt: skip
    session.commit()
    _run(session, date(2026, 11, 30))
    overdue = _sent(session, ":study:20261129:overdue")
    assert overdue == {
        f"lifemeeting:{plan.id}:study:20261129:overdue": [p for p in reminded if p != ids["张三"]]
    }
    assert _run(session, date(2026, 12, 1)) == 0

    # A moved due day is reminded again (its key names the day).
    plan.study_due = date(2026, 12, 3)
    session.commit()
    _run(session, date(2026, 12, 2))
    assert f"lifemeeting:{plan.id}:study:20261203:due" in _sent(session, ":study:20261203")

    # Once the meeting is held nothing more about steps is sent.
    org_life_meeting(
        session, branches.by_name("王书记"), local(date(2026, 12, 10), 9), now=local(date(2026, 12, 1))
    )
    before = len(_sent(session, "lifemeeting:"))
    _run(session, date(2026, 12, 14))
    assert len(_sent(session, "lifemeeting:")) == before


def test_another_branch_and_past_plans_are_left_alone(session, branches):
    plan = _plan(session, branches)
    session.commit()
    # After the planned day the steps are no longer reminded.
    assert _run(session, PLANNED + timedelta(days=1)) == 0
    assert plan.id and _sent(session, "lifemeeting:") == {}


def test_measures_remind_their_owner_when_due_and_overdue(session, branches):
    meeting = org_life_meeting(
        session, branches.by_name("王书记"), local(date(2026, 12, 10), 9), now=local(date(2026, 12, 1))
    )
    owner = branches.by_name("张三")
    m = LifeMeetingMeasure(meeting_id=meeting.id, content="每月集中学习一次", owner_id=owner.id,
                           due_on=date(2027, 1, 31))  # fmt: skip
    done = LifeMeetingMeasure(meeting_id=meeting.id, content="已办", owner_id=owner.id, due_on=date(2027, 1, 31),
                              done_at=local(date(2027, 1, 2)))  # fmt: skip
    session.add_all([m, done])
    session.commit()
    assert _run(session, date(2027, 1, 29)) == 0
    _run(session, date(2027, 1, 30))
    assert _sent(session, "measure:") == {f"lifemeeting:measure:{m.id}:20270131:due": [owner.id]}
    assert _run(session, date(2027, 1, 31)) == 0
    _run(session, date(2027, 2, 1))
    assert f"lifemeeting:measure:{m.id}:20270131:overdue" in _sent(session, "measure:")
    assert _run(session, date(2027, 2, 2)) == 0
