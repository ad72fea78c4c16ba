"""Ledger files of a committee or the county, built in the background (#17): asked for on the page, claimed
and built by a worker (run_once with the test's clock: nothing sleeps), progress, the download, each
branch's rows equal to its own page's; only the requester downloads, within their scope; a worker that
died is taken over or the file fails with a reason; two workers never build one file; old files go."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from bot.web.console.deps import COOKIE
from handlers.ledgers import exports
from handlers.ledgers.workbook import Book
from models.db import unit_of_work
from models.exports import FAILED, QUEUED, READY, RUNNING, LedgerExport, LedgerExportChunk
from models.org import OrgUnit, Role, RoleAssignment
from tests import builders
from tests.console.test_overview import NOW, login

SHEETS = ["会议", "出勤", "请假", "补学", "会议记录", "观察员", "月度计划"]


def ask(client, unit_id: int, ledger: str = "meetings", period: str = "2026", **extra):
    return client.post(
        f"/console/ledgers/{unit_id}/exports",
        data={
            "csrf_token": client.app.state.console.csrf(client.cookies.get(COOKIE)),
            "ledger": ledger,
            "period": period,
            **extra,
        },
        follow_redirects=False,
    )


def work(session_factory, app, *, now=NOW, worker="w1"):
    return exports.run_once(session_factory, core=app.state.console.core, clock=lambda: now, worker=worker)


def only_export(session_factory) -> LedgerExport:
    with session_factory() as session:
        (row,) = session.scalars(select(LedgerExport)).all()
        session.expunge(row)
        return row


def rows(body: bytes, sheet: str) -> list[tuple]:
    """A sheet's data rows (after the caption and the headers)."""
    return [tuple(r) for r in load_workbook(io.BytesIO(body))[sheet].iter_rows(min_row=3, values_only=True)]


def status(client, unit_id: int, export_id: int) -> str:
    return client.get(f"/console/ledgers/{unit_id}/exports/{export_id}").text


def test_a_county_meetings_file_is_queued_built_and_each_branchs_rows_are_its_pages(
    session_factory, app, lorg
):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    hub = client.get(f"/console/ledgers/{c.county.id}?period=2026").text
    assert 'id="export-meetings"' in hub and "生成台账" in hub

    r = ask(client, c.county.id)
    assert r.status_code == 303 and r.headers["location"] == f"/console/ledgers/{c.county.id}?period=2026"
    assert ask(client, c.county.id).status_code == 303  # asked twice while queued: still one file
    job = only_export(session_factory)
    assert (job.status, job.ledger, job.period, job.requested_by) == (
        QUEUED,
        "meetings",
        "2026",
        lorg.id("staff"),
    )
    hub = client.get(f"/console/ledgers/{c.county.id}?period=2026").text
    assert f'id="export-{job.id}" data-status="queued"' in hub and "排队中" in hub and "every 2s" in hub

    assert work(session_factory, app) == job.id
    assert work(session_factory, app) is None  # nothing left to do
    job = only_export(session_factory)
    assert (job.status, job.done, job.total, job.attempts) == (READY, 4, 4, 1)
    fragment = status(client, c.county.id, job.id)
    assert 'data-status="ready"' in fragment and "已生成" in fragment and "every 2s" not in fragment
    download = re.search(r'href="([^"]+/download)"', fragment).group(1)

    r = client.get(download)
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"] and int(r.headers["content-length"]) == len(
        r.content
    )
    assert job.filename == "宿松县委-组织生活纪实台账-2026年.xlsx"
    county = load_workbook(io.BytesIO(r.content))
    assert county.sheetnames == SHEETS
    assert county["会议"]["A2"].value == "党支部"
    total = 0
    for b in (c.b1, c.b2, c.b3, c.b4):
        own = client.get(f"/console/ledgers/{b.id}/meetings.xlsx?period=2026").content
        for sheet in SHEETS:
            theirs = [row[1:] for row in rows(r.content, sheet) if row[0] == b.name]
            assert theirs == rows(own, sheet), (b.name, sheet)
            total += len(theirs)
        # ...and the page itself lists the same meetings.
        page = client.get(f"/console/ledgers/{b.id}/meetings?period=2026").text
        titles = [row[3] for row in rows(r.content, "会议") if row[0] == b.name]
        assert len(re.findall(r'<tr data-meeting="', page)) == len(titles)
        for t in titles:
            assert t in page
    assert total == job.rows and len([row for row in rows(r.content, "会议") if row[0] == c.b1.name]) == 4
    # The crafted October of 城关社区党支部 is in the county's file, names and all.
    attendance = [
        row for row in rows(r.content, "出勤") if row[0] == c.b1.name and row[2] == "十月支部党员大会"
    ]
    assert {row[3] for row in attendance} == {"书记1", "党员1甲", "党员1乙", "预备党员1丙", "党员1丁"}


def test_progress_is_committed_branch_by_branch_and_shown_while_running(
    session_factory, app, lorg, monkeypatch
):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    ask(client, c.county.id)
    seen = []
    real = exports._progress

    def progress(factory, job, done, total, **kw):
        real(factory, job, done, total, **kw)
        with factory() as session:  # what another process's page would read now
            row = session.get(LedgerExport, job.id)
            seen.append((row.status, row.done, row.total))
            if done == 2:
                seen.append(status(client, c.county.id, job.id))

    monkeypatch.setattr(exports, "_progress", progress)
    monkeypatch.setattr(exports, "PROGRESS_EVERY_SECONDS", 0)
    work(session_factory, app)
    fragment = seen.pop(3)
    assert seen == [(RUNNING, 0, 4), (RUNNING, 1, 4), (RUNNING, 2, 4), (RUNNING, 3, 4), (RUNNING, 4, 4)]
    assert "正在生成：已完成 2/4 个党支部" in fragment and '<progress value="2" max="4">' in fragment
    assert "every 2s" in fragment
    assert only_export(session_factory).status == READY


def test_only_the_requester_downloads_and_only_within_their_scope(session_factory, app, lorg):
    c = lorg.org.county
    c1sec = login(session_factory, app, lorg.id("c1sec"))
    assert ask(c1sec, c.county.id).status_code == 404  # the county is not theirs
    branch = ask(c1sec, c.b1.id)
    assert branch.status_code == 400 and "直接下载" in branch.text
    assert ask(c1sec, c.c1.id, ledger="nonsense").status_code == 400
    assert ask(c1sec, c.c1.id, period="2031").status_code == 400
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerExport)) == 0  # nothing queued by those

    assert ask(c1sec, c.c1.id).status_code == 303
    job = only_export(session_factory)
    work(session_factory, app)
    url = f"/console/ledgers/{c.c1.id}/exports/{job.id}/download"
    body = c1sec.get(url).content
    branches = {row[0] for sheet in SHEETS for row in rows(body, sheet)}
    assert branches == {c.b1.name, c.b2.name}  # no row of 河西乡党委's branches

    # Anyone else: 404 for the row and the file, even 组织部 (whose scope holds the unit).
    for who in ("staff", "c2sec", "sec1"):
        other = login(session_factory, app, lorg.id(who))
        assert other.get(url).status_code == 404, who
        assert other.get(f"/console/ledgers/{c.c1.id}/exports/{job.id}").status_code == 404, who
        assert f"export-{job.id}" not in other.get(f"/console/ledgers/{c.c1.id}").text
    # The file under another unit's address: 404 too.
    assert c1sec.get(f"/console/ledgers/{c.b1.id}/exports/{job.id}/download").status_code == 404
    # They move to 河西乡党委: the file they asked for about 城关镇党委 is no longer theirs to take.
    with unit_of_work(session_factory) as session:
        session.execute(
            update(RoleAssignment)
            .where(RoleAssignment.person_id == lorg.id("c1sec"))
            .values(org_unit_id=c.c2.id)
        )
    assert c1sec.get(url).status_code == 404
    assert c1sec.get(f"/console/ledgers/{c.c1.id}/exports/{job.id}").status_code == 404


def direct_fees(session_factory, app, person_id: int, unit_id: int) -> bytes:
    """The 党费台账 .xlsx as a branch's download builds it (fees_xlsx), for any unit."""
    from handlers.console.overview import current_month
    from handlers.console.scope import scope_of
    from handlers.fees.policy import default_policy
    from handlers.ledgers.fees import fees_ledger
    from handlers.ledgers.fees_export import fees_xlsx
    from handlers.ledgers.period import parse_period
    from handlers.meetings.types import meetings_config

    core = app.state.console.core
    month = current_month(NOW, meetings_config(core))
    with session_factory() as session:
        ledger = fees_ledger(session, scope_of(session, person_id), session.get(OrgUnit, unit_id),
                             parse_period("2026", month), current_month=month, tz=core.tz,
                             default=default_policy(core))  # fmt: skip
        return fees_xlsx(ledger)


def test_a_committees_fees_file_is_built_in_the_background_and_equals_the_direct_one(
    session_factory, app, lorg
):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("c1sec"))
    page = client.get(f"/console/ledgers/{c.c1.id}/fees?period=2026").text
    assert 'id="export-fees"' in page and 'id="download-xlsx"' not in page
    r = ask(client, c.c1.id, ledger="fees", back="fees")
    assert r.headers["location"] == f"/console/ledgers/{c.c1.id}/fees?period=2026"
    job = only_export(session_factory)
    work(session_factory, app)
    job = only_export(session_factory)
    assert (job.status, job.done, job.total, job.filename) == (READY, 1, 1, "城关镇党委-党费台账-2026年.xlsx")
    built = client.get(f"/console/ledgers/{c.c1.id}/exports/{job.id}/download").content
    # The committee's file is not built while the browser waits: the download says where it is.
    r = client.get(f"/console/ledgers/{c.c1.id}/fees.xlsx?period=2026")
    assert r.status_code == 400 and "生成台账" in r.text
    direct = direct_fees(session_factory, app, lorg.id("c1sec"), c.c1.id)  # the branch file's builder
    a, b = load_workbook(io.BytesIO(built)), load_workbook(io.BytesIO(direct))
    assert a.sheetnames == b.sheetnames and "支部汇总" in a.sheetnames
    for name in a.sheetnames:
        assert list(a[name].iter_rows(values_only=True)) == list(b[name].iter_rows(values_only=True)), name


def test_a_stale_running_file_is_built_again_then_fails_with_a_reason(session_factory, app, lorg):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    ask(client, c.c2.id)
    with unit_of_work(session_factory) as session:  # a worker claims it and dies
        job_id = exports.claim(session, now=NOW, worker="dead")
    assert work(session_factory, app, now=NOW + timedelta(minutes=5)) is None  # still within its heartbeat
    assert only_export(session_factory).status == RUNNING
    assert work(session_factory, app, now=NOW + timedelta(minutes=11), worker="w2") == job_id
    job = only_export(session_factory)
    assert (job.status, job.worker, job.attempts) == (READY, "w2", 2)

    # Died on every attempt: failed, with the reason on the page.
    with unit_of_work(session_factory) as session:
        session.execute(delete(LedgerExportChunk))
        session.execute(
            update(LedgerExport).values(
                status=RUNNING, worker="dead", heartbeat_at=NOW, attempts=exports.MAX_ATTEMPTS
            )
        )
    assert work(session_factory, app, now=NOW + timedelta(minutes=11)) is None
    job = only_export(session_factory)
    assert job.status == FAILED and job.reason == "生成过程中服务中断，已尝试 2 次仍未完成。请重新生成。"
    hub = client.get(f"/console/ledgers/{c.c2.id}").text
    assert "生成失败" in hub and job.reason in hub
    assert client.get(f"/console/ledgers/{c.c2.id}/exports/{job.id}/download").status_code == 404
    # A worker that was presumed dead but comes back cannot overwrite what happened since.
    with pytest.raises(exports.Abandoned):
        exports._progress(
            session_factory, exports._Job(job.id, 0, 0, "meetings", "2026", "dead", ""), 1, 2, now=NOW
        )


def test_a_build_that_raises_fails_with_a_reason_and_nothing_is_stored(
    session_factory, app, lorg, monkeypatch
):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    ask(client, c.c1.id)

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(exports, "write_units_meetings_xlsx", broken)
    work(session_factory, app)
    job = only_export(session_factory)
    assert job.status == FAILED and job.reason == exports.TEXT["error"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerExportChunk)) == 0


def test_two_workers_claim_one_export_once(session_factory, app, lorg, engine):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    ask(client, c.c1.id)
    if engine.dialect.name == "postgresql":
        # Both claim at the same moment: the second skips the row the first holds, rather than wait.
        with session_factory() as a, session_factory() as b:
            first = exports.claim(a, now=NOW, worker="a")
            second = exports.claim(b, now=NOW, worker="b")
            a.commit()
            b.commit()
        assert first is not None and second is None
    else:
        with unit_of_work(session_factory) as a:
            first = exports.claim(a, now=NOW, worker="a")
        assert first is not None
    with unit_of_work(session_factory) as b:  # after the first committed, the row is not queued
        assert exports.claim(b, now=NOW, worker="b") is None
    job = only_export(session_factory)
    assert (job.status, job.worker, job.attempts) == (RUNNING, "a", 1)


def test_old_files_and_their_chunks_are_deleted(session_factory, app, lorg):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("staff"))
    ask(client, c.c1.id)
    work(session_factory, app)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerExportChunk)) >= 1
    work(session_factory, app, now=NOW + timedelta(days=exports.KEEP_DAYS - 1))
    assert only_export(session_factory).status == READY
    work(session_factory, app, now=NOW + timedelta(days=exports.KEEP_DAYS, minutes=1))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerExport)) == 0
        assert session.scalar(select(func.count()).select_from(LedgerExportChunk)) == 0


def test_the_streamed_workbook_keeps_formula_like_text_as_text(tmp_path):
    from handlers.ledgers.workbook import Sheet

    out = tmp_path / "t.xlsx"
    with out.open("wb") as f:
        book = Book(f)
        book.add(Sheet("表", ["甲", "乙"], caption="说明"))
        book.append("表", ["=1+1", "#N/A"])
        book.append("表", ["@SUM(A1)", 3])
        book.append("表", [date(2026, 1, 2), Decimal("1.5")])
        book.close()
    ws = load_workbook(out)["表"]
    assert [(c.value, c.data_type) for c in ws[3]] == [("=1+1", "s"), ("#N/A", "s")]
    assert ws["A3"].quotePrefix and ws["A4"].quotePrefix and ws["A4"].value == "@SUM(A1)"
    assert ws["B4"].value == 3 and ws["A1"].font.bold and ws["A2"].font.bold
    assert ws["A5"].value == datetime(2026, 1, 2) and ws["A5"].is_date and ws["B5"].value == 1.5


def test_a_scope_of_several_top_units_gets_the_whole_scopes_meetings_file(session_factory, app, lorg):
    """The demo's 组织部: several top-level 党委 and no county unit above them. The index offers the
    file of every branch in the scope (its row's unit null); a scope of one top unit is not offered it."""
    c = lorg.org.county
    with unit_of_work(session_factory) as session:
        top = builders.unit(session, "开发区党工委", c.c1.kind)  # a second root beside the county
        other = builders.unit(session, "开发区第一党支部", c.b1.kind, top, c.b1.category)
        member = builders.person(session, "开发区党员甲", other)
        builders.role(session, member, other, Role.SECRETARY)
        other_id, other_name = other.id, other.name
        third_id = builders.unit(session, "高新区党工委", c.c1.kind).id  # a third root, no branch yet
    staff = login(session_factory, app, lorg.id("staff"))
    index = staff.get("/console/ledgers?period=2026").text
    assert 'id="ledger-meetings-all"' in index and "生成全部单位的台账（Excel）" in index
    assert 'action="/console/ledgers/all/exports"' in index

    def ask_all(client, ledger="meetings"):
        return client.post("/console/ledgers/all/exports", data={
            "csrf_token": client.app.state.console.csrf(client.cookies.get(COOKIE)), "ledger": ledger,
            "period": "2026"}, follow_redirects=False)  # fmt: skip

    r = ask_all(staff, "fees")
    assert r.status_code == 400 and "全部单位只能生成组织生活纪实台账" in r.text
    r = ask_all(staff)
    assert r.status_code == 303 and r.headers["location"] == "/console/ledgers?period=2026"
    job = only_export(session_factory)
    assert (job.unit_id, job.status, job.ledger) == (None, QUEUED, "meetings")
    assert f'id="export-{job.id}" data-status="queued"' in staff.get("/console/ledgers?period=2026").text

    assert work(session_factory, app) == job.id
    job = only_export(session_factory)
    assert (job.status, job.done, job.total) == (READY, 5, 5)
    assert job.filename == "全部单位-组织生活纪实台账-2026年.xlsx"
    fragment = staff.get(f"/console/ledgers/all/exports/{job.id}").text
    assert 'data-status="ready"' in fragment
    download = re.search(r'href="([^"]+/download)"', fragment).group(1)
    assert download == f"/console/ledgers/all/exports/{job.id}/download"
    body = staff.get(download).content
    branches = {row[0] for row in rows(body, "月度计划")}
    assert branches == {c.b1.name, c.b2.name, c.b3.name, c.b4.name, other_name}
    own = staff.get(f"/console/ledgers/{c.b1.id}/meetings.xlsx?period=2026").content
    for sheet in SHEETS:
        assert [row[1:] for row in rows(body, sheet) if row[0] == c.b1.name] == rows(own, sheet), sheet
    assert staff.get(f"/console/ledgers/{other_id}/exports/{job.id}/download").status_code == 404

    # The scope it was asked for, unit for unit: one top unit gone (still several left), the file is
    # no longer theirs, and a file queued for the old scope is not built for the new one.
    with unit_of_work(session_factory) as session:
        session.get(OrgUnit, third_id).active = False
    assert staff.get(download).status_code == 404
    assert staff.get(f"/console/ledgers/all/exports/{job.id}").status_code == 404
    with unit_of_work(session_factory) as session:
        session.get(OrgUnit, third_id).active = True
    assert staff.get(download).status_code == 200

    # 组织部 of 城关镇党委 only: one top unit, so neither the offer nor the route, nor another's file.
    c1staff = login(session_factory, app, lorg.org.staff_c1.id)
    assert "生成全部单位的台账" not in c1staff.get("/console/ledgers").text
    assert ask_all(c1staff).status_code == 404
    assert c1staff.get(f"/console/ledgers/all/exports/{job.id}/download").status_code == 404
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerExport)) == 1
