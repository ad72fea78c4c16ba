"""Jobs of 督查/巡查: the monthly random patrol draw (inspection.patrol, the 1st at 08:00 by default) and
the daily check of rectifications' deadlines (inspection.rectifications, 09:00)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.errors import Refused
from bot.core.jobs import JobSpec, daily, monthly
from handlers.inspection import draw, liaison, rounds
from handlers.inspection.config import inspection_config


def jobs(core: CoreConfig) -> list[JobSpec]:
    cfg = inspection_config(core)

    def run(session: Session, now: datetime, _period: str) -> None:
        try:
            draw.patrol_month(
                session,
                now.astimezone(core.tz).date(),
                now=now,
                cfg=cfg,
                public_base_url=core.public_base_url,
            )
        except Refused:
            pass  # already drawn this month (a rerun of the job): the first draw stands

    def check(session: Session, now: datetime, _period: str) -> None:
        rounds.remind(session, today=now.astimezone(core.tz).date(), now=now, cfg=cfg)

    def digest(session: Session, now: datetime, _period: str) -> None:
        liaison.send_digests(session, today=now.astimezone(core.tz).date(), now=now)

    return [
        JobSpec("inspection.patrol", cfg.patrol_cron, run, monthly, description="每月随机抽查党支部"),
        JobSpec("inspection.rectifications", cfg.remind_cron, check, daily, description="督查整改到期提醒"),
        JobSpec("inspection.liaison", cfg.liaison_cron, digest, monthly, description="包保干部月度督查情况"),
    ]
