"""The committees' digest in Q4 (LifeMeetingConfig.digest_months): which of their branches have held the year's
组织生活会 by the month's end, which have not, and which still miss steps before it (handlers.monthly.digest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from handlers.common.dates import add_months
from handlers.lifemeeting import strings
from handlers.lifemeeting.config import DEFAULT, LifeMeetingConfig
from handlers.lifemeeting.status import BranchLife, branch_status
from handlers.meetings.types import MeetingsConfig
from handlers.talks.config import TalksConfig
from handlers.talks.coverage import BranchTalks

SHOWN = 10  # branch names a line lists before "等N个"


def month_status(
    session: Session,
    branch_ids: list[int],
    month: date,
    *,
    meetings_cfg: MeetingsConfig,
    talks_cfg: TalksConfig,
    cfg: LifeMeetingConfig = DEFAULT,
    talks: dict[int, BranchTalks] | None = None,
) -> dict[int, BranchLife]:
    """Each branch's 组织生活会 as of the month's last moment (empty outside the digest months), so a digest
    reads the same however late it is opened: its 谈心谈话 too (only the talks held by the month's last day;
    `talks`: that coverage, when the digest has read it already)."""
    if month.month not in cfg.digest_months:
        return {}
    next_month = add_months(month, 1)
    end = datetime.combine(next_month, time.min, tzinfo=meetings_cfg.tz).astimezone(UTC) - timedelta(
        seconds=1
    )
    return branch_status(
        session, branch_ids, month.year, now=end, cfg=cfg, talks_cfg=talks_cfg, meetings_cfg=meetings_cfg,
        until=next_month - timedelta(days=1), talks=talks,
    )  # fmt: skip


def digest_section(
    lives: dict[int, BranchLife], branch_ids: list[int], name: Callable[[int], str], year: int
) -> str:
    """「组织生活会（2026年）：3/5个支部已召开；未召开：…；会前步骤未完成：…」; empty without data."""
    rows = [lives[b] for b in branch_ids if b in lives]
    if not rows:
        return ""
    not_held = [r.branch_id for r in rows if not r.held]
    missing = [r.branch_id for r in rows if not r.held and r.missing_steps()]

    def listed(ids: list[int]) -> str:
        shown = "、".join(name(b) for b in ids[:SHOWN])
        return shown + (strings.DIGEST_MORE.format(n=len(ids)) if len(ids) > SHOWN else "")

    tail = strings.DIGEST_NOT_HELD.format(names=listed(not_held)) if not_held else ""
    if missing:
        tail += strings.DIGEST_STEPS_MISSING.format(names=listed(missing))
    return strings.DIGEST_SECTION.format(
        year=year, held=len(rows) - len(not_held), total=len(rows), missing=tail
    )
