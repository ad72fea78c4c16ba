"""The observers' yearly rating (seed 000): 优秀/称职/基本称职/不称职 proposed from coverage, timeliness and
form quality, confirmed by the committee; the year's training recorded.

Use cases, shaped as handlers/rating/service.py's for branches: refresh the proposals of a year (on demand:
the console page), the committee's decision, and the training record. None commits; refusals are
bot.core.errors.Refused with the reason in Chinese (NotRater: the console answers 403).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common.dates import parse_year
from handlers.common.proposals import save_as_system
from handlers.common.roles import rater_paths
from handlers.observers import strings
from handlers.observers.forms import ObserversConfig
from handlers.observers.periods import local_day
from handlers.observers.yearly_config import YearlyConfig
from handlers.observers.yearly_proposal import load_years, propose, rated_pairs
from models.observer_rating import (
    GRADE_LABELS,
    ObserverGrade,
    ObserverRating,
    ObserverTraining,
    ObserverTrainingAttendee,
)
from models.org import OrgUnit, Person, UnitKind

MAX_REASON = 500
MAX_TITLE = 200
MIN_HOURS, MAX_HOURS = Decimal("0.5"), Decimal("100")

Pair = tuple[int, int]  # (observer id, committee id)


class NotRater(Refused):
    """The person may see the observer's row but may not rate it (the observer themselves, or a role the
    rule does not name): the console answers 403."""


def refresh(
    session: Session, pairs: list[Pair], year: int, *, now: datetime, ocfg: ObserversConfig, cfg: YearlyConfig
) -> dict[Pair, ObserverRating]:
    """Each pair's row for `year`, its proposal worked out again from what is stored now. A decided row
    keeps the proposal the committee decided on. On demand, like the branches' rating: a form filed late
    or a 整改 signed off shows at the next look. An unchanged proposal writes nothing (and so no audit)."""
    observer_ids = {o for o, _ in pairs}

    def read() -> dict[Pair, ObserverRating]:
        stmt = select(ObserverRating).where(
            ObserverRating.observer_id.in_(observer_ids), ObserverRating.year == year
        )
        return {(r.observer_id, r.committee_id): r for r in session.scalars(stmt)}

    rows = read() if pairs else {}
    undecided = [p for p in pairs if not _decided(rows.get(p))]
    years = load_years(session, undecided, year, now=now, ocfg=ocfg, cfg=cfg)
    new: list[ObserverRating] = []
    for pair, y in years.items():
        p = propose(y, cfg, ocfg)
        row = rows.get(pair)
        if row is None:
            row = ObserverRating(observer_id=pair[0], committee_id=pair[1], year=year, proposal={})
            new.append(row)
        if row.proposed_grade != p.grade or row.proposal != p.as_json():
            row.proposed_grade, row.proposal, row.proposed_at = p.grade, p.as_json(), now
    fresh = save_as_system(session, new, read)
    if fresh is not None:
        rows, new = fresh, []
    rows.update({(r.observer_id, r.committee_id): r for r in new})
    return {p: rows[p] for p in pairs if p in rows}


def _decided(row: ObserverRating | None) -> bool:
    return row is not None and row.confirmed_grade is not None


# ---- who rates


@dataclass(frozen=True)
class Rater:
    """Where a person may rate observers: everywhere (组织部 over the whole tree), or the committees at or
    under these paths. Never their own rating."""

    person_id: int
    everything: bool
    paths: tuple[str, ...]

    def covers(self, committee: OrgUnit) -> bool:
        return self.everything or any(committee.path.startswith(p) for p in self.paths)

    def rates(self, observer_id: int, committee: OrgUnit) -> bool:
        return observer_id != self.person_id and self.covers(committee)


def rater(session: Session, person_id: int, cfg: YearlyConfig) -> Rater:
    """组织部 staff over the committee, or a confirm role on it or a committee above it (one statement)."""
    return Rater(person_id, *rater_paths(session, person_id, cfg.confirm_roles))


# ---- the committee's decision


@dataclass(frozen=True)
class Decision:
    row: ObserverRating
    text: str


def parse_grade(value: str) -> ObserverGrade:
    value = (value or "").strip()
    for grade, label in GRADE_LABELS.items():
        if value in (grade.value, label):
            return grade
    raise Refused(strings.YEAR_BAD_GRADE)


def is_rated(
    session: Session, observer_id: int, committee: OrgUnit, year: int, ocfg: ObserversConfig
) -> bool:
    """Whether the committee rates this observer for the year (rated_pairs)."""
    found = rated_pairs(
        session,
        year,
        ocfg=ocfg,
        keep=lambda o, c: o == observer_id and c.id == committee.id,
        observer_ids=[observer_id],
    )
    return bool(found)


def confirm(
    session: Session,
    person_id: int,
    observer: Person,
    committee: OrgUnit,
    year: int,
    grade_text: str,
    reason: str,
    *,
    now: datetime,
    ocfg: ObserversConfig,
    cfg: YearlyConfig,
) -> Decision:
    """The committee's grade for the observer's year: the proposal confirmed, or another grade with a
    reason. Deciding again replaces the decision (the audit log keeps each one, with who and when)."""
    if not is_rated(session, observer.id, committee, year, ocfg):
        raise Refused(
            strings.YEAR_NOT_OBSERVER.format(name=observer.name, committee=committee.name, year=year),
            status=404,
        )
    if observer.id == person_id:
        raise NotRater(strings.YEAR_NOT_SELF)
    if not rater(session, person_id, cfg).rates(observer.id, committee):
        raise NotRater(strings.YEAR_NOT_RATER)
    grade = parse_grade(grade_text)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Refused(strings.YEAR_REASON_TOO_LONG)
    pair = (observer.id, committee.id)
    row = refresh(session, [pair], year, now=now, ocfg=ocfg, cfg=cfg)[pair]
    proposed = row.proposed_grade  # a second decision compares with the proposal the first one kept
    if grade != proposed and not reason:
        label = GRADE_LABELS[proposed] if proposed is not None else strings.YEAR_NO_PROPOSAL
        raise Refused(strings.YEAR_NEED_REASON.format(proposed=label))
    row.confirmed_grade = grade
    row.confirmed_by_id = person_id
    row.confirmed_at = now
    row.change_reason = reason or None
    session.flush()
    return Decision(
        row, strings.YEAR_SAVED.format(observer=observer.name, year=year, grade=GRADE_LABELS[grade])
    )


def year_of(text: str, today: date) -> int:
    """handlers.common.dates.parse_year, refused with the reason."""
    year = parse_year(text, today)
    if year is None:
        raise Refused(strings.YEAR_BAD_YEAR)
    return year


# ---- training


def fmt_hours(hours: Decimal) -> str:
    return f"{hours.normalize():f}"


def record_training(
    session: Session,
    person_id: int,
    unit: OrgUnit,
    year: int,
    raw: Mapping[str, str],
    attendee_ids: Iterable[str],
    *,
    now: datetime,
    ocfg: ObserversConfig,
    cfg: YearlyConfig,
) -> ObserverTraining:
    """A training session held by `unit` (a committee the person rates for) in `year`: held_on (YYYY-MM-DD,
    not after today), title, hours (0.5–100), and the observers who attended, each one the person rates.
    Every problem is collected into one Refused (422); nothing is written then."""
    who = rater(session, person_id, cfg)
    if unit.kind != UnitKind.COMMITTEE:
        raise Refused(strings.TRAINING_NO_UNIT)
    if not who.covers(unit):
        raise NotRater(strings.TRAINING_NOT_YOURS)
    errors: list[str] = []
    bad: list[str] = []
    today = local_day(now, ocfg)
    held_on: date | None = None
    try:
        held_on = date.fromisoformat(str(raw.get("held_on", "")).strip())
    except ValueError:
        pass
    if held_on is None or held_on > today:
        errors.append(strings.TRAINING_BAD_DAY)
        bad.append("held_on")
    elif held_on.year != year:
        errors.append(strings.TRAINING_WRONG_YEAR.format(year=year))
        bad.append("held_on")
    title = str(raw.get("title", "")).strip()
    if not title or len(title) > MAX_TITLE:
        errors.append(strings.TRAINING_NO_TITLE)
        bad.append("title")
    hours: Decimal | None = None
    try:
        hours = Decimal(str(raw.get("hours", "")).strip())
    except InvalidOperation:
        pass
    if hours is None or not hours.is_finite() or not MIN_HOURS <= hours <= MAX_HOURS:
        errors.append(strings.TRAINING_BAD_HOURS)
        bad.append("hours")
    ids: set[int] = set()
    for text in attendee_ids:
        text = str(text).strip()
        if not text.isdigit() or len(text) > 12:
            errors.append(strings.TRAINING_NOT_YOURS)
            bad.append("attendees")
            break
        ids.add(int(text))
    if not ids and "attendees" not in bad:
        errors.append(strings.TRAINING_NO_ATTENDEES)
        bad.append("attendees")
    elif ids and "attendees" not in bad:
        mine = {
            o
            for o, _ in rated_pairs(
                session, year, ocfg=ocfg, keep=lambda o, c: o in ids and who.covers(c), observer_ids=ids
            )
        }
        if ids - mine:
            errors.append(strings.TRAINING_NOT_YOURS)
            bad.append("attendees")
    if errors:
        raise Refused("\n".join(dict.fromkeys(errors)), tuple(bad))
    training = ObserverTraining(
        unit_id=unit.id,
        held_on=held_on,
        title=title,
        hours=hours.quantize(Decimal("0.1")),
        recorded_by_id=person_id,
        attendees=[ObserverTrainingAttendee(observer_id=i) for i in sorted(ids)],
    )
    session.add(training)
    session.flush()
    return training


def trainings_of(
    session: Session, observer_ids: Iterable[int], year: int
) -> dict[int, list[ObserverTraining]]:
    """Each observer's training sessions of the year, earliest first (whoever held them)."""
    observer_ids = list(observer_ids)
    out: dict[int, list[ObserverTraining]] = defaultdict(list)
    if not observer_ids:
        return out
    rows = session.execute(
        select(ObserverTrainingAttendee.observer_id, ObserverTraining)
        .join(ObserverTraining, ObserverTraining.id == ObserverTrainingAttendee.training_id)
        .where(
            ObserverTrainingAttendee.observer_id.in_(observer_ids),
            ObserverTraining.held_on >= date(year, 1, 1),
            ObserverTraining.held_on <= date(year, 12, 31),
        )
        .order_by(ObserverTraining.held_on, ObserverTraining.id)
    ).all()
    for observer_id, training in rows:
        out[observer_id].append(training)
    return out


def training_summary(trainings: list[ObserverTraining]) -> str:
    if not trainings:
        return strings.TRAINING_NONE
    total = sum((t.hours for t in trainings), Decimal("0"))
    return strings.TRAINING_TOTAL.format(n=len(trainings), hours=fmt_hours(total))
