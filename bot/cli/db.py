"""zhibu db: schema migrations."""

from __future__ import annotations

import typer

from bot.cli.common import echo, fail, settings
from models.db import make_engine, schema_revisions, upgrade

app = typer.Typer(help="数据库：升级结构（迁移）、查看版本。", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd() -> None:
    """把数据库结构升级到最新版本（首次部署和每次升级软件后运行）。"""
    s = settings()
    try:
        upgrade(s.database_url)
    except Exception as exc:  # noqa: BLE001
        fail(f"数据库升级失败：{exc}")
    current, head = schema_revisions(make_engine(s.database_url))
    echo(
        f"数据库结构已是最新版本（{current}）。"
        if current == head
        else f"升级未完成：当前 {current}，需要 {head}"
    )


@app.command("current")
def current_cmd() -> None:
    """显示数据库当前的结构版本和软件需要的版本。"""
    s = settings()
    current, head = schema_revisions(make_engine(s.database_url))
    echo(f"当前版本：{current or '空库'}；需要：{head}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
