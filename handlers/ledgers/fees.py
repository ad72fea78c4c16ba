"""党费台账 (#17 item 2): every member's months over a period (应交/已交/未交 with amounts and dates,
代交/补交/预交 marked), the runs of unpaid months, the committee's roll-up per branch, and the
收缴情况 a branch discloses to its members each year (domain.md §3.2 rule 44).

"未交" is handlers.fees.arrears.arrears_counts, the one source the monthly score and its ladder count
from, asked once per month of the period for the whole unit; amounts are handlers.fees.policy.owed
under each branch's policy. A constant number of statements per month, whatever the branches.
Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.console.overview import NotInScope
from handlers.console.scope import Scope
from handlers.fees.arrears import Arrears, arrears_counts
from handlers.fees.payments import COUNTS_AS_PAID
from handlers.fees.policy import FEE_COLUMNS, Policy, PolicyBook, exemptions_of, local_month, owed
from handlers.ledgers.period import LedgerPeriod
from models.fees import FeePayment, PaymentStatus
from models.org import MEMBER_STATUS_LABELS, OrgUnit, Person, UnitKind

PAID = "paid"  # 已交 (confirmed)
REPORTED = "reported"  # 待确认: counts as paid, the collector has not confirmed yet
UNPAID = "unpaid"  # 未交: arrears_counts says the member owed it and has not paid
EXEMPT = "exempt"  # 免交
NOT_DUE = "not_due"  # before the member owed (预备 admission)
UNTRACKED = "untracked"  # before zhibu tracked the member: neither paid nor unpaid
PREPAID = "prepaid"  # a month after the current one, paid ahead (预交)
STATE_LABELS = {
    PAID: "已交", REPORTED: "待确认", UNPAID: "未交", EXEMPT: "免交", NOT_DUE: "未到交纳时间",
    UNTRACKED: "未纳入统计", PREPAID: "已预交", "": "",
}  # fmt: skip
ZERO = Decimal("0")


@dataclass
class FeeMonth:
    month: date
    state: str
    owed: Decimal | None  # 应交 for a month that counts (paid or unpaid); None: 待核定 or not owed
    paid: Decimal | None = None
    paid_at: date | None = None  # local day of payment
    by: str = ""  # 代交: who paid
    backpay: bool = False  # 补交: paid in a later month
    prepay: bool = False  # 预交: paid in an earlier month
    confirmed: bool = False

    @property
    def counts(self) -> bool:
        return self.state in (PAID, REPORTED, UNPAID)

    @property
    def marks(self) -> str:
        return "、".join(
            m for m, on in (("代交", bool(self.by)), ("补交", self.backpay), ("预交", self.prepay)) if on
        )

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass
class MemberFees:
    person_id: int
    name: str
    branch_id: int
    kind: str  # 正式 / 预备
    months: list[FeeMonth] = field(default_factory=list)
    ahead: list[FeeMonth] = field(
        default_factory=list
    )  # months of the period after the current one, paid ahead
    run: Arrears | None = None  # unpaid months in a row up to the period's last month

    @property
    def owed_total(self) -> Decimal:
        return sum((m.owed or ZERO for m in self.months if m.counts), ZERO)

    @property
    def paid_total(self) -> Decimal:
        return sum(
            (m.paid or ZERO for m in self.months + self.ahead if m.state in (PAID, REPORTED, PREPAID)), ZERO
        )

    @property
    def unpaid_months(self) -> list[FeeMonth]:
        return [m for m in self.months if m.state == UNPAID]

    @property
    def unpaid_total(self) -> Decimal:
        return sum((m.owed or ZERO for m in self.unpaid_months), ZERO)

    @property
    def unknown_amount(self) -> bool:
        return any(m.counts and m.owed is None and m.paid is None for m in self.months)


@dataclass
class MonthSummary:
    """One month of a set of members: the disclosure's line and the roll-up's cell."""

    month: date
    members: int = 0  # members who owed it (paid or not)
    paid: int = 0
    unpaid: int = 0
    owed_amount: Decimal = ZERO
    paid_amount: Decimal = ZERO
    unpaid_amount: Decimal = ZERO
    proxy: int = 0
    backpay: int = 0
    prepay: int = 0
    exempt: int = 0

    def add(self, m: FeeMonth) -> None:
        if m.state == EXEMPT:
            self.exempt += 1
        if not m.counts and m.state != PREPAID:
            return
        if m.state == PREPAID:
            self.prepay += 1
            self.paid_amount += m.paid or ZERO
            return
        self.members += 1
        self.owed_amount += m.owed or (m.paid or ZERO)
        if m.state == UNPAID:
            self.unpaid += 1
            self.unpaid_amount += m.owed or ZERO
        else:
            self.paid += 1
            self.paid_amount += m.paid or ZERO
        self.proxy += bool(m.by)
        self.backpay += m.backpay
        self.prepay += m.prepay


@dataclass
class BranchFees:
    branch_id: int
    name: str
    members: int
    months: list[MonthSummary]
    in_arrears: int  # members with an unpaid run at the period's last month
    longest_run: int

    @property
    def total(self) -> MonthSummary:
        return _total(self.months)


def _total(months: list[MonthSummary]) -> MonthSummary:
    t = MonthSummary(months[0].month if months else date.min)
    for s in months:
        for name in ("members", "paid", "unpaid", "owed_amount", "paid_amount", "unpaid_amount", "proxy",
                     "backpay", "prepay", "exempt"):  # fmt: skip
            setattr(t, name, getattr(t, name) + getattr(s, name))
    return t


@dataclass
class FeesLedger:
    unit: OrgUnit
    period: LedgerPeriod
    months: list[date]  # the period's months up to the current one
    members: list[MemberFees]
    branches: list[BranchFees]

    @property
    def is_branch(self) -> bool:
        return self.unit.kind == UnitKind.BRANCH

    @property
    def disclosure(self) -> list[MonthSummary]:
        """收缴情况 by month for the whole unit (a branch's to its members; a committee's roll-up)."""
        out = {m: MonthSummary(m) for m in self.months}
        for p in self.members:
            for fm in p.months:
                out[fm.month].add(fm)
        return [out[m] for m in self.months]

    @property
    def total(self) -> MonthSummary:
        return _total(self.disclosure)

    @property
    def in_arrears(self) -> list[MemberFees]:
        return sorted((p for p in self.members if p.run), key=lambda p: (-p.run.months, p.name))  # type: ignore[union-attr]


def fees_ledger(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    *,
    current_month: date,
    tz: ZoneInfo,
    default: Policy | None = None,
) -> FeesLedger:
    if not scope.sees_unit(unit):
        raise NotInScope(unit.id)
    months = period.month_list(until=current_month)
    ahead_months = [m for m in period.month_list() if m > current_month]
    branches = {
        b.id: b
        for b in session.scalars(
            select(OrgUnit)
            .where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.path.startswith(unit.path), scope.unit_clause())
            .order_by(OrgUnit.path)
        )
    }
    people = session.execute(
        select(*FEE_COLUMNS)
        .join(OrgUnit, OrgUnit.id == Person.branch_id)
        .where(Person.active.is_(True), OrgUnit.path.startswith(unit.path), scope.unit_clause())
        .order_by(Person.branch_id, Person.name, Person.id)
    ).all()
    people = [p for p in people if p.branch_id in branches]
    ids = [p.id for p in people]
    payments: dict[tuple[int, date], Any] = {}
    proxies: dict[int, str] = {}
    if ids:
        first, last = period.start, period.month_list()[-1]
        # Plain rows, not ORM objects: a county's year is hundreds of thousands of payments.
        for pay in session.execute(
            select(
                FeePayment.person_id, FeePayment.month, FeePayment.amount, FeePayment.paid_at, FeePayment.status,
                FeePayment.paid_by_person_id, FeePayment.paid_by_name,
            )
            .join(Person, Person.id == FeePayment.person_id)
            .join(OrgUnit, OrgUnit.id == Person.branch_id)
            .where(
                FeePayment.month >= first,
                FeePayment.month <= last,
                Person.active.is_(True),
                OrgUnit.path.startswith(unit.path),
            )
        ):  # fmt: skip
            payments[(pay.person_id, pay.month)] = pay
        by_ids = {p.paid_by_person_id for p in payments.values() if p.paid_by_person_id}
        if by_ids:
            proxies = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(by_ids))).all())
    exemptions = exemptions_of(session, ids) if ids else {}
    book = PolicyBook(session, [], default)
    unpaid: dict[date, dict[int, Arrears]] = {
        m: arrears_counts(session, m, unit, tz=tz, default=default) for m in months
    }  # fmt: skip
    rows: list[MemberFees] = []
    for p in people:
        policy = book.policy(branches[p.branch_id].ancestor_ids())
        row = MemberFees(p.id, p.name, p.branch_id, MEMBER_STATUS_LABELS.get(p.status, ""))
        for m in months:
            row.months.append(_month(p, m, policy, exemptions.get(p.id, ()), payments.get((p.id, m)),
                                     p.id in unpaid[m], proxies, tz))  # fmt: skip
        for m in ahead_months:
            pay = payments.get((p.id, m))
            if pay is not None and pay.status in COUNTS_AS_PAID:
                fm = _paid(FeeMonth(m, PREPAID, None), pay, m, proxies, tz)
                row.ahead.append(fm)
        if months:
            row.run = unpaid[months[-1]].get(p.id)
        rows.append(row)
    return FeesLedger(unit, period, months, rows, _rollup(branches, rows, months))


def _month(p, m: date, policy: Policy, exemptions, pay, is_unpaid: bool, proxies, tz) -> FeeMonth:
    due = owed(p, m, policy, exemptions)
    amount = due.amount if due.owes else None
    if pay is not None and pay.status in COUNTS_AS_PAID:
        state = PAID if pay.status == PaymentStatus.CONFIRMED else REPORTED
        return _paid(FeeMonth(m, state, amount), pay, m, proxies, tz)
    if is_unpaid:
        return FeeMonth(m, UNPAID, amount)
    if due.exempt:
        return FeeMonth(m, EXEMPT, None)
    if due.not_started:
        return FeeMonth(m, NOT_DUE, None)
    return FeeMonth(m, UNTRACKED, None)


def _paid(fm: FeeMonth, pay, m: date, proxies: dict[int, str], tz: ZoneInfo) -> FeeMonth:
    paid_month = local_month(pay.paid_at, tz)
    fm.paid = Decimal(pay.amount)
    fm.paid_at = pay.paid_at.astimezone(tz).date()
    fm.by = proxies.get(pay.paid_by_person_id, "") if pay.paid_by_person_id else (pay.paid_by_name or "")
    fm.backpay = paid_month > m
    fm.prepay = paid_month < m
    fm.confirmed = pay.status == PaymentStatus.CONFIRMED
    return fm


def _rollup(branches: dict[int, OrgUnit], rows: list[MemberFees], months: list[date]) -> list[BranchFees]:
    per: dict[int, list[MemberFees]] = defaultdict(list)
    for r in rows:
        per[r.branch_id].append(r)
    out = []
    for bid, b in branches.items():
        members = per.get(bid, [])
        sums = {m: MonthSummary(m) for m in months}
        for r in members:
            for fm in r.months:
                sums[fm.month].add(fm)
        runs = [r.run.months for r in members if r.run]
        out.append(
            BranchFees(bid, b.name, len(members), [sums[m] for m in months], len(runs), max(runs, default=0))
        )
    return out
