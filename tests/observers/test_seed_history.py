"""`zhibu seed --months N` also writes observers: assignments, forms and rectification items."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from handlers.observers import record, scoring
from handlers.observers.forms import TAIHU
from models.meetings import Meeting
from models.observers import Observation, ObserverAssignment, Outcome, Rectification, RectificationStatus
from models.observers_seed import observers_history
from models.org import Person
from models.seed import HISTORY_GENERATORS, seed

NOW = datetime(2026, 5, 18, 2, tzinfo=UTC)


def test_seeded_observers_follow_the_rules(session):
    assert observers_history in HISTORY_GENERATORS
    result = seed(
        session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=6, today=NOW.date(), now=NOW
    )
    session.commit()
    assert result.rows["observer_assignment"] >= 5 and result.rows["observation"] >= 5
    links = session.scalars(select(ObserverAssignment)).all()
    homes = dict(session.execute(select(Person.id, Person.branch_id)).all())
    assert all(homes[a.observer_id] != a.branch_id for a in links)  # never their own branch
    linked = {(a.observer_id, a.branch_id) for a in links}
    for obs in session.scalars(select(Observation)):
        meeting = session.get(Meeting, obs.meeting_id)
        assert (obs.observer_id, obs.branch_id) in linked and meeting.branch_id == obs.branch_id
        assert obs.meeting_starts_at == meeting.starts_at < NOW
        # The link existed when the meeting was observed (the 观察员台账 shows 联系起始 beside it).
        assert next(a for a in links if a.branch_id == obs.branch_id).created_at <= meeting.starts_at
        assert obs.total == sum(i["score"] for i in obs.items) and 0 <= obs.total <= 100
        assert obs.grade == ("D" if obs.outcome == Outcome.STOP else TAIHU.form.grade(obs.total))
    for rect in session.scalars(select(Rectification)):
        assert rect.status in (RectificationStatus.OPEN, RectificationStatus.CLOSED)
        if rect.status == RectificationStatus.CLOSED:
            assert rect.closed_at.date() <= rect.due_on
    # The use cases read it: the figures for a seeded month and every observer's record.
    month = max(o.meeting_starts_at for o in session.scalars(select(Observation))).date().replace(day=1)
    assert scoring.observer_scores(session, month, TAIHU)
    records = record.observer_records(session, 2026, now=NOW, cfg=TAIHU)
    assert records and sum(r.forms for r in records) == result.rows["observation"] - sum(
        1 for o in session.scalars(select(Observation)) if o.meeting_starts_at.year != 2026
    )
    assert date(2026, 1, 1) <= month <= NOW.date()
