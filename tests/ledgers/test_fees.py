"""党费台账 (#17 item 2): b1's September–December (tests.ledgers.world.fees) read back from the page,
the ledger and the .xlsx; 未交 equal to the monthly score's; the committee's roll-up; scope."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from handlers.console import overview
from handlers.console.scope import scope_of
from handlers.ledgers.fees import fees_ledger
from handlers.ledgers.period import parse_period
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from models.org import OrgUnit
from tests.console.test_overview import NOW, TZ, login
from tests.ledgers.files import background_file

DEC = date(2026, 12, 1)
# month → (members who owed it, paid, unpaid, owed, paid amount, unpaid amount, 代交, 补交, 预交, 免交)
B1 = {
    date(2026, 9, 1): (5, 4, 1, "21.00", "19.00", "2.00", 0, 0, 0, 0),
    date(2026, 10, 1): (4, 3, 1, "20.00", "18.00", "2.00", 1, 0, 0, 1),
    date(2026, 11, 1): (4, 3, 1, "20.00", "18.00", "2.00", 0, 1, 0, 1),
    DEC: (4, 2, 2, "20.00", "13.00", "7.00", 0, 0, 1, 1),
}


def ledger_of(session, lorg, unit, period="2026"):
    scope = scope_of(session, lorg.id("staff"))
    return fees_ledger(session, scope, session.get(OrgUnit, unit.id), parse_period(period, DEC),
                       current_month=DEC, tz=TZ)  # fmt: skip


def test_every_month_of_b1_is_known(session_factory, lorg):
    with session_factory() as session:
        ledger = ledger_of(session, lorg, lorg.org.county.b1)
    got = {
        s.month: (s.members, s.paid, s.unpaid, f"{s.owed_amount:.2f}", f"{s.paid_amount:.2f}", f"{s.unpaid_amount:.2f}",
                  s.proxy, s.backpay, s.prepay, s.exempt)
        for s in ledger.disclosure if s.members or s.exempt
    }  # fmt: skip
    assert got == B1
    people = {p.name: p for p in ledger.members}
    a = {fm.month: fm for fm in people["党员1甲"].months}
    assert a[date(2026, 10, 1)].by == "党员1丁" and a[date(2026, 10, 1)].marks == "代交"
    assert a[date(2026, 11, 1)].label == "待确认" and a[date(2026, 11, 1)].marks == "补交"
    assert a[date(2026, 8, 1)].label == "未纳入统计"
    assert people["党员1丁"].months[-1].marks == "预交" and people["党员1丁"].months[-1].paid_at == date(
        2026, 11, 20
    )
    assert people["预备党员1丙"].months[-1].label == "免交"
    assert (people["党员1乙"].run.months, people["党员1乙"].run.first_month) == (4, date(2026, 9, 1))
    assert people["党员1甲"].run.months == 1 and people["书记1"].run is None
    assert people["党员1乙"].unpaid_total == Decimal("8.00") and people["书记1"].paid_total == Decimal(
        "40.00"
    )


@pytest.mark.parametrize("month", [date(2026, 10, 1), DEC])
def test_unpaid_is_the_monthly_scores(session_factory, lorg, month):
    """The ledger's 未交 per branch equals the 总览's (the monthly score's) members − paid."""
    c = lorg.org.county
    with session_factory() as session:
        ledger = ledger_of(session, lorg, c.c1, f"{month:%Y-%m}")
        scope = scope_of(session, lorg.id("staff"))
        view = overview.month_view(session, scope, month, now=NOW, mcfg=MonthlyConfig(), cfg=MEETINGS,
                                   ocfg=ObserversConfig())  # fmt: skip
    for b in ledger.branches:
        f = view.figures(b.branch_id)
        assert b.total.unpaid == f.members - f.paid, b.name
    assert {b.name: b.total.unpaid for b in ledger.branches} == {
        "城关社区党支部": B1[month][2],
        "东门社区党支部": 3,
    }


def test_the_branch_page_and_the_committee_rollup(session_factory, app, lorg):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("sec1"))
    html = client.get(f"/console/ledgers/{c.b1.id}/fees?period=2026").text
    assert 'data-month="2026-12" data-v="4/2/2"' in html and "向党员公开" in html
    grid = re.search(r'<table class="led mgrid" id="members">.*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr data-person="{lorg.id("m1b")}">.*?</tr>', grid, re.S).group(0)
    assert row.count('data-state="unpaid"') == 4
    client = login(session_factory, app, lorg.id("c1sec"))
    html = client.get(f"/console/ledgers/{c.c1.id}/fees?period=2026").text
    rollup = re.search(r'<table class="led" id="rollup">.*?</table>', html, re.S).group(0)
    assert "城关社区党支部" in rollup and "东门社区党支部" in rollup and "河西村党支部" not in rollup
    assert f'href="/console/ledgers/{c.b1.id}/fees?period=2026"' in rollup


@pytest.mark.parametrize("who", ["sec2", "c2sec", "observer"])
def test_out_of_scope_is_404(session_factory, app, lorg, who):
    c = lorg.org.county
    pid = lorg.org.observer.id if who == "observer" else lorg.id(who)
    client = login(session_factory, app, pid)
    other = c.c1 if who == "c2sec" else c.b2 if who == "observer" else c.b1
    for what in ("fees", "fees.xlsx"):
        r = client.get(f"/console/ledgers/{other.id}/{what}")
        assert r.status_code == 404 and "党员1乙" not in r.text


def test_the_xlsx_matches_the_page(session_factory, app, lorg):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("c1sec"))
    _, content = background_file(session_factory, app, client, c.c1.id, "fees")  # a committee's: 生成台账
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["收缴情况", "支部汇总", "党员汇总", "逐月明细", "欠缴"]
    disclosure = {row[0]: row[1:4] for row in wb["收缴情况"].iter_rows(min_row=3, values_only=True)}
    # The committee's: b1's figures plus b2's three members unpaid each month from September.
    assert disclosure["2026年12月"] == (4 + 3, 2, 2 + 3) and disclosure["2026年9月"] == (5 + 3, 4, 1 + 3)
    rollup = {row[0]: row for row in wb["支部汇总"].iter_rows(min_row=3, values_only=True)}
    assert rollup["城关社区党支部"][1:5] == (5, 17, 12, 5) and rollup["东门社区党支部"][1:5] == (3, 12, 0, 12)
    months = [row for row in wb["逐月明细"].iter_rows(min_row=3, values_only=True) if row[1] == "党员1甲"]
    assert (
        "城关社区党支部",
        "党员1甲",
        "2026年10月",
        "已交",
        5.0,
        5.0,
        "2026-10-09",
        "代交",
        "党员1丁",
    ) in months
    arrears = {row[1]: row[2:4] for row in wb["欠缴"].iter_rows(min_row=3, values_only=True)}
    assert arrears["党员1乙"] == (4, "2026年9月") and arrears["党员1甲"] == (1, "2026年12月")
