"""zhibu sandbox: run the local DingTalk/WeCom emulator alone."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from bot.cli.common import echo, fail


def sandbox(
    port: int = typer.Option(18080, "--port", help="监听端口（只监听 127.0.0.1）"),
    fixture: Path | None = typer.Option(
        None, "--fixture", help="企业、应用和成员的 JSON 文件；不给则用演示组织"
    ),
) -> None:
    """单独运行本地的钉钉 / 企业微信模拟服务器（含聊天页）。"""
    from sandbox.server import read_fixture, serve_forever

    try:
        data = read_fixture(fixture)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"无法读取模拟服务器的数据文件 {fixture}：{exc}")
    echo(f"模拟服务器已启动：http://127.0.0.1:{port}/ （聊天页）；控制接口在 /_sandbox 下")
    echo(
        f"让机器人连过来：ZHIBU_DINGTALK__OPENAPI_ENDPOINT=http://127.0.0.1:{port} 等，见 README 的 Sandbox 一节"
    )
    try:
        serve_forever("127.0.0.1", port, data, log_level="warning")
    except OSError as exc:
        fail(f"端口 {port} 无法使用：{exc}")


def register(root: typer.Typer) -> None:
    root.command("sandbox")(sandbox)
