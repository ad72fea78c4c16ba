"""zhibu api-token: bearer tokens for the JSON API. Filled by the JSON API work."""

import typer


def register(root: typer.Typer) -> None:
    pass
