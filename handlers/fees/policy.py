"""党费 policy: a unit's effective rules (its nearest ancestor's FeePolicy), its fee days on its own
working-day calendar, and what a member owes for a month under them. Nothing here commits."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from config.rules import FeesRules
from handlers.common.dates import month_start
from handlers.fees import strings
from handlers.fees.amounts import FeeRules, liability_start, monthly_amount
from handlers.fees.feeday import FeeDay, WorkCalendar, fee_day
from models.fees import FeeCalendarWarning, FeeDayOverride, FeeDayRule, FeeExemption, FeePolicy, LocalHoliday
from models.org import OrgUnit, Person
from models.workcalendar import merge_local_days

log = logging.getLogger(__name__)


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

    @classmethod
    def from_rules(cls, rules: FeesRules) -> Policy:
        """The defaults of the settings' fees section: the policy of a tree without a FeePolicy row."""
        return cls(
            fee_day_rule=FeeDayRule(rules.fee_day_rule),
            fixed_day=rules.fixed_day,
            reminder_time=rules.reminder_time,
            remind_day_before=rules.remind_day_before,
            max_backpay_months=rules.max_backpay_months,
            max_prepay_months=rules.max_prepay_months,
            farmer_amount=rules.farmer_amount,
        )


def _from_core(core: CoreConfig) -> Policy:
    return Policy.from_rules(core.rules.fees)


def default_policy(core: CoreConfig) -> Policy:
    """The configured fee policy of units with no FeePolicy of their own (built once per core)."""
    return core.derive(_from_core)


class PolicyBook:
    """Every policy, override and local holiday, loaded once, resolved for many units in memory.

    A city has thousands of branches but a handful of policies: three small queries instead of
    three per branch.
    """

    def __init__(self, session: Session, months: Iterable[date] = (), default: Policy | None = None) -> None:
        # `default`: the policy where no unit of the path has one (default_policy(core)).
        self.default = default or Policy()
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
        return self.default

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


def policy_for(session: Session, unit: OrgUnit | None, default: Policy | None = None) -> Policy:
    """`unit`'s nearest ancestor's policy, or `default` (default_policy(core)) where none has one."""
    default = default or Policy()
    if unit is None:
        return default
    ids = unit_path_ids(unit)
    rows = {
        p.org_unit_id: p for p in session.scalars(select(FeePolicy).where(FeePolicy.org_unit_id.in_(ids)))
    }
    for uid in reversed(ids):
        if uid in rows:
            return Policy.of(rows[uid])
    return default


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
    default: Policy | None = None,
) -> list[FeeDay]:
    """The twelve fee days of `year` for `unit` (its policy, overrides and local holidays).

    `rule` replaces the unit's rule (the CLI's --policy). Without a session, the national calendar
    and `default` (the configured defaults, default_policy(core)) are used.
    """
    months = [date(year, m, 1) for m in range(1, 13)]
    default = default or Policy()
    if session is None:
        return [
            fee_day(
                year,
                m.month,
                rule=rule or default.fee_day_rule,
                fixed_day=fixed_day if fixed_day is not None else default.fixed_day,
            )
            for m in months
        ]
    book = PolicyBook(session, months, default)
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


def fee_day_for(session: Session, unit: OrgUnit | None, month: date, default: Policy | None = None) -> FeeDay:
    book = PolicyBook(session, [month], default)
    result = book.fee_day(unit_path_ids(unit), month)
    if result.fallback:
        note_calendar_fallback(session, month.year)
    return result


# --- what is owed --------------------------------------------------------------------------------


def local_month(now: datetime, tz: ZoneInfo) -> date:
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
