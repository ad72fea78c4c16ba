"""Builds a synthetic organisation in memory, with primary keys assigned in Python.

The result is plain row dicts per table, ready for one Core executemany per chunk: no ORM objects
and no round trip per row, which is what lets a 300,000-member city seed in minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from models.org import BranchCategory, FeeCategory, MemberStatus, Platform, Role, UnitKind
from models.seed import names as N


@dataclass(frozen=True)
class Scale:
    """How big an organisation to build. `members` counts people in branches."""

    name: str
    committees: int
    branches: int
    members: int

    def check(self) -> None:
        if self.committees < 1 or self.branches < self.committees:
            raise ValueError("a scale needs at least one committee and one branch per committee")
        if self.members < 3 * self.branches:
            raise ValueError("a scale needs at least 3 members per branch (条例: 3 名正式党员)")
        if self.members > 50 * self.branches:
            raise ValueError("a scale allows at most 50 members per branch on average")


SCALES: dict[str, Scale] = {
    "demo": Scale("demo", 2, 6, 60),
    "county": Scale("county", 30, 1300, 30000),  # 太湖县's order of magnitude
    "city": Scale("city", 300, 10000, 300000),
    # Ten cities under one provincial 组织部 (issue #22): a city's ratios, 30 committees a county.
    "province": Scale("province", 3000, 100000, 3000000),
}


@dataclass
class Plan:
    """Rows to insert, per table, plus the ids later generators (history) want to know."""

    units: list[dict] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)
    roles: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)


class Builder:
    """Accumulates rows with ids counted from `start_ids` (the tables' current max id + 1)."""

    def __init__(
        self,
        rng: random.Random,
        today: date,
        now: datetime,
        start_ids: dict[str, int],
        dingtalk_corp_id: str,
        wecom_corp_id: str,
    ) -> None:
        self.rng = rng
        self.today = today
        self.now = now
        self.ids = dict(start_ids)
        self.plan = Plan()
        self.corps = [(Platform.DINGTALK, dingtalk_corp_id), (Platform.WECOM, wecom_corp_id)]
        self._pinyin_of: dict[int, str] = {}
        self._phones: set[str] = set()
        self._roles: set[tuple[int, int | None, str]] = set()

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    # Units

    def unit(
        self, kind: UnitKind, name: str, parent: dict | None, category: BranchCategory | None = None
    ) -> dict:
        uid = self._next("org_unit")
        row = {
            "id": uid,
            "kind": kind,
            "name": name,
            "parent_id": parent["id"] if parent else None,
            "path": f"{parent['path'] if parent else '/'}{uid}/",
            "category": category,
            "active": True,
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.plan.units.append(row)
        return row

    # People

    def phone(self) -> str:
        while True:
            number = self.rng.choice(N.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def random_name(self) -> tuple[str, str]:
        rng = self.rng
        surname, sp, _ = rng.choices(N.SURNAMES, weights=_SURNAME_WEIGHTS)[0]
        pool = N.MALE_GIVEN if rng.random() < 0.62 else N.FEMALE_GIVEN
        if rng.random() < 0.72:
            (a, ap), (b, bp) = rng.choice(pool), rng.choice(pool)
            if a == b and rng.random() < 0.7:
                b, bp = rng.choice(pool)
            return surname + a + b, sp + ap + bp
        a, ap = rng.choice(pool)
        return surname + a, sp + ap

    def person(
        self,
        branch: dict | None,
        category: BranchCategory | None,
        *,
        name: str | None = None,
        pinyin: str | None = None,
        status: MemberStatus | None = None,
    ) -> dict:
        rng = self.rng
        if name is None:
            name, pinyin = self.random_name()
        if status is None:
            status = MemberStatus.PROBATIONARY if rng.random() < 0.04 else MemberStatus.FULL
        if status == MemberStatus.PROBATIONARY:
            joined = self.today - timedelta(days=rng.randint(10, 330))
        else:
            joined = self.today - timedelta(days=rng.randint(400, 365 * 50))
        fee_category, base, fixed = _fee(rng, category)
        is_mobile = rng.random() < (0.08 if category == BranchCategory.RURAL else 0.01)
        exempt = rng.choice(N.EXEMPT_REASONS) if rng.random() < 0.02 else None
        pid = self._next("person")
        row = {
            "id": pid,
            "name": name,
            "phone": self.phone(),
            "branch_id": branch["id"] if branch else None,
            "group_id": None,
            "status": status,
            "joined_on": joined,
            "fee_category": fee_category,
            "fee_base": base,
            "fee_fixed_amount": fixed,
            "is_mobile": is_mobile,
            "attendance_exempt_reason": exempt,
            "active": True,
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.plan.people.append(row)
        self._pinyin_of[pid] = pinyin or "user"
        return row

    def role(self, person: dict, unit: dict | None, role: Role) -> None:
        key = (person["id"], unit["id"] if unit else None, role.value)
        if key in self._roles:
            return
        self._roles.add(key)
        self.plan.roles.append(
            {
                "id": self._next("role_assignment"),
                "person_id": person["id"],
                "org_unit_id": unit["id"] if unit else None,
                "role": role,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )

    def finish_accounts(self) -> None:
        """Both platforms for everyone, with readable ids: zhangwei01, zhangwei02…"""
        counters: dict[str, int] = {}
        for person in self.plan.people:
            base = self._pinyin_of[person["id"]]
            counters[base] = counters.get(base, 0) + 1
            account_id = f"{base}{counters[base]:02d}"
            for platform, corp_id in self.corps:
                if not corp_id:
                    continue
                self.plan.accounts.append(
                    {
                        "id": self._next("chat_account"),
                        "person_id": person["id"],
                        "platform": platform,
                        "corp_id": corp_id,
                        "account_id": account_id,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )


_SURNAME_WEIGHTS = [w for _, _, w in N.SURNAMES]


def _fee(rng: random.Random, category: BranchCategory | None):
    """(党费类别, 基数, 固定金额) that look like the branch's members."""
    roll = rng.random()

    def base(low: int, high: int) -> Decimal:
        return Decimal(rng.randrange(low, high, 10))

    if category == BranchCategory.RURAL:
        if roll < 0.80:
            return FeeCategory.FARMER, None, None
        if roll < 0.90:
            return FeeCategory.EMPLOYED, base(2200, 4200), None
        if roll < 0.96:
            return FeeCategory.RETIRED, base(1800, 4500), None
        return FeeCategory.FIXED, None, Decimal("1.00")
    if category == BranchCategory.COMMUNITY:
        if roll < 0.45:
            return FeeCategory.RETIRED, base(2500, 6500), None
        if roll < 0.75:
            return FeeCategory.EMPLOYED, base(3000, 6500), None
        if roll < 0.85:
            return FeeCategory.UNEMPLOYED, None, None
        if roll < 0.92:
            return FeeCategory.LOW_INCOME, None, None
        return FeeCategory.FIXED, None, Decimal("2.00")
    if category == BranchCategory.NEW_ECONOMY:
        if roll < 0.85:
            return FeeCategory.EMPLOYED, base(2500, 9000), None
        return FeeCategory.FIXED, None, Decimal(rng.choice([10, 20, 30, 50]))
    if category == BranchCategory.SCHOOL and roll < 0.04:
        return FeeCategory.STUDENT, None, None
    if roll < 0.90:
        return FeeCategory.EMPLOYED, base(3500, 13000), None
    return FeeCategory.RETIRED, base(3000, 7500), None
