"""The December digest's proposals: job `rating.propose`, on 1 January at 06:00 (period: the year rated).

The proposals are otherwise worked out on demand (the console page), which always reads the latest stored
scores. The committees' December digest (sent by the monthly job, 09:00 on the 1st by default) lists them, but
reads only what is stored: the monthly feature sits below this one and never imports it. So this job fills in
every undecided branch's proposal before the digest, scoring December in memory as the monthly run is about to
(nothing of monthly's is stored or sent here: that run still scores, stores, ranks and notifies once).
A digest cron set earlier than this job finds the proposals of the last look (their months are named).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec
from handlers.lifemeeting.config import lifemeeting_config
from handlers.meetings.types import meetings_config
from handlers.monthly import service as monthly
from handlers.monthly.config import monthly_config
from handlers.rating import service
from handlers.rating.config import rating_config
from handlers.rating.proposal import MonthFacts, facts
from models import startmonth
from models.monthly import MonthlyScore
from models.org import OrgUnit, UnitKind


def year_before(fire: datetime) -> str:
    return str(fire.year - 1)


def propose_year(session: Session, year: int, core: CoreConfig, *, now: datetime) -> int:
    """Every active branch's proposal for `year`, December scored in memory when no month run has stored it
    yet (once it has, the stored scores are the ones the digest and the console read). Returns how many
    branches were looked at."""
    december = date(year, 12, 1)
    start = startmonth.start_month(session)
    unstored: dict[int, MonthFacts] = {}
    local_today = now.astimezone(core.tz).date()
    stored = session.scalar(select(MonthlyScore.id).where(MonthlyScore.month == december).limit(1))
    if stored is None and start is not None and start <= december and local_today >= date(year + 1, 1, 1):
        scores = monthly.score_month(
            session, december, now=now, mcfg=monthly_config(core), cfg=meetings_config(core)
        )
        unstored = {b: facts(december, s.score, s.lagging, s.explanation) for b, s in scores.branches.items()}
    branch_ids = list(
        session.scalars(select(OrgUnit.id).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True)))
    )
    service.refresh(
        session, branch_ids, year, now=now, tz=core.tz, cfg=rating_config(core), unstored=unstored,
        life=lifemeeting_config(core),
    )  # fmt: skip
    return len(branch_ids)


def jobs(core: CoreConfig) -> list[JobSpec]:
    def run(session: Session, now: datetime, period: str) -> None:
        propose_year(session, int(period), core, now=now)

    return [
        JobSpec("rating.propose", "0 6 1 1 *", run, year_before, grace=timedelta(days=5),
                description="支部年度评定建议（供12月通报）"),
    ]  # fmt: skip
