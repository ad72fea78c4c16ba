"""zhibu seed: a synthetic organisation for the demo, tests and benchmarks."""

import typer


def register(root: typer.Typer) -> None:
    pass
