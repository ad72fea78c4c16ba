"""zhibu check: the effective configuration (secrets masked) and the database's state."""

from __future__ import annotations

import json

import typer
from sqlalchemy import text

from bot.cli.common import core_config, echo, fail, settings
from config import SettingsError
from models.db import make_engine, schema_revisions


def check() -> None:
    """检查配置和数据库：打印生效的配置（密钥已隐藏），并检查数据库连接和结构版本。"""
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


def register(root: typer.Typer) -> None:
    root.command("check")(check)
