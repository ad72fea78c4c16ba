"""The roster: template, all-or-nothing import, structural warnings, matching people, export round trip."""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from handlers.roster import (
    apply_roster,
    import_roster,
    parse_roles,
    read_roster,
    roster_rows,
    structure_warnings,
    validate_roster,
    write_roster,
)
from handlers.roster import texts as T
from models.org import (
    ChatAccount,
    FeeCategory,
    MemberStatus,
    OrgUnit,
    Person,
    Platform,
    Role,
    RoleAssignment,
    UnitKind,
)

DT, WW = "dingtestcorp", "wwtestcorp"
TODAY = date(2026, 11, 23)
TABLES = (OrgUnit, Person, RoleAssignment, ChatAccount)


def dump(session) -> dict[str, list[tuple]]:
    """Every column of every organisation row, timestamps included: 'nothing changed' means this."""
    session.expire_all()
    out = {}
    for model in TABLES:
        cols = list(model.__table__.columns)
        out[model.__tablename__] = [tuple(r) for r in session.execute(select(*cols).order_by(model.id))]
    return out


def counts(session) -> dict[str, int]:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def row(**cells) -> dict[str, str]:
    base = {
        T.COMMITTEE: "城关镇党委",
        T.BRANCH: "东风村党支部",
        T.CATEGORY: "农村",
        T.STATUS: "正式",
        T.FEE_CATEGORY: "农民",
    }
    return base | cells


def people(n: int, start: int = 0, **cells) -> list[dict[str, str]]:
    return [row(**{T.NAME: f"党员{start + i}", T.PHONE: f"139{start + i:08d}"} | cells) for i in range(n)]


def do_import(session, tmp_path, rows, suffix=".csv", today=TODAY):
    path = tmp_path / f"roster{suffix}"
    write_roster(path, rows)
    return import_roster(session, path, dingtalk_corp_id=DT, wecom_corp_id=WW, today=today)


# A filled roster that exercises every column and every kind of role notation.
FILLED = [
    row(**{T.GROUP: "第一党小组", T.NAME: "王建国", T.PHONE: "13900000001", T.ROLES: "书记、党费收缴员",
           T.JOINED: "1998-07-01", T.DINGTALK: "wangjianguo01", T.WECOM: "wangjianguo01"}),
    row(**{T.GROUP: "第一党小组", T.NAME: "刘桂兰", T.PHONE: "139-0000-0002", T.ROLES: "组织委员，党小组组长",
           T.JOINED: "2005/3/8", T.DINGTALK: "liuguilan01"}),
    row(**{T.GROUP: "第二党小组", T.NAME: "张德明", T.PHONE: "13900000003", T.ROLES: "宣传委员; 党小组组长",
           T.JOINED: "2010年7月1日", T.MOBILE: "是", T.WECOM: "zhangdeming01"}),
    row(**{T.NAME: "陈玉梅", T.PHONE: "13900000004", T.ROLES: "纪检委员", T.STATUS: "预备党员",
           T.JOINED: "2026-05-04", T.FEE_CATEGORY: "固定金额", T.FEE_FIXED: "1"}),
    row(**{T.NAME: "李小红", T.PHONE: "+86 139 0000 0005", T.EXEMPT: "年老体弱，行动不便",
           T.FEE_CATEGORY: "离退休", T.FEE_BASE: "3210.5"}),
    row(**{T.GENERAL_BRANCH: "幸福社区党总支", T.BRANCH: "第一党支部", T.CATEGORY: "社区", T.NAME: "胡晓燕",
           T.PHONE: "13900000006", T.ROLES: "书记、总支书记、观察员（县直机关工委）",
           T.FEE_CATEGORY: "在职", T.FEE_BASE: "5000"}),
    row(**{T.GENERAL_BRANCH: "幸福社区党总支", T.BRANCH: "第一党支部", T.CATEGORY: "", T.NAME: "徐国强",
           T.PHONE: "13900000007", T.ROLES: "党委组织委员", T.FEE_CATEGORY: "失业"}),
    row(**{T.GENERAL_BRANCH: "幸福社区党总支", T.BRANCH: "第二党支部", T.CATEGORY: "社区", T.NAME: "林淑芬",
           T.PHONE: "13900000008", T.ROLES: "书记（城关镇党委/幸福社区党总支/第一党支部）、党费收缴员"}),
    row(**{T.COMMITTEE: "县直机关工委", T.BRANCH: "县委组织部机关党支部", T.CATEGORY: "机关", T.NAME: "赵敏",
           T.PHONE: "13900000009", T.ROLES: "组织部、党委书记、组织部（城关镇党委）", T.FEE_CATEGORY: "在职",
           T.FEE_BASE: "6800", T.DINGTALK: "zhaomin01", T.WECOM: "zhaomin01"}),
    row(**{T.COMMITTEE: "县直机关工委", T.BRANCH: "", T.CATEGORY: "", T.NAME: "孙立新", T.PHONE: "13900000010",
           T.STATUS: "", T.FEE_CATEGORY: "", T.ROLES: "党委副书记"}),
    row(**{T.COMMITTEE: "", T.BRANCH: "", T.CATEGORY: "", T.NAME: "黄建华", T.PHONE: "",
           T.STATUS: "", T.FEE_CATEGORY: "", T.ROLES: "组织部", T.WECOM: "huangjianhua01"}),
]  # fmt: skip


# Text a secretary or anyone typed that Excel would take for a formula (issue #12): it must be exported as
# text and come back unchanged. Cells are stripped on import, so a leading tab is gone before it is stored.
HOSTILE = [
    row(**{T.NAME: "韩梅", T.PHONE: "13900000021", T.EXEMPT: "=cmd|' /C calc'!A0"}),
    row(**{T.NAME: "李雷", T.PHONE: "+86 139 0000 0022", T.EXEMPT: "-2", T.DINGTALK: "-2.5", T.GROUP: "+1"}),
    row(**{T.NAME: "吴敏", T.PHONE: "13900000023", T.EXEMPT: "\t=1+1", T.WECOM: "@x", T.GROUP: "@SUM(A1)"}),
    row(**{T.NAME: "周强", T.PHONE: "13900000024", T.GROUP: "+第三党小组", T.EXEMPT: '=HYPERLINK("http://x","y")'}),
]  # fmt: skip


@pytest.fixture
def cli_db(migrated_url, session_factory):
    """A database as the real migrations leave it, and the environment the CLI reads."""
    env = {"ZHIBU_DATABASE_URL": migrated_url, "ZHIBU_DINGTALK__CORP_ID": DT, "ZHIBU_WECOM__CORP_ID": WW}
    return env, session_factory


def cli(env, *args):
    return CliRunner().invoke(app, ["roster", *args], env=env)


def test_template_has_the_headers_an_example_row_and_notes(cli_db, tmp_path):
    env, factory = cli_db
    out = tmp_path / "模板.xlsx"
    result = cli(env, "template", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == [T.SHEET_ROSTER, T.SHEET_NOTES]
    ws = wb[T.SHEET_ROSTER]
    assert [c.value for c in ws[1]] == T.HEADERS
    assert T.HEADERS[:10] == [
        "序号",
        "党委",
        "党总支",
        "党支部",
        "支部类别",
        "党小组",
        "姓名",
        "手机号",
        "党员类别",
        "入党日期",
    ]
    example = {h: c.value for h, c in zip(T.HEADERS, ws[2], strict=True)}
    assert example[T.SEQ] == "示例"
    assert example[T.NAME] == "张三"
    assert example[T.PHONE] == "13912345678"  # text, not 1.39E+10
    assert example[T.ROLES] == "书记、党费收缴员"
    assert ws.max_row == 2
    notes = {r[0]: r for r in wb[T.SHEET_NOTES].iter_rows(min_row=2, values_only=True)}
    assert set(notes) == set(T.HEADERS)
    assert "农村" in notes[T.CATEGORY][3] and "两新" in notes[T.CATEGORY][3]
    assert "党委组织委员" in notes[T.ROLES][2] and "观察员" in notes[T.ROLES][2]

    csv_out = tmp_path / "模板.csv"
    assert cli(env, "template", str(csv_out)).exit_code == 0
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0] == T.HEADERS and lines[1][0] == "示例" and len(lines) == 2

    # The template alone imports nobody: the example row is skipped.
    result = cli(env, "import", str(out))
    assert result.exit_code == 1
    assert "没有可导入的人员" in result.output
    with factory() as s:
        assert counts(s) == dict.fromkeys(counts(s), 0)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_round_trip_template_filled_import_export_import_changes_nothing(cli_db, tmp_path, suffix):
    env, factory = cli_db
    template = tmp_path / f"template{suffix}"
    assert cli(env, "template", str(template)).exit_code == 0
    headers, example = read_roster(template)
    filled = tmp_path / f"filled{suffix}"
    # The organisation department fills the template below the example row.
    write_roster(filled, [dict(example[0].cells), *FILLED, *HOSTILE])

    result = cli(env, "import", str(filled))
    assert result.exit_code == 0, result.output
    assert "已跳过 1 行示例" in result.output
    assert "新增人员 15 人" in result.output
    assert "新建组织 12 个、更新 0 个" in result.output
    with factory() as s:
        first = dump(s)
        check_filled_content(s)
        check_hostile_content(s)

    exported = tmp_path / f"export{suffix}"
    result = cli(env, "export", str(exported))
    assert result.exit_code == 0 and "已导出 15 人" in result.output
    check_no_formulas(exported)

    for again in (exported, filled):
        result = cli(env, "import", str(again))
        assert result.exit_code == 0, result.output
        assert "没有变化" in result.output
        with factory() as s:
            assert dump(s) == first

    second = tmp_path / f"export2{suffix}"
    assert cli(env, "export", str(second)).exit_code == 0
    assert [r.cells for r in read_roster(exported)[1]] == [r.cells for r in read_roster(second)[1]]


def check_hostile_content(s):
    people = {p.phone: p for p in s.scalars(select(Person))}
    assert people["13900000021"].attendance_exempt_reason == "=cmd|' /C calc'!A0"
    assert people["13900000024"].attendance_exempt_reason == '=HYPERLINK("http://x","y")'
    assert people["13900000022"].attendance_exempt_reason == "-2"
    assert people["13900000023"].attendance_exempt_reason == "=1+1"  # the tab was stripped on import
    groups = {
        phone: s.get(OrgUnit, people[phone].group_id).name
        for phone in ("13900000022", "13900000023", "13900000024")
    }
    assert groups == {"13900000022": "+1", "13900000023": "@SUM(A1)", "13900000024": "+第三党小组"}
    accounts = {a.account_id for a in s.scalars(select(ChatAccount))}
    assert {"-2.5", "@x"} <= accounts


def check_no_formulas(path):
    """Excel and LibreOffice open every exported cell as text: no formula in .xlsx, a quote first in .csv."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
        wb = load_workbook(path)
        cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
        assert all(c.data_type == "s" for c in cells)
        assert {c.value for c in cells} >= {'=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "-2.5"}
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            fields = [v for line in csv.reader(f) for v in line]
        assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in fields)
        assert {'\'=HYPERLINK("http://x","y")', "'+1", "'-2", "'@SUM(A1)", "'-2.5"} <= set(fields)


def check_filled_content(s):
    units = {(u.kind, u.name): u for u in s.scalars(select(OrgUnit))}
    assert len(units) == 12  # 2 committees, 1 总支, 4 branches, 5 groups (3 named like formulas)
    general = units[(UnitKind.GENERAL_BRANCH, "幸福社区党总支")]
    first = s.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == general.id, OrgUnit.name == "第一党支部")
    ).one()
    assert first.path == f"{general.path}{first.id}/"
    assert first.category.value == "community"  # given in one row of the branch only
    by_name = {p.name: p for p in s.scalars(select(Person))}
    assert by_name["刘桂兰"].phone == "13900000002" and by_name["李小红"].phone == "13900000005"
    assert by_name["刘桂兰"].joined_on == date(2005, 3, 8)
    assert by_name["张德明"].joined_on == date(2010, 7, 1) and by_name["张德明"].is_mobile
    assert by_name["陈玉梅"].status == MemberStatus.PROBATIONARY
    assert by_name["陈玉梅"].fee_category == FeeCategory.FIXED and by_name[
        "陈玉梅"
    ].fee_fixed_amount == Decimal("1")
    assert by_name["李小红"].fee_base == Decimal("3210.50")
    assert by_name["李小红"].attendance_exempt_reason == "年老体弱，行动不便"
    assert by_name["孙立新"].branch_id is None and by_name["黄建华"].phone is None

    def roles(name):
        return {
            (r.role, units_by_id[r.org_unit_id].name if r.org_unit_id else None)
            for r in s.scalars(select(RoleAssignment).where(RoleAssignment.person_id == by_name[name].id))
        }

    units_by_id = {u.id: u for u in units.values()}
    assert roles("王建国") == {(Role.SECRETARY, "东风村党支部"), (Role.FEE_COLLECTOR, "东风村党支部")}
    assert roles("刘桂兰") == {(Role.ORGANIZATION_MEMBER, "东风村党支部"), (Role.GROUP_LEADER, "第一党小组")}
    assert roles("胡晓燕") == {
        (Role.SECRETARY, "第一党支部"),
        (Role.SECRETARY, "幸福社区党总支"),
        (Role.OBSERVER, "县直机关工委"),
    }
    assert roles("林淑芬") == {(Role.SECRETARY, "第一党支部"), (Role.FEE_COLLECTOR, "第二党支部")}
    assert roles("徐国强") == {(Role.ORGANIZATION_MEMBER, "城关镇党委")}
    assert roles("赵敏") == {
        (Role.ORG_STAFF, None),
        (Role.SECRETARY, "县直机关工委"),
        (Role.ORG_STAFF, "城关镇党委"),
    }
    assert roles("孙立新") == {(Role.DEPUTY_SECRETARY, "县直机关工委")}
    accounts = {(a.platform, a.corp_id, a.account_id) for a in s.scalars(select(ChatAccount))}
    assert (Platform.DINGTALK, DT, "wangjianguo01") in accounts
    assert (Platform.WECOM, WW, "huangjianhua01") in accounts
    assert len(accounts) == 9


BAD_ROWS = [
    # (cells, [(column, fragment of the message)])
    (row(**{T.NAME: "甲", T.PHONE: "13900000001", T.ROLES: "书记、支书"}), [(T.ROLES, "不认识的职务「支书」")]),
    (row(**{T.COMMITTEE: "", T.NAME: "乙", T.PHONE: "13900000002"}), [(T.COMMITTEE, "没有填写所属党委")]),
    (row(**{T.NAME: "丙", T.PHONE: "13900000003", T.DINGTALK: "same01"}), []),
    (row(**{T.NAME: "丁", T.PHONE: "13900000004", T.DINGTALK: "same01"}), [(T.DINGTALK, "与第4行重复")]),
    (row(**{T.NAME: "戊", T.PHONE: "1390000005"}), [(T.PHONE, "不是有效的手机号")]),
    (row(**{T.NAME: "", T.PHONE: "13900000006"}), [(T.NAME, "不能为空")]),
    (row(**{T.NAME: "己", T.PHONE: "13900000007", T.STATUS: "积极分子"}), [(T.STATUS, "应为：正式 或 预备")]),
    (row(**{T.NAME: "庚", T.PHONE: "13900000008", T.CATEGORY: "乡村"}), [(T.CATEGORY, "不是有效的支部类别")]),
    (row(**{T.NAME: "辛", T.PHONE: "13900000009", T.JOINED: "2010-13-01"}), [(T.JOINED, "不是有效的日期")]),
    (row(**{T.NAME: "壬", T.PHONE: "13900000010", T.ROLES: "党费收缴员（城关镇党委）"}),
     [(T.ROLES, "党委不能设「党费收缴员」")]),
    (row(**{T.NAME: "癸", T.PHONE: "13900000011", T.ROLES: "党小组组长"}), [(T.ROLES, "需要填写党小组")]),
    (row(**{T.NAME: "子", T.PHONE: "13900000012", T.ROLES: "观察员（县纪委党委）"}), [(T.ROLES, "不存在")]),
    (row(**{T.NAME: "丑", T.PHONE: "13900000013", T.FEE_CATEGORY: "固定金额"}), [(T.FEE_FIXED, "必须填写固定党费")]),
    (row(**{T.NAME: "寅", T.PHONE: "13900000001"}), [(T.PHONE, "与第2行重复")]),
    (row(**{T.NAME: "卯", T.PHONE: "13900000015", T.MOBILE: "Y", T.FEE_BASE: "-3"}),
     [(T.FEE_BASE, "不是有效的金额"), (T.MOBILE, "应为：是 或 否")]),
    (row(**{T.NAME: "辰", T.PHONE: "13900000016", T.JOINED: "2030-01-01"}), [(T.JOINED, "不合理")]),
]  # fmt: skip


def test_a_bad_roster_is_refused_with_every_error_and_writes_nothing(cli_db, tmp_path):
    env, factory = cli_db
    # Something already there must survive untouched.
    good = tmp_path / "good.csv"
    write_roster(good, people(3, **{T.ROLES: ""}))
    assert cli(env, "import", str(good)).exit_code == 0
    with factory() as s:
        before = dump(s)

    bad = tmp_path / "bad.csv"
    write_roster(bad, [cells for cells, _ in BAD_ROWS] + people(1, start=50))
    result = cli(env, "import", str(bad))
    assert result.exit_code == 1
    expected = [(n, column, text) for n, (_, errs) in enumerate(BAD_ROWS, start=2) for column, text in errs]
    assert f"有 {len(expected)} 处错误，没有导入任何数据" in result.output
    for n, column, text in expected:
        line = next(
            (ln for ln in result.output.splitlines() if ln.strip().startswith(f"第{n}行「{column}」")), None
        )
        assert line is not None and text in line, (n, column, text, result.output)
    with factory() as s:
        assert dump(s) == before

    # The same check, at the use-case level: exactly these (row, column) pairs, in order.
    headers, raw = read_roster(bad)
    with factory() as s:
        plan = validate_roster(s, raw, headers, dingtalk_corp_id=DT, wecom_corp_id=WW, today=TODAY)
        assert [(i.row, i.column) for i in plan.errors] == sorted(
            [(n, c) for n, c, _ in expected], key=lambda k: (k[0], T.HEADERS.index(k[1]))
        )
        with pytest.raises(ValueError):
            apply_roster(s, plan, today=TODAY)


def test_missing_columns_and_unconfigured_corp_are_errors(session, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("姓名,手机号\n张三,13900000001\n", encoding="utf-8-sig")
    plan, result = import_roster(session, path, dingtalk_corp_id=DT, wecom_corp_id=WW, today=TODAY)
    assert result is None and "缺少必需的列：党委、党支部" in str(plan.errors[0])
    write_roster(path, people(1, **{T.DINGTALK: "abc"}))
    plan, result = import_roster(session, path, dingtalk_corp_id="", wecom_corp_id=WW, today=TODAY)
    assert result is None
    assert [str(i) for i in plan.errors] == [
        "第2行「钉钉userId」：没有配置钉钉的企业 ID（ZHIBU_DINGTALK__CORP_ID），无法导入钉钉账号。"
    ]
    # A GB18030 CSV (what Excel on a Chinese Windows saves) reads the same.
    path.write_bytes(
        ("党委,党支部,姓名,手机号,党员类别\n城关镇党委,东风村党支部,张三,13900000001,正式\n").encode(
            "gb18030"
        )
    )
    headers, raw = read_roster(path)
    assert raw[0].cells[T.NAME] == "张三"


def test_structure_warnings_for_a_tiny_a_huge_and_a_committee_less_branch(session, tmp_path):
    rows = (
        people(2, **{T.BRANCH: "小支部", T.ROLES: ""})
        + people(60, start=100, **{T.BRANCH: "大支部"})
        + people(8, start=200, **{T.BRANCH: "中支部"})
    )
    rows[0][T.ROLES] = "书记"
    rows[2][T.ROLES] = "书记"
    rows[3][T.ROLES], rows[4][T.ROLES], rows[5][T.ROLES] = "组织委员", "宣传委员", "纪检委员"
    rows[62][T.ROLES] = "书记、组织委员"  # no 宣传委员 or 纪检委员 at 8 正式党员
    plan, result = do_import(session, tmp_path, rows)
    assert plan.ok, plan.errors
    warnings = [w for w in result.warnings if "党费基数" not in w]
    assert sorted(warnings) == sorted(
        [
            "城关镇党委/小支部：只有 2 名正式党员，《支部工作条例》要求党支部至少有 3 名正式党员。",
            "城关镇党委/大支部：共 60 名党员，超过 50 人，可考虑分设支部或成立党总支。",
            "城关镇党委/中支部：有 8 名正式党员（7 名以上），应设立支部委员会，还缺少：宣传委员、纪检委员。",
        ]
    )
    session.commit()
    assert counts(session)["person"] == 70  # warnings do not stop the import


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x","y")', "<script>alert(1)</script>", "**王**", "[王](http://x)", "@张", "王_五"],
)
def test_a_name_that_is_not_a_name_is_refused_and_nothing_is_written(session, tmp_path, name):
    before = counts(session)
    plan, result = do_import(session, tmp_path, [row(**{T.NAME: name, T.PHONE: "13900000031"})])
    (issue,) = plan.errors
    assert result is None and issue.column == T.NAME and f"「{name}」不像姓名" in issue.message
    assert counts(session) == before


def test_minority_foreign_and_told_apart_names_are_names(session, tmp_path):
    names = ["买买提·艾力", "阿依古丽•吐尔逊", "王芳（大）", "王芳(小)", "Anne-Marie Li", "欧阳娜娜"]
    rows = [row(**{T.NAME: n, T.PHONE: f"1390000004{i}"}) for i, n in enumerate(names)]
    do_import(session, tmp_path, rows)
    assert set(session.scalars(select(Person.name))) >= set(names)


def test_people_are_matched_by_phone_then_by_chat_account(session, tmp_path):
    plan, result = do_import(session, tmp_path, people(1))
    assert result.people_created == 1
    session.commit()
    (pid,) = session.scalars(select(Person.id)).all()

    # Same phone, a new name and a DingTalk account: an update of the same person.
    plan, result = do_import(session, tmp_path, people(1, **{T.NAME: "王小明", T.DINGTALK: "wxm01"}))
    assert (result.people_created, result.people_updated, result.accounts_added) == (0, 1, 1)
    session.commit()
    # A new phone, matched by the account: still the same person, with the phone updated.
    plan, result = do_import(
        session, tmp_path, people(1, **{T.NAME: "王小明", T.PHONE: "13811112222", T.DINGTALK: "wxm01"})
    )
    assert (result.people_created, result.people_updated) == (0, 1)
    session.commit()
    person = session.scalars(select(Person)).one()
    assert (person.id, person.name, person.phone) == (pid, "王小明", "13811112222")
    assert [(a.platform, a.account_id) for a in person.chat_accounts] == [(Platform.DINGTALK, "wxm01")]

    # An account of one person and the phone of another: refused, nothing written.
    do_import(session, tmp_path, people(1, start=7))
    session.commit()
    before = dump(session)
    plan, result = do_import(session, tmp_path, people(1, start=7, **{T.DINGTALK: "wxm01"}))
    assert result is None
    assert "无法确定是哪一个人" in str(plan.errors[0]) and "wxm01" in str(plan.errors[0])
    session.rollback()
    assert dump(session) == before


def test_dry_run_reports_but_writes_nothing(cli_db, tmp_path):
    env, factory = cli_db
    path = tmp_path / "r.xlsx"
    write_roster(path, people(4, **{T.ROLES: ""}))
    result = cli(env, "import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert "新增人员 4 人" in result.output and "没有写入数据库" in result.output
    assert "没有书记" in result.output
    with factory() as s:
        assert counts(s)["person"] == 0


def test_role_notation_parses_separators_and_scopes():
    tokens, bad = parse_roles(
        "书记、党费收缴员，党委组织委员,观察员（县直机关工委）；组织部(城关镇党委/东风村党支部);组织部"
    )
    assert bad == []
    assert [(t.role, t.kind, t.path) for t in tokens] == [
        (Role.SECRETARY, UnitKind.BRANCH, None),
        (Role.FEE_COLLECTOR, UnitKind.BRANCH, None),
        (Role.ORGANIZATION_MEMBER, UnitKind.COMMITTEE, None),
        (Role.OBSERVER, UnitKind.COMMITTEE, ("县直机关工委",)),
        (Role.ORG_STAFF, None, ("城关镇党委", "东风村党支部")),
        (Role.ORG_STAFF, None, None),
    ]
    assert parse_roles("主任、书记（）")[1] == ["主任", "书记（）"]


def test_export_writes_roles_in_the_notation_the_import_reads(session, tmp_path):
    plan, result = do_import(session, tmp_path, FILLED)
    assert plan.ok, plan.errors
    session.commit()
    rows = {r[T.NAME]: r for r in roster_rows(session, dingtalk_corp_id=DT, wecom_corp_id=WW)}
    assert rows["胡晓燕"][T.ROLES] == "书记、总支书记、观察员（县直机关工委）"
    assert rows["林淑芬"][T.ROLES] == "书记（城关镇党委/幸福社区党总支/第一党支部）、党费收缴员"
    assert rows["赵敏"][T.ROLES] == "党委书记、组织部（城关镇党委）、组织部"
    assert rows["孙立新"][T.COMMITTEE] == "县直机关工委" and rows["孙立新"][T.ROLES] == "党委副书记"
    assert rows["黄建华"][T.COMMITTEE] == "" and rows["黄建华"][T.ROLES] == "组织部"
    assert rows["王建国"][T.DINGTALK] == "wangjianguo01" and rows["刘桂兰"][T.WECOM] == ""
    assert structure_warnings(session, set()) == []


def test_a_unit_cannot_change_kind_and_unreadable_files_are_named(cli_db, tmp_path):
    env, factory = cli_db
    path = tmp_path / "r.csv"
    write_roster(path, people(3))
    assert cli(env, "import", str(path)).exit_code == 0
    # 东风村党支部 exists as a 党支部; here it is used as a 党总支, and in another row as both.
    write_roster(
        path,
        people(1, start=10, **{T.GENERAL_BRANCH: "东风村党支部", T.BRANCH: "第一党支部"})
        + people(1, start=11, **{T.BRANCH: "河口村党支部", T.GROUP: "一组"})
        + people(1, start=12, **{T.GENERAL_BRANCH: "河口村党支部", T.BRANCH: "第二党支部"}),
    )
    result = cli(env, "import", str(path))
    assert result.exit_code == 1
    assert (
        "第2行「党总支」：「城关镇党委/东风村党支部」在系统中是党支部，这里却作为党总支填写。"
        in result.output
    )
    assert (
        "第4行「党总支」：「城关镇党委/河口村党支部」在第3行是党支部，这里却作为党总支填写。" in result.output
    )
    with factory() as s:
        assert counts(s)["person"] == 3

    old = tmp_path / "旧版.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    result = cli(env, "import", str(old))
    assert result.exit_code != 0 and "另存为 .xlsx" in result.output
    result = cli(env, "export", str(tmp_path / "不存在的目录" / "x.xlsx"))
    assert result.exit_code != 0 and "无法写入文件" in result.output
    result = cli(env, "import", str(tmp_path / "没有.xlsx"))
    assert result.exit_code != 0 and "找不到文件" in result.output
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"not a zip")
    result = cli(env, "import", str(broken))
    assert result.exit_code != 0 and "无法读取文件" in result.output


def test_a_new_branch_without_category_is_other_with_a_warning(session, tmp_path):
    plan, result = do_import(session, tmp_path, people(3, **{T.CATEGORY: "", T.ROLES: ""}))
    assert plan.ok
    assert "新支部「城关镇党委/东风村党支部」没有填写支部类别，按「其他」导入。" in result.warnings
    session.commit()
    branch = session.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH)).one()
    assert branch.category.value == "other"
    # Naming the category later updates the branch.
    plan, result = do_import(session, tmp_path, people(3, **{T.CATEGORY: "社区", T.ROLES: ""}))
    assert (result.units_created, result.units_updated, result.people_unchanged) == (0, 1, 3)
    session.commit()
    session.refresh(branch)
    assert branch.category.value == "community"


def test_a_corrected_account_is_sent_to_again_and_an_unchanged_one_stays_marked(session, tmp_path):
    do_import(session, tmp_path, [row(**{T.NAME: "王芳", T.PHONE: "13900000051", T.WECOM: "wangfang"})])
    account = session.scalars(select(ChatAccount)).one()
    account.left_directory_at = datetime(2026, 11, 30, tzinfo=UTC)  # WeCom said she left the directory
    session.flush()
    do_import(session, tmp_path, [row(**{T.NAME: "王芳", T.PHONE: "13900000051", T.WECOM: "wangfang"})])
    assert account.left_directory_at is not None  # the same account: still gone
    do_import(session, tmp_path, [row(**{T.NAME: "王芳", T.PHONE: "13900000051", T.WECOM: "wangfang02"})])
    assert (account.account_id, account.left_directory_at) == ("wangfang02", None)
