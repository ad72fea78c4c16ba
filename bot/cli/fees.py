"""zhibu fee-days: the year's 党费交纳日. Filled by the fees work."""

import typer


def register(root: typer.Typer) -> None:
    pass
