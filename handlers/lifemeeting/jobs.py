"""Jobs of handlers.lifemeeting: the daily reminders of the steps before the 组织生活会 and of its 整改措施."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, bound, daily
from handlers.lifemeeting import reminders
from handlers.lifemeeting.config import lifemeeting_config
from handlers.meetings.types import meetings_config
from handlers.talks.config import talks_config


def jobs(core: CoreConfig) -> list[JobSpec]:
    cfg, talks_cfg, meetings_cfg = lifemeeting_config(core), talks_config(core), meetings_config(core)

    def run(session: Session, *, now: datetime) -> None:
        reminders.remind(session, now=now, cfg=cfg, talks_cfg=talks_cfg, meetings_cfg=meetings_cfg)

    return [
        JobSpec("lifemeeting.reminders", "10 9 * * *", bound(run), daily,
                description="组织生活会会前步骤和整改措施提醒"),
    ]  # fmt: skip
