"""`zhibu golive [YYYY-MM] [--force]`: show or set the start month (models.startmonth).

The start month is the organisation's first month of use: no 月积分, 月度通报, 落后约谈 step or
欠缴 count is computed or sent for a month before it, and the 自行脱党 and arrears counters start
at it. The first roster import sets it to the month after the import unless one is set already.
"""

from __future__ import annotations

import getpass
from datetime import date, datetime

import typer

from bot.cli.common import database, echo, fail, settings
from handlers.common.dates import add_months, fmt_month
from models import startmonth
from models.audit import Actor, act_as
from models.db import unit_of_work

# How far ahead a start month may be set: a typo (2072 for 2027) is refused, a planned launch is not.
MAX_MONTHS_AHEAD = 12

HELP = (
    "显示或设置支部助手的启用月份（第一个完整使用的月份）。启用月份之前的月份不计算月积分，"
    "不发月度通报、落后约谈提醒和欠缴党费提示；连续缺席组织生活和连续欠缴党费（自行脱党提示）"
    "都从启用月份开始数。不设置时，第一次导入花名册会自动把导入日的下一个月设为启用月份"
    "（例如 12月2日导入，启用月份就是次年1月：12月只用了一部分，不计分）。"
    "启用月份的月度通报在下个月初发出，并注明这是第一个月。"
    "已经计算过月积分后再把启用月份改早，需要加 --force。"
)

TEXT = {
    "none": "还没有设置启用月份。第一次导入花名册时会自动设为导入日的下一个月；也可以运行 zhibu golive 2027-01 指定。"
    "没有启用月份时，不计算任何月份的月积分，也不发月度通报。",
    "current": "启用月份：{month}。{first}的月度通报会在{send}初发出，此前的月份不计分、不发通报。",
    "set": "已把启用月份设为{month}（原来是{old}）。{first}的月度通报会在{send}初发出，此前的月份不计分、不发通报。",
    "unchanged": "启用月份本来就是{month}，没有改动。",
    "too_far": "启用月份{month}太远了：最晚只能设到{latest}。请检查年份是否写错。",
    "need_force": (
        "已经计算过月积分，不能直接把启用月份从{old}改早到{month}：改早后，{month}到{before}这些月份"
        "也会计入连续缺席和连续欠缴，约谈提醒和自行脱党提示可能因此提前出现。"
        "如果确实从{month}起就在使用支部助手，请加 --force 再运行；这些月份的月积分可用 "
        "zhibu run-job monthly --period {first_period} 逐月补算。"
    ),
    "not_set": "（未设置）",
}


def _local_today(tz) -> date:
    return datetime.now(tz).date()


def golive_cmd(
    month: str = typer.Argument(
        "", metavar="YYYY-MM", help="启用月份，如 2027-01；不填则显示当前的启用月份。"
    ),
    force: bool = typer.Option(False, "--force", help="已经计算过月积分后，仍把启用月份改早。"),
) -> None:
    s = settings()
    _, session_factory = database(s)
    if not month:
        with session_factory() as session:
            current = startmonth.start_month(session)
        if current is None:
            echo(TEXT["none"])
        else:
            echo(TEXT["current"].format(month=fmt_month(current), first=fmt_month(current),
                                        send=fmt_month(add_months(current, 1))))  # fmt: skip
        return
    try:
        wanted = startmonth.parse(month)
    except ValueError as exc:
        fail(str(exc))
    latest = add_months(startmonth.month_after(_local_today(s.tz)), MAX_MONTHS_AHEAD - 1)
    if wanted > latest:
        fail(TEXT["too_far"].format(month=fmt_month(wanted), latest=fmt_month(latest)))
    with unit_of_work(session_factory) as session:
        act_as(session, Actor("cli", label=f"命令行 {getpass.getuser()}"[:100]))
        old = startmonth.start_month(session)
        if old == wanted:
            echo(TEXT["unchanged"].format(month=fmt_month(wanted)))
            return
        if old is not None and wanted < old and not force and startmonth.scored_months(session):
            fail(TEXT["need_force"].format(old=fmt_month(old), month=fmt_month(wanted),
                                           before=fmt_month(add_months(old, -1)),
                                           first_period=f"{wanted:%Y-%m}"))  # fmt: skip
        startmonth.set_start_month(session, wanted)
    echo(TEXT["set"].format(month=fmt_month(wanted), old=fmt_month(old) if old else TEXT["not_set"],
                            first=fmt_month(wanted), send=fmt_month(add_months(wanted, 1))))  # fmt: skip


def register(root: typer.Typer) -> None:
    """Adds this module's commands to the zhibu command."""
    root.command("golive", help=HELP)(golive_cmd)
