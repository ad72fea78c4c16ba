"""zhibu golive: (being built)."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Adds this module's commands to the zhibu command."""
