"""Bulk recording from .xlsx: all or nothing, every bad row listed by row and column; and the CLI."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from handlers.fees.importer import FeeImportError, record_payments_from_xlsx
from models.fees import FeePayment, PaymentMethod, PaymentStatus
from models.org import UnitKind
from tests import builders
from tests.fees.conftest import NOW, TZ

HEADER = ["姓名", "手机号", "钉钉userId", "所属月份", "金额", "交纳日期", "代交人"]


def xlsx(rows, header=HEADER) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(FeePayment))


def test_good_file_records_everything(session, org):
    f = xlsx(
        [
            ["张三", "13800000003", None, "2026年11月", 40, datetime(2026, 11, 6, 10, 0), None],
            ["李四", None, None, "2026-10", "60.00", "2026-10-09", "张三"],  # no identifier at all
        ]
    )
    with pytest.raises(FeeImportError) as exc:
        record_payments_from_xlsx(session, f, branch=org.branch, now=NOW, tz=TZ)
    assert exc.value.errors == ["第3行 手机号：手机号、钉钉userId、企业微信userid 至少填一项"]
    assert _count(session) == 0

    f = xlsx(
        [
            ["张三", "13800000003", None, "2026年11月", 40, datetime(2026, 11, 6, 10, 0), None],
            ["李四", "13800000004", None, "2026-10", "60.00", "2026-10-09", "张三"],
            [None, None, None, None, None, None, None],  # blank rows are skipped
            ["赵六", None, f"u{org.probationary.id}", date(2026, 9, 1), None, None, "赵六的母亲"],
        ]
    )
    result = record_payments_from_xlsx(session, f, branch=org.branch, now=NOW, tz=TZ)
    session.commit()
    assert (result.recorded, result.proxied) == (3, 2)
    rows = {p.person_id: p for p in session.scalars(select(FeePayment))}
    alice, bob, prob = rows[org.alice.id], rows[org.bob.id], rows[org.probationary.id]
    assert all(
        p.method == PaymentMethod.BULK_IMPORT and p.status == PaymentStatus.CONFIRMED for p in rows.values()
    )
    assert alice.paid_at == datetime(2026, 11, 6, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
    assert (
        bob.month == date(2026, 10, 1)
        and bob.paid_by_person_id == org.alice.id
        and bob.paid_by_name == "张三"
    )
    assert (
        prob.amount == Decimal("10.00")
        and prob.paid_by_name == "赵六的母亲"
        and prob.paid_by_person_id is None
    )


def test_bad_rows_are_all_listed_and_nothing_is_written(session, org):
    f = xlsx(
        [
            ["张三", "13800000003", None, "2026年11月", 40, None, None],  # fine on its own
            ["王五", "13999999999", None, "2026年11月", 40, None, None],  # not in the branch
            ["李四", "13800000004", None, "十一月", 60, None, None],  # month unreadable
            ["李四", "13800000004", None, "2026-11", "-5", "昨天", None],  # amount and date wrong
            ["张三", "13800000003", None, "2026-11", 40, None, None],  # duplicate of row 2
            ["张三", "13800000003", None, "2026年1月", 40, None, None],  # beyond 补交
            ["张", "13800000001", None, "2026年11月", 40, None, None],  # name does not match the phone
            ["吴七", "", None, "2026年11月", 40, None, None],  # no identifier
        ]
    )
    with pytest.raises(FeeImportError) as exc:
        record_payments_from_xlsx(session, f, branch=org.branch, now=NOW, tz=TZ)
    errors = exc.value.errors
    assert errors[0] == "第3行 手机号：“13999999999”不是第一党支部的党员"
    assert errors[1].startswith("第4行 所属月份：没看懂月份")
    assert any(e.startswith("第5行 金额：") for e in errors)
    assert any(e.startswith("第5行 交纳日期：") for e in errors)
    assert "第6行 所属月份：与第2行重复（同一人同一月份）" in errors
    assert any(e.startswith("第7行 所属月份：") and "补交" in e for e in errors)
    assert any(e.startswith("第8行 姓名：") for e in errors)
    assert any(e.startswith("第9行 手机号：") for e in errors)
    session.rollback()
    assert _count(session) == 0


def test_headers_and_roles_are_checked(session, org):
    with pytest.raises(FeeImportError) as exc:
        record_payments_from_xlsx(
            session, xlsx([], header=["姓名", "金额"]), branch=org.branch, now=NOW, tz=TZ
        )
    assert "所属月份" in exc.value.errors[0]
    row = [["张三", "13800000003", None, "2026年11月", 40, None, None]]
    with pytest.raises(FeeImportError, match="只有本支部"):
        record_payments_from_xlsx(
            session, xlsx(row), branch=org.branch, now=NOW, tz=TZ, recorded_by=org.other_collector
        )
    with pytest.raises(FeeImportError, match="不是 Excel|无法读取"):
        record_payments_from_xlsx(session, io.BytesIO(b"not a workbook"), branch=org.branch, now=NOW, tz=TZ)
    assert (
        record_payments_from_xlsx(
            session, xlsx(row), branch=org.branch, now=NOW, tz=TZ, recorded_by=org.collector
        ).recorded
        == 1
    )


@pytest.fixture
def migrated(migrated_url, session_factory):
    """A migrated database (the CLI refuses any other) with one member to import payments for."""
    with session_factory() as s, s.begin():
        committee = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        branch = builders.unit(s, "东街社区党支部", UnitKind.BRANCH, committee)
        builders.person(s, "张三", branch, phone="13800000003", fee_base=Decimal("4000"))
    return migrated_url, session_factory


def test_cli_import_and_fee_days(migrated, tmp_path):
    url, factory = migrated
    runner = CliRunner()
    month = datetime.now(UTC).strftime("%Y-%m")
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    good.write_bytes(xlsx([["张三", "13800000003", None, month, 40, None, None]]).getvalue())
    bad.write_bytes(xlsx([["张三", "13800000009", None, month, 40, None, None]]).getvalue())
    env = {"ZHIBU_DATABASE_URL": url}

    result = runner.invoke(app, ["fees", "import", str(bad), "--branch", "东街社区党支部"], env=env)
    assert result.exit_code == 1 and "第2行 手机号" in result.output and "未写入任何记录" in result.output
    result = runner.invoke(app, ["fees", "import", str(good), "--branch", "东街社区党支部"], env=env)
    assert result.exit_code == 0, result.output
    assert "已登记 1 笔" in result.output
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(FeePayment)) == 1
    result = runner.invoke(app, ["fees", "import", str(good), "--branch", "没有这个支部"], env=env)
    assert result.exit_code != 0 and "找不到组织" in result.output

    result = runner.invoke(app, ["fee-days", "2026"], env=env)
    assert result.exit_code == 0
    assert " 1月  1月9日（周五）  ← 1月2日为元旦假期" in result.output
    assert "⚠" not in result.output
    result = runner.invoke(app, ["fee-days", "2027", "--unit", "东街社区党支部"], env=env)
    assert result.exit_code == 0 and "⚠ 节假日数据未覆盖 2027 年" in result.output
    result = runner.invoke(app, ["fee-days", "2026", "--policy", "fixed", "--day", "15"], env=env)
    assert "每月固定日期" in result.output
    assert " 2月  2月24日（周二）  ← 2月15日为春节假期，顺延至 2月24日（周二）" in result.output
    result = runner.invoke(app, ["fee-days", "2026", "--policy", "sometimes"], env=env)
    assert result.exit_code != 0 and "未知的规则" in result.output


def test_cells_are_read_as_the_roster_reads_them(session, org):
    """Issue #13 item 2: a phone, a date and an amount are read by one set of readers
    (handlers.common.cells) in the roster, fee and observer imports, so the spellings the roster takes
    are taken here too: a phone with +86 and dashes, a 年月日 date with spaces, an amount with a
    thousands separator, 元 and full-width digits."""
    f = xlsx(
        [
            ["张三", "+86 138-0000-0003", None, "2026年11月", "1,040.00元", "2026 年 11 月 5 日", None],
            ["李四", "13800000004", None, "2026年10月", "６０", "20261009", None],
        ]
    )
    result = record_payments_from_xlsx(session, f, branch=org.branch, now=NOW, tz=TZ)
    assert result.recorded == 2
    paid = {p.person_id: p for p in session.scalars(select(FeePayment))}
    assert paid[org.alice.id].amount == Decimal("1040.00")
    assert paid[org.alice.id].paid_at.astimezone(UTC) == datetime(2026, 11, 5, 4, 0, tzinfo=UTC)  # noon local
    assert paid[org.bob.id].amount == Decimal("60.00")
    assert paid[org.bob.id].paid_at.astimezone(UTC).date() == date(2026, 10, 9)
