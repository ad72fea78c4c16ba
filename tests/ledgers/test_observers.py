"""观察员台账 (#17 item 3): the crafted 2026 of tests.ledgers.world.build_observers_world read back from
the ledger, the page, the .xlsx (openpyxl) and the .docx (python-docx); the page's rows are the
export's; scope (an observer sees only their own records, another scope's unit is 404, no row of
another unit in any file); the statements do not grow with the branches."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import event

from handlers.console.scope import scope_of
from handlers.ledgers.observers import observers_ledger
from handlers.ledgers.period import parse_period
from handlers.observers.forms import ObserversConfig
from handlers.observers.record import observer_records
from handlers.observers.strings import RATING_SEE_CONSOLE
from models.db import unit_of_work
from models.org import OrgUnit, Role
from tests import builders
from tests.console.test_overview import NOW, login
from tests.ledgers.files import background_file
from tests.ledgers.world import ObserversWorld, build_observers_world

DEC = NOW.date().replace(day=1)
CFG = ObserversConfig()
B1, B2, B3, B4 = "城关社区党支部", "东门社区党支部", "河西村党支部", "河东村党支部"
ZHOU, WANG = "观察员老周", "观察员小王"
SHEETS = ["观察员分工", "观察记录", "评价表明细", "整改事项", "列席覆盖", "观察员年度记录（2026年）"]


@pytest.fixture
def world(session_factory, lorg) -> ObserversWorld:
    with unit_of_work(session_factory) as session:
        return build_observers_world(session, lorg)


def url(unit_id: int, what: str = "observers", period: str = "2026") -> str:
    return f"/console/ledgers/{unit_id}/{what}?period={period}"


def ledger(session, who_id: int, unit_id: int, period: str = "2026"):
    return observers_ledger(session, scope_of(session, who_id), session.get(OrgUnit, unit_id),
                            parse_period(period, DEC), now=NOW, cfg=CFG)  # fmt: skip


def sheets(content: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(min_row=3, values_only=True)) for ws in wb}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def file_of(session_factory, app, client, unit_id: int, period: str = "2026") -> bytes:
    """The unit's .xlsx as the console gives it: a branch's downloaded, a unit above it built in the
    background (生成台账)."""
    direct = client.get(url(unit_id, "observers.xlsx", period))
    if direct.status_code != 400:
        assert direct.status_code == 200
        return direct.content
    return background_file(session_factory, app, client, unit_id, "observers", period)[1]


def docx_of(session_factory, app, client, unit_id: int, period: str = "2026") -> bytes:
    """The unit's .docx as the console gives it: a branch's downloaded, a unit above it built in the
    background (生成台账（Word）)."""
    direct = client.get(url(unit_id, "observers.docx", period))
    if direct.status_code != 400:
        assert direct.status_code == 200
        return direct.content
    return background_file(session_factory, app, client, unit_id, "observers", period, format="docx")[1]


def rows(html: str, attr: str) -> dict[str, str]:
    """{data-<attr> value: the row's text} of the page's table rows."""
    return {
        m[1]: text_of(m[2])
        for m in re.finditer(rf'<tr[^>]*data-{attr}="([^"]+)"[^>]*>(.*?)</tr>', html, re.S)
    }


# --- the crafted year ---------------------------------------------------------------------------------


def test_the_county_year_in_numbers(session_factory, world):
    lorg = world.lorg
    with session_factory() as session:
        led = ledger(session, lorg.id("staff"), lorg.org.county.county.id)
        records = {r.name: r for r in observer_records(session, 2026, now=NOW, cfg=CFG,
                                                       observer_ids=[world.zhou, world.wang])}  # fmt: skip
    assert not led.own_only
    assert sorted((a.observer, a.branch, a.active, a.since.isoformat()) for a in led.assignments) == [
        (WANG, B1, True, "2026-01-05"), (WANG, B3, True, "2026-01-05"),
        (ZHOU, B2, False, "2026-01-05"), (ZHOU, B1, True, "2026-01-05"),
    ]  # fmt: skip
    assert [(o.id, o.observer, o.branch, o.total, o.outcome_label) for o in led.observations] == [
        (world.oct_obs, ZHOU, B1, 92, "现场提醒"), (world.nov_obs, ZHOU, B1, 80, "责令纠正"),
        (world.stop_obs, WANG, B3, 55, "叫停"), (world.pass_obs, WANG, B1, 95, "合格"),
        (world.reopen_obs, WANG, B3, 70, "责令重开"),
    ]  # fmt: skip
    # Each form's items add up to its total, and the 评价表 says what each item was marked.
    assert all(sum(i.score for i in o.items) == o.total for o in led.observations)
    oct_ = led.observations[0]
    assert oct_.form == "党内组织生活观察质量评价表"
    assert [(i.label, i.score, i.max) for i in oct_.items][3] == ("内容质量", 23, 25)
    assert oct_.items[3].comment == "联系实际不够"
    assert led.observations[4].deadline.isoformat() == "2026-12-17"
    assert led.observations[2].on_time is False
    assert led.outcome_counts == [("合格", 1), ("现场提醒", 1), ("叫停", 1), ("责令纠正", 1), ("责令重开", 1)]
    assert [(r.text, r.status_label, r.overdue) for r in led.rectifications] == [
        ("学习记录不完整", "待整改", True), ("签到表未存档", "已销号", False),
    ]  # fmt: skip
    assert (led.open_rectifications, led.overdue_rectifications) == (1, 1)
    h1, h2 = led.coverage
    assert (h1.name, h1.running, h2.name, h2.running) == ("2026年上半年", False, "2026年下半年", True)
    assert {c.name: c.observed for c in h1.rows} == {B1: 0, B2: 0, B3: 0, B4: 0}
    assert {c.name: (c.observed, c.observers) for c in h2.rows} == {
        B1: (3, [ZHOU, WANG]), B2: (0, []), B3: (2, [WANG]), B4: (0, []),
    }  # fmt: skip
    assert (h2.covered, h2.unassigned) == (2, 2)
    # The yearly record is the observers feature's (the chat's 观察统计 and its export say the same).
    got = {e.name: e.record for e in led.observers}
    for name in (ZHOU, WANG):
        want = records[name]
        assert (got[name].attended, got[name].forms, got[name].forms_on_time, got[name].issues_raised,
                got[name].issues_closed, got[name].periods, got[name].periods_covered, got[name].rating) == (
                want.attended, want.forms, want.forms_on_time, want.issues_raised, want.issues_closed,
                want.periods, want.periods_covered, want.rating)  # fmt: skip
    assert (got[ZHOU].attended, got[ZHOU].issues_raised, got[ZHOU].issues_closed) == (2, 2, 1)
    assert (got[WANG].attended, got[WANG].forms, got[WANG].forms_on_time, got[WANG].periods) == (3, 3, 2, 4)


def test_a_quarter_holds_its_own_observations_and_its_half_years_coverage(session_factory, world):
    lorg = world.lorg
    with session_factory() as session:
        q3 = ledger(session, lorg.id("staff"), lorg.org.county.county.id, "2026-Q3")
        nov = ledger(session, lorg.id("staff"), lorg.org.county.county.id, "2026-11")
    assert q3.observations == [] and q3.rectifications == []
    assert [b.name for b in q3.coverage] == ["2026年下半年"]
    assert [o.id for o in nov.observations] == [world.nov_obs, world.stop_obs]
    assert len(nov.rectifications) == 2


# --- the files ------------------------------------------------------------------------------------------


def test_the_xlsx_has_a_sheet_per_kind_of_record(session_factory, app, world):
    lorg = world.lorg
    client = login(session_factory, app, lorg.id("staff"))
    county = lorg.org.county.county.id
    r = client.get(url(county, "observers.xlsx"))  # the county's file is built in the background
    assert r.status_code == 400 and "生成台账" in r.text
    job, content = background_file(session_factory, app, client, county, "observers")
    assert job.filename == "宿松县委-观察员台账-2026年.xlsx"
    got = sheets(content)
    assert list(got) == SHEETS
    assert sorted(got["观察员分工"]) == sorted([
        (WANG, B2, B1, "2026-01-05", "在岗"), (ZHOU, B3, B1, "2026-01-05", "在岗"),
        (ZHOU, B3, B2, "2026-01-05", "已结束"), (WANG, B2, B3, "2026-01-05", "在岗"),
    ])  # fmt: skip
    obs = got["观察记录"]
    assert [(r[1], r[3], r[5], r[7], r[8]) for r in obs] == [
        (B1, ZHOU, 92, "优秀", "现场提醒"), (B1, ZHOU, 80, "良好", "责令纠正"), (B3, WANG, 55, "D", "叫停"),
        (B1, WANG, 95, "A", "合格"), (B3, WANG, 70, "C", "责令重开"),
    ]  # fmt: skip
    assert obs[0][:3] == ("2026-10-16 15:00", B1, "十月支部党员大会")
    assert obs[1][9] == "2026-11-30" and obs[4][9] == "2026-12-17" and obs[2][12] == "否"
    items = got["评价表明细"]
    assert len(items) == 5 * 6
    assert ("2026-10-16 15:00", B1, "十月支部党员大会", ZHOU, "内容质量", 25, 23, "联系实际不够") in items
    assert sum(r[6] for r in items if r[3] == WANG) == 55 + 95 + 70
    assert [(r[4], r[5], r[6], r[7]) for r in got["整改事项"]] == [
        ("学习记录不完整", "2026-11-30", "待整改", "是"), ("签到表未存档", "2026-11-30", "已销号", "否"),
    ]  # fmt: skip
    cov = got["列席覆盖"]
    assert len(cov) == 8
    h2 = {r[2]: r[3:] for r in cov if r[0].startswith("2026年下半年")}
    assert h2 == {B2: ("未安排观察员", 0, 1, "否"), B1: (f"{ZHOU}、{WANG}", 3, 1, "是"),
                  B4: ("未安排观察员", 0, 1, "否"), B3: (WANG, 2, 1, "是")}  # fmt: skip
    assert all(r[0] == "2026年上半年" for r in cov[:4]) and "进行中" in cov[4][0]
    records = {r[0]: r for r in got["观察员年度记录（2026年）"]}
    # The grade is proposed and decided on the console's 观察员年度评定: the record points there.
    assert records[ZHOU][1:10] == (B1, 2, 2, 2, 2, 1, 2, 1, RATING_SEE_CONSOLE)
    assert records[WANG][1:10] == (f"{B1}、{B3}", 3, 3, 2, 0, 0, 4, 2, RATING_SEE_CONSOLE)
    assert records[WANG][10].startswith("年度评定：") and "已到期的 4 次中做到 2 次" in records[WANG][10]


def test_the_docx_is_each_observers_record_for_the_rating(session_factory, app, world):
    lorg = world.lorg
    client = login(session_factory, app, lorg.id("staff"))
    doc = Document(io.BytesIO(docx_of(session_factory, app, client, lorg.org.county.county.id)))
    text = "\n".join(p.text for p in doc.paragraphs)
    for words in ("宿松县委", "观察员台账", "（2026年）",
                  "观察员 2 名，观察 5 次（合格 1 次，现场提醒 1 次，叫停 1 次，责令纠正 1 次，责令重开 1 次）",
                  "整改事项 2 条，未销号 1 条，逾期 1 条", "制表日期：2026年12月3日"):  # fmt: skip
        assert words in text, words
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == [
        f"观察员：{WANG}", f"观察员：{ZHOU}", "支部列席覆盖情况",
    ]  # fmt: skip
    assert len(doc.sections) == 4  # the cover, one per observer, the coverage
    kv = {t.rows[0].cells[1].text: {r.cells[0].text: r.cells[1].text for r in t.rows} for t in doc.tables
          if t.rows[0].cells[0].text == "所在单位"}  # fmt: skip
    zhou = kv[B3]
    assert zhou["联系支部"] == f"{B1}（2026-01-05 起，在岗）；{B2}（2026-01-05 起，已结束）"
    assert zhou["本期观察"] == "2 次：现场提醒 1 次，责令纠正 1 次"
    assert zhou["2026年度情况"] == ("列席 2 次，提交评价表 2 份（按时 2 份），提出整改 2 条（已销号 1 条），"
                                   "联系支部应观察 2 期次，已覆盖 1 期次")  # fmt: skip
    assert zhou["年度评定"].startswith("年度评定：") and "已到期的 2 次中做到 1 次" in zhou["年度评定"]
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert ["2026-12-02 10:00", B3, "会议", "70/100", "C", "责令重开（期限 2026-12-17）",
            "会前准备 10/15；程序规范 14/20；到会情况 10/15；内容质量 18/25；记录规范 8/10；议定事项落实/整改 10/15"] in cells  # fmt: skip
    assert ["1", B1, "学习记录不完整", "2026-11-30", "待整改（逾期）"] in cells
    assert ["城关镇党委", B2, "未安排观察员", "0", "1", "否"] in cells
    assert ["河西乡党委", B3, WANG, "2", "1", "是"] in cells


@pytest.mark.parametrize(
    ("who", "unit"), [("staff", "county"), ("c1sec", "c1"), ("sec1", "b1"), ("observer", "b1")]
)
def test_the_pages_rows_are_the_exports_rows(session_factory, app, world, who, unit):
    lorg = world.lorg
    pid = world.zhou if who == "observer" else lorg.id(who)
    uid = getattr(lorg.org.county, unit).id
    client = login(session_factory, app, pid)
    html = client.get(url(uid)).text
    got = sheets(file_of(session_factory, app, client, uid))
    page_obs = list(rows(html, "observation").values())
    assert len(page_obs) == len(got["观察记录"]) > 0
    for text, row in zip(page_obs, got["观察记录"], strict=True):
        for cell in (row[0], row[1], row[2], row[3], f"{row[5]}/{row[6]}", row[8]):
            assert str(cell) in text, (cell, text)
    page_items = re.findall(r'data-item="([^"]+)"', html)
    assert page_items == [r[4] for r in got["评价表明细"]]
    page_rects = rows(html, "rect")
    assert [int(k) for k in page_rects] == [r[0] for r in got["整改事项"]]
    assert len(rows(html, "assignment")) == len(got["观察员分工"])
    cover = re.findall(r'<tr data-branch="\d+" data-observed="(\d+)"><td>[^<]*</td><td>([^<]+)</td>', html)
    assert [(name, int(n)) for n, name in cover] == [(r[2], r[4]) for r in got["列席覆盖"]]
    assert len(rows(html, "observer")) == len(got["观察员年度记录（2026年）"])


# --- scope ---------------------------------------------------------------------------------------------


def test_an_observer_sees_only_their_own_records(session_factory, app, world):
    lorg = world.lorg
    b1 = lorg.org.county.b1.id
    client = login(session_factory, app, world.zhou)
    html = client.get(url(b1)).text
    assert "您以观察员身份查看" in html
    assert WANG not in html and "照本宣科" not in html
    assert {int(k) for k in rows(html, "observation")} == {world.oct_obs, world.nov_obs}
    assert list(rows(html, "observer")) == [str(world.zhou)]
    got = sheets(client.get(url(b1, "observers.xlsx")).content)
    assert [r[:3] for r in got["观察员分工"]] == [
        (ZHOU, "其他单位", B1)
    ]  # his own branch is not theirs to see
    assert {r[3] for r in got["观察记录"]} == {ZHOU} and len(got["整改事项"]) == 2
    assert {r[3] for r in got["列席覆盖"]} == {ZHOU}  # 小王 observes 城关社区 too: not shown
    doc = Document(io.BytesIO(client.get(url(b1, "observers.docx")).content))
    every = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )
    assert WANG not in every and ZHOU in every and B3 not in every


@pytest.mark.parametrize(("who", "unit"), [("observer", "b2"), ("observer", "b3"), ("observer", "c1"),
                                           ("c2sec", "b1"), ("sec2", "b1"), ("staff_c1", "b3")])  # fmt: skip
def test_another_scopes_unit_is_404_for_the_page_and_both_files(session_factory, app, world, who, unit):
    """老周's link to 东门社区 has ended; 河西村 is his own branch, which he does not observe."""
    lorg = world.lorg
    pid = {"observer": world.zhou, "staff_c1": lorg.org.staff_c1.id}.get(who) or lorg.id(who)
    client = login(session_factory, app, pid)
    uid = getattr(lorg.org.county, unit).id
    for what in ("observers", "observers.xlsx", "observers.docx"):
        r = client.get(url(uid, what))
        assert r.status_code == 404, (who, unit, what, r.status_code)
        leaked = (
            "观察员台账",
            "学习记录不完整",
            "照本宣科",
            "十月支部党员大会",
            WANG if who != "observer" else B2,
        )
        assert not [w for w in leaked if w in r.text], (who, unit, what)


def test_a_committees_files_hold_no_row_of_another_unit(session_factory, app, world):
    lorg = world.lorg
    client = login(session_factory, app, lorg.id("c1sec"))
    c1 = lorg.org.county.c1.id
    got = sheets(file_of(session_factory, app, client, c1))
    ours = {B1, B2}
    branch_column = {"观察员分工": 2, "观察记录": 1, "评价表明细": 1, "整改事项": 1, "列席覆盖": 2}
    for sheet, col in branch_column.items():
        assert {r[col] for r in got[sheet]} <= ours, sheet
    assert all(r[1] == "城关镇党委" for r in got["列席覆盖"])
    # 小王 observes 河西村 too: his yearly figures count it, but the record names only this unit's branch.
    records = {r[0]: r for r in got["观察员年度记录（2026年）"]}
    assert records[WANG][1] == B1 and records[WANG][2] == 3
    # 老周 is a member of 河西村, a branch outside 城关镇党委: named 其他单位.
    assert {r[1] for r in got["观察员分工"] if r[0] == ZHOU} == {"其他单位"}
    everything = " ".join(str(v) for rows_ in got.values() for r in rows_ for v in r if v is not None)
    assert B3 not in everything and B4 not in everything and "河西乡党委" not in everything
    doc = Document(io.BytesIO(docx_of(session_factory, app, client, c1)))
    every = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )
    assert B3 not in every and B4 not in every and "照本宣科" not in every
    html = client.get(url(c1)).text
    assert B3 not in html and B4 not in html


def test_the_hub_offers_the_ledger_and_a_bad_period_is_refused(session_factory, app, world):
    lorg = world.lorg
    client = login(session_factory, app, lorg.id("sec1"))
    b1 = lorg.org.county.b1.id
    hub = client.get(f"/console/ledgers/{b1}?period=2026-H2").text
    card = re.search(r'<div class="card" id="ledger-observers">.*?</div>', hub, re.S).group(0)
    for what in ("observers", "observers.docx", "observers.xlsx"):
        assert f'href="/console/ledgers/{b1}/{what}?period=2026-H2"' in card
    r = client.get(url(b1, "observers.docx", period="2026-13"))
    assert r.status_code == 400 and "期间格式" in r.text
    r = client.get(url(b1, "observers.xlsx", period="2027"))
    assert r.status_code == 400 and "还没有开始" in r.text
    name = client.get(url(b1, "observers.docx", period="2026-H2")).headers["content-disposition"]
    assert name.endswith("%E5%8D%8A%E5%B9%B4.docx")  # …2026年下半年.docx


# --- statements -----------------------------------------------------------------------------------------


def test_statements_do_not_grow_with_branches(session_factory, app, world):
    """More committees and branches, each with an observer and a form, issue no more statements."""
    from models.observers import Observation, ObserverAssignment, Outcome
    from tests.monthly.conftest import comply, local

    lorg = world.lorg
    engine = session_factory.kw["bind"]
    c = lorg.org.county
    paths = [url(c.county.id, "observers")]
    paths += [url(c.c1.id, "observers", "2026-H2"), url(c.b1.id, "observers.xlsx", "2026-Q4")]
    staff = login(session_factory, app, lorg.id("staff"))
    observer = login(session_factory, app, world.zhou)
    mine = url(c.b1.id, "observers")

    def count(client, path: str) -> int:
        client.get(path)  # warm
        n = [0]

        def tick(*_a, **_k):
            n[0] += 1

        event.listen(engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200, path
        finally:
            event.remove(engine, "before_cursor_execute", tick)
        return n[0]

    def built(unit_id: int, fmt: str) -> int:  # the county's .xlsx or .docx, built in the background
        n: list[int] = []
        background_file(session_factory, app, staff, unit_id, "observers", statements=n, format=fmt)
        return n[0]

    def counts() -> list[int]:
        return [count(staff, p) for p in paths] + [count(observer, mine), built(c.county.id, "xlsx"),
                                                   built(c.county.id, "docx")]  # fmt: skip

    before = counts()
    with unit_of_work(session_factory) as session:
        top, town = session.get(OrgUnit, c.county.id), session.get(OrgUnit, c.c1.id)
        for i in range(3):
            committee = builders.unit(session, f"新区{i}党委", c.c1.kind, top)
            for j, parent in enumerate((committee, town)):
                b = builders.unit(session, f"新区{i}第{j}支部", c.b1.kind, parent, c.b1.category)
                p = builders.person(session, f"新党员{i}{j}", b)
                builders.role(session, p, b, Role.SECRETARY)
                watcher = builders.person(session, f"新观察员{i}{j}", c.b4)
                session.add(ObserverAssignment(observer_id=watcher.id, branch_id=b.id, active=True))
                m = comply(session, c, b, DEC, day=2)
                session.add(Observation(meeting_id=m.id, observer_id=watcher.id, branch_id=b.id,
                                        meeting_starts_at=local(DEC.replace(day=2)), preset="taihu", items=[],
                                        total=90, max_total=100, grade="A", outcome=Outcome.PASS,
                                        submitted_at=local(DEC.replace(day=2))))  # fmt: skip
    after = counts()
    keys = [*paths, mine, "county.xlsx", "county.docx"]
    assert dict(zip(keys, after, strict=True)) == dict(zip(keys, before, strict=True))
    assert len(rows(staff.get(paths[0]).text, "observation")) == 5 + 6
