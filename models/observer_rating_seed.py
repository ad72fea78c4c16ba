"""Demo history of the observers' yearly rating (registered on models.seed.HISTORY_GENERATORS).

The proposals themselves are worked out when the console page is opened (handlers.observers.yearly.refresh,
from the forms the observers' history wrote), so the demo shows them without storing any. What only
people record is written here: each committee whose branches have observers held one 专题培训班 this
year (太湖县: "每年至少组织一次专题培训班"), which most of its observers attended.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

# The observers' history must run first (it writes the assignments read here): importing it registers
# its generator before this module appends its own.
from models import observers_seed  # noqa: F401
from models.observer_rating import ObserverTraining, ObserverTrainingAttendee
from models.observers import ObserverAssignment
from models.org import UnitKind
from models.seed import HISTORY_GENERATORS, HistoryContext, bulk_insert

TITLES = ("组织生活观察员专题培训班", "观察员履职能力提升培训", "党内组织生活规范化专题辅导")


def observer_training_history(ctx: HistoryContext) -> dict[str, int]:
    session, rng = ctx.session, random.Random(ctx.rng.random())
    units = {u["id"]: u for u in ctx.plan.units}
    committees = sorted(
        (u for u in ctx.plan.units if u.get("kind") == UnitKind.COMMITTEE), key=lambda u: u["path"]
    )
    observers_by_committee: dict[int, set[int]] = {}
    for observer_id, branch_id in session.execute(
        select(ObserverAssignment.observer_id, ObserverAssignment.branch_id).where(
            ObserverAssignment.branch_id.in_(list(units))
        )
    ):
        path = units[branch_id]["path"]
        # The committee nearest above the branch (the deepest whose path holds it).
        above = [c for c in committees if path.startswith(c["path"])]
        if above:
            observers_by_committee.setdefault(above[-1]["id"], set()).add(observer_id)
    # This year's training, before today (none in the first weeks of January).
    first, last = date(ctx.today.year, 3, 1), ctx.today.replace(day=1)
    if last <= first:
        return {}
    next_id = (session.scalar(select(func.max(ObserverTraining.id))) or 0) + 1
    trainings, attendees = [], []
    for committee_id, observer_ids in sorted(observers_by_committee.items()):
        held_on = date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))
        trainings.append({
            "id": next_id, "unit_id": committee_id, "held_on": held_on, "title": rng.choice(TITLES),
            "hours": Decimal(rng.choice(("3", "4", "6", "3.5"))), "recorded_by_id": None,
            "created_at": ctx.now, "updated_at": ctx.now,
        })  # fmt: skip
        came = [o for o in sorted(observer_ids) if rng.random() < 0.85]
        attendees += [{"training_id": next_id, "observer_id": o} for o in came]
        next_id += 1
    bulk_insert(session, ObserverTraining.__table__, trainings)
    if attendees:  # no id column: a plain multi-row insert
        session.execute(ObserverTrainingAttendee.__table__.insert(), attendees)
    return {"observer_training": len(trainings), "observer_training_attendee": len(attendees)}


HISTORY_GENERATORS.append(observer_training_history)
