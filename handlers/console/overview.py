"""总览 (#16 item 3): the viewer's scope for one month, every figure with the list behind it.

The figures are the monthly score's own (handlers.monthly): a closed month reads the scores the
monthly run stored (what the digests said), a month without stored scores (the current one) is
scored now with handlers.monthly.service.score_month. Each branch's figures come from its score's
explanation, so "meetings held against required" is the score's definition, not a second one; a
committee's are the sums of its branches', so a figure and its drill-down list agree by construction.

A month is built for the whole organisation at once (build_month_data: a constant number of
statements whatever the number of branches, committees added up once) and kept per console process
(MonthCache): a viewer's page is that month filtered by the viewer's Scope (view_of, Scope.sees_unit),
and the lists under a unit (escalations, rectifications, meetings, attendance) are queried with
Scope.unit_clause. So no page scores a month or decodes thousands of explanations, except the
process's first look at it. Plain functions over a Session; nothing here writes.
"""

from __future__ import annotations

import gc
import logging
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from handlers.common.dates import add_months
from handlers.console.scope import WHOLE_TREE, Scope
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.minutes import held_condition, local_calendars, meeting_counts
from handlers.meetings.types import MeetingsConfig, local_day
from handlers.monthly import service
from handlers.monthly.config import MonthlyConfig
from handlers.monthly.scoring import Unit, load_units, nearest_committee
from handlers.observers.coverage import attended_meetings
from handlers.observers.forms import ObserversConfig
from handlers.observers.periods import coverage_bounds, day_start_utc, period_name
from models.meetings import (
    Attendance,
    AttendanceStatus,
    Invitee,
    LeaveRequest,
    Meeting,
    MeetingKind,
    MeetingType,
    Minutes,
)
from models.monthly import Escalation, Ladder, MonthlyScore
from models.observers import ObserverAssignment, Rectification, RectificationStatus, invalidated_meeting_ids
from models.org import OrgUnit, Person, UnitKind

TREND_MONTHS = 12
LIST_LIMIT = 200  # escalation and rectification lists show this many; their counts are always whole
SUBMITTED = ("submitted", "approved")  # a plan the branch has handed in (PlanStatus values)
UNIT_LADDERS = (Ladder.COMMITTEE, Ladder.BRANCH)
# How old a month's figures may be shown (the current month's scores, coverage, rectifications and
# escalations) before a background rebuild; stored scores are never shown older than they are.
LIVE_TTL = timedelta(minutes=3)

log = logging.getLogger(__name__)


class NotInScope(LookupError):
    """The object does not exist or the viewer's scope does not hold it: the page answers 404."""


def current_month(now: datetime, cfg: MeetingsConfig) -> date:
    return local_day(now, cfg).replace(day=1)


@dataclass(slots=True)  # a month holds one per branch: slots keep a city's month small
class Figures:
    """The overview's numbers for a set of branches: sums, so a unit's are its branches' added up."""

    branches: int = 0
    plans: int = 0  # plans handed in (待审核 or 已备案)
    plans_on_time: int = 0
    held: float = 0.0  # meetings held, as the score credits them (a quarterly type a third a month…)
    required: float = 0.0
    present: int = 0  # attendance rows 出席/迟到 of the month's meetings that count
    attendance: int = 0
    minutes_on_time: int = 0
    minutes_due: int = 0
    members: int = 0
    paid: int = 0  # members minus the score's unpaid for the month
    observed: int = 0  # branches an observer attended this coverage period (每半年至少列席一次)
    observers_assigned: int = 0
    rect_open: int = 0  # 整改 not 销号 at the month's end
    escalations: int = 0  # ladder notices still running at the month's end

    def add(self, other: Figures) -> None:
        for name in _FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def rate(num: float, den: float) -> float | None:
        return num / den if den else None

    @property
    def meetings_rate(self) -> float | None:
        return self.rate(self.held, self.required)

    @property
    def attendance_rate(self) -> float | None:
        return self.rate(self.present, self.attendance)

    @property
    def minutes_rate(self) -> float | None:
        return self.rate(self.minutes_on_time, self.minutes_due)

    @property
    def fees_rate(self) -> float | None:
        return self.rate(self.paid, self.members)

    @property
    def plans_rate(self) -> float | None:
        return self.rate(self.plans, self.branches)

    @property
    def coverage_rate(self) -> float | None:
        return self.rate(self.observed, self.branches)


_FIGURES = tuple(f.name for f in fields(Figures))


@dataclass(slots=True)
class Row:
    """One unit as the overview lists it: its score and rank (handlers.monthly.ranking) and figures."""

    unit_id: int
    name: str
    kind: str
    score: float | None
    rank: int
    group_size: int
    peer_group: str
    lagging: bool
    lag_reasons: list[str]
    explanation: dict[str, Any]
    figures: Figures = field(default_factory=Figures)
    committee_id: int | None = None
    branch_ids: list[int] = field(default_factory=list)  # a committee row: its branches
    ancestors: frozenset[int] = frozenset()  # a branch row: the units above it (and itself)


@dataclass
class TrendPoint:
    month: date
    score: float | None  # the branches' mean score
    lagging: int  # branches 落后
    branches: int


@dataclass
class MonthData:
    """The whole organisation's figures for one month, built once (build_month_data) and then only
    read: every viewer's MonthView is a filter over it (nothing copies or edits its rows)."""

    month: date
    version: tuple  # the stored scores' (rows, last update, revisions) it was built from; () scored now
    built_at: datetime
    coverage_period: str  # e.g. 2026年下半年
    units: dict[int, Unit]  # every active unit
    branches: dict[int, Row]
    committees: dict[int, Row]  # with a score of their own; figures: the branches whose committee it is
    own_escalations: dict[int, int]  # a unit other than a branch → its open escalations
    total: Figures  # every branch's figures added up, and every unit's escalations
    trends: dict[tuple, list[TrendPoint]] = field(default_factory=dict)  # a scope's stored trend
    # A month scored now: each unit's whole explanation, for the 月积分台账's reasons (handlers.ledgers.
    # scores); a stored month's are in its rows, which the ledger reads itself.
    explanations: dict[int, dict[str, Any]] = field(default_factory=dict)
    paths: list[tuple[str, int]] = field(default_factory=list)  # (path, unit) in path order

    def __post_init__(self) -> None:
        self.paths = sorted((u.path, uid) for uid, u in self.units.items())

    @property
    def stored(self) -> bool:
        return bool(self.version)

    def under(self, prefix: str) -> list[int]:
        """The units whose path starts with `prefix` (a subtree), found by bisection."""
        lo = bisect_left(self.paths, (prefix,))
        hi = bisect_left(self.paths, (prefix + "\U0010ffff",), lo)
        return [uid for _, uid in self.paths[lo:hi]]


@dataclass
class MonthView:
    """One viewer's share of a month: the MonthData filtered by the viewer's Scope."""

    data: MonthData
    units: dict[int, Unit]  # every unit in scope
    branches: dict[int, Row]
    committees: dict[int, Row]  # in scope, so wholly (a scope holds whole subtrees and branches)
    own_escalations: dict[int, int]  # unit → its open escalations (before adding up)
    everything: bool = False

    @property
    def month(self) -> date:
        return self.data.month

    @property
    def stored(self) -> bool:  # the scores the monthly run stored (a closed month); else scored now
        return self.data.stored

    @property
    def coverage_period(self) -> str:
        return self.data.coverage_period

    @property
    def built_at(self) -> datetime:
        return self.data.built_at

    def figures(self, unit_id: int | None = None) -> Figures:
        """The scope's figures (unit_id None) or those of one unit in it: its branches' sums, and
        the escalations of the units above them (a committee's own)."""
        if unit_id is None and self.everything:
            return self.data.total
        if unit_id in self.branches:
            return self.branches[unit_id].figures
        total = Figures()
        for b in self.branches_under(unit_id):
            total.add(b.figures)
        for uid, n in self.own_escalations.items():
            if unit_id is None or unit_id == uid or unit_id in self.units[uid].ancestors():
                total.escalations += n
        return total

    def branches_under(self, unit_id: int | None) -> list[Row]:
        if unit_id is None:
            return list(self.branches.values())
        return [r for r in self.branches.values() if unit_id in r.ancestors]

    def rows(self, unit_id: int | None = None) -> list[Row]:
        """What a page lists, lagging units first (the ranking's 落后 flag), then by score.

        The overview (unit_id None): a committee wholly in scope is one row (its branches added up
        when the month was built; its score is the committee's roll-up), any other branch is a row of
        its own. A unit's page: its branches."""
        if unit_id is not None:
            out = self.branches_under(unit_id)
        else:
            out = [c for c in self.committees.values() if c.branch_ids]
            out += [r for r in self.branches.values() if r.committee_id not in self.committees]
        return sorted(out, key=lambda r: (not r.lagging, r.score if r.score is not None else -1.0, r.name))


# What the console reads of a branch score's explanation (handlers.monthly.scoring.score_branch).
EXPLANATION_KEYS = ("plan", "attendance", "minutes", "fees", "meetings", "lagging")
SHOWN_KEYS = ("plan", "meetings")  # what a branch's page shows of it besides the figures


def _row(unit: Unit, score, rank, size, lagging, group, exp, committee_id) -> Row:
    exp = exp or {}
    return Row(
        unit.id, unit.name, unit.kind, score, rank or 0, size or 0, group or "", bool(lagging),
        list(exp.get("lagging") or []), exp, committee_id=committee_id,
    )  # fmt: skip


def _branch_figures(exp: dict[str, Any]) -> Figures:
    """A branch's figures from its score's explanation (handlers.monthly.scoring.score_branch)."""
    plan = exp.get("plan") or {}
    att = exp.get("attendance") or {}
    mins = exp.get("minutes") or {}
    fees = exp.get("fees") or {}
    meetings = exp.get("meetings") or []
    return Figures(
        branches=1,
        plans=int(plan.get("status") in SUBMITTED),
        plans_on_time=int(bool(plan.get("on_time"))),
        held=sum(m["credit"] for m in meetings),
        required=sum(m["required"] for m in meetings),
        present=att.get("present", 0),
        attendance=att.get("total", 0),
        minutes_on_time=mins.get("on_time", 0),
        minutes_due=mins.get("due", 0),
        members=fees.get("members", 0),
        paid=fees.get("members", 0) - fees.get("unpaid", 0),
    )


def stored_version(session: Session, month: date) -> tuple:
    """(rows, last update, revisions) of the month's stored scores, () if none: it changes whenever
    the monthly run stores or recomputes the month (ranking.store bumps a changed row's revision)."""
    n, last, revisions = session.execute(
        select(func.count(), func.max(MonthlyScore.updated_at), func.sum(MonthlyScore.revision)).where(
            MonthlyScore.month == month
        )
    ).one()
    return (int(n), last, int(revisions or 0)) if n else ()


def build_month_data(
    session: Session,
    month: date,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    ocfg: ObserversConfig,
    version: tuple | None = None,
) -> MonthData:
    """Every branch's and committee's figures for the month, the whole organisation at once (a
    constant number of statements): the stored scores of a closed month (`version`, see
    stored_version), else the month scored now (handlers.monthly.service.score_month)."""
    month = month.replace(day=1)
    if version is None:
        version = stored_version(session, month) if month < current_month(now, cfg) else ()
    units = load_units(session)
    branches: dict[int, Row] = {}
    committees: dict[int, Row] = {}
    explanations: dict[int, dict[str, Any]] = {}
    if version:
        exp_cols = [MonthlyScore.explanation[k] for k in EXPLANATION_KEYS]  # only these are decoded
        for uid, score, rank, size, lagging, group, *exp in session.execute(
            select(
                MonthlyScore.unit_id, MonthlyScore.score, MonthlyScore.rank, MonthlyScore.group_size,
                MonthlyScore.lagging, MonthlyScore.peer_group, *exp_cols,
            ).where(MonthlyScore.month == month)
        ):  # fmt: skip
            u = units.get(uid)
            if u is None:
                continue
            target = branches if u.kind == UnitKind.BRANCH else committees
            target[uid] = _row(
                u, score, rank, size, lagging, group, dict(zip(EXPLANATION_KEYS, exp, strict=True)), None
            )
        parents: dict[int | None, int | None] = {}  # siblings share their nearest committee
        for r in branches.values():
            u = units[r.unit_id]
            if u.parent_id not in parents:
                parents[u.parent_id] = nearest_committee(u, units)
            r.committee_id = parents[u.parent_id]
    else:
        scores = service.score_month(session, month, now=now, mcfg=mcfg, cfg=cfg)
        for target, items in ((branches, scores.branches), (committees, scores.committees)):
            for uid, s in items.items():
                u = units.get(uid)
                if u is not None:
                    explanations[uid] = s.explanation
                    exp = {k: s.explanation[k] for k in EXPLANATION_KEYS if k in s.explanation}
                    target[uid] = _row(u, s.score, s.rank, s.group_size, s.lagging, s.peer_group, exp,
                                       s.committee_id if u.kind == UnitKind.BRANCH else None)  # fmt: skip
    for r in branches.values():
        r.figures = _branch_figures(r.explanation)
        r.explanation = {k: r.explanation.get(k) for k in SHOWN_KEYS}  # the rest is in the figures now
        r.ancestors = frozenset(units[r.unit_id].ancestors())
        if r.committee_id not in committees:
            r.committee_id = r.committee_id if r.committee_id in units else None

    # Observer coverage of the period holding the month's last day (or today, for this month).
    _, m_hi = month_bounds_utc(month, cfg)
    day = min(local_day(now, cfg), add_months(month, 1) - timedelta(days=1))
    for bid, n in observed_meetings(session, day, ocfg, now=now).items():
        if bid in branches:
            branches[bid].figures.observed = int(n >= ocfg.min_visits)
    for (bid,) in session.execute(
        select(ObserverAssignment.branch_id).where(ObserverAssignment.active.is_(True)).distinct()
    ):
        if bid in branches:
            branches[bid].figures.observers_assigned = 1
    for bid, n in session.execute(
        select(Rectification.branch_id, func.count())
        .where(open_rectification(m_hi))
        .group_by(Rectification.branch_id)
    ):
        if bid in branches:
            branches[bid].figures.rect_open = n
    own: dict[int, int] = {}
    for uid, n in session.execute(
        select(Escalation.unit_id, func.count()).where(open_escalation(month)).group_by(Escalation.unit_id)
    ):
        if uid in branches:
            branches[uid].figures.escalations = n
        elif uid in units:
            own[uid] = n

    # Each committee's row: the branches whose committee it is, and the escalations at or under it.
    total = Figures()
    for r in branches.values():
        total.add(r.figures)
        c = committees.get(r.committee_id)  # type: ignore[arg-type]
        if c is not None:
            c.figures.add(r.figures)
            c.branch_ids.append(r.unit_id)
    for uid, n in own.items():
        total.escalations += n
        for a in units[uid].ancestors():
            if a in committees:
                committees[a].figures.escalations += n
    return MonthData(
        month, version, now, period_name(day, ocfg), units, branches, committees, own, total,
        explanations=explanations,
    )  # fmt: skip


def view_of(data: MonthData, scope: Scope) -> MonthView:
    """The scope's share of the month: the units Scope.sees_unit, nothing copied for 组织部."""
    if scope.everything:
        return MonthView(data, data.units, data.branches, data.committees, data.own_escalations, True)
    # The subtrees the scope names, found by path; each unit is still asked of the scope (one rule).
    candidates = {uid for prefix in (*scope.roots, *scope.observed) for uid in data.under(prefix)}
    units = {uid: data.units[uid] for uid in sorted(candidates) if scope.sees_unit(data.units[uid])}  # type: ignore[arg-type]
    return MonthView(
        data,
        units,
        {uid: data.branches[uid] for uid in units if uid in data.branches},
        {uid: data.committees[uid] for uid in units if uid in data.committees},
        {uid: data.own_escalations[uid] for uid in units if uid in data.own_escalations},
    )


class MonthCache:
    """MonthData per month for one console process, shared by every viewer.

    A month with stored scores is rebuilt as soon as they change (each request checks them in one
    statement, stored_version). What else a month shows - the current month scored now, observer
    coverage, rectifications, escalations - may be up to `ttl` old: the first request that finds
    it older is answered with it as it is and starts one rebuild in the background (with its own
    session from `factory`; without a factory the request rebuilds it itself). So only a process's
    very first look at a month waits for it to be scored (seconds for a city)."""

    def __init__(
        self,
        ttl: timedelta = LIVE_TTL,
        *,
        factory: Callable[[], Session] | None = None,
        keep: int = 4,
        spawn: Callable[[Callable[[], None]], None] | None = None,
        freeze: bool = False,
    ) -> None:
        self.ttl, self.factory, self.keep = ttl, factory, keep
        # A city's month is hundreds of thousands of long-lived objects, and every full pass of the
        # cyclic garbage collector walks them all: 0.5-0.9 s with every thread stopped, every few
        # hundred requests (bench/console.py: the pages' p95). With `freeze`, each month built is
        # moved out of those passes (gc.freeze) after a collection (_put says why it thaws first);
        # a month replaced is still freed, by reference counting (nothing in a month refers
        # back to itself). Process-wide, so only a served console sets it (ConsoleApp.warm), not the
        # tests' many apps, whose cyclic garbage would then never be collected.
        self.freeze = freeze
        self.spawn = spawn or _daemon_thread  # tests run the rebuild in place
        self._data: dict[date, MonthData] = {}
        self._busy: set[date] = set()
        self._gates: dict[date, threading.Lock] = {}  # one build of a month at a time
        self._lock = threading.Lock()

    def get(
        self, session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig,
        ocfg: ObserversConfig,
    ) -> MonthData:  # fmt: skip
        month = month.replace(day=1)
        version = stored_version(session, month) if month < current_month(now, cfg) else ()
        data = self._data.get(month)
        stale = data is not None and self._stale(data, now)
        if data is None or data.version != version or (stale and self.factory is None):
            return self._build(session, month, version, now=now, mcfg=mcfg, cfg=cfg, ocfg=ocfg)
        if stale:
            self._refresh_later(month, now=now, mcfg=mcfg, cfg=cfg, ocfg=ocfg)
        return data

    def prime(
        self, session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig,
        ocfg: ObserversConfig,
    ) -> MonthData:  # fmt: skip
        """The month (get), with the whole tree's trend read ahead of the 组织部's first page."""
        data = self.get(session, month, now=now, mcfg=mcfg, cfg=cfg, ocfg=ocfg)
        _whole_tree_trend(session, data)
        return data

    def _build(self, session: Session, month: date, version: tuple, **kw) -> MonthData:
        """Build the month, one build at a time: a request that finds another thread building it (the
        start-up warm, another viewer's first look) waits for that build rather than scoring the month
        a second time alongside it, then takes what it built."""
        with self._gate(month):
            data = self._data.get(month)
            if (
                data is None
                or data.version != version
                or (self.factory is None and self._stale(data, kw["now"]))
            ):
                data = build_month_data(session, month, version=version, **kw)
                self._put(data)
            return data

    def _gate(self, month: date) -> threading.Lock:
        with self._lock:
            return self._gates.setdefault(month, threading.Lock())

    def _stale(self, data: MonthData, now: datetime) -> bool:
        return not data.built_at <= now < data.built_at + self.ttl

    def _put(self, data: MonthData) -> None:
        with self._lock:
            self._data[data.month] = data
            while len(self._data) > self.keep:  # the least recently built goes
                del self._data[min(self._data, key=lambda m: self._data[m].built_at)]
        if self.freeze:
            # gc.freeze() takes every object alive at this moment, not only the month: an in-flight
            # request's ORM session and its other cycles too, which would then outlive the request in
            # the permanent generation, a leak on every rebuild. So thaw first: the collection then also
            # frees what was frozen last time and has died since (those requests' cycles), and freezes
            # the rest again. That is one full collection per rebuild (every few minutes), not the one
            # every few hundred requests that freezing saves; freezing once only would leave later
            # months in the passes.
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    def _refresh_later(self, month: date, **kw) -> None:
        with self._lock:
            if month in self._busy:
                return
            self._busy.add(month)

        def rebuild() -> None:
            try:
                factory = self.factory
                assert factory is not None
                with self._gate(month), factory() as session:
                    data = build_month_data(session, month, **kw)
                    _whole_tree_trend(session, data)
                    self._put(data)
            except Exception:  # the stale month stays; the next request past the ttl tries again
                log.exception("rebuilding the overview of %s failed", month)
            finally:
                with self._lock:
                    self._busy.discard(month)

        self.spawn(rebuild)


def _whole_tree_trend(session: Session, data: MonthData) -> None:
    """The whole tree's trend reads every branch's twelve months (0.2 s for a city; a subtree's, a few
    ms): read when the month is built in the background, so no 组织部 page after a rebuild waits for it."""
    trend(session, WHOLE_TREE, view_of(data, WHOLE_TREE))


def _daemon_thread(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, name="console-month", daemon=True).start()


def month_view(
    session: Session,
    scope: Scope,
    month: date,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    ocfg: ObserversConfig,
    cache: MonthCache | None = None,
) -> MonthView:
    """The month's figures for every branch and committee in the scope (from `cache` when given)."""
    if cache is None:
        data = build_month_data(session, month, now=now, mcfg=mcfg, cfg=cfg, ocfg=ocfg)
    else:
        data = cache.get(session, month, now=now, mcfg=mcfg, cfg=cfg, ocfg=ocfg)
    return view_of(data, scope)


def observed_meetings(session: Session, day: date, ocfg: ObserversConfig, *, now: datetime) -> dict[int, int]:
    """Meetings an observer attended per branch in the coverage period holding `day`: the observers'
    one definition (handlers.observers.coverage.attended_meetings), for the whole tree in two
    statements (a scope's thousands of branch ids are filtered here, not bound into the SQL)."""
    start, end = coverage_bounds(day, ocfg)
    attended = attended_meetings(session, day_start_utc(start, ocfg), day_start_utc(end, ocfg), now=now)
    meetings: dict[int, set[int]] = defaultdict(set)
    for (_, meeting_id), (branch_id, _) in attended.items():
        meetings[branch_id].add(meeting_id)
    return {b: len(m) for b, m in meetings.items()}


def open_rectification(hi: datetime):
    """整改 raised before `hi` (the month's end) and not 销号 then: still open, or closed later."""
    return and_(
        Rectification.created_at < hi,
        or_(Rectification.status != RectificationStatus.CLOSED, Rectification.closed_at >= hi),
    )


def open_escalation(month: date):
    """A ladder notice of the month or before that had not ended by the month's end."""
    return and_(
        Escalation.month <= month, or_(Escalation.ended_month.is_(None), Escalation.ended_month > month)
    )


# --- the trend ------------------------------------------------------------------------------------


def trend(session: Session, scope: Scope, view: MonthView, months: int = TREND_MONTHS) -> list[TrendPoint]:
    """The branches' mean score and how many lag, for the `months` months ending with the view's:
    stored scores in one grouped statement (kept with the month's data for the next viewer of the
    same scope), the view's own month from the view when it was scored now."""
    first = add_months(view.month, -(months - 1))
    # Every whole-tree scope reads the same trend (its other paths are inside the tree).
    key = (True, (), (), months) if scope.everything else (False, scope.roots, scope.observed, months)
    stored = view.data.trends.get(key)
    if stored is None:
        stored = []
        for m, avg, lagging, n in session.execute(
            select(
                MonthlyScore.month,
                func.avg(MonthlyScore.score),
                func.sum(case((MonthlyScore.lagging.is_(True), 1), else_=0)),
                func.count(),
            )
            .join(OrgUnit, OrgUnit.id == MonthlyScore.unit_id)
            .where(
                MonthlyScore.month >= first,
                MonthlyScore.month <= view.month,
                MonthlyScore.unit_kind == UnitKind.BRANCH.value,
                scope.unit_clause(),
            )
            .group_by(MonthlyScore.month)
        ):
            stored.append(TrendPoint(m, round(float(avg), 1), int(lagging or 0), int(n)))
        view.data.trends[key] = stored
    points = {m: TrendPoint(m, None, 0, 0) for m in (add_months(first, i) for i in range(months))}
    points.update((p.month, p) for p in stored if p.month in points)
    if not view.stored and view.branches:
        rows = view.branches.values()
        points[view.month] = TrendPoint(
            view.month,
            round(sum(r.score or 0 for r in rows) / len(rows), 1),
            sum(r.lagging for r in rows),
            len(rows),
        )
    return [points[m] for m in sorted(points)]


# --- a unit, a branch, a meeting ----------------------------------------------------------------


def unit_in_scope(session: Session, scope: Scope, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not unit.active or not scope.sees_unit(unit):
        raise NotInScope(unit_id)
    return unit


@dataclass
class EscalationItem:
    id: int
    ladder: str
    rung: int
    month: date
    streak: int
    unit_id: int
    unit: str
    subject: str
    acknowledged: bool


def escalations(
    session: Session, scope: Scope, unit: OrgUnit, month: date
) -> tuple[int, list[EscalationItem]]:
    """The open escalations at or under `unit` at the month's end (the count, and the first LIST_LIMIT)."""
    where = and_(open_escalation(month), OrgUnit.path.startswith(unit.path), scope.unit_clause())
    total = session.scalar(
        select(func.count())
        .select_from(Escalation)
        .join(OrgUnit, OrgUnit.id == Escalation.unit_id)
        .where(where)
    )
    subject = func.coalesce(
        case((Escalation.ladder.in_(UNIT_LADDERS), OrgUnit.name), else_=Person.name), literal("")
    )
    rows = session.execute(
        select(
            Escalation.id, Escalation.ladder, Escalation.rung, Escalation.month, Escalation.streak,
            Escalation.unit_id, OrgUnit.name, subject, Escalation.acknowledged_at,
        )
        .join(OrgUnit, OrgUnit.id == Escalation.unit_id)
        .outerjoin(Person, and_(Person.id == Escalation.subject_id, Escalation.ladder.not_in(UNIT_LADDERS)))
        .where(where)
        .order_by(Escalation.month.desc(), Escalation.rung.desc(), Escalation.id)
        .limit(LIST_LIMIT)
    ).all()  # fmt: skip
    return total or 0, [
        EscalationItem(i, getattr(lad, "value", lad), rung, m, streak, uid, uname, subj, ack is not None)
        for i, lad, rung, m, streak, uid, uname, subj, ack in rows
    ]


@dataclass
class RectificationItem:
    id: int
    branch: str
    text: str
    due_on: date
    status: str
    overdue: bool


def rectifications(
    session: Session, scope: Scope, unit: OrgUnit, month: date, *, now: datetime, cfg: MeetingsConfig
) -> tuple[int, list[RectificationItem]]:
    _, hi = month_bounds_utc(month, cfg)
    where = and_(open_rectification(hi), OrgUnit.path.startswith(unit.path), scope.unit_clause())
    total = session.scalar(
        select(func.count())
        .select_from(Rectification)
        .join(OrgUnit, OrgUnit.id == Rectification.branch_id)
        .where(where)
    )
    today = local_day(now, cfg)
    rows = session.execute(
        select(Rectification.id, OrgUnit.name, Rectification.text, Rectification.due_on, Rectification.status)
        .join(OrgUnit, OrgUnit.id == Rectification.branch_id)
        .where(where)
        .order_by(Rectification.due_on, Rectification.id)
        .limit(LIST_LIMIT)
    ).all()
    return total or 0, [
        RectificationItem(
            i, b, t, due, getattr(st, "value", st), due < today and st != RectificationStatus.CLOSED
        )
        for i, b, t, due, st in rows
    ]


@dataclass
class MeetingLine:
    """A meeting of the branch's month, with what the month's figures count of it."""

    id: int
    title: str
    starts_at: datetime
    types: list[str]
    status: str
    counts: bool  # not cancelled, not 责令重开 (meeting_counts): its sign-ins count
    held: bool  # held by the score's definition (held_condition)
    present: int
    attendance: int
    absent: int
    leave: int
    minutes_due: bool
    minutes_on_time: bool
    minutes_submitted: datetime | None
    minutes_due_on: date | None


def branch_meetings(
    session: Session, scope: Scope, branch: OrgUnit, month: date, *, now: datetime, cfg: MeetingsConfig
) -> list[MeetingLine]:
    """The branch's meetings starting in the month (cancelled and reconvened ones too, marked), with
    their attendance and minutes counted as the score counts them: two statements."""
    if not scope.sees_unit(branch):
        raise NotInScope(branch.id)
    lo, hi = month_bounds_utc(month, cfg)
    return [line for _, line in branches_meetings(session, [branch.id], lo, hi, now=now, cfg=cfg)]


def branches_meetings(
    session: Session, branch_ids: list[int], lo: datetime, hi: datetime, *, now: datetime, cfg: MeetingsConfig
) -> list[tuple[int, MeetingLine]]:
    """The meetings of the branches starting in [lo, hi) (UTC), as (branch id, line) in each branch's
    order of time, counted as the score counts them: two statements whatever the number of branches
    or months. The one definition behind the 总览's meetings list and the 组织生活纪实台账 (which reads
    a period for a batch of branches), so the two never disagree. No scope check: callers check."""
    status = Attendance.status
    in_range = (Meeting.branch_id.in_(branch_ids), Meeting.starts_at >= lo, Meeting.starts_at < hi)
    att = (
        select(
            Attendance.meeting_id.label("mid"),
            func.count().label("n"),
            func.sum(case((status.in_((AttendanceStatus.PRESENT, AttendanceStatus.LATE)), 1), else_=0)).label(
                "p"
            ),
            func.sum(case((status == AttendanceStatus.ABSENT, 1), else_=0)).label("a"),
            func.sum(case((status == AttendanceStatus.LEAVE, 1), else_=0)).label("v"),
        )
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(*in_range)
        .group_by(Attendance.meeting_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Meeting.branch_id, Meeting.id, Meeting.title, Meeting.starts_at, Meeting.status,
            case((meeting_counts(), True), else_=False),
            case((and_(meeting_counts(), held_condition(now, cfg, local_calendars(session))), True), else_=False),
            Minutes.submitted_at, Minutes.due_on, att.c.n, att.c.p, att.c.a, att.c.v,
        )
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .outerjoin(att, att.c.mid == Meeting.id)
        .where(*in_range)
        .order_by(Meeting.branch_id, Meeting.starts_at, Meeting.id)
    ).all()  # fmt: skip
    kinds: dict[int, list[str]] = defaultdict(list)
    # The same meetings' types, selected the same way (one statement whether the range has any or not).
    for mid, t in session.execute(
        select(MeetingKind.meeting_id, MeetingKind.type)
        .join(Meeting, Meeting.id == MeetingKind.meeting_id)
        .where(*in_range)
        .order_by(MeetingKind.id)
    ):
        kinds[mid].append(getattr(t, "value", t))
    out = []
    for bid, mid, title, starts, st, counts, held, submitted, due_on, n, p, a, v in rows:
        counts, held = bool(counts), bool(held)
        # The score's rule (scoring._tally_meetings): minutes are due for a meeting that counts, has
        # started, and is recorded or no longer held for want of them; on time by the local day.
        due = counts and starts <= now and (submitted is not None or not held)
        on_time = due and submitted is not None and local_day(submitted, cfg) <= due_on
        out.append((bid, MeetingLine(
            mid, title, starts, [t for t in kinds[mid] if t in MeetingType._value2member_map_],
            getattr(st, "value", st), counts, held, int(p or 0) if counts else 0, int(n or 0) if counts else 0,
            int(a or 0), int(v or 0), due, bool(on_time), submitted, due_on,
        )))  # fmt: skip
    return out


@dataclass
class AttendanceLine:
    person_id: int
    name: str
    status: str | None  # None: invited, no row yet (before the window closes)
    method: str | None
    at: datetime | None
    reason: str | None
    leave: str | None  # the leave request's reason, if any


@dataclass
class MeetingDetail:
    meeting: Meeting
    branch: OrgUnit
    types: list[str]
    counts: bool
    held: bool
    lines: list[AttendanceLine]
    minutes: Minutes | None
    reconvene: bool  # an observer ordered it held again (责令重开)

    @property
    def present(self) -> int:
        return sum(ln.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE) for ln in self.lines)

    @property
    def recorded(self) -> int:
        return sum(ln.status is not None for ln in self.lines)


def meeting_detail(
    session: Session, scope: Scope, meeting_id: int, *, now: datetime, cfg: MeetingsConfig
) -> MeetingDetail:
    """The meeting, its attendance list (every invitee, with or without a row) and its minutes."""
    meeting = session.get(Meeting, meeting_id)
    branch = session.get(OrgUnit, meeting.branch_id) if meeting is not None else None
    if meeting is None or branch is None or not scope.sees_unit(branch):
        raise NotInScope(meeting_id)
    counts, held, reconvene = session.execute(
        select(
            case((meeting_counts(), True), else_=False),
            case(
                (and_(meeting_counts(), held_condition(now, cfg, local_calendars(session))), True),
                else_=False,
            ),
            # an observer ordered it held again (责令重开): the meetings feature's one query for it
            case((Meeting.id.in_(invalidated_meeting_ids()), True), else_=False),
        )
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(Meeting.id == meeting.id)
    ).one()
    rows = {
        pid: (name, st, method, at, reason)
        for pid, name, st, method, at, reason in session.execute(
            select(
                Attendance.person_id,
                Person.name,
                Attendance.status,
                Attendance.method,
                Attendance.at,
                Attendance.reason,
            )
            .join(Person, Person.id == Attendance.person_id)
            .where(Attendance.meeting_id == meeting.id)
        )
    }
    invited = dict(
        session.execute(
            select(Person.id, Person.name)
            .join(Invitee, Invitee.person_id == Person.id)
            .where(Invitee.meeting_id == meeting.id)
        ).all()
    )
    leave = dict(
        session.execute(
            select(LeaveRequest.person_id, LeaveRequest.reason).where(LeaveRequest.meeting_id == meeting.id)
        ).all()
    )
    lines = []
    for pid in sorted(set(rows) | set(invited), key=lambda i: (rows.get(i, (invited.get(i),))[0] or "", i)):
        if pid in rows:
            name, st, method, at, reason = rows[pid]
            lines.append(
                AttendanceLine(
                    pid,
                    name,
                    getattr(st, "value", st),
                    getattr(method, "value", method),
                    at,
                    reason,
                    leave.get(pid),
                )
            )
        else:
            lines.append(AttendanceLine(pid, invited[pid], None, None, None, None, leave.get(pid)))
    types = [getattr(k.type, "value", k.type) for k in meeting.kinds]
    return MeetingDetail(
        meeting, branch, types, bool(counts), bool(held), lines, meeting.minutes, bool(reconvene)
    )
