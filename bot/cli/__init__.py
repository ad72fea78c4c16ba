"""The `zhibu` command: the composition root that wires settings, database, platforms, handlers and jobs.

Each command group lives in its own module with a register(app) function.
"""

from __future__ import annotations

import typer

from bot.cli import accounts, api_token, backup, check, db, fees, golive, roster, sandbox, seed, serve

app = typer.Typer(
    name="zhibu",
    help="支部助手（zhibu）：在钉钉和企业微信里开展党支部组织生活的机器人。运行 `zhibu 命令 --help` 查看每个命令的说明。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (db, check, roster, seed, sandbox, serve, api_token, fees, accounts, golive, backup):
    module.register(app)


def main() -> None:
    app()
