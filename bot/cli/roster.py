"""zhibu roster: the roster (.xlsx/.csv) template, import and export."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path

import typer

from bot.cli.common import database, echo, fail, settings
from config import demo
from handlers.observers.importer import apply_observer_sheet
from handlers.observers.sheet_export import write_sheet as write_observer_sheet
from handlers.roster import (
    RosterFileError,
    apply_roster,
    export_roster,
    read_roster,
    validate_roster,
    write_template,
)
from handlers.roster import texts as T
from models.audit import Actor, act_as
from models.db import unit_of_work

app = typer.Typer(help="花名册：生成模板、导入、导出（Excel/CSV，中文表头）。", no_args_is_help=True)

TEXT = {
    "template": "已生成花名册模板：{path}（第 2 行是示例，导入时会跳过；各列说明见「说明」工作表）。",
    "template_csv": "已生成花名册模板：{path}（第 2 行是示例，导入时会跳过；各列说明请用 .xlsx 模板查看）。",
    "refused": "花名册有 {count} 处错误，没有导入任何数据。请改正后重新导入：",
    "warnings": "请注意（不影响导入）：",
    "dry_run": "预检通过（--dry-run）：以上是导入后的结果，但没有写入数据库。",
    "unchanged": "数据库中的组织和人员与花名册一致，没有变化。",
    "exported": "已导出 {count} 人到 {path}。",
    "bad_suffix": "文件名应以 .xlsx 或 .csv 结尾。",
    "cannot_write": "无法写入文件 {path}：{reason}",
}


def _corp_ids() -> tuple[str, str]:
    s = settings()
    dingtalk = s.dingtalk.corp_id or (demo.DINGTALK_CORP_ID if s.demo else "")
    wecom = s.wecom.corp_id or (demo.WECOM_CORP_ID if s.demo else "")
    return dingtalk, wecom


class _Rollback(Exception):
    """Leaves the unit of work without committing (a refused import or a dry run)."""


@app.command("template")
def template_cmd(path: Path = typer.Argument(..., help="模板文件名，如 花名册.xlsx 或 花名册.csv")) -> None:
    """生成花名册模板（含一行示例和各列说明）。"""
    if path.suffix.lower() not in (".xlsx", ".csv"):
        fail(TEXT["bad_suffix"])
    try:
        write_template(path)
    except OSError as exc:
        fail(TEXT["cannot_write"].format(path=path, reason=exc.strerror or exc))
    echo(TEXT["template" if path.suffix.lower() == ".xlsx" else "template_csv"].format(path=path))


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="花名册文件（.xlsx 或 .csv）"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只检查并显示导入结果，不写入数据库。"),
) -> None:
    """导入花名册：新建或更新组织、人员、职务和聊天账号。有任何一行出错时全部不导入，并列出所有错误。"""
    s = settings()
    dingtalk, wecom = _corp_ids()
    _, session_factory = database(s)
    try:
        headers, rows = read_roster(path)
    except RosterFileError as exc:
        fail(str(exc))
    today = datetime.now(s.tz).date()
    plan = result = observers = None
    try:
        with unit_of_work(session_factory) as session:
            act_as(session, Actor("import", label=f"命令行 {getpass.getuser()}"[:100]))
            plan = validate_roster(
                session, rows, headers, dingtalk_corp_id=dingtalk, wecom_corp_id=wecom, today=today
            )
            if not plan.ok:
                raise _Rollback
            result = apply_roster(session, plan, today=today)
            observers = apply_observer_sheet(session, path, plan)  # the 观察员分工 sheet, if any
            if dry_run or not plan.ok:
                raise _Rollback
    except _Rollback:
        pass
    if not plan.ok:
        typer.secho(TEXT["refused"].format(count=len(plan.errors)), fg=typer.colors.RED, err=True)
        for issue in plan.errors:
            typer.echo(f"  {issue}", err=True)
        raise typer.Exit(1)
    if plan.skipped_examples:
        echo(T.SKIPPED_EXAMPLES.format(count=plan.skipped_examples))
    echo(result.summary() if result.changed else TEXT["unchanged"])
    if observers:
        echo(observers)
    echo(T.NOT_IN_FILE)
    if result.warnings:
        echo(TEXT["warnings"])
        for warning in result.warnings:
            echo(f"  {warning}")
    if dry_run:
        echo(TEXT["dry_run"])


@app.command("export")
def export_cmd(path: Path = typer.Argument(..., help="导出文件名（.xlsx 或 .csv）")) -> None:
    """导出当前的组织和人员，格式与模板相同（可修改后再导入）。"""
    if path.suffix.lower() not in (".xlsx", ".csv"):
        fail(TEXT["bad_suffix"])
    s = settings()
    dingtalk, wecom = _corp_ids()
    _, session_factory = database(s)
    try:
        with unit_of_work(session_factory) as session:
            count = export_roster(session, path, dingtalk_corp_id=dingtalk, wecom_corp_id=wecom)
            write_observer_sheet(session, path)
    except OSError as exc:
        fail(TEXT["cannot_write"].format(path=path, reason=exc.strerror or exc))
    echo(TEXT["exported"].format(count=count, path=path))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="roster")
