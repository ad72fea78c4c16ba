"""The roster workbook's extra sheet 观察员分工, through `zhibu roster import` on a migrated database."""

from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import select

from handlers.roster import write_roster
from models.observers import ObserverAssignment
from models.org import OrgUnit, Person
from tests.test_roster import FILLED, cli
from tests.test_roster import cli_db as cli_db  # noqa: F401 - a fixture, used by name

HEAD = ["观察员姓名", "手机号", "党支部"]


def _workbook(tmp_path, rows, name="roster.xlsx"):
    path = tmp_path / name
    write_roster(path, FILLED)
    wb = load_workbook(path)
    ws = wb.create_sheet("观察员分工")
    ws.append(HEAD)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _links(factory) -> set[tuple[str, str, bool]]:
    with factory() as s:
        rows = s.execute(
            select(Person.name, OrgUnit.name, ObserverAssignment.active)
            .join(Person, Person.id == ObserverAssignment.observer_id)
            .join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id)
        ).all()
    return {tuple(r) for r in rows}


def test_the_sheet_assigns_observers_with_the_roster(cli_db, tmp_path):
    env, factory = cli_db
    path = _workbook(
        tmp_path,
        [
            ["胡晓燕", "13900000006", "东风村党支部"],  # one observer, two branches
            ["胡晓燕", "", "城关镇党委/幸福社区党总支/第二党支部"],
            ["王建国", "139-0000-0001", "县委组织部机关党支部"],
        ],
    )
    result = cli(env, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "观察员分工：共 3 条，新增 3 条，结束 0 条" in result.output
    assert _links(factory) == {
        ("胡晓燕", "东风村党支部", True),
        ("胡晓燕", "第二党支部", True),
        ("王建国", "县委组织部机关党支部", True),
    }
    # The sheet is the full list: a row dropped from it ends that link; the roster itself is unchanged.
    again = _workbook(tmp_path, [["胡晓燕", "13900000006", "东风村党支部"]], name="again.xlsx")
    result = cli(env, "import", str(again))
    assert result.exit_code == 0, result.output
    assert "新增 0 条，结束 2 条" in result.output
    assert ("胡晓燕", "第二党支部", False) in _links(factory)


def test_a_bad_sheet_refuses_the_whole_import_with_every_reason(cli_db, tmp_path):
    env, factory = cli_db
    path = _workbook(
        tmp_path,
        [
            ["王建国", "13900000001", "东风村党支部"],  # his own branch
            ["无名氏", "", "东风村党支部"],
            ["胡晓燕", "13900000006", "不存在党支部"],
            ["刘桂兰", "13900000001", "第一党支部"],  # the phone is 王建国's
            ["胡晓燕", "13900000006", "第二党支部"],
            ["胡晓燕", "13900000006", "第二党支部"],
        ],
    )
    result = cli(env, "import", str(path))
    assert result.exit_code == 1
    out = result.output
    assert "第2行「党支部」：王建国是东风村党支部的党员" in out and "不能观察本人所在的支部" in out
    assert "第3行「观察员姓名」：花名册里没有无名氏" in out
    assert "第4行「党支部」：没有找到党支部“不存在党支部”" in out
    assert "第5行「观察员姓名」：手机号 13900000001 登记的是王建国，不是刘桂兰" in out
    assert "第7行：与第6行重复" in out
    with factory() as s:
        # All or nothing: not even the roster's people were written.
        assert s.scalar(select(Person.id)) is None
    assert _links(factory) == set()


def test_a_roster_without_the_sheet_leaves_assignments_alone(cli_db, tmp_path):
    env, factory = cli_db
    assert cli(env, "import", str(_workbook(tmp_path, [["胡晓燕", "", "东风村党支部"]]))).exit_code == 0
    plain = tmp_path / "plain.xlsx"
    write_roster(plain, FILLED)
    result = cli(env, "import", str(plain))
    assert result.exit_code == 0 and "观察员分工" not in result.output
    assert _links(factory) == {("胡晓燕", "东风村党支部", True)}


def _sheet(path) -> list[list[str]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [[c or "" for c in r] for r in wb["观察员分工"].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_template_import_export_import_keeps_the_assignments(cli_db, tmp_path):
    env, factory = cli_db
    template = tmp_path / "template.xlsx"
    assert cli(env, "template", str(template)).exit_code == 0
    assert "观察员分工" not in load_workbook(template).sheetnames
    filled = _workbook(
        tmp_path,
        [
            ["胡晓燕", "13900000006", "东风村党支部"],
            ["胡晓燕", "", "城关镇党委/幸福社区党总支/第二党支部"],
            ["王建国", "139-0000-0001", "县委组织部机关党支部"],
        ],
        name="filled.xlsx",
    )
    assert cli(env, "import", str(filled)).exit_code == 0
    # An ended link is history, not an assignment: the export leaves it out.
    again = _workbook(tmp_path, [["胡晓燕", "13900000006", "东风村党支部"]], name="again.xlsx")
    assert cli(env, "import", str(again)).exit_code == 0
    assert cli(env, "import", str(filled)).exit_code == 0
    with factory() as s:
        s.execute(
            ObserverAssignment.__table__.update()
            .where(
                ObserverAssignment.branch_id
                == select(OrgUnit.id).where(OrgUnit.name == "县委组织部机关党支部").scalar_subquery()
            )
            .values(active=False)
        )
        s.commit()
    before = _links(factory)
    assert ("王建国", "县委组织部机关党支部", False) in before

    exported = tmp_path / "export.xlsx"
    result = cli(env, "export", str(exported))
    assert result.exit_code == 0, result.output
    with factory() as s:
        east = s.scalars(select(OrgUnit).where(OrgUnit.name == "东风村党支部")).one()
        parent = s.get(OrgUnit, east.parent_id)
    # Full paths and phones as text, so the import finds each one without guessing.
    assert _sheet(exported) == [
        ["观察员姓名", "手机号", "党支部"],
        ["胡晓燕", "13900000006", f"{parent.name}/东风村党支部"],
        ["胡晓燕", "13900000006", "城关镇党委/幸福社区党总支/第二党支部"],
    ]
    result = cli(env, "import", str(exported))
    assert result.exit_code == 0, result.output
    assert "没有变化" in result.output
    assert "观察员分工：共 2 条，新增 0 条，结束 0 条" in result.output
    assert _links(factory) == before
    second = tmp_path / "export2.xlsx"
    assert cli(env, "export", str(second)).exit_code == 0
    assert _sheet(second) == _sheet(exported)


def test_an_export_without_links_has_an_empty_sheet_and_csv_has_none(cli_db, tmp_path):
    env, factory = cli_db
    plain = tmp_path / "plain.xlsx"
    write_roster(plain, FILLED)
    assert cli(env, "import", str(plain)).exit_code == 0
    exported = tmp_path / "export.xlsx"
    assert cli(env, "export", str(exported)).exit_code == 0
    # The sheet is the full list, so an empty one is written too (importing it ends nothing that exists).
    assert _sheet(exported) == [["观察员姓名", "手机号", "党支部"]]

    assert cli(env, "import", str(_workbook(tmp_path, [["胡晓燕", "", "东风村党支部"]]))).exit_code == 0
    # A .csv holds one table: no assignments in it, no second file, and its import leaves them alone.
    csv_path = tmp_path / "export.csv"
    assert cli(env, "export", str(csv_path)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".csv") == ["export.csv"]
    assert "观察员分工" not in csv_path.read_text(encoding="utf-8-sig")
    result = cli(env, "import", str(csv_path))
    assert result.exit_code == 0 and "观察员分工" not in result.output
    assert _links(factory) == {("胡晓燕", "东风村党支部", True)}
