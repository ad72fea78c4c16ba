"""One month's run: compute, rank and store the scores, climb the ladders, send the digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from handlers.common.dates import add_months
from handlers.lifemeeting.config import DEFAULT as LIFE
from handlers.lifemeeting.config import LifeMeetingConfig, lifemeeting_config
from handlers.meetings.types import MeetingsConfig, meetings_config
from handlers.monthly import digest, ladder, ranking, scoring, todo
from handlers.monthly.config import MonthlyConfig, monthly_config
from handlers.monthly.recipients import RoleBook
from handlers.talks.config import DEFAULT as TALKS
from handlers.talks.config import TalksConfig, talks_config
from models import startmonth
from models.org import Role


@dataclass
class MonthRun:
    month: date
    stored: ranking.StoreResult
    scores: scoring.MonthScores
    units: ladder.LadderReport
    members: ladder.LadderReport
    digests: int
    reminders: int = 0  # 未落实提醒 cards queued (seed 000)


def parse_period(period: str) -> date:
    """ "2026-10" → 2026-10-01; raises ValueError with a Chinese message otherwise."""
    try:
        year, month = (int(p) for p in period.strip().split("-")[:2])
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"月份格式应为 2026-10，收到的是“{period}”。") from None


def previous_month(day: date) -> date:
    return add_months(day.replace(day=1), -1)


def score_month(
    session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig
) -> scoring.MonthScores:
    """Every score of `month`, computed and ranked (not stored).

    The cyclic garbage collector keeps running meanwhile: pausing it (gc.disable) stopped it for the
    whole threaded server, every request and job, while a month was scored (issue #13 point 7)."""
    scores = scoring.compute_month(session, month, now=now, mcfg=mcfg, meetings_cfg=cfg)
    return ranking.rank(scores, mcfg)


def compute_and_store(
    session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig
) -> tuple[scoring.MonthScores, ranking.StoreResult]:
    scores = score_month(session, month, now=now, mcfg=mcfg, cfg=cfg)
    return scores, ranking.store(session, scores, now)


def run_month(
    session: Session,
    month: date,
    *,
    now: datetime,
    send: bool,
    base_url: str = "",
    secret: str = "",
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    talks: TalksConfig = TALKS,
    life: LifeMeetingConfig = LIFE,
) -> MonthRun:
    """Recompute `month`; with send, also queue the ladder notices and the digests (each at most once).

    Whether `month` may run at all (the start month) is run_month_for's question; the counters start
    at the start month by themselves (ladder.absence_runs, fees.arrears.arrears_counts)."""
    scores, stored = compute_and_store(session, month, now=now, mcfg=mcfg, cfg=cfg)
    book = RoleBook(session, {Role.ORG_STAFF, *mcfg.committee_leader_roles, *mcfg.branch_manager_roles,
                              *ladder.SELF_FALLBACK_ROLES, *mcfg.reminder_roles,
                              *(r for roles in mcfg.reminder_roles_of.values() for r in roles),
                              *(r for p in (mcfg.committee_ladder, mcfg.branch_ladder, mcfg.member_ladder)
                                for rung in p.rungs for r in rung.roles)})  # fmt: skip
    units = ladder.run_unit_ladders(session, scores, now=now, mcfg=mcfg, book=book, send=send)
    members = ladder.run_member_ladders(session, scores, now=now, mcfg=mcfg, cfg=cfg, book=book, send=send)
    sent = reminders = 0
    if send:
        sent = digest.send_digests(
            session, month, now=now, mcfg=mcfg, cfg=cfg, base_url=base_url, secret=secret, book=book,
            talks=talks, life=life, explanations={u.unit_id: u.explanation for u in scores.all()},
        )  # fmt: skip
        reminders = todo.send_month_reminders(session, scores, now=now, mcfg=mcfg, cfg=cfg, book=book)
    return MonthRun(month, stored, scores, units, members, sent, reminders)


def run_month_for(session: Session, month: date, core: CoreConfig, *, now: datetime, send: bool) -> MonthRun:
    """`month`'s run with the configuration `core` carries, as the scheduler, `zhibu run-job monthly`
    and the demo start it. Refused (models.startmonth.BeforeStartMonth, its reason in Chinese) for a
    month before the start month, or when none is set: nothing is computed, stored or sent then."""
    startmonth.require_started(session, month)
    return run_month(
        session, month, now=now, send=send, base_url=core.public_base_url, secret=core.secret_key,
        mcfg=monthly_config(core), cfg=meetings_config(core), talks=talks_config(core),
        life=lifemeeting_config(core),
    )  # fmt: skip
