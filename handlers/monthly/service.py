"""One month's run: compute, rank and store the scores, climb the ladders, send the digests."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from handlers.fees.feeday import add_months
from handlers.meetings.types import MeetingsConfig
from handlers.meetings.types import get_config as meetings_config
from handlers.monthly import digest, ladder, ranking, scoring, todo
from handlers.monthly.config import MonthlyConfig, get_config
from handlers.monthly.recipients import RoleBook
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off CPython's cyclic garbage collector while a month's scores are computed and ranked.

    A city's scores are about 100,000 new containers (explanations and their lists, the rows
    they are read from) that all stay alive. Allocating that many makes the collector run
    3–4 full collections, each walking every object of the process and freeing nothing: about
    0.5 s of a 2.8 s compute at city scale. Nothing built here forms a reference cycle, so
    nothing waits for the collector; it runs as usual afterwards. It is only re-enabled by the
    call that disabled it, so nested or concurrent calls leave it as they found it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def score_month(
    session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig
) -> scoring.MonthScores:
    """Every score of `month`, computed and ranked (not stored)."""
    with gc_paused():
        scores = scoring.compute_month(session, month, now=now, mcfg=mcfg, meetings_cfg=cfg)
        ranking.rank(scores, mcfg)
    return scores


def compute_and_store(
    session: Session, month: date, *, now: datetime, mcfg: MonthlyConfig | None = None,
    cfg: MeetingsConfig | None = None,
) -> tuple[scoring.MonthScores, ranking.StoreResult]:  # fmt: skip
    mcfg = mcfg or get_config()
    cfg = cfg or meetings_config()
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
    mcfg: MonthlyConfig | None = None,
    cfg: MeetingsConfig | None = None,
) -> MonthRun:
    """Recompute `month`; with send, also queue the ladder notices and the digests (each at most once)."""
    mcfg = mcfg or get_config()
    cfg = cfg or meetings_config()
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
            session, month, now=now, mcfg=mcfg, cfg=cfg, base_url=base_url, secret=secret, book=book
        )
        reminders = todo.send_month_reminders(session, scores, now=now, mcfg=mcfg, cfg=cfg, book=book)
    return MonthRun(month, stored, scores, units, members, sent, reminders)
