"""zhibu fee-days: the year's 党费交纳日; zhibu fees import: record payments from an .xlsx."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy import select

from bot.cli.common import core_config, database, echo, fail, settings
from handlers.common import dates
from handlers.fees import strings
from handlers.fees.feeday import package_covers
from handlers.fees.importer import FeeImportError, record_payments_from_xlsx
from handlers.fees.policy import default_policy, fee_days_of_year
from models.db import unit_of_work
from models.fees import FEE_DAY_RULE_LABELS, FeeDayRule
from models.org import OrgUnit, UnitKind

POLICY_NAMES = {
    "first-working-friday": FeeDayRule.FIRST_WORKING_FRIDAY,
    "postpone": FeeDayRule.FIRST_FRIDAY_POSTPONE,
    "advance": FeeDayRule.FIRST_FRIDAY_ADVANCE,
    "fixed": FeeDayRule.FIXED_DAY,
}

app = typer.Typer(help="党费：批量登记交纳记录。", no_args_is_help=True)


def _calendar_range() -> tuple[int, int]:
    years = [y for y in range(2000, 2100) if package_covers(y)]
    return (years[0], years[-1]) if years else (0, 0)


def _unit(session, name: str, kind: UnitKind | None = None) -> OrgUnit:
    stmt = select(OrgUnit).where(OrgUnit.name == name)
    if kind is not None:
        stmt = stmt.where(OrgUnit.kind == kind)
    units = list(session.scalars(stmt))
    if not units:
        fail(f"找不到组织“{name}”。")
    if len(units) > 1:
        fail(f"有 {len(units)} 个组织都叫“{name}”，请先在组织树中区分名称。")
    return units[0]


def fee_days(
    year: int = typer.Argument(..., help="年份，例如 2026"),
    policy: str = typer.Option(
        "",
        "--policy",
        help="交纳日规则：first-working-friday（默认）、postpone（顺延）、advance（提前）、fixed（固定日期，配合 --day）",
    ),
    day: int = typer.Option(0, "--day", help="固定日期规则下的日期（1–31）"),
    unit: str = typer.Option("", "--unit", help="按该组织的规则、人工调整和本地假日计算（需要数据库）"),
) -> None:
    """打印一年的党费交纳日，并说明哪些月份因节假日调整。"""
    if not 1900 <= year <= 2200:
        fail("年份不正确，请输入四位数年份，例如 2026。")
    rule = None
    if policy:
        if policy not in POLICY_NAMES:
            fail(f"未知的规则“{policy}”，可选：{', '.join(POLICY_NAMES)}")
        rule = POLICY_NAMES[policy]
    if rule == FeeDayRule.FIXED_DAY and not 1 <= day <= 31:
        fail("固定日期规则需要 --day 1 到 31。")
    s = settings()
    default = default_policy(core_config(s))
    if unit:
        _engine, factory = database(s)
        with unit_of_work(factory) as session:
            org = _unit(session, unit)
            days = fee_days_of_year(session, year, org, rule=rule, fixed_day=day or None, default=default)
            shown_rule = rule or days[0].rule
    else:
        days = fee_days_of_year(None, year, rule=rule, fixed_day=day or None, default=default)
        shown_rule = rule or default.fee_day_rule
    echo(strings.FEE_DAYS_HEADER.format(year=year, rule=FEE_DAY_RULE_LABELS[shown_rule]))
    for fd in days:
        line = strings.FEE_DAYS_LINE.format(month=fd.month.month, day=dates.fmt_day_weekday(fd.day))
        if fd.moved:
            line += strings.FEE_DAYS_MOVED.format(reason=fd.reason)
        echo(line)
    if any(fd.fallback for fd in days):
        first, last = _calendar_range()
        typer.secho(strings.FALLBACK_FLAG.format(year=year, first=first, last=last), fg=typer.colors.YELLOW)


@app.command("import")
def import_payments(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="交纳记录 .xlsx（中文表头）"),
    branch: str = typer.Option(..., "--branch", help="党支部名称"),
) -> None:
    """从 Excel 批量登记党费交纳记录：全部正确才写入，有错误时逐行列出。"""
    s = settings()
    _engine, factory = database(s)
    try:
        with unit_of_work(factory) as session:
            org = _unit(session, branch, UnitKind.BRANCH)
            with file.open("rb") as fh:
                result = record_payments_from_xlsx(
                    session,
                    fh,
                    branch=org,
                    now=datetime.now(UTC),
                    tz=s.tz,
                    default=default_policy(core_config(s)),
                )
    except FeeImportError as exc:
        typer.secho(f"导入失败，未写入任何记录。共 {len(exc.errors)} 处错误：", fg=typer.colors.RED, err=True)
        for line in exc.errors:
            typer.secho(f"  {line}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    echo(f"已登记 {result.recorded} 笔党费（{branch}），其中代交 {result.proxied} 笔。")


def register(root: typer.Typer) -> None:
    root.command("fee-days")(fee_days)
    root.add_typer(app, name="fees")
