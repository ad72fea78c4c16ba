"""Use cases: refresh the proposals of a year (on demand: the console page, the December digest's job) and
the committee's decision. None commits; refusals are bot.core.errors.Refused with the reason in Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.dates import fmt_full_day, parse_year
from handlers.common.proposals import save_as_system
from handlers.common.roles import rater_paths
from handlers.lifemeeting.config import LifeMeetingConfig
from handlers.rating import strings
from handlers.rating.config import RatingConfig
from handlers.rating.proposal import MonthFacts, load_years, propose
from models.org import OrgUnit
from models.rating import GRADE_LABELS, BranchRating, RatingGrade

MAX_REASON = 500


class NotRater(Refused):
    """The person may see the branch but may not rate it (a branch's own 书记): the console answers 403."""


def refresh(
    session: Session,
    branch_ids: list[int],
    year: int,
    *,
    now: datetime,
    tz: ZoneInfo,
    cfg: RatingConfig,
    unstored: dict[int, MonthFacts] | None = None,
    life: LifeMeetingConfig | None = None,
) -> dict[int, BranchRating]:
    """Each branch's row for `year`, its proposal worked out again from what is stored now. A decided row
    keeps the proposal the committee decided on. Computed on demand rather than by a job: a score
    recomputed later (late minutes, a rectification closed) shows at the next look, and a year nobody
    looks at costs nothing. An unchanged proposal writes nothing (and so adds no audit entry)."""
    today = now.astimezone(tz).date()

    def read() -> dict[int, BranchRating]:
        stmt = select(BranchRating).where(BranchRating.branch_id.in_(branch_ids), BranchRating.year == year)
        return {r.branch_id: r for r in session.scalars(stmt)}

    rows = read() if branch_ids else {}
    undecided = [b for b in branch_ids if not _decided(rows.get(b))]
    final = today >= confirm_opens(year, cfg)
    years = load_years(
        session, undecided, year, today=today, tz=tz, unstored=unstored, final=final, life=life
    )
    new: list[BranchRating] = []
    for branch_id, y in years.items():
        p = propose(y, cfg)
        row = rows.get(branch_id)
        if row is None:
            row = BranchRating(branch_id=branch_id, year=year, proposal={})
            new.append(row)
        if row.proposed_grade != p.grade or row.proposal != p.as_json():
            row.proposed_grade, row.proposal, row.proposed_at = p.grade, p.as_json(), now
    fresh = save_as_system(session, new, read)
    if fresh is not None:
        rows, new = fresh, []
    rows.update({r.branch_id: r for r in new})
    return rows


def _decided(row: BranchRating | None) -> bool:
    return row is not None and row.confirmed_grade is not None


@dataclass(frozen=True)
class Rater:
    """Where a person may rate branches: everywhere (组织部 over the whole tree), or under these paths."""

    everything: bool
    paths: tuple[str, ...]

    def rates(self, branch: OrgUnit) -> bool:
        return self.everything or any(branch.path.startswith(p) and branch.path != p for p in self.paths)


def rater(session: Session, person_id: int, cfg: RatingConfig) -> Rater:
    """组织部 staff over the branch, or a confirm role on a 党委 above it (one statement, for a whole page).
    Never a branch's own leaders as such: a 党委's 书记 who is also a branch's 书记 rates it as the committee's."""
    return Rater(*rater_paths(session, person_id, cfg.confirm_roles))


def can_rate(session: Session, person_id: int, branch: OrgUnit, cfg: RatingConfig) -> bool:
    return rater(session, person_id, cfg).rates(branch)


@dataclass(frozen=True)
class Decision:
    row: BranchRating
    text: str


def parse_grade(value: str) -> RatingGrade:
    value = (value or "").strip()
    for grade, label in GRADE_LABELS.items():
        if value in (grade.value, label):
            return grade
    raise Refused(strings.BAD_GRADE)


def confirm(
    session: Session,
    person_id: int,
    branch: OrgUnit,
    year: int,
    grade_text: str,
    reason: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    cfg: RatingConfig,
    life: LifeMeetingConfig | None = None,
) -> Decision:
    """The committee's grade for the branch's year: the proposal confirmed, or another grade with a reason.
    Deciding again replaces the decision (the audit log keeps each one, with who and when)."""
    if not can_rate(session, person_id, branch, cfg):
        raise NotRater(strings.NOT_RATER)
    today = now.astimezone(tz).date()
    if year > today.year:
        raise Refused(strings.FUTURE_YEAR.format(year=year))
    opens = confirm_opens(year, cfg)
    if today < opens:
        # Confirmed mid-year, a decided row would keep a proposal without the year-end caps for good.
        raise Refused(strings.NOT_YET.format(year=year, opens=fmt_full_day(opens)))
    grade = parse_grade(grade_text)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Refused(strings.REASON_TOO_LONG)
    row = refresh(session, [branch.id], year, now=now, tz=tz, cfg=cfg, life=life)[branch.id]
    proposed = row.proposed_grade  # a second decision compares with the proposal the first one kept
    if grade != proposed and not reason:
        label = GRADE_LABELS[proposed] if proposed is not None else strings.NO_PROPOSAL
        raise Refused(strings.NEED_REASON.format(proposed=label))
    row.confirmed_grade = grade
    row.confirmed_by_id = person_id
    row.confirmed_at = now
    row.change_reason = reason or None
    session.flush()
    return Decision(row, strings.SAVED.format(branch=branch.name, year=year, grade=GRADE_LABELS[grade]))


def confirm_opens(year: int, cfg: RatingConfig) -> date:
    """The first day the committee may confirm the year: 1 January after it, less cfg.confirm_days_early."""
    return date(year + 1, 1, 1) - timedelta(days=cfg.confirm_days_early)


def ratable_year(text: str, today: date) -> int:
    """A year typed on a page of the year's work: as year_of, and not one still to come (nothing to show)."""
    year = year_of(text, today)
    if year > today.year:
        raise Refused(strings.FUTURE_YEAR.format(year=year))
    return year


def year_of(text: str, today: date) -> int:
    """handlers.common.dates.parse_year, refused with the reason."""
    year = parse_year(text, today)
    if year is None:
        raise Refused(strings.BAD_YEAR)
    return year
