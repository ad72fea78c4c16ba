"""月积分台账 (#17 item 4): November's stored scores and December's live ones equal the 总览's, each with
its rank and reasons; the ladders' notices with who was told, when, and who acknowledged; scope; .xlsx."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.console import overview
from handlers.console.scope import scope_of
from handlers.ledgers.period import parse_period
from handlers.ledgers.scores import scores_ledger
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from models.db import unit_of_work
from models.monthly import AckKind, Escalation, Ladder, MonthlyScore
from models.org import OrgUnit
from tests.console.test_overview import NOW, login
from tests.monthly.conftest import local

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def told(session_factory, lorg):
    """党员1乙's unpaid-fee notice of November: sent to 书记1 and 组织委员1, acknowledged 已约谈 by 书记1."""
    c = lorg.org.county
    with unit_of_work(session_factory) as session:
        esc = Escalation(ladder=Ladder.MEMBER_FEES, subject_id=lorg.id("m1b"), unit_id=c.b1.id, rung=3, month=NOV,
                         streak=3, detail={"name": "党员1乙", "to": [lorg.id("sec1"), lorg.id("c1org")]},
                         created_at=local(date(2026, 12, 1), 9), acknowledged_at=local(date(2026, 12, 2), 15),
                         acknowledged_by_id=lorg.id("sec1"), ack_kind=AckKind.INTERVIEWED)  # fmt: skip
        session.add(esc)
        session.flush()
        return esc.id


def ledger(session, who_id: int, unit_id: int, period: str):
    return scores_ledger(
        session, scope_of(session, who_id), session.get(OrgUnit, unit_id), parse_period(period, DEC), now=NOW,
        current_month=DEC, mcfg=MonthlyConfig(), cfg=MEETINGS,
    )  # fmt: skip


@pytest.mark.parametrize("month", [NOV, DEC])
def test_scores_are_the_overviews(session_factory, lorg, month):
    staff = lorg.id("staff")
    with session_factory() as session:
        led = ledger(session, staff, lorg.org.county.county.id, f"{month:%Y-%m}")
        view = overview.month_view(session, scope_of(session, staff), month, now=NOW, mcfg=MonthlyConfig(),
                                   cfg=MEETINGS, ocfg=ObserversConfig())  # fmt: skip
        stored = {u: (s, r) for u, s, r in session.execute(
            select(MonthlyScore.unit_id, MonthlyScore.score, MonthlyScore.rank).where(MonthlyScore.month == month))}  # fmt: skip
    got = {s.unit_id: (s.score, s.rank, s.lagging) for s in led.scores}
    want = {
        r.unit_id: (r.score, r.rank, r.lagging) for r in [*view.branches.values(), *view.committees.values()]
    }
    assert got == want and len(got) == 6
    assert all(s.stored == (month == NOV) for s in led.scores)
    # Each branch's score says how it was reached, the live month's as well as the stored one's.
    assert all(s.why.startswith(f"得分 {s.score:g}") for s in led.scores if s.kind == "branch")
    if month == NOV:
        assert {u: (s, r) for u, (s, r, _) in got.items()} == stored


def test_the_page_gives_the_reasons_and_the_notices(session_factory, app, lorg, told):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("c1sec"))
    html = client.get(f"/console/ledgers/{c.c1.id}/scores?period=2026-Q4").text
    nov = html.split('id="scores-2026-11"')[1].split("<h2")[0]
    assert f'data-unit="{c.b1.id}"' in nov and f'data-unit="{c.b2.id}"' in nov and "河西" not in html
    with session_factory() as session:
        b2 = session.scalar(
            select(MonthlyScore).where(MonthlyScore.unit_id == c.b2.id, MonthlyScore.month == NOV)
        )
    row = re.search(rf'<tr[^>]*data-unit="{c.b2.id}".*?</tr>', nov, re.S).group(0)
    assert f'data-score="{b2.score}" data-rank="{b2.rank}"' in row
    assert "会议记录逾期1次" in row  # b2's minutes were late in November: the reason it lost points
    notice = re.search(rf'<tr data-escalation="{told}">.*?</tr>', html, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", notice)
    for words in ("连续未交党费", "党员1乙", "书记1、组织委员1", "2026-12-01 09:00", "已约谈", "书记1 12-02 15:00",
                  "谈话提醒，并报告上级党组织"):  # fmt: skip
        assert words in text, words


@pytest.mark.parametrize("who", ["sec2", "c2sec", "observer"])
def test_out_of_scope_is_404(session_factory, app, lorg, who):
    c = lorg.org.county
    pid = lorg.org.observer.id if who == "observer" else lorg.id(who)
    client = login(session_factory, app, pid)
    other = c.c1 if who == "c2sec" else c.b2 if who == "observer" else c.b1
    for what in ("scores", "scores.xlsx"):
        r = client.get(f"/console/ledgers/{other.id}/{what}")
        assert r.status_code == 404 and "会议记录逾期" not in r.text


def test_a_branch_secretary_sees_the_committee_notices_of_no_one_else(session_factory, app, lorg, told):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("sec1"))
    html = client.get(f"/console/ledgers/{c.b1.id}/scores?period=2026").text
    assert f'data-escalation="{told}"' in html and "河西乡党委" not in html and "河东村" not in html


def test_the_xlsx(session_factory, app, lorg, told):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    r = client.get(f"/console/ledgers/{c.county.id}/scores.xlsx?period=2026-11")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["月积分", "提醒约谈"]
    rows = list(wb["月积分"].iter_rows(min_row=3, values_only=True))
    with session_factory() as session:
        stored = {session.get(OrgUnit, s.unit_id).name: (s.score, s.rank, s.group_size)
                  for s in session.scalars(select(MonthlyScore).where(MonthlyScore.month == NOV))}  # fmt: skip
    assert {r[1]: (r[3], r[4], r[5]) for r in rows} == stored
    assert all(r[0] == "2026年11月" and r[11] == "月度计算结果" for r in rows)
    b2 = next(r for r in rows if r[1] == "东门社区党支部")
    assert "会议记录逾期1次" in b2[9] and b2[10].startswith("得分")
    notices = {(r[1], r[3]): r for r in wb["提醒约谈"].iter_rows(min_row=3, values_only=True)}
    assert set(notices) == {("党委落后约谈", "河西乡党委"), ("支部落后提醒", "河东村党支部"),
                            ("连续未参加组织生活", "党员4甲"), ("连续未交党费", "党员1乙")}  # fmt: skip
    fees = notices[("连续未交党费", "党员1乙")]
    assert fees[6:10] == ("书记1、组织委员1", "2026-12-01 09:00", "已约谈", "书记1")
    assert notices[("党委落后约谈", "河西乡党委")][8] == "未确认"
