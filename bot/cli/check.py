"""zhibu check: the effective configuration (secrets masked) and the database's state; with --live,
each configured platform's credentials against the platform itself, sending nothing to anyone."""

from __future__ import annotations

import json

import typer
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.cli.common import core_config, echo, fail, settings
from config import SettingsError
from models.db import make_engine, schema_revisions
from models.org import OrgUnit, Person, UnitKind
from models.startmonth import start_month


def check(
    live: bool = typer.Option(
        False, "--live", help="再用真实凭证逐项检查钉钉/企业微信和公网地址（只读，不给任何人发消息）"
    ),
) -> None:
    """检查配置和数据库：打印生效的配置（密钥已隐藏），并检查数据库连接和结构版本。加 --live 再联网检查平台凭证。"""
    s = settings()
    echo("生效的配置：")
    echo(json.dumps(s.masked(), ensure_ascii=False, indent=2))
    try:
        s.require_production_secret()
    except SettingsError as exc:
        fail(str(exc))
    core_config(s)  # the feature rules' names (roles, meeting types, presets), as `zhibu serve` checks them
    echo(
        f"钉钉：{'已启用' if s.dingtalk.enabled else '未配置'}；企业微信：{'已启用' if s.wecom.enabled else '未配置'}"
    )
    engine = make_engine(s.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        fail(f"数据库连接失败：{exc}")
    current, head = schema_revisions(engine)
    if current != head:
        fail(
            f"数据库可以连接，但结构不是最新（当前 {current or '空库'}，需要 {head}）。请运行：zhibu db upgrade"
        )
    echo(f"数据库连接正常，结构版本 {current}。")
    echo(start_month_line(engine))
    warning = sqlite_size_warning(engine)
    if warning:
        typer.secho(warning, fg=typer.colors.YELLOW)
    if live:
        live_check(s)


def start_month_line(engine) -> str:
    """Whether the months run: no 月积分 or 月度通报 before the start month, or with none set."""
    with Session(engine) as session:
        month = start_month(session)
    if month is None:
        return (
            "启用月份：未设置——不计算月积分、不发月度通报。导入花名册会自动设为下个月，"
            "或运行 zhibu golive YYYY-MM 指定。"
        )
    return f"启用月份：{month.year}年{month.month}月（zhibu golive 可查看和修改）。"


# Where SQLite stops being sensible (issue #22): a city's roster. At a city (10,000 branches, 300,000
# members) the month's run already takes about as long on SQLite as on PostgreSQL, and every write waits
# for SQLite's one writer; beyond it the month, the fee reminders and the chat traffic of a province
# need a server database.
SQLITE_MAX_BRANCHES = 10_000
SQLITE_MAX_MEMBERS = 300_000


def sqlite_size_warning(engine) -> str | None:
    """One line, with its fix, when the database is SQLite and the roster is bigger than a city."""
    if engine.dialect.name != "sqlite":
        return None
    with Session(engine) as session:
        branches = session.scalar(
            select(func.count()).select_from(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active)
        )
        members = session.scalar(
            select(func.count()).select_from(Person).where(Person.active, Person.branch_id.is_not(None))
        )
    if (branches or 0) <= SQLITE_MAX_BRANCHES and (members or 0) <= SQLITE_MAX_MEMBERS:
        return None
    return (
        f"提醒：当前用的是 SQLite，花名册已有 {branches} 个支部、{members} 名党员，超过了 SQLite 适合的规模"
        f"（{SQLITE_MAX_BRANCHES} 个支部或 {SQLITE_MAX_MEMBERS} 名党员，约一个地级市）。"
        "建议改用 PostgreSQL：把 ZHIBU_DATABASE_URL 设为 postgresql+psycopg://…，运行 zhibu db upgrade，再导入花名册。"
    )


def live_check(s) -> None:
    """One line per check, each with its fix; exit 1 when any fails."""
    from bot.platforms.dingtalk import directory as dingtalk
    from bot.platforms.directory import Check, check_public_url
    from bot.platforms.wecom import directory as wecom
    from bot.platforms.wiring import build_platforms

    echo("\n联网检查（只读取，不会给任何人发消息）：")
    checks: list[Check] = []
    platforms = build_platforms(s, None, stream=False)
    try:
        dt, wc = platforms.identities.get("dingtalk"), platforms.identities.get("wecom")
        if dt is None and wc is None:
            checks.append(
                Check(
                    "平台",
                    False,
                    "钉钉和企业微信都没有配置：请至少设置一个平台的凭证（见 README 的上线指南）。",
                )
            )
        if dt is not None:
            checks += dingtalk.live_checks(
                dt.api,
                robot_code=s.dingtalk.robot_code or s.dingtalk.client_id,
                card_template_id=s.dingtalk.card_template_id,
                corp_id=s.dingtalk.corp_id,
            )
        if wc is not None:
            checks += wecom.live_checks(
                wc.client,
                agent_id=s.wecom.agent_id,
                token=s.wecom.token.get_secret_value(),
                encoding_aes_key=s.wecom.encoding_aes_key.get_secret_value(),
                corp_id=s.wecom.corp_id,
                base_url=s.public_base_url,
            )
        checks.append(check_public_url(s.public_base_url))
    finally:
        platforms.close()
    for c in checks:
        typer.secho(c.line(), fg=None if c.ok else typer.colors.RED)
    failed = sum(1 for c in checks if not c.ok)
    if failed:
        typer.secho(
            f"\n{failed} 项检查未通过，请按上面的提示修改后重新运行 zhibu check --live。", fg=typer.colors.RED
        )
        raise typer.Exit(1)
    echo("\n全部检查通过。")


def register(root: typer.Typer) -> None:
    root.command("check")(check)
