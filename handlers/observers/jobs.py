"""Scheduled jobs of the observers feature. Each is idempotent (dedup keys on every message), so a
repeat run, a catch-up after downtime or a second scheduler adds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec, bound, daily, minutely
from handlers.observers import coverage, observation, periods, rectification
from handlers.observers.forms import CoveragePeriod, ObserversConfig, observers_config
from handlers.observers.notices import send_cancellations, send_notices


def notices(session: Session, *, now: datetime, cfg: ObserversConfig, public_base_url: str) -> None:
    """Observers hear of their branches' newly scheduled, moved or cancelled meetings."""
    send_notices(session, now=now, cfg=cfg, public_base_url=public_base_url)
    send_cancellations(session, now=now, cfg=cfg)


def gap_report_cron(cfg: ObserversConfig) -> str:
    if cfg.gap_report_cron:
        return cfg.gap_report_cron
    # Two months before a half-year ends leaves time to attend; the 6th, after the 劳动节 break.
    return "30 9 20 * *" if cfg.coverage_period == CoveragePeriod.MONTH else "30 9 6 5,11 *"


def jobs(core: CoreConfig) -> list[JobSpec]:
    """The jobs, with the observer rules and public address the composition root passes (the card's
    填写评价 link needs the public address)."""
    cfg, base = observers_config(core), core.public_base_url

    def coverage_gaps(session: Session, now: datetime, period: str) -> None:
        """Each committee's 组织委员 hears which branches no observer has attended yet this period."""
        coverage.report_coverage_gaps(session, now=now, cfg=cfg, period=period, public_base_url=base)

    def coverage_period(fire: datetime) -> str:
        """One run per coverage period (2026-H1, or 2026-05 when monthly), whatever the cron says."""
        return periods.period_key(fire.date(), cfg)

    return [
        JobSpec("observers.notices", "*/5 * * * *", bound(notices, cfg=cfg, public_base_url=base), minutely, description="观察员会议提示"),
        JobSpec("observers.rectification_reminders", "10 9 * * *", bound(rectification.remind_rectifications, cfg=cfg), daily, description="整改到期、逾期提醒"),
        JobSpec("observers.coverage_reminders", "15 9 * * *", bound(coverage.remind_coverage, cfg=cfg), daily, description="观察覆盖提醒"),
        JobSpec("observers.missed_reopens", "20 9 * * *", bound(observation.report_missed_reopens, cfg=cfg), daily, description="责令重开逾期报告"),
        # A scheduler down on the day still reports within the grace; the period claim keeps it to once.
        JobSpec("observers.coverage_gaps", gap_report_cron(cfg), coverage_gaps, coverage_period, grace=timedelta(days=10), description="未列席支部报党委组织委员"),
    ]  # fmt: skip
