"""党费 arrears: who has not paid a month (lists, reminders), a member's own status, and the runs of
unpaid months the monthly ladder counts. Nothing here commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common import batches
from handlers.common.dates import add_months, month_start, months_between
from handlers.fees import strings
from handlers.fees.amounts import liability_start
from handlers.fees.feeday import FeeDay
from handlers.fees.payments import COUNTS_AS_PAID, strings_status
from handlers.fees.policy import (
    FEE_COLUMNS,
    Policy,
    PolicyBook,
    exemptions_of,
    fee_day_for,
    local_month,
    note_calendar_fallback,
    owed,
    policy_for,
)
from models import startmonth
from models.fees import FeeExemption, FeePayment, PaymentStatus
from models.org import OrgUnit, Person, UnitKind
from models.outbox import OutboxMessage


def fee_message_key(local_day: date) -> str:
    """The dedup key of every fee message a member gets on a local date.

    The outbox is unique on (key, recipient), so whatever sends a member a fee message that day
    under this key (fee-day reminder, day-before reminder, a collector's nudge) sends at most one.
    """
    return f"fee:{local_day.isoformat()}"


# --- lists and status ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnpaidMember:
    person_id: int
    name: str
    branch_id: int
    amount: Decimal | None


def unpaid_members(
    session: Session,
    branch_ids: Iterable[int],
    month: date,
    book: PolicyBook | None = None,
    *,
    default: Policy | None = None,
    not_messaged_under: str | None = None,
) -> list[UnpaidMember]:
    """Active members of the branches who owe for `month` and have no reported/confirmed payment.

    Three queries whatever the number of branches (handlers.common.batches): members without a payment
    (NOT EXISTS), their exemptions covering the month, and the branches' paths; the policies come from
    the PolicyBook (`default`: default_policy(core), where no unit of a path has one).
    """
    branch_ids = sorted(set(branch_ids))
    if not branch_ids:
        return []
    wanted = set(branch_ids)
    book = book or PolicyBook(session, [month], default)
    paid = exists().where(
        FeePayment.person_id == Person.id,
        FeePayment.month == month,
        FeePayment.status.in_(COUNTS_AS_PAID),
    )
    extra = []
    if not_messaged_under is not None:
        # Already told today (this job ran before, or another fee message went out): skip them
        # here, so a rerun costs one query instead of re-offering every row to the outbox.
        extra.append(
            ~exists().where(
                OutboxMessage.dedup_key == not_messaged_under, OutboxMessage.person_id == Person.id
            )
        )
    # Plain rows, not ORM objects: a province's fee day selects hundreds of thousands. owed() reads the
    # same attribute names from either.
    members = (
        select(*FEE_COLUMNS)
        .where(Person.active.is_(True), ~paid, *extra)
        .order_by(Person.branch_id, Person.name, Person.id)
    )
    people = [
        p
        for stmt in batches.by_ids(branch_ids, Person.branch_id, members, Person.branch_id.is_not(None))
        for p in session.execute(stmt)
        if p.branch_id in wanted
    ]
    # Only an exemption covering the month changes what is owed for it (policy.owed).
    covering = (
        select(FeeExemption)
        .join(Person, Person.id == FeeExemption.person_id)
        .where(
            FeeExemption.from_month <= month,
            or_(FeeExemption.to_month.is_(None), FeeExemption.to_month >= month),
        )
    )
    exemptions: dict[int, list[FeeExemption]] = defaultdict(list)
    for stmt in batches.by_ids(branch_ids, Person.branch_id, covering):
        for e in session.scalars(stmt):
            exemptions[e.person_id].append(e)
    units = select(OrgUnit.id, OrgUnit.path)
    paths = {
        uid: OrgUnit.path_ids(path)
        for stmt in batches.by_ids(branch_ids, OrgUnit.id, units, OrgUnit.kind == UnitKind.BRANCH)
        for uid, path in session.execute(stmt)
    }
    out = []
    for p in people:
        due = owed(p, month, book.policy(paths.get(p.branch_id, [])), exemptions.get(p.id, ()))
        if due.owes:
            out.append(UnpaidMember(p.id, p.name, p.branch_id, due.amount))
    return out


@dataclass(frozen=True)
class FeeStatus:
    fee_day: FeeDay
    monthly: Decimal | None
    this_month: str
    unpaid_months: list[date]
    total_due: Decimal | None


def member_status(
    session: Session, person: Person, now: datetime, *, tz: ZoneInfo, default: Policy | None = None
) -> FeeStatus:
    """The member's own view: this month's fee day and state, unpaid months in the 补交 window, total.
    `tz`: settings.timezone; `default`: default_policy(core)."""
    if person.branch_id is None:
        raise Refused(strings.NOT_A_MEMBER)
    current = local_month(now, tz)
    policy = policy_for(session, person.branch, default)
    fd = fee_day_for(session, person.branch, current, default)
    exemptions = exemptions_of(session, [person.id]).get(person.id, [])
    tracking = _tracking_start(person, policy, now, tz)
    tracking = max(tracking, startmonth.start_month(session) or tracking)  # nothing owed before go-live
    first = max(add_months(current, -policy.max_backpay_months), tracking)
    payments = {
        p.month: p
        for p in session.scalars(
            select(FeePayment).where(
                FeePayment.person_id == person.id, FeePayment.month >= first, FeePayment.month <= current
            )
        )
    }
    unpaid, total, unknown = [], Decimal("0"), False
    m = first
    while m <= current:
        due = owed(person, m, policy, exemptions)
        p = payments.get(m)
        if due.owes and (p is None or p.status == PaymentStatus.REJECTED):
            unpaid.append(m)
            if due.amount is None:
                unknown = True
            else:
                total += due.amount
        m = add_months(m, 1)
    due_now = owed(person, current, policy, exemptions)
    p = payments.get(current)
    if due_now.exempt:
        this = strings.STATUS_EXEMPT
    elif due_now.not_started:
        this = strings.STATUS_NOT_DUE
    elif p is not None and p.status != PaymentStatus.REJECTED:
        this = strings_status(p.status)
    else:
        this = strings.STATUS_UNPAID
    return FeeStatus(
        fd, due_now.amount if due_now.owes else Decimal("0"), this, unpaid, None if unknown else total
    )


# --- arrears -------------------------------------------------------------------------------------


def _tracking_start(person: Person, policy: Policy, now: datetime, tz: ZoneInfo) -> date:
    if policy.tracking_start is not None:
        return month_start(policy.tracking_start)
    created = person.created_at or now  # a row not flushed yet: tracked from now, on the injected clock
    return local_month(created, tz)


@dataclass(frozen=True)
class Arrears:
    person_id: int
    name: str
    branch_id: int
    months: int  # consecutive unpaid months ending with the month asked about
    first_month: date


def arrears_counts(
    session: Session,
    month: date,
    unit: OrgUnit | None = None,
    *,
    tz: ZoneInfo,
    default: Policy | None = None,
    longest: int | None = None,
    keep=None,
) -> dict[int, Arrears]:
    """Consecutive unpaid months, ending with `month`, of every active member at or below `unit`.

    A month is unpaid when the member owed for it and it has no reported or confirmed payment (a
    payment waiting for the collector is the collector's delay, not the member's). A month before
    the member owed (预备 admission), a 免交 month, and a month before zhibu tracked the member break
    the run, and so does the start month (models.startmonth): months before it count as neither
    paid nor unpaid. Only members with a run of at least one month are returned.

    This is the one source of the unpaid-fee counts: the monthly member ladder (handlers.monthly)
    notifies from it. One statement for the whole scope after the policies and the branches' paths:
    a run starts at the latest of its bounds (tracked from, the start month, owed from, the month
    after the last payment, the month after the last 免交), so "at least one month" is every bound
    at or before `month`, decided in SQL, and only those members come back with their last paid and
    last 免交 month. With `longest` (the ladder, whose steps end at six), runs longer than that are
    left out in SQL too (some bound in the last `longest` months), but for the members of `keep` (a
    SELECT of person ids: those with open notices, who must be seen to have caught up or not).
    `tz`: settings.timezone, the zone a member's first tracked month is read in; `default`:
    default_policy(core).
    """
    book = PolicyBook(session, [], default)
    since = startmonth.start_month(session)
    # Only the branches asked about: a branch's fee page asks per month for its own subtree, and a city
    # has thousands of branches whose paths and policies it does not need.
    branches = select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == UnitKind.BRANCH)
    if unit is not None:
        branches = branches.where(OrgUnit.path.startswith(unit.path))
    paths = {uid: OrgUnit.path_ids(path) for uid, path in session.execute(branches)}
    tracking = {uid: book.policy(path).tracking_start for uid, path in paths.items()}
    tracking = {uid: month_start(t) if t is not None else None for uid, t in tracking.items()}
    paid = exists().where(
        FeePayment.person_id == Person.id, FeePayment.month == month, FeePayment.status.in_(COUNTS_AS_PAID)
    )
    last_paid = (
        select(func.max(FeePayment.month))
        .where(
            FeePayment.person_id == Person.id,
            FeePayment.status.in_(COUNTS_AS_PAID),
            FeePayment.month <= month,
        )
        .scalar_subquery()
    )
    # 免交 periods only: a reduced amount is still owed. An open-ended period runs to `month`.
    exempt_to = func.coalesce(FeeExemption.to_month, month)
    exempt_where = (
        FeeExemption.person_id == Person.id,
        FeeExemption.amount <= 0,
        FeeExemption.from_month <= month,
    )
    last_exempt = select(func.max(exempt_to)).where(*exempt_where).scalar_subquery()
    next_month = add_months(month, 1)
    owing = [
        Person.active.is_(True),
        Person.branch_id.is_not(None),
        ~paid,
        true() if since is None or since <= month else false(),
        Person.joined_on.is_(None) | (Person.joined_on < next_month),
        ~exists().where(*exempt_where, exempt_to >= month),
        _by_tracking(
            tracking,
            lambda t: t <= month,
            Person.created_at.is_(None) | (Person.created_at < _local_start(next_month, tz)),
        ),
    ]
    if longest is not None:
        # Some bound within the last `longest` months: the run is no longer than that.
        first = add_months(month, -(longest - 1))
        recent = or_(
            true() if since is not None and since >= first else false(),
            Person.joined_on >= first,
            exists().where(
                FeePayment.person_id == Person.id,
                FeePayment.status.in_(COUNTS_AS_PAID),
                FeePayment.month >= add_months(first, -1),
                FeePayment.month <= month,
            ),
            exists().where(*exempt_where, exempt_to >= add_months(first, -1)),
            _by_tracking(
                tracking,
                lambda t: t >= first,
                Person.created_at.is_(None) | (Person.created_at >= _local_start(first, tz)),
            ),
        )
        owing.append(recent if keep is None else or_(recent, Person.id.in_(keep)))
    stmt = select(
        Person.id, Person.name, Person.branch_id, Person.status, Person.joined_on, Person.created_at,
        last_paid, last_exempt,
    ).where(*owing)  # fmt: skip
    if unit is not None:
        stmt = stmt.join(OrgUnit, OrgUnit.id == Person.branch_id).where(OrgUnit.path.startswith(unit.path))
    rows = session.execute(stmt).all()
    out: dict[int, Arrears] = {}
    for pid, name, branch_id, status, joined_on, created_at, paid_until, exempt_until in rows:
        if branch_id not in tracking:  # not a branch (never, in practice): as its own path
            tracking[branch_id] = book.policy([branch_id]).tracking_start
        if tracking[branch_id] is not None:
            start = month_start(tracking[branch_id])
        else:
            start = local_month(created_at, tz) if created_at else month
        if since is not None and since > start:
            start = since
        liability = liability_start(status, joined_on)
        if liability is not None and liability > start:
            start = liability
        if paid_until is not None:
            start = max(start, add_months(paid_until, 1))
        if exempt_until is not None:
            start = max(start, add_months(min(exempt_until, month), 1))
        n = months_between(start, month) + 1
        if n > 0:
            out[pid] = Arrears(pid, name, branch_id, n, start)
    return out


def _local_start(month: date, tz: ZoneInfo) -> datetime:
    """The instant `month` begins in `tz`: a roster row created before it was created before the month."""
    return datetime(month.year, month.month, 1, tzinfo=tz).astimezone(UTC)


def _by_tracking(tracking: dict[int, date | None], when_set, when_not_set):
    """A condition on a member that depends on their branch's tracking start: `when_set(t)` (a
    Python bool) where the branch's policy sets one, `when_not_set` (SQL, on the roster row's
    created_at) where it does not. Branches are grouped by their start, so a city whose branches all
    share one policy costs no list of ids; a member whose branch_id is not a branch passes (Python
    decides)."""
    groups: dict[date | None, list[int]] = defaultdict(list)
    for uid, t in tracking.items():
        groups[t].append(uid)
    if not groups:
        return true()
    common = max(groups, key=lambda t: len(groups[t]))

    def cond(t):
        return when_not_set if t is None else (true() if when_set(t) else false())

    others = [uid for t, ids in groups.items() if t != common for uid in ids]
    parts = [and_(Person.branch_id.in_(groups[t]), cond(t)) for t in groups if t != common]
    parts.append(and_(Person.branch_id.not_in(others), cond(common)) if others else cond(common))
    branches = select(OrgUnit.id).where(OrgUnit.kind == UnitKind.BRANCH)
    return or_(Person.branch_id.not_in(branches), *parts)


# --- bulk selection for reminders ----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderBatch:
    month: date
    fee_day: date
    tomorrow: bool
    reminder_time: str
    person_ids: list[int]


def reminder_batches(session: Session, local_day: date, default: Policy | None = None) -> list[ReminderBatch]:
    """Who gets a fee reminder on `local_day`: the unpaid members of every branch whose fee day is
    that day (or tomorrow, where the policy asks for a day-before reminder), grouped by the card
    they get (same month, day and time). `default`: default_policy(core), the policy (its fee day rule
    and reminder time) of branches with none of their own."""
    months = {month_start(local_day), month_start(add_days(local_day, 1))}
    book = PolicyBook(session, months, default)
    branches = session.execute(
        select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True))
    ).all()
    chosen: dict[tuple[date, date, bool, str], list[int]] = defaultdict(list)
    fallback_years: set[int] = set()
    for branch_id, path in branches:
        ids = OrgUnit.path_ids(path) or [branch_id]
        policy = book.policy(ids)
        for month in months:
            fd = book.fee_day(ids, month)
            if fd.fallback:
                fallback_years.add(month.year)
            if fd.day == local_day:
                chosen[(month, fd.day, False, policy.reminder_time)].append(branch_id)
            elif policy.remind_day_before and fd.day == add_days(local_day, 1):
                chosen[(month, fd.day, True, policy.reminder_time)].append(branch_id)
    for year in sorted(fallback_years):
        note_calendar_fallback(session, year)
    batches = []
    for (month, day, tomorrow, at), branch_ids in chosen.items():
        ids = [
            m.person_id
            for m in unpaid_members(
                session, branch_ids, month, book, not_messaged_under=fee_message_key(local_day)
            )
        ]
        if ids:
            batches.append(ReminderBatch(month, day, tomorrow, at, ids))
    return batches


def add_days(day: date, n: int) -> date:
    return day + timedelta(days=n)
