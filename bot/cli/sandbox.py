"""zhibu sandbox: run the local DingTalk/WeCom emulator alone."""

import typer


def register(root: typer.Typer) -> None:
    pass
