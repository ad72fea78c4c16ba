"""Jobs of 书记项目: the daily check at 09:00 by default: the month-end progress reminder and its ladder,
the 督办单 past their date (with the 约谈 at a project's second miss), and the reminder of a quarter's
排位赛 still unconfirmed `bulletin_days` after it (handlers.projects.bulletin)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, daily
from handlers.projects import bulletin, orders, progress
from handlers.projects.config import projects_config


def jobs(core: CoreConfig) -> list[JobSpec]:
    cfg = projects_config(core)

    def run(session: Session, now: datetime, _period: str) -> None:
        progress.remind(session, now=now, cfg=cfg, public_base_url=core.public_base_url)
        orders.check_orders(session, now=now, cfg=cfg)
        bulletin.remind(session, now=now, cfg=cfg)

    return [
        JobSpec(
            "projects.progress", cfg.remind_cron, run, daily, description="书记项目月度进展提醒和逐级督促"
        ),
    ]
