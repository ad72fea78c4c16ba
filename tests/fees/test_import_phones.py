"""The fee import reads phone numbers exactly as the roster import does (issue #14 point 8).

A payment that the 收缴员 records in bulk must land on the member it belongs to, however the number
was typed: the months it covers are what the 连续6个月 arrears watch counts (domain.md §3.2 rule 38),
and the member was put in the roster with the same spellings.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from handlers.fees.importer import FeeImportError, record_payments_from_xlsx
from handlers.phones import normalize_phone
from handlers.roster import apply_roster, validate_roster
from handlers.roster.fileio import read_roster
from models.fees import FeePayment
from models.org import Person
from tests.fees.conftest import NOW, TZ
from tests.fees.test_import import xlsx

# Spellings secretaries type, all of one number; the roster stores the first.
SPELLINGS = [
    "13800000003",
    "138-0000-0003",
    "+86 138 0000 0003",
    "+86-138-0000-0003",
    "0086 138 0000 0003",
    "86 13800000003",
    "(138)0000-0003",
    "１３８－００００－０００３",  # full-width, from a Chinese IME
    "138 0000 0003",  # with a no-break space
    13800000003,  # a number cell
    13800000003.0,  # a number cell as Excel's float
]


@pytest.mark.parametrize("spelling", SPELLINGS, ids=repr)
def test_every_spelling_is_the_same_number(spelling):
    assert normalize_phone(spelling) == "13800000003"


@pytest.mark.parametrize(
    "value", ["1380000000", "138000000034", "23800000003", "12800000003", "+1 138 0000 0003", "٣٨", "", None]
)
def test_what_is_not_a_mainland_mobile_number(value):
    assert normalize_phone(value) is None


@pytest.mark.parametrize("spelling", SPELLINGS[1:9], ids=repr)
def test_fee_import_finds_the_member_however_the_phone_is_typed(session, org, spelling):
    """Issue #14 point 8: 138-0000-0003 and +86 138 0000 0003 are 张三 (13800000003); the fee import
    refused them before."""
    f = xlsx([["张三", spelling, None, "2026年11月", 40, None, None]])
    result = record_payments_from_xlsx(session, f, branch=org.branch, now=NOW, tz=TZ)
    assert result.recorded == 1
    (payment,) = session.scalars(select(FeePayment))
    assert payment.person_id == org.alice.id and payment.amount == Decimal("40")


def test_a_malformed_phone_is_named_as_such_and_nothing_is_recorded(session, org):
    f = xlsx(
        [
            ["张三", "138-0000-0003", None, "2026年11月", 40, None, None],
            ["李四", "138-0000-000", None, "2026年11月", 60, None, None],
            ["王五", "+86 139 9999 9999", None, "2026年11月", 60, None, None],
        ]
    )
    with pytest.raises(FeeImportError) as exc:
        record_payments_from_xlsx(session, f, branch=org.branch, now=NOW, tz=TZ)
    assert exc.value.errors == [
        "第3行 手机号：“138-0000-000”不是有效的手机号，应为 11 位数字、以 1 开头",
        "第4行 手机号：“+86 139 9999 9999”不是第一党支部的党员",
    ]
    session.rollback()
    assert session.scalars(select(FeePayment)).first() is None


def test_roster_and_fee_import_agree_on_a_member(session, tmp_path):
    """The person the roster import stored from '+86 138 0000 0007' is the one the fee import finds
    from '138-0000-0007': one reading of a phone for both."""
    roster = tmp_path / "花名册.csv"
    roster.write_text(
        "党委,党支部,姓名,手机号,党员类别,党费基数\n"
        "湖滨区直属机关党委,第三党支部,钱八,+86 138 0000 0007,正式,5000\n",
        encoding="utf-8-sig",
    )
    headers, rows = read_roster(roster)
    plan = validate_roster(session, rows, headers, dingtalk_corp_id="d", wecom_corp_id="w", today=NOW.date())
    assert not plan.errors, plan.errors
    apply_roster(session, plan, today=NOW.date())
    session.flush()
    person = session.scalars(select(Person).where(Person.name == "钱八")).one()
    assert person.phone == "13800000007"
    f = xlsx([["钱八", "138-0000-0007", None, "2026年11月", 50, None, None]])
    assert record_payments_from_xlsx(session, f, branch=person.branch, now=NOW, tz=TZ).recorded == 1
    (payment,) = session.scalars(select(FeePayment))
    assert payment.person_id == person.id
