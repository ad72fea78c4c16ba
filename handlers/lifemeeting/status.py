"""Where each branch stands with its 组织生活会 of a year: the plan, the meeting (held or not, and when), each
step's completion per person and the 整改措施 still open. One definition the chat, the reminders, the console
and the committees' digest all read, in a fixed number of statements for any number of branches."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from handlers.common import batches
from handlers.lifemeeting.config import STEPS, LifeMeetingConfig
from handlers.meetings.minutes import held_condition, meeting_counts
from handlers.meetings.types import MeetingsConfig
from handlers.talks import coverage
from handlers.talks.config import TalksConfig
from models.lifemeeting import LifeMeetingCriticism, LifeMeetingMeasure, LifeMeetingPlan, LifeMeetingStep
from models.meetings import Meeting, MeetingKind, MeetingType, Minutes


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
    # Per step (not the talks): (who is marked done, who submitted and waits for the mark). The per-person
    # lists (steps) are built from these when first asked for: a digest of 100,000 branches only asks
    # whether a step is missing (missing_steps), and five lists of every branch's people were 0.3 GB.
    marks: dict[str, tuple[set[int], set[int]]] = field(default_factory=dict)
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

    @cached_property
    def steps(self) -> dict[str, StepState]:
        """Each step across the branch's people, in the roster's order."""
        people = sorted(self.names)
        steps = {}
        for step in STEPS:
            if step == "talks":
                owed = set(self.talks.missing_people()) if self.talks else set()
                steps[step] = StepState(
                    len(people), [p for p in people if p not in owed], [], [p for p in people if p in owed]
                )
                continue
            done, waiting = self.marks.get(step, (set(), set()))
            steps[step] = StepState(
                len(people),
                [p for p in people if p in done],
                [p for p in people if p in waiting and p not in done],
                [p for p in people if p not in done and p not in waiting],
            )
        return steps

    def missing_steps(self) -> list[str]:
        """The steps someone has not completed, in the order they are taken (as steps says, without
        building its lists: everyone owed a talk is one of the branch's people)."""
        missing = []
        for step in STEPS:
            if step == "talks":
                owed = bool(self.talks and self.talks.missing_people())
            else:
                done = self.marks.get(step, (set(),))[0]
                owed = any(p not in done for p in self.names)
            if owed:
                missing.append(step)
        return missing

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


def year_bounds(year: int, cfg: LifeMeetingConfig) -> tuple[datetime, datetime]:
    lo = datetime.combine(date(year, 1, 1), time.min, tzinfo=cfg.tz).astimezone(UTC)
    hi = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=cfg.tz).astimezone(UTC)
    return lo, hi


def org_life_meetings(session: Session, branch_ids: list[int] | None, year: int, cfg: LifeMeetingConfig):
    """The year's ORG_LIFE meetings of the branches that count (not cancelled nor voided), with their
    Minutes outer-joined: a select the callers filter further (None: every branch's)."""
    lo, hi = year_bounds(year, cfg)
    return (
        select(Meeting.branch_id, Meeting.id, Meeting.starts_at)
        .join(
            MeetingKind, and_(MeetingKind.meeting_id == Meeting.id, MeetingKind.type == MeetingType.ORG_LIFE)
        )
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(
            *([] if branch_ids is None else [Meeting.branch_id.in_(branch_ids)]),
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
    talks: dict[int, coverage.BranchTalks] | None = None,
) -> dict[int, BranchLife]:
    """{branch id: its 组织生活会 of `year`} as of `now`: held is as the score counts a meeting held (minutes
    recorded, or started and the minutes not yet due), so the console, the digest and the points agree.
    With `until`, the 谈心谈话 are only those held by that day (a month's digest: handlers.talks.coverage);
    `talks` is that coverage when the caller has already read it (the digest), so it is not read twice.
    Statements are constant in the number of branches (handlers.common.batches)."""
    ids = sorted(set(branch_ids))
    if not ids:
        return {}
    wanted = set(ids)
    today = now.astimezone(cfg.tz).date()
    if talks is None:
        talks = coverage.coverage(session, None if batches.whole(ids) else ids, year, talks_cfg, until=until)
    result: dict[int, BranchLife] = {}
    for bid in ids:
        row = talks.get(bid)
        # The names are the coverage's own dict, shared rather than copied: at a province that is three
        # million entries (nobody writes to either).
        result[bid] = BranchLife(bid, year, row.names if row else {}, talks=row)
    plans = select(LifeMeetingPlan).where(LifeMeetingPlan.year == year)
    for batch in batches.by_ids(ids, LifeMeetingPlan.branch_id, plans):
        for plan in session.scalars(batch):
            if plan.branch_id in wanted:
                result[plan.branch_id].plan = plan
    held = held_condition(now, meetings_cfg)
    meetings = org_life_meetings(session, None, year, cfg).add_columns(held)
    for batch in batches.by_ids(ids, Meeting.branch_id, meetings):
        for bid, mid, starts_at, is_held in session.execute(batch):
            if bid not in wanted:
                continue
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
    steps = (
        select(
            LifeMeetingStep.plan_id, LifeMeetingStep.person_id, LifeMeetingStep.step,
            LifeMeetingStep.done_at, LifeMeetingStep.submitted_at,
        )
        .join(LifeMeetingPlan, LifeMeetingPlan.id == LifeMeetingStep.plan_id)
        .where(LifeMeetingPlan.year == year)
    )  # fmt: skip
    for batch in batches.by_ids(sorted(plan_ids), LifeMeetingStep.plan_id, steps):
        for plan_id, pid, step, done_at, submitted_at in session.execute(batch):
            if plan_id not in plan_ids:
                continue
            done, waiting = marks[plan_ids[plan_id]][str(step)]
            (done if done_at is not None else waiting if submitted_at is not None else set()).add(pid)
    for bid, steps in marks.items():
        result[bid].marks = {step: (done, waiting) for step, (done, waiting) in steps.items()}
    # Measures and criticism of every 组织生活会 of the year (a branch may hold more than one).
    held_ids = {mid: bid for bid, life in result.items() for mid in life.started_ids}
    year_meetings = org_life_meetings(session, None, year, cfg).with_only_columns(Meeting.id).order_by(None)
    measures = select(LifeMeetingMeasure.meeting_id, LifeMeetingMeasure.due_on, LifeMeetingMeasure.done_at)
    this_year = LifeMeetingMeasure.meeting_id.in_(year_meetings)
    for batch in batches.by_ids(sorted(held_ids), LifeMeetingMeasure.meeting_id, measures, this_year):
        for mid, due_on, done_at in session.execute(batch):
            if mid not in held_ids:
                continue
            life = result[held_ids[mid]]
            life.measures_total += 1
            if done_at is None:
                life.measures_open += 1
                life.measures_overdue += due_on < today
    criticisms = select(LifeMeetingCriticism.meeting_id)
    this_year = LifeMeetingCriticism.meeting_id.in_(year_meetings)
    for batch in batches.by_ids(sorted(held_ids), LifeMeetingCriticism.meeting_id, criticisms, this_year):
        for (mid,) in session.execute(batch):
            if mid in held_ids:
                result[held_ids[mid]].criticisms += 1
    return result


def names_of(life: BranchLife, ids: list[int], limit: int, more: str) -> str:
    shown = "、".join(life.names.get(p, "?") for p in ids[:limit])
    return shown + (more.format(n=len(ids)) if len(ids) > limit else "")
