"""zhibu accounts match: chat accounts found by the roster's phone numbers (#18 item 1)."""

from __future__ import annotations

import getpass
from enum import StrEnum

import typer

from bot.cli.common import database, echo, fail, settings
from bot.platforms.directory import directories
from bot.platforms.wiring import build_platforms
from handlers.roster import accounts as A
from models.audit import Actor, act_as
from models.db import unit_of_work
from models.org import PLATFORM_LABELS, Platform

app = typer.Typer(
    help="聊天账号：按花名册上的手机号到钉钉 / 企业微信通讯录查找并绑定账号。", no_args_is_help=True
)

TEXT = {
    "no_platform": "没有可查询的平台：请先配置钉钉或企业微信（ZHIBU_DINGTALK__CLIENT_ID 等，见 README）。",
    "not_configured": "{platform}没有配置，无法查询。",
    "no_corp": "{platform}的企业ID（ZHIBU_{env}__CORP_ID）未设置：账号要记在哪个企业下无法确定。",
    "asking": "正在向{platforms}查询 {count} 人的手机号（按平台的频率限制进行，请稍候）……",
    "nobody": "所有有手机号的人员都已绑定账号，没有需要查询的人员。",
    "dry_run": "以上是预览（没有写入）。确认无误后加 --apply 写入这些账号。",
    "applied": "已绑定 {count} 个账号，已记入审计日志。",
    "nothing_to_apply": "没有可以写入的账号。",
    "stale": "查询期间名单有变化（以下人员已有账号、已离开名册，或账号已被他人绑定），为避免只写入一部分，没有写入任何账号。请重新运行：",
}


class PlatformChoice(StrEnum):
    dingtalk = "dingtalk"
    wecom = "wecom"


def _print(report: A.MatchReport) -> None:
    for outcome in A.Outcome:
        rows = report.of(outcome)
        if not rows:
            continue
        typer.secho("\n" + report.heading(outcome), bold=True)
        for r in rows:
            c = r.candidate
            where = f"{c.branch} " if c.branch else ""
            extra = f" → {r.userid}" if r.userid else ""
            if r.other:
                extra += f"（另一人：{r.other}）"
            echo(f"  {PLATFORM_LABELS[c.platform]} {where}{c.name} {c.phone}{extra}")
        platforms = {r.candidate.platform for r in rows}
        if outcome != A.Outcome.MATCHED:
            for p in sorted(platforms):
                echo(f"  → {report.hint(outcome, p)}")
    echo("\n" + report.summary())


@app.command("match")
def match_cmd(
    platform: PlatformChoice | None = typer.Option(
        None, "--platform", help="只查询一个平台（dingtalk 或 wecom）"
    ),
    apply: bool = typer.Option(False, "--apply", help="写入匹配到的账号（不加则只预览）"),
) -> None:
    """按手机号匹配账号：为有手机号、还没有钉钉/企业微信账号的人员，到平台通讯录查出账号。默认只预览，加 --apply 才写入。"""
    s = settings()
    _, session_factory = database(s)
    platforms = build_platforms(s, None, stream=False)
    try:
        lookups = directories(platforms.identities)
        if platform is not None:
            lookups = [lk for lk in lookups if lk.platform == Platform(platform.value)]
            if not lookups:
                fail(TEXT["not_configured"].format(platform=PLATFORM_LABELS[Platform(platform.value)]))
        if not lookups:
            fail(TEXT["no_platform"])
        for lk in lookups:
            if not lk.corp_id:
                env = "DINGTALK" if lk.platform == Platform.DINGTALK else "WECOM"
                fail(TEXT["no_corp"].format(platform=PLATFORM_LABELS[lk.platform], env=env))
        with session_factory() as session:
            wanted = A.candidates(session, [(lk.platform, lk.corp_id) for lk in lookups])
        if not wanted:
            echo(TEXT["nobody"])
            return
        names = "、".join(PLATFORM_LABELS[lk.platform] for lk in lookups)
        echo(TEXT["asking"].format(platforms=names, count=len({c.person_id for c in wanted})))
        report = A.look_up(wanted, lookups)
    finally:
        platforms.close()
    if not apply:
        with session_factory() as session:
            A.check_taken(session, report)
        _print(report)
        if report.matched:
            echo(TEXT["dry_run"])
        return
    with unit_of_work(session_factory) as session:
        act_as(session, Actor("system", label=f"zhibu accounts match（{getpass.getuser()}）"[:100]))
        written = A.apply_matches(session, report)
    _print(report)
    if report.stale:
        typer.secho(TEXT["stale"], fg=typer.colors.RED, err=True)
        for r in report.stale:
            typer.echo(f"  {PLATFORM_LABELS[r.candidate.platform]} {r.candidate.name} → {r.userid}", err=True)
        raise typer.Exit(1)
    echo(TEXT["applied"].format(count=written) if written else TEXT["nothing_to_apply"])


def register(root: typer.Typer) -> None:
    """Adds this module's commands to the zhibu command."""
    root.add_typer(app, name="accounts")
