"""Where each branch stands with its 组织生活会 of a year: the plan, the meeting (held or not, and when), each
step's completion per person and the 整改措施 still open. One definition the chat, the reminders, the console
and the committees' digest all read, in a fixed number of statements for any number of branches."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from handlers.lifemeeting.config import STEPS, LifeMeetingConfig
from handlers.meetings.minutes import held_condition, meeting_counts
from handlers.meetings.types import MeetingsConfig
from handlers.talks import coverage
from handlers.talks.config import TalksConfig
from models.lifemeeting import LifeMeetingCriticism, LifeMeetingMeasure, LifeMeetingPlan, LifeMeetingStep
from models.meetings import Meeting, MeetingKind, MeetingType, Minutes

_CHUNK = 1000


@dataclass
class StepState:
    """One step across the branch's people: who is done, who submitted and waits for the secretary's mark."""

    required: int = 0
    done: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # submitted, not yet marked done
    missing: list[int] = field(default_factory=list)  # neither (the talks step: not talked with as owed)

    @property
    def not_done(self) -> list[int]:
        return self.waiting + self.missing


@dataclass
class BranchLife:
    branch_id: int
    year: int
    names: dict[int, str] = field(default_factory=dict)  # the branch's people (members and 支委)
    plan: LifeMeetingPlan | None = None
    held_meeting_id: int | None = None
    held_at: datetime | None = None
    next_meeting_at: datetime | None = None  # scheduled, not yet started
    started_ids: list[int] = field(default_factory=list)  # the year's ORG_LIFE meetings begun, in time order
    steps: dict[str, StepState] = field(default_factory=dict)
    measures_total: int = 0
    measures_open: int = 0
    measures_overdue: int = 0
    criticisms: int = 0
    # The 谈心谈话 step is read from the talks recorded (handlers.talks.coverage): a person is done once every
    # talk owed to them is held, so its per-person count moves late; what is owed is counted in talks here.
    talks: coverage.BranchTalks | None = None

    @property
    def held(self) -> bool:
        return self.held_meeting_id is not None

    def missing_steps(self) -> list[str]:
        """The steps someone has not completed, in the order they are taken."""
        return [s for s in STEPS if self.steps.get(s) and self.steps[s].not_done]

    def talks_owed(self, person_id: int) -> tuple[list[int], bool, bool]:
        """What `person_id` still needs for the 谈心谈话 step: (the 支委 they have not yet talked with, if they
        are one; no talk yet with a 支委 or the 书记, for a member; no talk yet with another member)."""
        row = self.talks
        if row is None:
            return [], False, False
        others = [b if a == person_id else a for a, b in row.committee_missing if person_id in (a, b)]
        return others, person_id in row.members_missing, person_id in row.peers_missing

    def person_state(self, person_id: int, step: str) -> str:
        state = self.steps.get(step)
        if state is None or person_id in state.done:
            return "done"
        return "waiting" if person_id in state.waiting else "missing"


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def year_bounds(year: int, cfg: LifeMeetingConfig) -> tuple[datetime, datetime]:
    lo = datetime.combine(date(year, 1, 1), time.min, tzinfo=cfg.tz).astimezone(UTC)
    hi = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=cfg.tz).astimezone(UTC)
    return lo, hi


def org_life_meetings(session: Session, branch_ids: list[int], year: int, cfg: LifeMeetingConfig):
    """The year's ORG_LIFE meetings of the branches that count (not cancelled nor voided), with their
    Minutes outer-joined: a select the callers filter further."""
    lo, hi = year_bounds(year, cfg)
    return (
        select(Meeting.branch_id, Meeting.id, Meeting.starts_at)
        .join(
            MeetingKind, and_(MeetingKind.meeting_id == Meeting.id, MeetingKind.type == MeetingType.ORG_LIFE)
        )
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(
            Meeting.branch_id.in_(branch_ids),
            Meeting.starts_at >= lo,
            Meeting.starts_at < hi,
            meeting_counts(),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )


def branch_status(
    session: Session,
    branch_ids: list[int],
    year: int,
    *,
    now: datetime,
    cfg: LifeMeetingConfig,
    talks_cfg: TalksConfig,
    meetings_cfg: MeetingsConfig,
    until: date | None = None,
) -> dict[int, BranchLife]:
    """{branch id: its 组织生活会 of `year`} as of `now`: held is as the score counts a meeting held (minutes
    recorded, or started and the minutes not yet due), so the console, the digest and the points agree.
    With `until`, the 谈心谈话 are only those held by that day (a month's digest: handlers.talks.coverage)."""
    ids = sorted(set(branch_ids))
    if not ids:
        return {}
    today = now.astimezone(cfg.tz).date()
    talks = coverage.coverage(session, ids, year, talks_cfg, until=until)
    result: dict[int, BranchLife] = {}
    for bid in ids:
        row = talks.get(bid)
        result[bid] = BranchLife(bid, year, dict(row.names) if row else {}, talks=row)
    for chunk in _chunks(ids):
        for plan in session.scalars(
            select(LifeMeetingPlan).where(LifeMeetingPlan.branch_id.in_(chunk), LifeMeetingPlan.year == year)
        ):
            result[plan.branch_id].plan = plan
        held = held_condition(now, meetings_cfg)
        for bid, mid, starts_at, is_held in session.execute(
            org_life_meetings(session, chunk, year, cfg).add_columns(held)
        ):
            life = result[bid]
            if starts_at <= now:
                life.started_ids.append(mid)
            if is_held and starts_at <= now and life.held_meeting_id is None:
                life.held_meeting_id, life.held_at = mid, starts_at
            elif starts_at > now and life.next_meeting_at is None:
                life.next_meeting_at = starts_at
    plan_ids = {life.plan.id: bid for bid, life in result.items() if life.plan is not None}
    marks: dict[int, dict[str, tuple[set[int], set[int]]]] = defaultdict(
        lambda: defaultdict(lambda: (set(), set()))
    )
    for chunk in _chunks(sorted(plan_ids)):
        for plan_id, pid, step, done_at, submitted_at in session.execute(
            select(
                LifeMeetingStep.plan_id, LifeMeetingStep.person_id, LifeMeetingStep.step,
                LifeMeetingStep.done_at, LifeMeetingStep.submitted_at,
            ).where(LifeMeetingStep.plan_id.in_(chunk))
        ):  # fmt: skip
            done, waiting = marks[plan_ids[plan_id]][str(step)]
            (done if done_at is not None else waiting if submitted_at is not None else set()).add(pid)
    for bid, life in result.items():
        people = sorted(life.names)
        for step in STEPS:
            if step == "talks":
                row = talks.get(bid)
                owed = set(row.missing_people()) if row else set()
                life.steps[step] = StepState(
                    len(people), [p for p in people if p not in owed], [], [p for p in people if p in owed]
                )
                continue
            done, waiting = marks[bid][step] if bid in marks else (set(), set())
            life.steps[step] = StepState(
                len(people),
                [p for p in people if p in done],
                [p for p in people if p in waiting and p not in done],
                [p for p in people if p not in done and p not in waiting],
            )
    # Measures and criticism of every 组织生活会 of the year (a branch may hold more than one).
    held_ids = {mid: bid for bid, life in result.items() for mid in life.started_ids}
    for chunk in _chunks(sorted(held_ids)):
        for mid, due_on, done_at in session.execute(
            select(
                LifeMeetingMeasure.meeting_id, LifeMeetingMeasure.due_on, LifeMeetingMeasure.done_at
            ).where(LifeMeetingMeasure.meeting_id.in_(chunk))
        ):
            life = result[held_ids[mid]]
            life.measures_total += 1
            if done_at is None:
                life.measures_open += 1
                life.measures_overdue += due_on < today
        for (mid,) in session.execute(
            select(LifeMeetingCriticism.meeting_id).where(LifeMeetingCriticism.meeting_id.in_(chunk))
        ):
            result[held_ids[mid]].criticisms += 1
    return result


def names_of(life: BranchLife, ids: list[int], limit: int, more: str) -> str:
    shown = "、".join(life.names.get(p, "?") for p in ids[:limit])
    return shown + (more.format(n=len(ids)) if len(ids) > limit else "")
