"""Monthly scores per branch, rolled up per committee, with an explanation of every number.

A constant number of SQL statements whatever the number of branches: every input is read for the
whole organisation at once (GROUP BY branch) and combined in memory.

The cyclic garbage collector runs meanwhile (issue #13 point 7: pausing it stopped it for the whole
threaded server). A full collection walks every object of the process, and CPython starts one when
the objects that outlived two younger collections since the last one exceed a quarter of all
long-lived objects. So the month is read and tallied into objects the collector does not keep:
rows as tuples of plain values (enum columns read as their strings, see _run), counts in dicts of
ints, no container per branch and meeting type. What stays is the units and the scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Date, Enum, String, and_, func, null, select, type_coerce
from sqlalchemy.orm import Session

from handlers.common.dates import add_months, period_bounds
from handlers.common.roles import units_with_roles
from handlers.fees.payments import COUNTS_AS_PAID
from handlers.fees.policy import Policy, PolicyBook
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.minutes import local_calendars, meeting_counts, meeting_records, menu_shortfall
from handlers.meetings.plans import plan_deadline
from handlers.meetings.types import MeetingsConfig, Period
from handlers.monthly import observers_bridge
from handlers.monthly.config import MonthlyConfig, QuarterMode
from models.base import UTCDateTime
from models.fees import FeeExemption, FeePayment
from models.meetings import (
    Attendance,
    AttendanceStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MonthlyPlan,
    PlanStatus,
)
from models.org import (
    BRANCH_COMMITTEE_ROLES,
    MemberStatus,
    OrgUnit,
    Person,
    Role,
    UnitKind,
)
from models.workcalendar import WorkCalendar

# The one empty list every score without penalties or missing items shares: a month's scores are
# read, stored and rendered, never changed in place, and thousands of empty lists would each be one
# more object for the collector to walk.
NO_ITEMS: list = []
COMMITTEE_GROUP = "committee"  # committees' peer groups are "committee:<kind>" (MonthlyConfig.committee_kind)


def committee_peer_group(unit_id: int, name: str, mcfg: MonthlyConfig) -> str:
    return f"{COMMITTEE_GROUP}:{mcfg.committee_kind(unit_id, name).key}"


class Unit(NamedTuple):
    """An organisation unit as scoring reads it, plain values only. Unlike a plain tuple, a named
    tuple stays tracked by the collector (CPython untracks exact tuples only): a month's units are
    the one input it keeps, as they are read by the digest, ladders and console from MonthScores."""

    id: int
    kind: str
    name: str
    path: str
    parent_id: int | None
    category: str | None

    def ancestors(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


@dataclass(slots=True)  # no __dict__: a month's scores are 10,000 objects fewer for the collector
class UnitScore:
    unit_id: int
    name: str
    kind: str
    peer_group: str
    score: float
    committee_id: int | None = None
    members: int = 0
    halted: bool = False
    explanation: dict[str, Any] = field(default_factory=dict)
    rank: int = 0
    group_size: int = 0
    lagging: bool = False
    lag_reasons: list[str] = field(default_factory=lambda: NO_ITEMS)  # set by ranking.rank_group


@dataclass
class MonthScores:
    month: date
    units: dict[int, Unit]
    branches: dict[int, UnitScore]
    committees: dict[int, UnitScore]

    def all(self) -> list[UnitScore]:
        return [*self.branches.values(), *self.committees.values()]


# --- reading the organisation ----------------------------------------------------------------------


def _run(session: Session, stmt):
    """Execute a column select on the session's connection, skipping the ORM result layer; all rows.

    Every statement here selects plain columns, so the ORM adds nothing but per-row overhead
    (about a fifth of compute_month's time on SQLite at county scale). load_month flushes once first,
    so pending changes are still seen, as the session's autoflush would have done.

    The rows come back as plain tuples, and enum columns as their stored strings (the members'
    values: StrEnum members compare and hash as them). A SQLAlchemy Row, or a tuple holding an enum
    member, stays tracked by the cyclic collector for its whole life; a tuple of plain values is
    dropped from tracking at the collector's first pass, so a month's tens of thousands of input
    rows are never promoted towards a full collection (see the module's docstring).
    """
    plain = stmt.with_only_columns(
        *(type_coerce(c, String) if isinstance(c.type, Enum) else c for c in stmt.selected_columns)
    )
    conn = session.connection()
    result = conn.execute(plain)
    conversions = _driver_conversions(conn.dialect, plain.selected_columns)
    if conversions is not None:
        # The driver's rows are plain tuples, and its values the ones SQLAlchemy would give, or
        # (SQLite's text dates, its 0/1 booleans) made so here with C-level parsers: no Row is built
        # per row at all, and no Python call per value but the parse.
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        return _converted(rows, conversions) if conversions and rows else rows
    # Fetched 250 rows at a time (not row by row), so the Rows of one batch are gone before the
    # next: no more than that many are ever alive for a collection to find and promote.
    return [tuple(r) for rows in result.partitions(250) for r in rows]


def _utc_from_text(value: str) -> datetime:
    """SQLite's naive UTC text as an aware datetime. Parsed with its offset appended, which is a
    tenth of the time of parsing it naive and then replace(tzinfo=UTC): 20 ms of the city's 26,000
    meeting rows against 2 ms. Text already carrying an offset (or a bare date) is parsed as is."""
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _driver_conversions(dialect, columns) -> list[tuple[int, Any]] | None:
    """How to make the driver's values the ones wanted, as (column index, converter) for the columns
    that need one, or None where SQLAlchemy's own result step must run.

    Counts, ids and strings need none. On PostgreSQL psycopg's datetimes are aware and in UTC, the
    session's zone (models.db.make_engine sets it), as UTCDateTime's result step would make them. On
    SQLite dates and datetimes are ISO text (UTC for UTCDateTime) and booleans 0/1: parsed by
    datetime.fromisoformat, a third of the time of SQLAlchemy's step at city scale, where a month's
    meeting rows are 26,000, of two datetimes each."""
    out = []
    for i, c in enumerate(columns):
        if c.type.dialect_impl(dialect).result_processor(dialect, None) is None:
            continue
        if dialect.name == "postgresql" and isinstance(c.type, UTCDateTime):
            continue
        if dialect.name != "sqlite":
            return None
        if isinstance(c.type, UTCDateTime):
            out.append((i, _utc_from_text))
        elif isinstance(c.type, Date):
            out.append((i, date.fromisoformat))
        elif isinstance(c.type, Boolean):
            out.append((i, bool))
        else:
            return None
    return out


def _converted(rows: list[tuple], conversions: list[tuple[int, Any]]) -> list[tuple]:
    """The rows with their columns converted, column by column: the rows are turned into columns and
    back by zip, in C, so a row costs one new tuple rather than a list and a tuple."""
    columns: list[Any] = list(zip(*rows, strict=True))
    for i, convert in conversions:
        column = columns[i]
        if None in column:
            columns[i] = [None if v is None else convert(v) for v in column]
        else:
            columns[i] = map(convert, column)
    return list(zip(*columns, strict=True))


def load_units(session: Session) -> dict[int, Unit]:
    rows = _run(
        session,
        select(OrgUnit.id, OrgUnit.kind, OrgUnit.name, OrgUnit.path, OrgUnit.parent_id, OrgUnit.category)
        .where(OrgUnit.active.is_(True))
        # In id order on both databases: the branches are scored, and the committees rolled up, in
        # this order, which their float sums and halted_branches lists follow (PostgreSQL's heap
        # order is not the ids' once rows were deleted and their space reused).
        .order_by(OrgUnit.id),
    )
    return {r[0]: Unit._make(r) for r in rows}  # kind and category as plain strings (see _run)


def nearest_committee(unit: Unit, units: dict[int, Unit]) -> int | None:
    for uid in reversed(unit.ancestors()[:-1]):
        u = units.get(uid)
        if u is not None and u.kind == UnitKind.COMMITTEE:
            return uid
    return None


# --- obligations --------------------------------------------------------------------------------


def obligation_window(period: Period, month: date, mode: QuarterMode) -> tuple[date, date, float] | None:
    """(window start, window end, required this month) of a type, or None when nothing is due this month."""
    start, end = period_bounds(month, period.months)
    last = add_months(end, -1)
    if period == Period.MONTH:
        return start, end, 1.0
    if period == Period.QUARTER and mode == QuarterMode.SPREAD:
        return start, end, 1 / 3
    return (start, end, 1.0) if month == last else None


def spread_credit(held_to_date: int, held_before: int, k: int) -> float:
    """Spread mode: month k (1..3) of the quarter earns what the running total adds, at most a third."""
    now_c = min(held_to_date, k / 3)
    before = min(held_before, (k - 1) / 3)
    return max(0.0, min(1 / 3, now_c - before))


# --- the inputs, one statement each -----------------------------------------------------------------


def _meeting_rows(
    session: Session,
    lo: datetime,
    hi: datetime,
    now: datetime,
    cfg: MeetingsConfig,
    local: Mapping[str, WorkCalendar],
):
    """Every meeting-type record that counts in [lo, hi), with its minutes and whether it is held:
    the meetings feature's one definition (handlers.meetings.minutes.meeting_records), "not due yet"
    on each branch's working-day calendar (`local`, local_calendars)."""
    return _run(session, meeting_records(lo, hi, cfg, now=now, local=local))


def _plan_deadlines(
    month: date, branches: dict[int, Unit], cfg: MeetingsConfig, local: Mapping[str, WorkCalendar]
) -> tuple[datetime, dict[int, datetime]]:
    """The plan deadline of `month` as the meetings feature sets it (handlers.meetings.plans, rule
    G21: moved off a rest day when so configured): the national one, and each branch's own where its
    local days off (`local`, local_calendars) move it. In UTC, which compares with the submitted
    times without a zone lookup per branch."""
    national = plan_deadline(month, cfg).astimezone(UTC)
    moved = {
        path: d
        for path, cal in local.items()
        if (d := plan_deadline(month, cfg, cal).astimezone(UTC)) != national
    }
    own: dict[int, datetime] = {}
    if moved:
        # The nearest unit with local days decides, as in held_condition: deeper paths first.
        paths = sorted(local, key=len, reverse=True)
        for b in branches.values():
            nearest = next((p for p in paths if b.path.startswith(p)), None)
            if nearest in moved:
                own[b.id] = moved[nearest]
    return national, own


def _plans(session: Session, month: date) -> dict[int, tuple[str, datetime | None]]:
    """(status, submitted at) per branch; the status a PlanStatus value (see _run)."""
    stmt = select(MonthlyPlan.branch_id, MonthlyPlan.status, MonthlyPlan.submitted_at).where(
        MonthlyPlan.month == month
    )
    return {b: (s, at) for b, s, at in _run(session, stmt)}


def _attendance(session: Session, lo: datetime, hi: datetime) -> dict[int, tuple[int, int, int, int]]:
    """(records, present or late, absent, on leave) per branch for the meetings starting in [lo, hi).

    Grouped by branch alone, not by (branch, status): the database then walks the meetings in
    branch order (index on branch_id, starts_at) with no sort, a third of the time at city scale.
    """
    status = Attendance.status
    stmt = (
        select(
            Meeting.branch_id,
            func.count(),
            func.count().filter(status.in_((AttendanceStatus.PRESENT, AttendanceStatus.LATE))),
            func.count().filter(status == AttendanceStatus.ABSENT),
            func.count().filter(status == AttendanceStatus.LEAVE),
        )
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        # A meeting ordered reconvened does not count, nor do its sign-ins: the new meeting's will.
        .where(meeting_counts(), Meeting.starts_at >= lo, Meeting.starts_at < hi)
        .group_by(Meeting.branch_id)
    )
    return {b: (int(n), int(p), int(a), int(v)) for b, n, p, a, v in _run(session, stmt)}


def _makeup(session: Session, month: date, next_month: date) -> dict[int, tuple[int, int]]:
    """(补学 tasks due this month, confirmed) per branch."""
    confirmed = func.count().filter(MakeupTask.status == MakeupStatus.CONFIRMED)
    stmt = (
        select(Meeting.branch_id, func.count(), confirmed)
        .join(Meeting, Meeting.id == MakeupTask.meeting_id)
        .where(MakeupTask.due_on >= month, MakeupTask.due_on < next_month)
        .group_by(Meeting.branch_id)
    )
    return {b: (int(n), int(c)) for b, n, c in _run(session, stmt)}


def _member_counts(
    session: Session, month: date, month_end: datetime, units: dict[int, Unit], default_policy: Policy
) -> dict[int, tuple[int, int, int]]:
    """(members, full members, unpaid for `month`) per branch: one statement, one pass over the roster.

    Unpaid is the rule of handlers.fees.arrears.arrears_counts (a run of at least one month ending
    with `month`), counted in SQL because the scores need only this month's number, not each
    member's run: owing (admitted, joined_on, before the month ended), no reported or confirmed
    payment, no 免交 covering the month, and tracked by zhibu, from the policy's tracking_start if
    the branch's policy sets one, else from the month the member's roster row was created. The
    paid and exempt people are NOT IN subqueries, which both databases read once into a hash or an
    index rather than probing per member.
    """
    paid = select(FeePayment.person_id).where(
        FeePayment.month == month, FeePayment.status.in_(COUNTS_AS_PAID)
    )
    exempt = select(FeeExemption.person_id).where(
        FeeExemption.amount <= 0,
        FeeExemption.from_month <= month,
        (FeeExemption.to_month.is_(None)) | (FeeExemption.to_month >= month),
    )
    unpaid = and_(
        (Person.joined_on.is_(None)) | (Person.joined_on < add_months(month, 1)),
        Person.id.not_in(paid),
        Person.id.not_in(exempt),
    )
    book = PolicyBook(session, [], default_policy)
    # Which count a branch takes depends on its policy's tracking_start: the other is counted only if
    # some policy needs it (without policies, that is the default's one), each a probe per member.
    starts = {p.tracking_start for p in book.policies.values()} | {book.default.tracking_start}
    stmt = (
        select(
            Person.branch_id,
            func.count(),
            func.count().filter(Person.status == MemberStatus.FULL),
            func.count().filter(and_(unpaid, Person.created_at < month_end)) if None in starts else null(),
            func.count().filter(unpaid) if starts - {None} else null(),
        )
        .where(Person.active.is_(True), Person.branch_id.is_not(None))
        .group_by(Person.branch_id)
    )
    out = {}
    default_tracking = book.default.tracking_start
    for branch_id, n, n_full, unpaid_tracked, unpaid_all in _run(session, stmt):
        if book.policies:  # the nearest unit with a policy decides (most installations have none)
            unit = units.get(branch_id)
            tracking = book.policy(unit.ancestors() if unit else [branch_id]).tracking_start
        else:
            tracking = default_tracking
        if tracking is None:
            n_unpaid = int(unpaid_tracked or 0)
        else:
            n_unpaid = int(unpaid_all or 0) if month >= tracking.replace(day=1) else 0
        out[branch_id] = (int(n), int(n_full or 0), n_unpaid)
    return out


# --- the score ------------------------------------------------------------------------------------


@dataclass
class MeetingTally:
    # (branch, type value) -> how many held: meetings, or groups for per-group types (a per-group
    # meeting recorded without a group counts for no group)
    held: dict[tuple[int, str], int]
    held_before: dict[tuple[int, str], int]  # the same, for days before the month
    minutes: dict[int, tuple[int, int, int]]  # branch -> minutes (due, on time, late) this month


def _tally_meetings(
    rows, *, month: date, m_lo: datetime, type_lo: dict[str, datetime], meetings_cfg: MeetingsConfig
) -> MeetingTally:
    """Held meetings per branch and type, and this month's minutes per branch, from _meeting_rows.

    The rows cover the widest window due this month (a quarter, or in December the year), so a held
    meeting counts only from its own type's window start (type_lo): a 主题党日 of August is not
    September's. A type not due this month has no start and is not counted.

    A loop over every meeting of the window (tens of thousands in a city), so only what a row
    needs is computed: the local start day only for a meeting held before the month's first
    instant (m_lo, the month's local midnight). Counted, not collected: the distinct groups of a
    per-group type are plain tuples in one set (a meeting comes once per type, so meetings need no
    set) and the counts ints in dicts, none of which the collector keeps (see the module's
    docstring), where a set per branch and type was one object each.
    """
    tz = meetings_cfg.tz
    per_group = {t.value for t, r in meetings_cfg.type_rules.items() if r.per_group}
    held: dict[tuple[int, str], int] = {}
    held_before: dict[tuple[int, str], int] = {}
    seen: set[tuple] = set()  # (branch, type, group[, "before"]) already counted
    due: dict[int, int] = {}
    on_time: dict[int, int] = {}
    seen_meetings: set[int] = set()
    for branch_id, mtype, group_id, starts_at, meeting_id, submitted_at, due_on, is_held in rows:
        type_start = type_lo.get(mtype)
        if is_held and type_start is not None and starts_at >= type_start:
            before = starts_at < m_lo and starts_at.astimezone(tz).date() < month
            hk = (branch_id, mtype)
            if mtype not in per_group:
                # A meeting has one row per type (meeting_kind's and minutes' unique keys): no
                # meeting is met twice, so none needs remembering.
                held[hk] = held.get(hk, 0) + 1
                if before:
                    held_before[hk] = held_before.get(hk, 0) + 1
            elif group_id is not None:
                sk = (branch_id, mtype, group_id)
                if sk not in seen:
                    seen.add(sk)
                    held[hk] = held.get(hk, 0) + 1
                if before:
                    sk = (branch_id, mtype, group_id, "before")
                    if sk not in seen:
                        seen.add(sk)
                        held_before[hk] = held_before.get(hk, 0) + 1
        # Minutes are due for a meeting of the month once recorded or, unrecorded, once it is no
        # longer held for want of them (held_condition: held = recorded or not due yet).
        if (
            starts_at >= m_lo
            and meeting_id not in seen_meetings
            and (submitted_at is not None or not is_held)
        ):
            seen_meetings.add(meeting_id)
            due[branch_id] = due.get(branch_id, 0) + 1
            if submitted_at is not None and submitted_at.astimezone(tz).date() <= due_on:
                on_time[branch_id] = on_time.get(branch_id, 0) + 1
    minutes = {}
    for b, n in due.items():
        ok = on_time.get(b, 0)
        minutes[b] = (n, ok, n - ok)
    return MeetingTally(held, held_before, minutes)


@dataclass
class MonthInputs:
    """Everything a month's scores are computed from, read for the whole organisation in a constant
    number of statements (load_month); score_branch turns one branch's share into its score."""

    month: date
    units: dict[int, Unit]
    branches: dict[int, Unit]
    # What each meeting type asks of every branch this month: (type value, period value, needs a
    # 支委会, per group, required, spread month k or None, required rounded as the explanation shows
    # it), worked out once.
    obligations: list[tuple]
    n_groups: dict[int, int]  # branch → its 党小组
    members: dict[int, tuple[int, int, int]]  # branch → (members, full members, unpaid)
    committee_roles: set[int]  # branches with 支委会 roles
    plans: dict[int, tuple[str, datetime | None]]
    plan_deadline: datetime  # the national one; plan_deadlines holds the branches whose local days move it
    plan_deadlines: dict[int, datetime]
    attendance: dict[int, tuple[int, int, int, int]]
    makeup: dict[int, tuple[int, int]]
    observed: dict[int, observers_bridge.ObserverSummary]
    tally: MeetingTally
    completion_weights: list[tuple[str, float]]
    # The re-weighting depends only on which items have data: a handful of patterns, each worked out
    # once (filled by score_branch as it meets them): ((ITEM_KEYS index, weight) in the configured
    # order, their sum, the shares the explanation shows).
    weight_patterns: dict[tuple[bool, ...], tuple[list[tuple[int, float]], float, dict[str, float]]] = field(
        default_factory=dict
    )
    # Branch → the 主题党日 menu's fixed items its minutes left out, read only when that costs points.
    menu_short: dict[int, list[str]] = field(default_factory=dict)


def load_month(
    session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig, meetings_cfg: MeetingsConfig
) -> MonthInputs:
    """The month's inputs, every branch at once (one statement per input)."""
    month = month.replace(day=1)
    session.flush()  # the reads below bypass autoflush (see _run); nothing pending emits no statement
    next_month = add_months(month, 1)
    units = load_units(session)
    branches = {u.id: u for u in units.values() if u.kind == UnitKind.BRANCH}

    rules = meetings_cfg.type_rules
    windows = {t: obligation_window(r.period, month, mcfg.quarter_mode) for t, r in rules.items()}
    earliest = min([w[0] for w in windows.values() if w] + [month])
    lo, _ = month_bounds_utc(earliest, meetings_cfg)
    m_lo, m_hi = month_bounds_utc(month, meetings_cfg)

    members = _member_counts(session, month, m_hi, units, mcfg.fees)
    # Branches with a 支委 beyond the secretaries: they hold 支委会.
    committee_roles = units_with_roles(
        session, BRANCH_COMMITTEE_ROLES - {Role.SECRETARY, Role.DEPUTY_SECRETARY}
    )
    plans = _plans(session, month)
    attendance = _attendance(session, m_lo, m_hi)
    makeup = _makeup(session, month, next_month)
    observed = observers_bridge.month_summary(session, month, mcfg.observers)
    type_lo = {t.value: month_bounds_utc(w[0], meetings_cfg)[0] for t, w in windows.items() if w}
    local = local_calendars(session)
    tally = _tally_meetings(
        _meeting_rows(session, lo, m_hi, now, meetings_cfg, local),
        month=month, m_lo=m_lo, type_lo=type_lo, meetings_cfg=meetings_cfg,
    )  # fmt: skip
    spread = mcfg.quarter_mode == QuarterMode.SPREAD
    obligations = [
        (t.value, rules[t].period.value, rules[t].needs_committee, rules[t].per_group, window[2],
         (month.month - window[0].month) + 1 if spread and rules[t].period == Period.QUARTER else None,
         round(window[2], 3))
        for t, window in windows.items()
        if window is not None
    ]  # fmt: skip
    n_groups: dict[int, int] = defaultdict(int)
    for u in units.values():
        if u.kind == UnitKind.GROUP and u.parent_id is not None:
            n_groups[u.parent_id] += 1
    deadline, deadlines = _plan_deadlines(month, branches, meetings_cfg, local)
    acfg = meetings_cfg.activity
    menu_short = menu_shortfall(session, m_lo, m_hi, acfg) if acfg.penalty_per_missing > 0 else {}
    return MonthInputs(
        month, units, branches, obligations, dict(n_groups), members, committee_roles, plans, deadline, deadlines,
        attendance, makeup, observed, tally, [(k, w) for k, w in mcfg.completion_items.items() if w > 0],
        menu_short=menu_short,
    )  # fmt: skip


NO_MEMBERS = NO_MINUTES = (0, 0, 0)
ITEM_KEYS = ("meetings", "plan", "minutes", "attendance", "makeup", "fees")  # score_branch's ratios, in order
PLAN_SENT = (PlanStatus.SUBMITTED, PlanStatus.APPROVED)
NO_ATTENDANCE = (0, 0, 0, 0)
NO_MAKEUP = (0, 0)


def score_branch(
    b: Unit, inputs: MonthInputs, mcfg: MonthlyConfig, meetings_cfg: MeetingsConfig
) -> UnitScore:
    """One branch's score and its explanation from the month's inputs: no statement, nothing written
    (its committee is set by compute_month).

    Run once per branch (ten thousand times for a city), so what does not depend on the branch is
    worked out once per month (MonthInputs.obligations' rounded requirements, weight_patterns) and
    the ratios are computed once and rounded once; the explanation is the same, key for key."""
    bid = b.id
    held, held_before = inputs.tally.held, inputs.tally.held_before
    wc, wq, wr = mcfg.weight_completion, mcfg.weight_quality, mcfg.weight_rectification
    n_members, n_full, n_unpaid = inputs.members.get(bid, NO_MEMBERS)
    has_committee = n_full >= meetings_cfg.committee_threshold or bid in inputs.committee_roles
    req_total = credit_total = 0.0
    meeting_items = []
    missing = []  # what kept the score down (see missing_items), the meetings first
    for (
        t_value,
        period_value,
        needs_committee,
        per_group,
        required,
        spread_k,
        required_r,
    ) in inputs.obligations:
        if needs_committee and not has_committee:
            continue
        if per_group:
            required *= inputs.n_groups.get(bid, 0)
            if not required:
                continue
            required_r = round(required, 3)
        n_held = held.get((bid, t_value), 0)
        if spread_k is not None:
            credit = spread_credit(n_held, held_before.get((bid, t_value), 0), spread_k)
            credit_r = round(credit, 3)
        elif required < n_held:
            credit, credit_r = required, required_r
        else:  # min(n_held, required) is n_held, an int: round() gives it back unchanged
            credit = credit_r = n_held
        req_total += required
        credit_total += credit
        meeting_items.append(
            {"type": t_value, "period": period_value, "held": n_held, "required": required_r, "credit": credit_r}
        )  # fmt: skip
        if credit_r + 1e-9 < required_r:
            missing.append({"key": "meeting", "type": t_value, "held": n_held, "required": required_r})
    plan = inputs.plans.get(bid)
    plan_on_time = None
    if plan is not None and plan[0] in PLAN_SENT and plan[1] is not None:
        plan_on_time = plan[1] <= inputs.plan_deadlines.get(bid, inputs.plan_deadline)
    att_total, present, absent, on_leave = inputs.attendance.get(bid, NO_ATTENDANCE)
    mk_total, mk_confirmed = inputs.makeup.get(bid, NO_MAKEUP)
    m_due, m_ok, m_late = inputs.tally.minutes.get(bid, NO_MINUTES)
    obs = inputs.observed.get(bid)
    # The items' ratios, None without data (nothing to divide by).
    r_meetings = credit_total / req_total if req_total else 1.0
    r_plan = 1.0 if plan_on_time else 0.0
    r_minutes = m_ok / m_due if m_due > 0 else None
    r_attendance = present / att_total if att_total > 0 else None
    r_makeup = mk_confirmed / mk_total if mk_total > 0 else None
    r_fees = (n_members - n_unpaid) / n_members if n_members > 0 else None
    # Which items have data decides the re-weighting: a handful of patterns, each worked out once.
    pattern = (m_due > 0, att_total > 0, mk_total > 0, n_members > 0)
    known = inputs.weight_patterns.get(pattern)
    if known is None:
        items = {"meetings": r_meetings, "plan": r_plan, "minutes": r_minutes, "attendance": r_attendance,
                 "makeup": r_makeup, "fees": r_fees}  # fmt: skip
        weights = {k: w for k, w in inputs.completion_weights if items.get(k) is not None}
        wsum = sum(weights.values())
        shares = {k: round(w / wsum, 4) for k, w in weights.items()} if wsum else {}
        order = [(ITEM_KEYS.index(k), w) for k, w in weights.items()]
        known = inputs.weight_patterns[pattern] = (order, wsum, shares)
    order, wsum, shares = known
    values = (r_meetings, r_plan, r_minutes, r_attendance, r_makeup, r_fees)
    # Summed in the weights' order, as sum() over the items always did (the same float).
    completion = sum([values[i] * w for i, w in order]) / wsum if wsum else 1.0
    if obs is not None and obs.quality is not None:
        quality, quality_source = obs.quality, "observers"
    elif mcfg.quality_when_missing is None:
        quality, quality_source = completion, "proxy_completion"
    else:
        quality, quality_source = mcfg.quality_when_missing, "constant"
    if obs is None:
        rect_due = rect_ok = stops = reopens = 0
    else:
        rect_due, rect_ok, stops, reopens = obs.rect_due, obs.rect_closed_on_time, obs.stops, obs.reopens
    rectification = rect_ok / rect_due if rect_due else 1.0
    penalties = NO_ITEMS
    if stops or reopens:
        for key, count in (("stop", stops), ("reopen", reopens)):
            if count and mcfg.penalties.get(key):
                penalties = [*penalties, {"key": key, "count": count, "points": count * mcfg.penalties[key]}]
    short = inputs.menu_short.get(bid)
    if short:
        points = len(short) * meetings_cfg.activity.penalty_per_missing
        penalties = [*penalties, {"key": "menu", "count": len(short), "points": points, "items": short}]
    penalty_total = sum(p["points"] for p in penalties)
    raw = 100 * (wc * completion + wq * quality + wr * rectification) - penalty_total
    score = round(max(0.0, raw), 1)
    explanation = {
        "formula": {"completion": wc, "quality": wq, "rectification": wr},
        "completion": round(completion, 4),
        "quality": round(quality, 4),
        "quality_source": quality_source,
        "rectification": round(rectification, 4),
        "items": {
            "meetings": round(r_meetings, 4),
            "plan": r_plan,  # 1.0 or 0.0: rounding leaves them
            "minutes": None if r_minutes is None else round(r_minutes, 4),
            "attendance": None if r_attendance is None else round(r_attendance, 4),
            "makeup": None if r_makeup is None else round(r_makeup, 4),
            "fees": None if r_fees is None else round(r_fees, 4),
        },
        "item_weights": dict(shares),
        "meetings": meeting_items,
        "plan": {"status": plan[0] if plan else None, "on_time": bool(plan_on_time)},
        "minutes": {"due": m_due, "on_time": m_ok, "late": m_late},
        "attendance": {"present": present, "total": att_total, "absent": absent, "leave": on_leave},
        "makeup": {"confirmed": mk_confirmed, "total": mk_total},
        "fees": {"members": n_members, "unpaid": n_unpaid},
        "observers": None if obs is None else obs.as_dict(),
        "rectifications": {"due": rect_due, "closed_on_time": rect_ok},
        "penalties": penalties,
        "missing": _missing(missing, plan_on_time, m_late, n_unpaid, mk_total - mk_confirmed,
                            rect_due - rect_ok, stops, reopens),
    }  # fmt: skip
    if short:
        explanation["missing"] = [
            *explanation["missing"],
            {"key": "menu", "count": len(short), "items": short},
        ]
    return UnitScore(
        bid,
        b.name,
        b.kind,
        b.category or "other",
        score,
        members=n_members,
        halted=bool(stops or reopens),
        explanation=explanation,
    )


def compute_month(
    session: Session,
    month: date,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    meetings_cfg: MeetingsConfig,
) -> MonthScores:
    """Every active branch's score for `month` and every committee's roll-up (not yet ranked)."""
    inputs = load_month(session, month, now=now, mcfg=mcfg, meetings_cfg=meetings_cfg)
    units = inputs.units
    committee_of: dict[str, int | None] = {}
    scores: dict[int, UnitScore] = {}
    for b in inputs.branches.values():
        s = scores[b.id] = score_branch(b, inputs, mcfg, meetings_cfg)
        # Siblings share their ancestors, so the committee is looked up once per parent path.
        parent_path = b.path[: b.path.rstrip("/").rfind("/") + 1]
        if parent_path in committee_of:
            s.committee_id = committee_of[parent_path]
        else:
            s.committee_id = committee_of[parent_path] = nearest_committee(b, units)
    return MonthScores(inputs.month, units, scores, roll_up(scores, units, mcfg))


def _missing(out, plan_on_time, minutes_late, unpaid, makeup_open, rect_open, stops, reopens):
    """What kept the score down, as keys and numbers (rendered in Chinese by strings.missing_text):
    `out`, the meeting types short of their credit (score_branch lists them as it goes), then the rest."""
    if not plan_on_time:
        out.append({"key": "plan"})
    for key, n in (("minutes_late", minutes_late), ("unpaid", unpaid), ("makeup_open", makeup_open),
                   ("rect_open", rect_open), ("stop", stops), ("reopen", reopens)):  # fmt: skip
        if n:
            out.append({"key": key, "count": n})
    return out or NO_ITEMS


def roll_up(
    branches: dict[int, UnitScore], units: dict[int, Unit], mcfg: MonthlyConfig
) -> dict[int, UnitScore]:
    by_committee: dict[int, list[UnitScore]] = defaultdict(list)
    for s in branches.values():
        if s.committee_id is not None:
            by_committee[s.committee_id].append(s)
    out = {}
    for cid, items in by_committee.items():
        weights = [max(s.members, 1) if mcfg.weight_by_members else 1 for s in items]
        score = round(sum(s.score * w for s, w in zip(items, weights, strict=True)) / sum(weights), 1)
        halted = [s.unit_id for s in items if s.halted]
        u = units[cid]
        out[cid] = UnitScore(
            cid,
            u.name,
            u.kind,
            committee_peer_group(cid, u.name, mcfg),
            score,
            committee_id=cid,
            members=sum(s.members for s in items),
            halted=bool(halted),
            explanation={
                "branches": len(items),
                "weighted_by_members": mcfg.weight_by_members,
                "mean_completion": round(sum(s.explanation["completion"] for s in items) / len(items), 4),
                "mean_quality": round(sum(s.explanation["quality"] for s in items) / len(items), 4),
                "halted_branches": halted,
                "missing": _committee_missing(items),
            },
        )
    return out


def _committee_missing(items: list[UnitScore]) -> list[dict[str, Any]]:
    """Totals of the branches' missing items: how many branches miss each meeting type, and so on."""
    meetings: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for s in items:
        for m in s.explanation["missing"]:
            if m["key"] == "meeting":
                meetings[m["type"]] += 1
            elif m["key"] == "plan":
                counts["plan"] += 1
            else:
                counts[m["key"]] += m["count"]
    out = [{"key": "branches_missing_meeting", "type": t, "count": n} for t, n in sorted(meetings.items())]
    out += [{"key": "branches_" + k if k == "plan" else k, "count": n} for k, n in sorted(counts.items())]
    return out
