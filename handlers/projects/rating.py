"""群众评议: during a window the committee opens, the members of a project's unit rate its results
(满意/基本满意/不满意 and a comment), one rating each; where the committee opens it to the public, anyone
with the signed link rates too, one rating per browser (a random key the page keeps in a cookie: it
stops a repeated click, not a determined person clearing cookies or using another browser, which is
why the public's ratings are counted beside the members' and never instead of them).

The satisfaction rate (满意 + 基本满意 over all ratings) is kept on the project (`satisfaction`) for the
year-end review, refreshed on every rating.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Card, md_escape
from bot.core.signing import BadToken, TokenSigner
from handlers.common import dates
from handlers.projects import access, orders, strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person
from models.projects import ProjectRating, ProjectStatus, RatingVerdict, SecretaryProject

PURPOSE = "projects.rating"
VERDICTS = {label: verdict for verdict, label in strings.VERDICT_LABELS.items()}


def _today(now: datetime, cfg: ProjectsConfig) -> date:
    return now.astimezone(cfg.tz).date()


def is_open(p: SecretaryProject, today: date) -> bool:
    return (
        p.rating_opens_on is not None
        and p.rating_closes_on is not None
        and p.rating_opens_on <= today <= p.rating_closes_on
    )


def window_end(p: SecretaryProject, cfg: ProjectsConfig) -> datetime:
    """The moment the window closes: the start of the day after its last day, in the zone."""
    return datetime.combine(p.rating_closes_on + timedelta(days=1), time(0), tzinfo=cfg.tz)


def public_token(secret: str, p: SecretaryProject, cfg: ProjectsConfig) -> str:
    """The public link's token: the project signed for this purpose, valid until the window closes."""
    return TokenSigner(secret, PURPOSE).sign(p.id, expires_at=window_end(p, cfg))


def open_window(
    session: Session,
    person: Person | None,
    project_id: int,
    opens_on: date,
    closes_on: date,
    *,
    public: bool,
    now: datetime,
    cfg: ProjectsConfig,
) -> SecretaryProject:
    """The committee (the 督办单 issuers: its leaders or 组织部) opens, or moves, the window; the unit's
    members are told once per window."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if person.id not in orders.issuers(session, p, cfg):
        raise Refused(strings.ORDER_NOT_ISSUER.format(id=p.id), status=403)
    if p.status != ProjectStatus.ACCEPTED:
        raise Refused(
            strings.PROGRESS_NOT_ACCEPTED.format(id=p.id, state=strings.STATUS_LABELS[p.status]), status=409
        )
    if closes_on < opens_on or closes_on < _today(now, cfg):
        raise Refused(strings.RATING_OPEN_USAGE, status=422)
    p.rating_opens_on, p.rating_closes_on, p.rating_public = opens_on, closes_on, public
    session.flush()
    unit = session.get(OrgUnit, p.unit_id)
    outbox.enqueue_to_people(
        session,
        access.members_of(session, unit),
        Card(
            title=strings.RATING_NOTICE_TITLE,
            text=strings.RATING_NOTICE_TEXT.format(
                unit=md_escape(unit.name),
                title=md_escape(p.title),
                opens=dates.fmt_full_day(opens_on),
                closes=dates.fmt_full_day(closes_on),
                id=p.id,
            ),
        ),
        dedup_key=f"projects:rating:{p.id}:{opens_on.isoformat()}:{closes_on.isoformat()}",
        now=now,
    )
    return p


def parse_verdict(text: str) -> tuple[RatingVerdict, str]:
    """'满意 意见…' → (verdict, comment); the longest label first (基本满意 before 满意)."""
    text = (text or "").strip()
    for label in sorted(VERDICTS, key=len, reverse=True):
        if text.startswith(label):
            return VERDICTS[label], text[len(label) :].strip()
    raise Refused(strings.RATING_USAGE, status=422)


def _save(session: Session, p: SecretaryProject, row: ProjectRating, twice: str) -> ProjectRating:
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Refused(twice, status=409) from None
    refresh(session, p)
    return row


def rate(
    session: Session,
    person: Person | None,
    project_id: int,
    verdict: RatingVerdict,
    comment: str,
    *,
    now: datetime,
    cfg: ProjectsConfig,
) -> ProjectRating:
    """A member of the project's unit (its subtree) rates it once, inside the window."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if not is_open(p, _today(now, cfg)):
        raise Refused(strings.RATING_NOT_OPEN.format(id=p.id), status=409)
    unit = session.get(OrgUnit, p.unit_id)
    # The unit's subtree holds the person (as access.can_view tests it), without loading every member.
    if not (person.active and person.branch is not None and person.branch.path.startswith(unit.path)):
        raise Refused(strings.RATING_NOT_MEMBER.format(id=p.id), status=403)
    earlier = session.scalar(
        select(ProjectRating).where(ProjectRating.project_id == p.id, ProjectRating.person_id == person.id)
    )
    if earlier is not None:
        raise Refused(
            strings.RATING_TWICE.format(id=p.id, verdict=strings.VERDICT_LABELS[earlier.verdict]), status=409
        )
    row = ProjectRating(
        project_id=p.id, person_id=person.id, verdict=verdict, comment=(comment or "")[:500], rated_at=now
    )
    return _save(
        session, p, row, strings.RATING_TWICE.format(id=p.id, verdict=strings.VERDICT_LABELS[verdict])
    )


def public_project(session: Session, secret: str, token: str, *, now: datetime) -> SecretaryProject:
    """The project a public link names, if the token is genuine and unexpired; else 404 (a forged or
    stale link says nothing of which project it was)."""
    try:
        project_id = TokenSigner(secret, PURPOSE).unsign(token, now=now)
    except BadToken:
        raise Refused(strings.RATING_BAD_LINK, status=404) from None
    return access.project(session, project_id)


def rate_public(
    session: Session,
    secret: str,
    token: str,
    public_key: str,
    verdict: RatingVerdict,
    comment: str,
    *,
    now: datetime,
    cfg: ProjectsConfig,
) -> ProjectRating:
    """The public rate through the signed link, once per browser key, while the window is open and the
    committee keeps it public."""
    p = public_project(session, secret, token, now=now)
    if not p.rating_public:
        raise Refused(strings.RATING_PUBLIC_CLOSED.format(id=p.id), status=403)
    if not is_open(p, _today(now, cfg)):
        raise Refused(strings.RATING_NOT_OPEN.format(id=p.id), status=409)
    key = (public_key or "").strip()
    if not key or len(key) > 64:
        raise Refused(strings.RATING_BAD_LINK, status=422)
    row = ProjectRating(
        project_id=p.id, public_key=key, verdict=verdict, comment=(comment or "")[:500], rated_at=now
    )
    # A second rating from the same browser key hits the unique constraint: _save refuses it (409).
    twice = strings.RATING_TWICE.format(id=p.id, verdict=strings.VERDICT_LABELS[verdict])
    return _save(session, p, row, twice)


def tallies(session: Session, project_ids: list[int]) -> dict[int, dict[RatingVerdict, int]]:
    """Each project's count of each verdict, in one statement (the console's list)."""
    found = {pid: dict.fromkeys(RatingVerdict, 0) for pid in project_ids}
    for pid, verdict, n in session.execute(
        select(ProjectRating.project_id, ProjectRating.verdict, func.count())
        .where(ProjectRating.project_id.in_(project_ids))
        .group_by(ProjectRating.project_id, ProjectRating.verdict)
    ):
        found[pid][verdict] = n
    return found


def tally(session: Session, project_id: int) -> dict[RatingVerdict, int]:
    return tallies(session, [project_id])[project_id]


def refresh(session: Session, p: SecretaryProject) -> None:
    """Keep the year-end's figure: the share of 满意 and 基本满意 among all ratings."""
    counts = tally(session, p.id)
    total = sum(counts.values())
    p.satisfaction = (
        round((counts[RatingVerdict.SATISFIED] + counts[RatingVerdict.FAIRLY]) / total, 4) if total else None
    )
    session.flush()


def result_line(session: Session, p: SecretaryProject, counts: dict[RatingVerdict, int] | None = None) -> str:
    counts = counts if counts is not None else tally(session, p.id)
    total = sum(counts.values())
    if not total:
        return strings.RATING_NONE
    return strings.RATING_RESULT.format(
        total=total,
        satisfied=counts[RatingVerdict.SATISFIED],
        fairly=counts[RatingVerdict.FAIRLY],
        dissatisfied=counts[RatingVerdict.DISSATISFIED],
        rate=f"{(p.satisfaction or 0) * 100:.1f}%",
    )
