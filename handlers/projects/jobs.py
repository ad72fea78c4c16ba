"""Jobs of 书记项目."""

from __future__ import annotations

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec


def jobs(core: CoreConfig) -> list[JobSpec]:
    return []
