"""Jobs of 督查/巡查."""

from __future__ import annotations

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec


def jobs(core: CoreConfig) -> list[JobSpec]:
    return []
