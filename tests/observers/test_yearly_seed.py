"""`zhibu seed --months N`: the demo's observers have this year's training recorded, and the console's
观察员年度评定 page proposes a grade for each of them from the seeded forms."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from handlers.observers.forms import TAIHU
from handlers.observers.yearly_config import DEFAULT
from handlers.observers.yearly_proposal import load_years, propose, rated_pairs
from models.observer_rating import ObserverTraining
from models.observer_rating_seed import observer_training_history
from models.observers import ObserverAssignment
from models.observers_seed import observers_history
from models.seed import HISTORY_GENERATORS, seed

NOW = datetime(2026, 12, 3, 2, tzinfo=UTC)


def test_the_demo_has_training_and_proposals(session):
    # The training reads the assignments the observers' history writes: it runs after it.
    assert HISTORY_GENERATORS.index(observers_history) < HISTORY_GENERATORS.index(observer_training_history)
    result = seed(
        session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=12, today=NOW.date(), now=NOW
    )
    session.commit()
    trainings = session.scalars(select(ObserverTraining)).all()
    assert trainings and result.rows["observer_training"] == len(trainings)
    assert all(
        t.held_on.year == 2026 and 3 <= t.held_on.month <= 12 and t.held_on <= NOW.date() for t in trainings
    )
    linked = set(session.scalars(select(ObserverAssignment.observer_id)))
    attendees = {a.observer_id for t in trainings for a in t.attendees}
    assert attendees and attendees <= linked
    pairs = rated_pairs(session, 2026, ocfg=TAIHU, keep=lambda o, c: True)
    years = load_years(session, [(o, c.id) for o, c in pairs], 2026, now=NOW, ocfg=TAIHU, cfg=DEFAULT)
    proposals = [propose(y, DEFAULT, TAIHU) for y in years.values()]
    assert proposals and all(p.grade is not None for p in proposals)
    assert all(p.sentences[-1].startswith("建议评为") for p in proposals)
