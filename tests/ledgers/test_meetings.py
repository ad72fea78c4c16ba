"""组织生活纪实台账 (#17 item 1): the page as each role (out of scope: 404), the figures equal to the
总览's, the .xlsx and .docx opened and read back against the crafted October of 城关社区党支部."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.console import overview
from handlers.console.scope import scope_of
from handlers.ledgers.meetings import meetings_ledger
from handlers.ledgers.period import parse_period
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from models.db import unit_of_work
from models.org import OrgUnit
from tests import builders
from tests.console.test_overview import NOW, login
from tests.ledgers.world import OCT, PHOTO_SIZE

DEC = NOW.date().replace(day=1)


def url(unit_id: int, what: str = "meetings", period: str = "2026") -> str:
    return f"/console/ledgers/{unit_id}/{what}?period={period}"


@pytest.mark.parametrize("who", ["staff", "c1sec", "sec1", "observer"])
def test_the_branch_ledger_opens_for_everyone_whose_scope_holds_it(session_factory, app, lorg, who):
    pid = lorg.org.observer.id if who == "observer" else lorg.id(who)
    client = login(session_factory, app, pid)
    html = client.get(url(lorg.org.county.b1.id)).text
    assert "组织生活纪实台账" in html and "城关社区党支部" in html
    row = re.sub(
        r"<[^>]+>", "", re.search(rf'<tr data-meeting="{lorg.oct_meeting}">.*?</tr>', html, re.S).group(0)
    )
    for text in ("十月支部党员大会", "支部党员大会、主题党日", "党员活动室", "书记1/党员1丁", "应到 5，实到 3",
                 "正式 2，预备 1", "党员1甲（外出务工，已批准）", "党员1乙", "党员1甲（已完成）", "党员1乙（待补学）",
                 "同意张三为发展对象", "赞成 3 票", "观察员老周（优秀，现场提醒）"):  # fmt: skip
        assert text in row, text
    cancelled = re.search(rf'<tr data-meeting="{lorg.oct_cancelled}">.*?</tr>', html, re.S).group(0)
    assert "已取消" in cancelled
    # The plan of October beside what was held, and the drill-down to the console's meeting page.
    assert f'href="/console/meetings/{lorg.oct_meeting}"' in html
    assert "未关联会议" in html  # the planned 党课 was cancelled


@pytest.mark.parametrize("who", ["sec2", "c2sec", "observer"])
def test_another_scopes_branch_is_404_for_the_page_and_both_files(session_factory, app, lorg, who):
    c = lorg.org.county
    pid = lorg.org.observer.id if who == "observer" else lorg.id(who)
    client = login(session_factory, app, pid)
    other = c.b3.id if who != "c2sec" else c.b1.id
    for what in ("meetings", "meetings.xlsx", "meetings.docx"):
        r = client.get(url(other, what))
        assert r.status_code == 404, (what, r.status_code)
        assert "十月支部党员大会" not in r.text and "河西村党支部" not in r.text


def test_bad_and_future_periods_are_refused_in_chinese(session_factory, app, lorg):
    client = login(session_factory, app, lorg.id("sec1"))
    b1 = lorg.org.county.b1.id
    r = client.get(url(b1, period="2026-13"))
    assert r.status_code == 400 and "期间格式" in r.text
    r = client.get(url(b1, "meetings.xlsx", period="2027"))
    assert r.status_code == 400 and "还没有开始" in r.text


def test_a_committee_asks_for_one_of_its_branches(session_factory, app, lorg):
    client = login(session_factory, app, lorg.id("c1sec"))
    c = lorg.org.county
    r = client.get(url(c.c1.id))
    assert r.status_code == 200 and "请在下面选择一个党支部" in r.text
    assert f'data-unit="{c.b1.id}"' in r.text and f'data-unit="{c.b2.id}"' in r.text
    assert client.get(url(c.c1.id, "meetings.xlsx")).status_code == 400


def _ledger(session, lorg, period: str):
    scope = scope_of(session, lorg.id("staff"))
    branch = session.get(OrgUnit, lorg.org.county.b1.id)
    return (
        scope,
        branch,
        meetings_ledger(
            session, scope, branch, parse_period(period, DEC), now=NOW, cfg=MEETINGS, current_month=DEC
        ),
    )


@pytest.mark.parametrize("month", [OCT, OCT.replace(month=11), DEC])
def test_the_ledgers_figures_are_the_overviews(session_factory, lorg, month):
    """Held meetings and those present equal the 总览's drill-down and its figures for b1's month."""
    with session_factory() as session:
        scope, branch, ledger = _ledger(session, lorg, f"{month:%Y-%m}")
        (block,) = ledger.months
        lines = overview.branch_meetings(session, scope, branch, month, now=NOW, cfg=MEETINGS)
        assert [e.line.id for e in block.meetings] == [ln.id for ln in lines]
        assert block.held == sum(ln.held for ln in lines)
        for e, ln in zip(block.meetings, lines, strict=True):
            if ln.counts:
                assert len(e.present) == ln.present
                assert len(e.absent) == ln.absent and len(e.on_leave) == ln.leave
        view = overview.month_view(session, scope, month, now=NOW, mcfg=MonthlyConfig(),
                                   cfg=MEETINGS, ocfg=ObserversConfig())  # fmt: skip
        figures = view.figures(branch.id)
        assert (
            sum(len(e.present) for e in block.meetings if e.line.counts and e.line.starts_at <= NOW)
            == figures.present
        )


def test_october_in_numbers(session_factory, lorg):
    with session_factory() as session:
        _, _, ledger = _ledger(session, lorg, "2026-10")
    (block,) = ledger.months
    assert block.plan_status == "已备案" and len(block.plan) == 2 and block.held == 1
    e = next(e for e in block.meetings if e.line.id == lorg.oct_meeting)
    assert e.present_full == ["书记1", "党员1丁"] and e.present_probationary == ["预备党员1丙"]
    assert e.late == ["党员1丁"] and e.on_leave == ["党员1甲"] and e.absent == ["党员1乙"]
    assert sorted((m.name, m.done) for m in e.makeups) == [("党员1乙", False), ("党员1甲", True)]
    assert len(e.photos) == 1 and [o.outcome for o in e.observers] == ["现场提醒"]


def _menu_recorded(session_factory, lorg) -> None:
    """October's meeting is also a 主题党日: its minutes record two of the menu's fixed items and a 自选动作."""
    from models.meetings import Minutes

    with unit_of_work(session_factory) as session:
        minutes = session.scalars(select(Minutes).where(Minutes.meeting_id == lorg.oct_meeting)).one()
        minutes.menu_done, minutes.menu_extra = ["集中学习", "交纳党费"], "参观红色教育基地"


MENU_TEXT = "集中学习、交纳党费；自选动作：参观红色教育基地"


def test_the_xlsx_has_a_sheet_per_kind_of_record(session_factory, app, lorg):
    _menu_recorded(session_factory, lorg)
    client = login(session_factory, app, lorg.id("sec1"))
    r = client.get(url(lorg.org.county.b1.id, "meetings.xlsx"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["会议", "出勤", "请假", "补学", "会议记录", "观察员", "月度计划"]
    meetings = list(wb["会议"].iter_rows(min_row=3, values_only=True))
    # b1 in 2026: the two October meetings, November's, December's.
    assert len(meetings) == 4
    oct_row = next(r for r in meetings if r[3] == "十月支部党员大会")
    assert oct_row[:9] == ("2026年10月", "2026-10-16 15:00", "支部党员大会、主题党日", "十月支部党员大会",
                           "党员活动室", "讨论发展对象", "书记1", "党员1丁", "已开")  # fmt: skip
    assert oct_row[9:17] == (5, 3, 2, 1, 1, 1, "党员1甲", "党员1乙")
    att = [r for r in wb["出勤"].iter_rows(min_row=3, values_only=True) if r[1] == "十月支部党员大会"]
    assert sorted((r[2], r[3], r[4]) for r in att) == sorted([
        ("书记1", "正式", "出席"), ("党员1丁", "正式", "迟到"), ("预备党员1丙", "预备", "出席"),
        ("党员1甲", "正式", "请假"), ("党员1乙", "正式", "缺席"),
    ])  # fmt: skip
    assert [r[2:5] for r in wb["请假"].iter_rows(min_row=3, values_only=True)] == [
        ("党员1甲", "外出务工", "已批准")
    ]
    assert sorted((r[2], r[5]) for r in wb["补学"].iter_rows(min_row=3, values_only=True)) == [
        ("党员1乙", "待补学"), ("党员1甲", "已完成")]  # fmt: skip
    minutes = [r for r in wb["会议记录"].iter_rows(min_row=3, values_only=True) if r[1] == "十月支部党员大会"]
    assert minutes[0][5] == "同意张三为发展对象" and minutes[0][6] == MENU_TEXT
    assert "赞成 3 票" in minutes[0][7] and minutes[0][10] == 1
    others = [r for r in wb["会议记录"].iter_rows(min_row=3, values_only=True) if r[1] != "十月支部党员大会"]
    assert others and all(not r[6] for r in others)  # no menu recorded: the column stays empty
    assert f"党日动作：{MENU_TEXT}" in client.get(url(lorg.org.county.b1.id)).text  # the console page too
    observers = list(wb["观察员"].iter_rows(min_row=3, values_only=True))
    assert ("十月支部党员大会", "观察员老周", "92/100", "优秀", "现场提醒") in [r[1:6] for r in observers]
    plans = [r for r in wb["月度计划"].iter_rows(min_row=3, values_only=True) if r[0] == "2026年10月"]
    assert [(r[3], r[6]) for r in plans] == [("支部党员大会、主题党日", "是"), ("党课", "否")]


def test_a_typed_formula_stays_text_in_the_xlsx(session_factory, app, lorg):
    from models.meetings import Meeting

    with unit_of_work(session_factory) as session:
        session.get(Meeting, lorg.oct_meeting).topic = '=HYPERLINK("http://x")'
    client = login(session_factory, app, lorg.id("sec1"))
    wb = load_workbook(io.BytesIO(client.get(url(lorg.org.county.b1.id, "meetings.xlsx")).content))
    cell = next(
        c for row in wb["会议"].iter_rows(min_row=3) for c in row if c.value == '=HYPERLINK("http://x")'
    )
    assert cell.data_type == "s"


def test_the_docx_has_a_cover_a_section_per_month_and_the_photo(session_factory, app, lorg):
    _menu_recorded(session_factory, lorg)
    client = login(session_factory, app, lorg.id("c1sec"))
    r = client.get(url(lorg.org.county.b1.id, "meetings.docx"))
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "城关社区党支部" in text and "组织生活纪实台账" in text and "（2026年）" in text
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"2026年{m}月" for m in range(1, 13)]
    assert len(doc.sections) == 13  # the cover, then one per month
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "2026-10-16 15:00 十月支部党员大会" in text
    for words in ("应到 5 人，实到 3 人（正式党员 2，预备党员 1），请假 1 人，缺席 1 人",
                  "党员1甲：外出务工（已批准）", "同意张三为发展对象", "观察员老周：92/100 分，优秀，现场提醒",
                  "台风停课", MENU_TEXT):  # fmt: skip
        assert words in cells, words
    assert len(doc.inline_shapes) == 1
    shape = doc.inline_shapes[0]
    assert abs(shape.width / shape.height - PHOTO_SIZE[0] / PHOTO_SIZE[1]) < 0.01


def test_a_meeting_still_to_come_is_not_called_overdue(session_factory, app, lorg):
    from models.meetings import Meeting, MeetingKind, MeetingType
    from tests.monthly.conftest import local

    with unit_of_work(session_factory) as session:
        m = Meeting(branch_id=lorg.org.county.b1.id, title="十二月党课", topic="党章", place="会议室",
                    starts_at=local(date(2026, 12, 20)))  # fmt: skip
        m.kinds = [MeetingKind(type=MeetingType.PARTY_LECTURE)]
        session.add(m)
        session.flush()
        mid = m.id
    client = login(session_factory, app, lorg.id("sec1"))
    html = client.get(url(lorg.org.county.b1.id, period="2026-12")).text
    row = re.search(rf'<tr data-meeting="{mid}">.*?</tr>', html, re.S).group(0)
    assert "尚未召开" in row and "逾期" not in row


def test_the_hub_lists_units_not_party_groups(session_factory, app, lorg):
    from models.org import UnitKind

    c = lorg.org.county
    with unit_of_work(session_factory) as session:
        builders.unit(session, "第一党小组", UnitKind.GROUP, session.get(OrgUnit, c.b1.id))
    client = login(session_factory, app, lorg.id("c1sec"))
    hub = client.get(f"/console/ledgers/{c.b1.id}").text
    assert "第一党小组" not in hub and 'id="ledger-meetings"' in hub
    index = client.get("/console/ledgers").text
    assert f'data-unit="{c.c1.id}"' in index and f'data-unit="{c.b1.id}"' not in index  # the outermost only
