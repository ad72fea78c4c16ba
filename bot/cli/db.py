"""zhibu db: schema migrations."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import echo, fail, settings
from models.db import known_revisions, make_engine, schema_revisions, upgrade

app = typer.Typer(help="数据库：升级结构（迁移）、查看版本。", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(
    backup: Path | None = typer.Option(
        None, "--backup", help="升级前先把数据库备份到这个文件（同 zhibu backup），备份失败就不升级。"
    ),
) -> None:
    """把数据库结构升级到最新版本（首次部署和每次升级软件后运行）。"""
    s = settings()
    engine = make_engine(s.database_url)
    try:
        current, head = schema_revisions(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means "cannot reach the database"
        fail(f"无法连接数据库 {engine.url.render_as_string(hide_password=True)}：{exc}")
    finally:
        engine.dispose()
    if current is not None and current not in known_revisions():
        fail(
            f"数据库结构版本 {current} 比这个版本的 zhibu 认识的版本新（最新 {head}）："
            "它已被更新版本的 zhibu 升级过。请使用那个版本的软件，不要降级。"
        )
    if backup is not None and current is None:
        echo("数据库是空的，不需要备份。")
    elif backup is not None:
        from bot.cli.backup import backup_cmd

        backup_cmd(backup, force=False)
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
