"""党费 payments: a member's 已交, a collector's record, and the collector's confirm or reject.

A refused request raises bot.core.errors.Refused with the Chinese reason before any change, so the
caller's transaction holds nothing half-done. Nothing here commits.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common import dates, roles
from handlers.common.dates import months_between
from handlers.fees import strings
from handlers.fees.amounts import liability_start
from handlers.fees.policy import Owed, Policy, exemptions_of, local_month, owed, policy_for
from models.fees import PAYMENT_STATUS_LABELS, FeePayment, PaymentMethod, PaymentStatus
from models.org import Person, Role, UnitKind

COLLECTING_ROLES = (Role.FEE_COLLECTOR, Role.SECRETARY)
COUNTS_AS_PAID = (PaymentStatus.REPORTED, PaymentStatus.CONFIRMED)
VOLUNTARY_EXTRA_FLAG = Decimal("1000")


# --- roles ---------------------------------------------------------------------------------------


def collecting_branch_ids(session: Session, person_id: int) -> set[int]:
    """Branches where the person is 党费收缴员 or 书记."""
    return roles.units_where(session, person_id, COLLECTING_ROLES, UnitKind.BRANCH)


def require_collector(session: Session, actor: Person | None, branch_id: int | None, what: str) -> None:
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    if branch_id is None or branch_id not in collecting_branch_ids(session, actor.id):
        raise Refused(strings.NO_ROLE.format(what=what), status=403)


# --- payments ------------------------------------------------------------------------------------


def check_window(month: date, current: date, policy: Policy) -> None:
    back = months_between(month, current)
    if back > policy.max_backpay_months:
        raise Refused(strings.TOO_FAR_BACK.format(month=dates.fmt_month(month), n=policy.max_backpay_months))
    if -back > policy.max_prepay_months:
        raise Refused(strings.TOO_FAR_AHEAD.format(month=dates.fmt_month(month), n=policy.max_prepay_months))


def _payment(session: Session, person_id: int, month: date) -> FeePayment | None:
    return session.scalar(
        select(FeePayment).where(FeePayment.person_id == person_id, FeePayment.month == month)
    )


def _validate_month(
    session: Session, person: Person, month: date, now: datetime, policy: Policy, tz: ZoneInfo
) -> Owed:
    check_window(month, local_month(now, tz), policy)
    due = owed(person, month, policy, exemptions_of(session, [person.id]).get(person.id, ()))
    if due.not_started:
        start = liability_start(person.status, person.joined_on)
        raise Refused(
            strings.BEFORE_LIABILITY.format(
                month=dates.fmt_month(month), name=person.name, start=dates.fmt_month(start)
            )
        )
    if due.exempt:
        raise Refused(strings.EXEMPT_MONTH.format(name=person.name, month=dates.fmt_month(month)))
    return due


def report_paid(
    session: Session,
    person: Person | None,
    months: list[date],
    now: datetime,
    *,
    tz: ZoneInfo,
    default: Policy | None = None,
) -> list[FeePayment]:
    """A member says 已交 for `months`: recorded as reported, waiting for the collector.

    Months already reported or confirmed are left alone (answering 已交 twice is harmless); a
    rejected one goes back to reported. Returns the payments that are new or changed. `tz`:
    settings.timezone (which month is the current one); `default`: default_policy(core).
    """
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    if person.branch_id is None or not person.active:
        raise Refused(strings.NOT_A_MEMBER)
    policy = policy_for(session, person.branch, default)
    dues = {m: _validate_month(session, person, m, now, policy, tz) for m in months}  # all checks first
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
    tz: ZoneInfo,
    default: Policy | None = None,
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
    policy = policy_for(session, person.branch, default)
    due = _validate_month(session, person, month, now, policy, tz)
    if amount is None:
        amount = due.amount
        if amount is None:
            raise Refused(strings.AMOUNT_UNKNOWN.format(name=person.name))
    if amount <= 0:
        raise Refused(strings.BAD_AMOUNT.format(text=amount))
    existing = _payment(session, person.id, month)
    if existing is not None and existing.status == PaymentStatus.CONFIRMED:
        raise Refused(
            strings.ALREADY_CONFIRMED.format(name=person.name, month=dates.fmt_month(month)), status=409
        )
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
    return _settle_reported(session, actor, payment_id, now, PaymentStatus.CONFIRMED, "确认党费")


def reject_payment(session: Session, actor: Person | None, payment_id: int, now: datetime) -> FeePayment:
    return _settle_reported(session, actor, payment_id, now, PaymentStatus.REJECTED, "退回党费")


def _settle_reported(
    session: Session, actor: Person | None, payment_id: int, now: datetime, status: PaymentStatus, what: str
) -> FeePayment:
    """A collector confirms or rejects a reported payment: the same checks, the same record of who
    and when, only the outcome differs."""
    payment = session.get(FeePayment, payment_id)
    if payment is None:
        raise Refused(strings.PAYMENT_NOT_FOUND, status=404)
    if actor is not None and actor.id == payment.person_id:
        raise Refused(strings.SELF_CONFIRM, status=403)
    require_collector(session, actor, payment.branch_id, what)
    if payment.status != PaymentStatus.REPORTED:
        raise Refused(strings.NOT_PENDING.format(status=strings_status(payment.status)), status=409)
    _settle(payment, actor, status, now)
    session.flush()
    return payment


def _settle(payment: FeePayment, actor: Person, status: PaymentStatus, now: datetime) -> None:
    payment.status = status
    payment.confirmed_by_person_id = actor.id
    payment.confirmed_at = now


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
        _settle(payment, actor, PaymentStatus.CONFIRMED, now)
        done.append(payment)
    session.flush()
    return done
