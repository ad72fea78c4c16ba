"""zhibu serve / demo: the running service. Filled by the chat-core work."""

import typer

from bot.cli.common import fail


def serve() -> None:
    """运行服务（网页、钉钉连接、消息发送、定时任务）。"""
    fail("`zhibu serve` 还未实现：它由“聊天核心”任务提供。")


def demo() -> None:
    """在本机启动演示：模拟钉钉/企业微信服务器 + 机器人 + 演示组织。"""
    fail("`zhibu demo` 还未实现：它由“聊天核心”任务提供。")


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)
    root.command("demo")(demo)
