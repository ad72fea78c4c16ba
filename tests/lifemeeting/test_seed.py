"""`zhibu seed --months N` on the demo: the current year's 组织生活会 part-way through, consistent with the
meetings seeded (a branch whose 组织生活会 has begun has its minutes; a plan's steps are only those due)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select

from handlers.lifemeeting.config import DEFAULT, STEPS
from handlers.lifemeeting.status import branch_status
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.talks.config import DEFAULT as TALKS
from models.lifemeeting import (
    LifeMeetingCriticism,
    LifeMeetingMeasure,
    LifeMeetingPlan,
    LifeMeetingStep,
    LifeStep,
)
from models.seed import seed

TODAY = date(2026, 12, 10)
NOW = datetime(2026, 12, 10, 4, 0, tzinfo=UTC)


def test_the_demo_shows_the_year_part_way_through(session):
    result = seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=TODAY, now=NOW)
    session.commit()
    assert "lifemeeting_history" in result.history_ran
    assert result.history_ran.index("meetings_history") < result.history_ran.index("lifemeeting_history")
    plans = session.scalars(select(LifeMeetingPlan)).all()
    assert plans and all(p.year == 2026 and p.study_due < p.materials_due <= p.planned_on for p in plans)
    # Steps only where due by a few days from today; some still wait for the secretary's mark.
    late = session.scalar(
        select(func.count()).select_from(LifeMeetingStep).where(LifeMeetingStep.submitted_at > NOW)
    )
    assert late == 0
    assert session.scalar(
        select(func.count()).select_from(LifeMeetingStep).where(LifeMeetingStep.done_at.is_(None))
    )
    lives = branch_status(
        session,
        [p.branch_id for p in plans],
        2026,
        now=NOW,
        cfg=DEFAULT,
        talks_cfg=TALKS,
        meetings_cfg=MEETINGS,
    )
    held = [life for life in lives.values() if life.held]
    not_held = [life for life in lives.values() if not life.held]
    assert held and not_held  # part-way through: some branches have held it, others not yet
    assert session.scalar(select(func.count()).select_from(LifeMeetingCriticism)) > 0
    assert session.scalar(select(func.count()).select_from(LifeMeetingMeasure)) > 0


def _summary(lives):
    return {
        bid: (
            life.plan.id if life.plan else None, life.held_meeting_id, life.held_at, life.next_meeting_at,
            life.started_ids, {s: (st.required, st.done, st.waiting, st.missing) for s, st in life.steps.items()},
            life.measures_total, life.measures_open, life.measures_overdue, life.criticisms, sorted(life.names),
        )
        for bid, life in lives.items()
    }  # fmt: skip


def test_the_whole_organisation_read_matches_the_read_by_id_lists(session, monkeypatch):
    """Above one IN list of branches the status reads the year's rows of the whole organisation once and keeps
    the asked ones (a province's 100,000 branches would be 100 statements per table): the same answer, for
    all the branches and for a part, and nothing of another year."""
    from handlers.common import batches

    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=TODAY, now=NOW)
    session.commit()
    ids = sorted({p.branch_id for p in session.scalars(select(LifeMeetingPlan))})
    part = ids[::2]
    kw = {"now": NOW, "cfg": DEFAULT, "talks_cfg": TALKS, "meetings_cfg": MEETINGS}
    everyone = _summary(branch_status(session, ids, 2026, **kw))
    some = _summary(branch_status(session, part, 2026, **kw))
    last_year = _summary(branch_status(session, ids, 2025, **kw))
    assert any(row[1] for row in everyone.values()) and any(row[6] for row in everyone.values())
    monkeypatch.setattr(batches, "CHUNK", 1)
    assert _summary(branch_status(session, ids, 2026, **kw)) == everyone
    assert _summary(branch_status(session, part, 2026, **kw)) == some
    assert set(some) == set(part)
    # The digest's quick answer (missing_steps, no per-person lists) is the lists' answer, also for a
    # branch where everyone has done 学习研讨 (marked done) and a step some have only submitted.
    first = branch_status(session, ids[:1], 2026, **kw)[ids[0]]
    study = LifeStep("study")
    session.execute(
        delete(LifeMeetingStep).where(LifeMeetingStep.plan_id == first.plan.id, LifeMeetingStep.step == study)
    )
    session.add_all(
        LifeMeetingStep(plan_id=first.plan.id, person_id=pid, step=study, done_at=NOW) for pid in first.names
    )
    session.flush()
    lives = branch_status(session, ids, 2026, **kw).values()
    quick = {life.branch_id: life.missing_steps() for life in lives}
    assert "study" not in quick[ids[0]] and all("study" in quick[b] for b in ids[1:])
    assert quick == {life.branch_id: [s for s in STEPS if life.steps[s].not_done] for life in lives}
    whole_last_year = _summary(branch_status(session, ids, 2025, **kw))
    assert whole_last_year == last_year
    assert not any(row[0] or row[1] or row[6] or row[9] for row in whole_last_year.values())
