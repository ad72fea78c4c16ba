"""党费 use cases over a Session: policy lookup, fee days, what is owed, payments, arrears.

Nothing here commits. A refused request raises FeeError with the Chinese reason before any change,
so the caller's transaction holds nothing half-done.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from handlers.fees import strings
from handlers.fees.amounts import FeeRules, liability_start, monthly_amount
from handlers.fees.feeday import FeeDay, WorkCalendar, add_months, fee_day, month_start, months_between
from models.fees import (
    PAYMENT_STATUS_LABELS,
    FeeCalendarWarning,
    FeeDayOverride,
    FeeDayRule,
    FeeExemption,
    FeePayment,
    FeePolicy,
    LocalHoliday,
    PaymentMethod,
    PaymentStatus,
)
from models.org import OrgUnit, Person, Role, RoleAssignment, UnitKind
from models.outbox import OutboxMessage
from models.workcalendar import merge_local_days

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
COLLECTING_ROLES = (Role.FEE_COLLECTOR, Role.SECRETARY)
COUNTS_AS_PAID = (PaymentStatus.REPORTED, PaymentStatus.CONFIRMED)
VOLUNTARY_EXTRA_FLAG = Decimal("1000")


class FeeError(Exception):
    """A request refused with a Chinese reason for the person; nothing was changed."""


def fee_message_key(local_day: date) -> str:
    """The dedup key of every fee message a member gets on a local date.

    The outbox is unique on (key, recipient), so whatever sends a member a fee message that day
    under this key (fee-day reminder, day-before reminder, a collector's nudge) sends at most one.
    """
    return f"fee:{local_day.isoformat()}"


# --- policy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The effective fee policy of a unit: its nearest ancestor's FeePolicy, or the defaults."""

    source_unit_id: int | None = None
    fee_day_rule: FeeDayRule = FeeDayRule.FIRST_WORKING_FRIDAY
    fixed_day: int | None = None
    reminder_time: str = "09:00"
    remind_day_before: bool = False
    max_backpay_months: int = 6
    max_prepay_months: int = 3
    farmer_amount: Decimal = Decimal("0.50")
    tracking_start: date | None = None

    @classmethod
    def of(cls, row: FeePolicy | None) -> Policy:
        if row is None:
            return cls()
        return cls(
            source_unit_id=row.org_unit_id,
            fee_day_rule=FeeDayRule(row.fee_day_rule),
            fixed_day=row.fixed_day,
            reminder_time=row.reminder_time or "09:00",
            remind_day_before=bool(row.remind_day_before),
            max_backpay_months=row.max_backpay_months,
            max_prepay_months=row.max_prepay_months,
            farmer_amount=Decimal(row.farmer_amount),
            tracking_start=row.tracking_start,
        )

    @property
    def rules(self) -> FeeRules:
        return FeeRules(farmer_amount=self.farmer_amount)


class PolicyBook:
    """Every policy, override and local holiday, loaded once, resolved for many units in memory.

    A city has thousands of branches but a handful of policies: three small queries instead of
    three per branch.
    """

    def __init__(self, session: Session, months: Iterable[date] = ()) -> None:
        self.policies = {p.org_unit_id: p for p in session.scalars(select(FeePolicy))}
        months = sorted(set(months))
        q = select(FeeDayOverride)
        if months:
            q = q.where(FeeDayOverride.month.in_(months))
        self.overrides: dict[tuple[int, date], FeeDayOverride] = {
            (o.org_unit_id, o.month): o for o in session.scalars(q)
        }
        self.holidays: dict[int, list[LocalHoliday]] = defaultdict(list)
        for h in session.scalars(select(LocalHoliday)):
            self.holidays[h.org_unit_id].append(h)
        self._cache: dict[tuple, FeeDay] = {}

    def policy(self, unit_ids: list[int]) -> Policy:
        """`unit_ids`: the unit's path, root first."""
        for uid in reversed(unit_ids):
            if uid in self.policies:
                return Policy.of(self.policies[uid])
        return Policy()

    def calendar(self, unit_ids: list[int]) -> WorkCalendar:
        # The calendar every deadline uses (models.workcalendar): ancestors' local days, nearer wins.
        return merge_local_days(unit_ids, self.holidays)

    def override(self, unit_ids: list[int], month: date) -> tuple[date, str] | None:
        for uid in reversed(unit_ids):
            o = self.overrides.get((uid, month))
            if o is not None:
                return (o.fee_day, o.reason)
        return None

    def fee_day(self, unit_ids: list[int], month: date) -> FeeDay:
        policy = self.policy(unit_ids)
        override = self.override(unit_ids, month)
        holiday_units = tuple(uid for uid in unit_ids if uid in self.holidays)
        key = (policy.fee_day_rule, policy.fixed_day, override, holiday_units, month)
        if key not in self._cache:
            self._cache[key] = fee_day(
                month.year,
                month.month,
                rule=policy.fee_day_rule,
                fixed_day=policy.fixed_day,
                cal=self.calendar(unit_ids),
                override=override,
            )
        return self._cache[key]


def unit_path_ids(unit: OrgUnit | None) -> list[int]:
    return unit.ancestor_ids() if unit is not None else []


def policy_for(session: Session, unit: OrgUnit | None) -> Policy:
    if unit is None:
        return Policy()
    ids = unit_path_ids(unit)
    rows = {
        p.org_unit_id: p for p in session.scalars(select(FeePolicy).where(FeePolicy.org_unit_id.in_(ids)))
    }
    for uid in reversed(ids):
        if uid in rows:
            return Policy.of(rows[uid])
    return Policy()


def note_calendar_fallback(session: Session, year: int) -> bool:
    """Remember that `year` fell back to weekdays; log the warning only the first time. True if new.

    "Once" is a row in fee_calendar_warning, unique on the year: it outlives restarts and is shared
    by every process. A concurrent first insert loses on the unique key inside a savepoint and
    stays quiet.
    """
    if session.scalar(select(FeeCalendarWarning.id).where(FeeCalendarWarning.year == year)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(FeeCalendarWarning(year=year))
    except Exception:  # noqa: BLE001 - IntegrityError from a concurrent writer: someone else warned
        return False
    log.warning(strings.FALLBACK_LOG, year)
    return True


def fee_days_of_year(
    session: Session | None,
    year: int,
    unit: OrgUnit | None = None,
    *,
    rule: FeeDayRule | None = None,
    fixed_day: int | None = None,
) -> list[FeeDay]:
    """The twelve fee days of `year` for `unit` (its policy, overrides and local holidays).

    `rule` replaces the unit's rule (the CLI's --policy). Without a session, the national calendar
    and the defaults are used.
    """
    months = [date(year, m, 1) for m in range(1, 13)]
    if session is None:
        days = [
            fee_day(year, m.month, rule=rule or FeeDayRule.FIRST_WORKING_FRIDAY, fixed_day=fixed_day)
            for m in months
        ]
        return days
    book = PolicyBook(session, months)
    ids = unit_path_ids(unit)
    if rule is not None:
        policy = book.policy(ids)
        days = []
        for m in months:
            days.append(
                fee_day(
                    year,
                    m.month,
                    rule=rule,
                    fixed_day=fixed_day if fixed_day is not None else policy.fixed_day,
                    cal=book.calendar(ids),
                    override=book.override(ids, m),
                )
            )
    else:
        days = [book.fee_day(ids, m) for m in months]
    if any(d.fallback for d in days):
        note_calendar_fallback(session, year)
    return days


def fee_day_for(session: Session, unit: OrgUnit | None, month: date) -> FeeDay:
    book = PolicyBook(session, [month])
    result = book.fee_day(unit_path_ids(unit), month)
    if result.fallback:
        note_calendar_fallback(session, month.year)
    return result


# --- what is owed --------------------------------------------------------------------------------


def local_month(now: datetime, tz: ZoneInfo = SHANGHAI) -> date:
    return month_start(now.astimezone(tz).date())


def exemptions_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[FeeExemption]]:
    ids = list(set(person_ids))
    out: dict[int, list[FeeExemption]] = defaultdict(list)
    for start in range(0, len(ids), 1000):
        for e in session.scalars(
            select(FeeExemption).where(FeeExemption.person_id.in_(ids[start : start + 1000]))
        ):
            out[e.person_id].append(e)
    return out


def exemption_for(exemptions: Iterable[FeeExemption], month: date) -> FeeExemption | None:
    for e in exemptions:
        if e.from_month <= month and (e.to_month is None or month <= e.to_month):
            return e
    return None


@dataclass(frozen=True)
class Owed:
    """What one member owes for one month."""

    owes: bool  # False: before liability, or 免交
    amount: Decimal | None  # None: unknown (no base on file)
    exempt: bool = False
    not_started: bool = False


FEE_COLUMNS = (
    Person.id,
    Person.name,
    Person.branch_id,
    Person.status,
    Person.joined_on,
    Person.fee_category,
    Person.fee_base,
    Person.fee_fixed_amount,
)


def owed(person: Person, month: date, policy: Policy, exemptions: Iterable[FeeExemption] = ()) -> Owed:
    start = liability_start(person.status, person.joined_on)
    if start is not None and month < start:
        return Owed(False, Decimal("0"), not_started=True)
    ex = exemption_for(exemptions, month)
    if ex is not None:
        if ex.amount <= 0:
            return Owed(False, Decimal("0"), exempt=True)
        return Owed(True, Decimal(ex.amount))
    return Owed(
        True, monthly_amount(person.fee_category, person.fee_base, person.fee_fixed_amount, policy.rules)
    )


# --- roles ---------------------------------------------------------------------------------------


def collecting_branch_ids(session: Session, person_id: int) -> set[int]:
    """Branches where the person is 党费收缴员 or 书记."""
    stmt = (
        select(RoleAssignment.org_unit_id)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(
            RoleAssignment.person_id == person_id,
            RoleAssignment.role.in_(COLLECTING_ROLES),
            OrgUnit.kind == UnitKind.BRANCH,
        )
    )
    return {uid for uid in session.scalars(stmt) if uid is not None}


def require_collector(session: Session, actor: Person | None, branch_id: int | None, what: str) -> None:
    if actor is None:
        raise FeeError(strings.NOT_BOUND)
    if branch_id is None or branch_id not in collecting_branch_ids(session, actor.id):
        raise FeeError(strings.NO_ROLE.format(what=what))


# --- payments ------------------------------------------------------------------------------------


def check_window(month: date, current: date, policy: Policy) -> None:
    back = months_between(month, current)
    if back > policy.max_backpay_months:
        raise FeeError(strings.TOO_FAR_BACK.format(month=strings.ym(month), n=policy.max_backpay_months))
    if -back > policy.max_prepay_months:
        raise FeeError(strings.TOO_FAR_AHEAD.format(month=strings.ym(month), n=policy.max_prepay_months))


def _payment(session: Session, person_id: int, month: date) -> FeePayment | None:
    return session.scalar(
        select(FeePayment).where(FeePayment.person_id == person_id, FeePayment.month == month)
    )


def _validate_month(session: Session, person: Person, month: date, now: datetime, policy: Policy) -> Owed:
    check_window(month, local_month(now), policy)
    due = owed(person, month, policy, exemptions_of(session, [person.id]).get(person.id, ()))
    if due.not_started:
        start = liability_start(person.status, person.joined_on)
        raise FeeError(
            strings.BEFORE_LIABILITY.format(
                month=strings.ym(month), name=person.name, start=strings.ym(start)
            )
        )
    if due.exempt:
        raise FeeError(strings.EXEMPT_MONTH.format(name=person.name, month=strings.ym(month)))
    return due


def report_paid(
    session: Session, person: Person | None, months: list[date], now: datetime
) -> list[FeePayment]:
    """A member says 已交 for `months`: recorded as reported, waiting for the collector.

    Months already reported or confirmed are left alone (answering 已交 twice is harmless); a
    rejected one goes back to reported. Returns the payments that are new or changed.
    """
    if person is None:
        raise FeeError(strings.NOT_BOUND)
    if person.branch_id is None or not person.active:
        raise FeeError(strings.NOT_A_MEMBER)
    policy = policy_for(session, person.branch)
    dues = {m: _validate_month(session, person, m, now, policy) for m in months}  # all checks first
    changed = []
    for month, due in dues.items():
        existing = _payment(session, person.id, month)
        if existing is not None and existing.status != PaymentStatus.REJECTED:
            continue
        if existing is None:
            existing = FeePayment(person_id=person.id, month=month)
            session.add(existing)
        existing.branch_id = person.branch_id
        existing.amount = due.amount if due.amount is not None else Decimal("0")
        existing.paid_at = now
        existing.method = PaymentMethod.SELF_REPORTED
        existing.status = PaymentStatus.REPORTED
        existing.recorded_by_person_id = person.id
        existing.confirmed_by_person_id = None
        existing.confirmed_at = None
        changed.append(existing)
    session.flush()
    return changed


def record_payment(
    session: Session,
    actor: Person | None,
    person: Person,
    month: date,
    now: datetime,
    *,
    amount: Decimal | None = None,
    paid_at: datetime | None = None,
    paid_by: Person | None = None,
    paid_by_name: str | None = None,
    method: PaymentMethod = PaymentMethod.COLLECTOR,
    check_role: bool = True,
) -> FeePayment:
    """The collector (or 书记) records a payment: confirmed at once, except their own (reported).

    `check_role=False` is for imports run by an administrator from the command line.
    """
    if check_role:
        require_collector(session, actor, person.branch_id, "登记党费")
    policy = policy_for(session, person.branch)
    due = _validate_month(session, person, month, now, policy)
    if amount is None:
        amount = due.amount
        if amount is None:
            raise FeeError(strings.AMOUNT_UNKNOWN.format(name=person.name))
    if amount <= 0:
        raise FeeError(strings.BAD_AMOUNT.format(text=amount))
    existing = _payment(session, person.id, month)
    if existing is not None and existing.status == PaymentStatus.CONFIRMED:
        raise FeeError(strings.ALREADY_CONFIRMED.format(name=person.name, month=strings.ym(month)))
    if existing is None:
        existing = FeePayment(person_id=person.id, month=month)
        session.add(existing)
    own = actor is not None and actor.id == person.id
    existing.branch_id = person.branch_id
    existing.amount = amount
    existing.paid_at = paid_at or now
    existing.method = method
    existing.paid_by_person_id = paid_by.id if paid_by is not None and paid_by.id != person.id else None
    existing.paid_by_name = paid_by_name or (paid_by.name if existing.paid_by_person_id else None)
    existing.recorded_by_person_id = actor.id if actor is not None else None
    existing.status = PaymentStatus.REPORTED if own else PaymentStatus.CONFIRMED
    existing.confirmed_by_person_id = None if own or actor is None else actor.id
    existing.confirmed_at = None if own else now
    # 第十一条: a voluntary one-off extra of 1000 元 or more goes entirely to the Centre; flag it.
    extra = amount - (due.amount or Decimal("0"))
    existing.note = (
        strings.VOLUNTARY_EXTRA.format(extra=strings.yuan(extra)) if extra >= VOLUNTARY_EXTRA_FLAG else ""
    )
    session.flush()
    return existing


def confirm_payment(session: Session, actor: Person | None, payment_id: int, now: datetime) -> FeePayment:
    payment = session.get(FeePayment, payment_id)
    if payment is None:
        raise FeeError(strings.PAYMENT_NOT_FOUND)
    if actor is not None and actor.id == payment.person_id:
        raise FeeError(strings.SELF_CONFIRM)
    require_collector(session, actor, payment.branch_id, "确认党费")
    if payment.status != PaymentStatus.REPORTED:
        raise FeeError(strings.NOT_PENDING.format(status=strings_status(payment.status)))
    payment.status = PaymentStatus.CONFIRMED
    payment.confirmed_by_person_id = actor.id
    payment.confirmed_at = now
    session.flush()
    return payment


def reject_payment(session: Session, actor: Person | None, payment_id: int, now: datetime) -> FeePayment:
    payment = session.get(FeePayment, payment_id)
    if payment is None:
        raise FeeError(strings.PAYMENT_NOT_FOUND)
    if actor is not None and actor.id == payment.person_id:
        raise FeeError(strings.SELF_CONFIRM)
    require_collector(session, actor, payment.branch_id, "退回党费")
    if payment.status != PaymentStatus.REPORTED:
        raise FeeError(strings.NOT_PENDING.format(status=strings_status(payment.status)))
    payment.status = PaymentStatus.REJECTED
    payment.confirmed_by_person_id = actor.id
    payment.confirmed_at = now
    session.flush()
    return payment


def strings_status(status: PaymentStatus) -> str:
    return PAYMENT_STATUS_LABELS[PaymentStatus(status)]


def pending_payments(session: Session, branch_id: int) -> list[tuple[FeePayment, Person]]:
    stmt = (
        select(FeePayment, Person)
        .join(Person, Person.id == FeePayment.person_id)
        .where(FeePayment.branch_id == branch_id, FeePayment.status == PaymentStatus.REPORTED)
        .order_by(FeePayment.month, Person.name, FeePayment.id)
    )
    return [(p, person) for p, person in session.execute(stmt)]


def confirm_all(session: Session, actor: Person | None, branch_id: int, now: datetime) -> list[FeePayment]:
    """Confirm every pending payment of the branch except the actor's own (someone else must)."""
    require_collector(session, actor, branch_id, "确认党费")
    done = []
    for payment, _person in pending_payments(session, branch_id):
        if payment.person_id == actor.id:
            continue
        payment.status = PaymentStatus.CONFIRMED
        payment.confirmed_by_person_id = actor.id
        payment.confirmed_at = now
        done.append(payment)
    session.flush()
    return done


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
    not_messaged_under: str | None = None,
) -> list[UnpaidMember]:
    """Active members of the branches who owe for `month` and have no reported/confirmed payment.

    Three queries whatever the size: members without a payment (NOT EXISTS), their exemptions, and
    the policies (PolicyBook).
    """
    branch_ids = list(set(branch_ids))
    if not branch_ids:
        return []
    book = book or PolicyBook(session, [month])
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
    # Plain rows, not ORM objects: a city's fee day selects tens of thousands. owed() reads the
    # same attribute names from either.
    people = []
    for start in range(0, len(branch_ids), 1000):
        stmt = (
            select(*FEE_COLUMNS)
            .where(Person.branch_id.in_(branch_ids[start : start + 1000]), Person.active.is_(True), ~paid)
            .where(*extra)
            .order_by(Person.branch_id, Person.name, Person.id)
        )
        people.extend(session.execute(stmt))
    paths = {
        u.id: u.ancestor_ids()
        for start in range(0, len(branch_ids), 1000)
        for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(branch_ids[start : start + 1000])))
    }
    exemptions = exemptions_of(session, [p.id for p in people]) if people else {}
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


def member_status(session: Session, person: Person, now: datetime) -> FeeStatus:
    """The member's own view: this month's fee day and state, unpaid months in the 补交 window, total."""
    if person.branch_id is None:
        raise FeeError(strings.NOT_A_MEMBER)
    current = local_month(now)
    policy = policy_for(session, person.branch)
    fd = fee_day_for(session, person.branch, current)
    exemptions = exemptions_of(session, [person.id]).get(person.id, [])
    tracking = _tracking_start(person, policy)
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


def _tracking_start(person: Person, policy: Policy) -> date:
    if policy.tracking_start is not None:
        return month_start(policy.tracking_start)
    created = person.created_at or datetime.now(SHANGHAI)
    return local_month(created)


@dataclass(frozen=True)
class Arrears:
    person_id: int
    name: str
    branch_id: int
    months: int  # consecutive unpaid months ending with the month asked about
    first_month: date


def arrears_counts(session: Session, month: date, unit: OrgUnit | None = None) -> dict[int, Arrears]:
    """Consecutive unpaid months, ending with `month`, of every active member at or below `unit`.

    A month is unpaid when the member owed for it and it has no reported or confirmed payment (a
    payment waiting for the collector is the collector's delay, not the member's). A month before
    the member owed (预备 admission), a 免交 month, and a month before zhibu tracked the member break
    the run. Only members with a run of at least one month are returned.

    This is the one source of the unpaid-fee counts: the monthly member ladder (handlers.monthly)
    notifies from it. One statement for the whole scope: the members who paid `month` are left out
    in SQL and each remaining member's last paid and last 免交 month come with them, so a city costs
    a loop over the unpaid only; then the policies and the branches' paths.
    """
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
    last_exempt = (
        select(func.max(func.coalesce(FeeExemption.to_month, month)))
        .where(
            FeeExemption.person_id == Person.id, FeeExemption.amount <= 0, FeeExemption.from_month <= month
        )
        .scalar_subquery()
    )
    stmt = select(
        Person.id, Person.name, Person.branch_id, Person.status, Person.joined_on, Person.created_at,
        last_paid, last_exempt,
    ).where(Person.active.is_(True), Person.branch_id.is_not(None), ~paid)  # fmt: skip
    if unit is not None:
        stmt = stmt.join(OrgUnit, OrgUnit.id == Person.branch_id).where(OrgUnit.path.startswith(unit.path))
    rows = session.execute(stmt).all()
    if not rows:
        return {}
    book = PolicyBook(session, [])
    paths = {
        uid: [int(p) for p in path.strip("/").split("/") if p]
        for uid, path in session.execute(
            select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == UnitKind.BRANCH)
        )
    }
    tracking: dict[int, date | None] = {}
    out: dict[int, Arrears] = {}
    for pid, name, branch_id, status, joined_on, created_at, paid_until, exempt_until in rows:
        if branch_id not in tracking:
            tracking[branch_id] = book.policy(paths.get(branch_id, [branch_id])).tracking_start
        if tracking[branch_id] is not None:
            start = month_start(tracking[branch_id])
        else:
            start = local_month(created_at) if created_at else month
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


# --- bulk selection for reminders ----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderBatch:
    month: date
    fee_day: date
    tomorrow: bool
    reminder_time: str
    person_ids: list[int]


def reminder_batches(session: Session, local_day: date) -> list[ReminderBatch]:
    """Who gets a fee reminder on `local_day`: the unpaid members of every branch whose fee day is
    that day (or tomorrow, where the policy asks for a day-before reminder), grouped by the card
    they get (same month, day and time)."""
    months = {month_start(local_day), month_start(add_days(local_day, 1))}
    book = PolicyBook(session, months)
    branches = session.execute(
        select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True))
    ).all()
    chosen: dict[tuple[date, date, bool, str], list[int]] = defaultdict(list)
    fallback_years: set[int] = set()
    for branch_id, path in branches:
        ids = [int(x) for x in path.strip("/").split("/") if x] or [branch_id]
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
