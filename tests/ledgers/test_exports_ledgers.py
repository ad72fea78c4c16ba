"""The 观察员台账 and the 消息台账 of a committee or the county, built in the background as the 纪实 and
党费 files are (#17): asked for with 生成台账 on the hub or the ledger's page, built by a worker turn,
downloaded by the person who asked; the file holds exactly the rows the direct builder gives for the
same unit, period and viewer (observers_xlsx, messages_xlsx over all_lines), opened with openpyxl; the
观察员台账's Word file (生成台账（Word）) is the direct builder's document, read with python-docx; a
sheet past Excel's row limit goes on in another, no row lost; roles (no request or download outside the
scope, the 消息台账 only for those who lead the unit); a unit above a branch has no direct .xlsx or
.docx."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from handlers.console.scope import Scope, scope_of
from handlers.ledgers import exports, messages
from handlers.ledgers.observers import observers_ledger
from handlers.ledgers.observers_export import observers_docx, observers_xlsx
from handlers.ledgers.period import parse_period
from handlers.ledgers.workbook import Book
from handlers.observers.forms import observers_config
from handlers.observers.periods import local_day
from models.db import unit_of_work
from models.exports import FAILED, READY, RUNNING, LedgerExport
from models.org import OrgUnit, Person, RoleAssignment
from models.outbox import DeliveryStatus
from tests.console.test_overview import NOW, login
from tests.ledgers.files import ask, background_file, build_one, document_text, workbook_rows
from tests.ledgers.test_messages import B1_Q4, Q4, _row, craft
from tests.ledgers.world import build_observers_world
from tests.monthly.conftest import local

DEC = NOW.date().replace(day=1)
B1, B2, B3, B4 = "城关社区党支部", "东门社区党支部", "河西村党支部", "河东村党支部"
ZHOU, WANG = "观察员老周", "观察员小王"
WORD = {"format": "docx"}  # the form's field of 生成台账（Word）


@pytest.fixture
def world(session_factory, lorg):
    with unit_of_work(session_factory) as session:
        observers = build_observers_world(session, lorg)
        sent = craft(session, lorg)
    return observers, sent


def direct_observers(session_factory, app, person_id: int, unit_id: int, period: str = "2026") -> bytes:
    core = app.state.console.core
    with session_factory() as session:
        ledger = observers_ledger(session, scope_of(session, person_id), session.get(OrgUnit, unit_id),
                                  parse_period(period, DEC), now=NOW, cfg=observers_config(core))  # fmt: skip
        return observers_xlsx(ledger, core.tz)


def direct_observers_docx(session_factory, app, person_id: int, unit_id: int, period: str = "2026") -> bytes:
    core = app.state.console.core
    cfg = observers_config(core)
    with session_factory() as session:
        ledger = observers_ledger(session, scope_of(session, person_id), session.get(OrgUnit, unit_id),
                                  parse_period(period, DEC), now=NOW, cfg=cfg)  # fmt: skip
        return observers_docx(ledger, core.tz, today=local_day(NOW, cfg))


def direct_messages(session_factory, app, person_id: int, unit_id: int, period: str = Q4) -> bytes:
    tz = app.state.console.core.tz
    with session_factory() as session:
        scope, unit, p = (
            scope_of(session, person_id),
            session.get(OrgUnit, unit_id),
            parse_period(period, DEC),
        )
        return messages.messages_xlsx(messages.all_lines(session, scope, unit, p, tz=tz), unit, p, tz)


def count_exports(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(LedgerExport))


# --- the files are the direct builder's -------------------------------------------------------------------


@pytest.mark.parametrize(("who", "unit"), [("c1sec", "c1"), ("staff", "county")])
def test_the_observers_file_of_a_committee_and_the_county_is_the_direct_builders(
    session_factory, app, lorg, world, who, unit
):
    uid = getattr(lorg.org.county, unit).id
    client = login(session_factory, app, lorg.id(who))
    hub = client.get(f"/console/ledgers/{uid}?period=2026").text
    card = re.search(r'<div class="card" id="ledger-observers">.*?</form>', hub, re.S).group(0)
    assert 'id="export-observers"' in card and "observers.xlsx" not in card and "observers.docx" not in card
    job, content = background_file(session_factory, app, client, uid, "observers")
    want = workbook_rows(direct_observers(session_factory, app, lorg.id(who), uid))
    got = workbook_rows(content)
    assert got == want
    data = {title: rows_[2:] for title, rows_ in got.items()}  # below the caption and the headers
    assert job.rows == sum(len(r) for r in data.values()) and (job.done, job.total) == (1, 1)
    branches = {r[1] for r in data["观察记录"]}
    assert branches == ({B1, B3} if unit == "county" else {B1})  # 城关镇党委's: no row of 河西村
    assert len(data["观察记录"]) == (5 if unit == "county" else 3)


@pytest.mark.parametrize(("who", "unit"), [("c1sec", "c1"), ("staff", "county")])
def test_the_observers_word_file_of_a_committee_and_the_county_is_the_direct_builders(
    session_factory, app, lorg, world, who, unit
):
    target = getattr(lorg.org.county, unit)
    client = login(session_factory, app, lorg.id(who))
    hub = client.get(f"/console/ledgers/{target.id}?period=2026").text
    card = re.search(r'<div class="card" id="ledger-observers">.*?</form>', hub, re.S).group(0)
    assert 'id="export-observers-docx"' in card and 'value="docx"' in card
    job, content = background_file(session_factory, app, client, target.id, "observers", **WORD)
    got = document_text(content)
    assert got == document_text(direct_observers_docx(session_factory, app, lorg.id(who), target.id))
    assert job.ledger == "observers_docx" and job.filename == f"{target.name}-观察员台账-2026年.docx"
    assert (job.done, job.total) == (1, 1)
    paragraphs, tables = got
    text = "\n".join(t for _, t in paragraphs)
    cells = "\n".join(c for t in tables for r in t for c in r)
    assert [t for style, t in paragraphs if style == "Heading 1"] == [
        f"观察员：{WANG}", f"观察员：{ZHOU}", "支部列席覆盖情况",
    ]  # fmt: skip
    assert "制表日期：2026年12月3日" in text and f"{target.name}" in text
    if unit == "county":
        assert "观察员 2 名，观察 5 次" in text and B3 in cells and B4 in cells
    else:  # 城关镇党委's: no line of 河西乡's branches
        assert "观察员 2 名，观察 3 次" in text and B3 not in cells and B4 not in cells
    coverage = [r for t in tables if t[0][:2] == ["党委", "党支部"] for r in t[1:]]
    assert job.rows == len(coverage) + sum(len(t) - 1 for t in tables if t[0][0] in ("会议时间", "编号"))
    # Listed under the card's button with the Excel files, said to be Word.
    hub = client.get(f"/console/ledgers/{target.id}?period=2026").text
    listed = re.search(r'<div class="exports" id="exports-observers">(.*?)</div>\s*</div>', hub, re.S).group(
        1
    )
    assert (
        "观察员台账（Word） · 2026年" in listed and "Word 文件" in listed and 'data-status="ready"' in listed
    )


@pytest.mark.parametrize(("who", "unit"), [("c1sec", "c1"), ("staff", "county")])
def test_the_messages_file_of_a_committee_and_the_county_is_the_direct_builders(
    session_factory, app, lorg, world, who, unit
):
    _, sent = world
    uid = getattr(lorg.org.county, unit).id
    client = login(session_factory, app, lorg.id(who))
    job, content = background_file(session_factory, app, client, uid, "messages", Q4)
    want = workbook_rows(direct_messages(session_factory, app, lorg.id(who), uid))
    got = workbook_rows(content)
    assert got == want and list(got) == ["消息"]
    ids = [r[0] for r in got["消息"][2:]]
    mine = [sent[k] for k in B1_Q4]
    expected = sorted(mine + [sent["b2"]] + ([sent["b3"]] if unit == "county" else []), reverse=True)
    assert ids == expected  # newest first, as the pages
    assert (job.rows, job.done, job.total) == (len(ids), len(ids), len(ids))
    assert job.filename.endswith("-消息台账-2026年第4季度.xlsx")


def test_the_messages_file_holds_the_rows_up_to_its_start_and_counts_them(
    session_factory, app, lorg, world, monkeypatch
):
    """Progress counts messages; a message queued while the file is built is not half in it."""
    _, sent = world
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    assert ask(client, c.county.id, "messages", Q4).status_code == 303
    seen = []
    real = exports._progress

    def progress(factory, job, done, total, **kw):
        real(factory, job, done, total, **kw)
        if done == 0:  # the bot goes on sending while the file is built
            with unit_of_work(factory) as s:
                p = s.scalars(select(Person).where(Person.name == "书记1")).one()
                _row(s, "fee:late", p, at=local(DEC.replace(day=2), 12), status=DeliveryStatus.FAILED)
        if done == 3:
            seen.append(client.get(f"/console/ledgers/{c.county.id}/exports/{job.id}").text)

    monkeypatch.setattr(exports, "_progress", progress)
    monkeypatch.setattr(exports, "PROGRESS_EVERY_SECONDS", 0)
    build_one(session_factory, app)
    (fragment,) = seen
    assert "正在生成：已完成 3/9 条消息" in fragment and '<progress value="3" max="9">' in fragment
    with session_factory() as session:
        job = session.scalars(select(LedgerExport)).one()
        assert (job.status, job.rows, job.done, job.total) == (READY, 9, 9, 9)


def test_a_full_sheet_goes_on_in_the_next_and_no_row_is_lost(session_factory, app, lorg, world, monkeypatch):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    want = workbook_rows(direct_messages(session_factory, app, lorg.id("staff"), c.county.id))["消息"]
    monkeypatch.setattr(Book, "ROW_LIMIT", 6)  # the caption, the headers and 4 rows a sheet
    job, content = background_file(session_factory, app, client, c.county.id, "messages", Q4)
    got = workbook_rows(content)
    assert list(got) == ["消息", "消息（2）", "消息（3）"] and job.rows == 9
    assert [len(r) for r in got.values()] == [6, 6, 3]
    assert got["消息（2）"][0][0] == "宿松县委 消息台账（2026年第4季度）（续上表，第 2 张）"
    assert all(r[1] == want[1] for r in got.values())  # each sheet has the headers
    assert [row for rows_ in got.values() for row in rows_[2:]] == want[2:]  # every row, in order
    # The observers' sheets too: 评价表明细 of the county has 30 rows.
    _, content = background_file(session_factory, app, client, c.county.id, "observers")
    items = [n for n in workbook_rows(content) if n.startswith("评价表明细")]
    assert items == ["评价表明细"] + [f"评价表明细（{i}）" for i in range(2, 9)]


def test_an_empty_period_gives_a_file_with_its_headers(session_factory, app, lorg, world):
    client = login(session_factory, app, lorg.id("staff"))
    job, content = background_file(
        session_factory, app, client, lorg.org.county.county.id, "messages", "2026-01"
    )
    assert (job.rows, job.total) == (0, 0)
    (sheet,) = workbook_rows(content).values()
    assert sheet[0][0] == "宿松县委 消息台账（2026年1月）" and sheet[1][0] == "编号" and len(sheet) == 2


# --- the pages --------------------------------------------------------------------------------------------


def test_a_unit_above_a_branch_has_no_direct_file_and_its_pages_offer_the_background_one(
    session_factory, app, lorg, world
):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("c1sec"))
    for what in ("observers.xlsx", f"messages.xlsx?period={Q4}&status=failed", "fees.xlsx", "observers.docx"):
        r = client.get(f"/console/ledgers/{c.c1.id}/{what}")
        said = exports.TEXT["above_branch_docx" if what.endswith("docx") else "above_branch"]
        assert r.status_code == 400 and said in r.text, what
    assert "生成台账（Word）" in exports.TEXT["above_branch_docx"]
    for what in ("observers.xlsx", "messages.xlsx", "fees.xlsx", "observers.docx"):  # a branch's: a download
        assert client.get(f"/console/ledgers/{c.b1.id}/{what}").status_code == 200, what
    for ledger, query in (("observers", "2026"), ("messages", Q4)):
        page = client.get(f"/console/ledgers/{c.c1.id}/{ledger}?period={query}").text
        assert f'id="export-{ledger}"' in page and 'id="download-xlsx"' not in page
        assert 'id="download-docx"' not in page
        assert ('id="export-observers-docx"' in page) == (ledger == "observers")  # the 消息台账: Excel only
        r = ask(client, c.c1.id, ledger, query, back=ledger)
        assert r.headers["location"] == f"/console/ledgers/{c.c1.id}/{ledger}?period={query}"
        build_one(session_factory, app)
        page = client.get(f"/console/ledgers/{c.c1.id}/{ledger}?period={query}").text
        listed = re.search(rf'<div class="exports" id="exports-{ledger}">(.*?)</div>\s*</div>', page, re.S)
        assert 'data-status="ready"' in listed.group(1) and "下载" in listed.group(1)
    messages_page = client.get(f"/console/ledgers/{c.c1.id}/messages?period={Q4}").text
    assert "不按页面上的筛选" in messages_page
    branch_page = client.get(f"/console/ledgers/{c.b1.id}/messages?period={Q4}").text
    assert 'id="download-xlsx"' in branch_page and 'id="export-messages"' not in branch_page
    # The hub lists each ledger's own files under its own button.
    hub = client.get(f"/console/ledgers/{c.c1.id}?period=2026").text
    for ledger, name in (("observers", "观察员台账"), ("messages", "消息台账")):
        listed = re.search(rf'<div class="exports" id="exports-{ledger}">(.*?)</div>\s*</div>', hub, re.S)
        assert listed and name in listed.group(1), ledger
    assert "观察员台账" not in re.search(r'id="exports-fees">(.*?)</div>\s*</div>', hub, re.S).group(1)
    # The Word file from the ledger's page, back to it.
    r = ask(client, c.c1.id, "observers", back="observers", **WORD)
    assert r.headers["location"] == f"/console/ledgers/{c.c1.id}/observers?period=2026"


def test_a_word_file_only_of_a_ledger_that_has_one(session_factory, app, lorg, world):
    client = login(session_factory, app, lorg.id("c1sec"))
    c1 = lorg.org.county.c1.id
    for ledger, fmt, said in (("fees", "docx", "no_word"), ("messages", "docx", "no_word"),
                              ("observers", "pdf", "unknown_ledger"), ("observers_docx", "", "unknown_ledger"),
                              ("observers_docx", "docx", "unknown_ledger")):  # fmt: skip
        r = ask(client, c1, ledger, format=fmt)
        assert r.status_code == 400 and exports.TEXT[said] in r.text, (ledger, fmt)
    assert count_exports(session_factory) == 0
    # The same file asked twice while queued is one row; its Excel file is another.
    assert ask(client, c1, "observers", **WORD).status_code == 303
    assert ask(client, c1, "observers", **WORD).status_code == 303
    assert ask(client, c1, "observers").status_code == 303
    with session_factory() as session:
        assert sorted(session.scalars(select(LedgerExport.ledger))) == ["observers", "observers_docx"]


# --- roles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ledger", "fmt"), [("observers", "xlsx"), ("observers", "docx"), ("messages", "xlsx")]
)
def test_no_one_outside_the_scope_asks_for_or_downloads_a_file(
    session_factory, app, lorg, world, ledger, fmt
):
    c = lorg.org.county
    period = Q4 if ledger == "messages" else "2026"
    observers, _ = world
    for who, unit in (("c2sec", c.c1), ("sec1", c.c1), ("c1sec", c.county), ("observer", c.c1)):
        pid = observers.zhou if who == "observer" else lorg.id(who)
        r = ask(login(session_factory, app, pid), unit.id, ledger, period, format=fmt)
        assert r.status_code == 404, (who, ledger)
    r = ask(login(session_factory, app, lorg.id("sec1")), c.b1.id, ledger, period, format=fmt)
    assert r.status_code == 400 and "直接下载" in r.text
    assert count_exports(session_factory) == 0

    owner = login(session_factory, app, lorg.id("c1sec"))
    job, _ = background_file(session_factory, app, owner, c.c1.id, ledger, period, format=fmt)
    url = f"/console/ledgers/{c.c1.id}/exports/{job.id}"
    for who in ("staff", "c2sec", "sec1"):  # 组织部 sees the unit, but the file is its requester's
        other = login(session_factory, app, lorg.id(who))
        assert other.get(f"{url}/download").status_code == 404, who
        assert other.get(url).status_code == 404, who
    # They move to 河西乡党委: neither the file they had nor a new one of 城关镇党委.
    assert ask(owner, c.c1.id, ledger, period, format=fmt).status_code == 303  # queued before the move
    with unit_of_work(session_factory) as session:
        session.execute(
            update(RoleAssignment)
            .where(RoleAssignment.person_id == lorg.id("c1sec"))
            .values(org_unit_id=c.c2.id)
        )
    assert owner.get(f"{url}/download").status_code == 404
    build_one(session_factory, app)
    with session_factory() as session:
        queued = session.scalars(select(LedgerExport).where(LedgerExport.id != job.id)).one()
        assert (queued.status, queued.reason, queued.size) == (FAILED, exports.TEXT["no_scope"], 0)


def test_the_messages_file_is_for_those_who_lead_the_unit():
    """A unit seen only as its observer: the 观察员台账 (their own records), never the 消息台账."""
    unit = OrgUnit(id=7, name="城关镇党委", path="/1/7/")
    looker = Scope(person_id=1, everything=False, roots=(), observed=("/1/7/",), title="观察员")
    leader = Scope(person_id=2, everything=False, roots=("/1/",), observed=(), title="党委")
    assert exports.may_read(looker, unit, "observers") and not exports.may_read(looker, unit, "messages")
    assert exports.may_read(leader, unit, "messages")
    outsider = Scope(person_id=3, everything=False, roots=("/2/",), observed=(), title="党委")
    assert not exports.may_read(outsider, unit, "observers")


def test_a_running_file_shows_its_state_by_ledger():
    row = LedgerExport(ledger="observers", status=RUNNING, done=0, total=1)
    assert exports.status_text(row) == "正在生成"
    row = LedgerExport(ledger="observers_docx", status=RUNNING, done=0, total=1)  # one go, as its Excel
    assert exports.status_text(row) == "正在生成"
    row = LedgerExport(ledger="messages", status=RUNNING, done=20, total=300)
    assert exports.status_text(row) == "正在生成：已完成 20/300 条消息"
    row = LedgerExport(ledger="meetings", status=RUNNING, done=2, total=4)
    assert exports.status_text(row) == "正在生成：已完成 2/4 个党支部"
