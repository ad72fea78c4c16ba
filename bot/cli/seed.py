"""zhibu seed: a synthetic organisation for the demo, tests and benchmarks."""

from __future__ import annotations

import time
from datetime import datetime

import typer

from bot.cli.common import database, echo, fail, settings
from config import demo
from models.db import unit_of_work
from models.seed import HISTORY_GENERATORS, SCALES, OrganisationExists, reset_database, seed

SCALE_HELP = "规模：demo（2 个党委、6 个支部、60 名党员）、county（30 个党委、1300 个支部、3 万名党员）、city（300 个党委、1 万个支部、30 万名党员）、province（3000 个党委、10 万个支部、300 万名党员）"

TEXT = {
    "exists": (
        "数据库里已经有组织架构（{units} 个组织、{people} 名人员），没有生成。"
        "如果确定要清空数据库中的全部数据后重新生成，请加上 --reset。"
    ),
    "reset": "已清空数据库中的全部数据。",
    "done": "已生成「{scale}」规模的组织：{units} 个组织（党委、党总支、党支部、党小组）、{people} 名党员、"
    "{roles} 项职务、{accounts} 个聊天账号，用时 {seconds:.1f} 秒。",
    "corps": "钉钉 corpId：{dingtalk}；企业微信 corpId：{wecom}",
    "no_history": "提示：--months {months} 已记下，但目前还没有可生成的历史数据（会议、签到、党费等功能上线后会自动补上）。",
    "history": "已生成 {months} 个月的历史数据：{names}",
    "start_month": "启用月份设为{month}（zhibu golive 可查看和修改）：从这个月起计算月积分、发月度通报。",
    "bad_scale": "未知规模「{scale}」，可选：demo、county、city、province。",
    "bad_months": "--months 必须是 0 到 120 之间的整数。",
}


def seed_cmd(
    scale: str = typer.Option("demo", "--scale", help=SCALE_HELP),
    months: int = typer.Option(0, "--months", help="同时生成最近 N 个月的历史数据（会议、签到、党费等）。"),
    seed_value: int = typer.Option(2026, "--seed", help="随机数种子：同一种子生成完全相同的组织。"),
    reset: bool = typer.Option(False, "--reset", help="先清空数据库中的全部数据（谨慎使用）。"),
) -> None:
    """生成一个虚拟的党组织（党委、支部、党小组、党员、职务、钉钉和企业微信账号），用于演示、测试和压测。"""
    if scale not in SCALES:
        fail(TEXT["bad_scale"].format(scale=scale))
    if not 0 <= months <= 120:
        fail(TEXT["bad_months"])
    s = settings()
    # The demo must match the sandbox's fixed corps; other scales use the configured corps when set.
    if scale == "demo":
        dingtalk_corp, wecom_corp = demo.DINGTALK_CORP_ID, demo.WECOM_CORP_ID
    else:
        dingtalk_corp = s.dingtalk.corp_id or demo.DINGTALK_CORP_ID
        wecom_corp = s.wecom.corp_id or demo.WECOM_CORP_ID
    _, session_factory = database(s)
    started = time.perf_counter()
    today = datetime.now(s.tz).date()
    try:
        with unit_of_work(session_factory) as session:
            if reset:
                reset_database(session)
            result = seed(
                session,
                scale,
                dingtalk_corp_id=dingtalk_corp,
                wecom_corp_id=wecom_corp,
                seed=seed_value,
                months=months,
                today=today,
            )
    except OrganisationExists as exc:
        fail(TEXT["exists"].format(units=exc.units, people=exc.people))
    if reset:
        echo(TEXT["reset"])
    rows = result.rows
    echo(
        TEXT["done"].format(
            scale=scale,
            units=rows["org_unit"],
            people=rows["person"],
            roles=rows["role_assignment"],
            accounts=rows["chat_account"],
            seconds=time.perf_counter() - started,
        )
    )
    echo(TEXT["corps"].format(dingtalk=dingtalk_corp, wecom=wecom_corp))
    if months and not HISTORY_GENERATORS:
        echo(TEXT["no_history"].format(months=months))
    elif months:
        echo(TEXT["history"].format(months=months, names="、".join(result.history_ran)))
    if result.start_month is not None:
        echo(TEXT["start_month"].format(month=f"{result.start_month.year}年{result.start_month.month}月"))


def register(root: typer.Typer) -> None:
    root.command("seed")(seed_cmd)
