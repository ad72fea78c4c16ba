"""预审, 评审 and 公开承诺: the committee's 组织委员 accepts or returns a project from a card; the
reviewers score it; an accepted project is published to the unit's members (a card and an H5 page).

Cards carry buttons, as the observers' rectification cards do; a return needs a reason, so its button
asks for the reason in chat (预审退回 #编号 理由), the same command that works without the card.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Button, Card, CardUpdate, Text, md_escape
from handlers.common import dates
from handlers.projects import access, strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person
from models.projects import ProjectMilestone, ProjectReview, ProjectStatus, SecretaryProject

ACTION_PRE_ACCEPT = "projects.pre_accept"
ACTION_PRE_RETURN = "projects.pre_return"
H5_PREFIX = "/h5/projects"


def page_url(public_base_url: str, project_id: int) -> str:
    return f"{public_base_url.rstrip('/')}{H5_PREFIX}/{project_id}"


def milestone_lines(milestones: Iterable[ProjectMilestone], today: date, *, markdown: bool = True) -> str:
    esc = md_escape if markdown else str
    lines = []
    for m in milestones:
        if m.done_on is not None:
            mark = strings.MARK_DONE.format(day=dates.fmt_day(m.done_on))
        elif m.due_on < today:
            mark = strings.MARK_LATE
        else:
            mark = strings.MARK_OPEN
        lines.append(
            strings.MILESTONE_LINE.format(
                seq=m.seq, due=dates.fmt_full_day(m.due_on), title=esc(m.title), mark=mark
            )
        )
    return "\n".join(lines)


def late_milestones(p: SecretaryProject, today: date) -> list[ProjectMilestone]:
    return [m for m in p.milestones if m.done_on is None and m.due_on < today]


def _details(session: Session, p: SecretaryProject, today: date) -> dict[str, str]:
    secretary = session.get(Person, p.secretary_id)
    return {
        "id": str(p.id),
        "title": md_escape(p.title),
        "secretary": md_escape(secretary.name),
        "problem": md_escape(p.problem),
        "content": md_escape(p.content),
        "milestones": milestone_lines(p.milestones, today),
        "expected": md_escape(p.expected),
        "leaders": md_escape(p.leaders),
    }


def _names(session: Session, ids: Iterable[int]) -> str:
    return "、".join(session.scalars(select(Person.name).where(Person.id.in_(list(ids))).order_by(Person.id)))


def ask_prereview(session: Session, p: SecretaryProject, *, now: datetime, cfg: ProjectsConfig) -> list[int]:
    """The card with 预审通过 / 退回修改 to the pre-reviewers; returns who got it."""
    unit = session.get(OrgUnit, p.unit_id)
    who = access.prereviewers(session, unit, cfg)
    outbox.enqueue_to_people(
        session,
        who,
        prereview_card(session, p, now.astimezone(cfg.tz).date()),
        dedup_key=f"projects:pre:{p.id}:{p.return_count}",
        now=now,
    )
    return who


def prereview_card(session: Session, p: SecretaryProject, today: date) -> Card:
    """The card with the project and 预审通过 / 退回修改 (sent on submission, shown again on 书记项目)."""
    unit = session.get(OrgUnit, p.unit_id)
    returned = (
        strings.PREREVIEW_RETURNED_BEFORE.format(
            count=p.return_count, reason=md_escape(p.return_reason or "")
        )
        if p.return_count
        else ""
    )
    params = {"project": str(p.id)}
    return Card(
        title=strings.PREREVIEW_TITLE.format(unit=unit.name),
        text=strings.PREREVIEW_TEXT.format(**_details(session, p, today), returned=returned),
        buttons=(
            Button(strings.BUTTON_PRE_ACCEPT, action=ACTION_PRE_ACCEPT, params=params),
            Button(strings.BUTTON_PRE_RETURN, action=ACTION_PRE_RETURN, params=params),
        ),
        card_key=f"project_pre:{p.id}:{p.return_count}",
    )


def prereviewer_names(session: Session, p: SecretaryProject, cfg: ProjectsConfig) -> str:
    return _names(session, access.prereviewers(session, session.get(OrgUnit, p.unit_id), cfg))


def _prereviewable(
    session: Session, person: Person | None, project_id: int, cfg: ProjectsConfig
) -> SecretaryProject:
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if person.id not in access.prereviewers(session, session.get(OrgUnit, p.unit_id), cfg):
        raise Refused(strings.NOT_PREREVIEWER.format(id=p.id), status=403)
    if p.status != ProjectStatus.SUBMITTED:
        raise Refused(
            strings.WRONG_STATE.format(
                id=p.id, state=strings.STATUS_LABELS[p.status], action=strings.ACTION_PREREVIEW
            ),
            status=409,
        )
    return p


def _close_card(
    session: Session, p: SecretaryProject, person: Person, verdict: str, *, now: datetime, cfg
) -> None:
    """Every pre-reviewer's card says who decided, so a second 组织委员 does not press it again."""
    unit = session.get(OrgUnit, p.unit_id)
    text = strings.PRE_CARD_DONE.format(name=person.name, verdict=verdict)
    outbox.enqueue_to_people(
        session,
        access.prereviewers(session, unit, cfg),
        CardUpdate(
            card_key=f"project_pre:{p.id}:{p.return_count - (verdict == strings.VERDICT_RETURN)}",
            title=strings.PREREVIEW_TITLE.format(unit=unit.name),
            text=text,
            status_label=verdict,
        ),
        dedup_key=f"projects:pre_done:{p.id}:{p.return_count}:{p.status}",
        now=now,
    )


def pre_accept(
    session: Session,
    person: Person | None,
    project_id: int,
    *,
    now: datetime,
    cfg: ProjectsConfig,
    public_base_url: str,
) -> SecretaryProject:
    p = _prereviewable(session, person, project_id, cfg)
    p.status = ProjectStatus.PRE_ACCEPTED
    p.prereviewed_by_id, p.prereviewed_at = person.id, now
    session.flush()
    _close_card(session, p, person, strings.VERDICT_ACCEPT, now=now, cfg=cfg)
    outbox.enqueue_to_people(
        session,
        [p.secretary_id],
        Text(strings.PRE_ACCEPTED_TO_SECRETARY.format(id=p.id, title=p.title, name=person.name)),
        dedup_key=f"projects:pre_accepted:{p.id}",
        now=now,
    )
    ask_review(session, p, now=now, cfg=cfg, public_base_url=public_base_url)
    return p


def pre_return(
    session: Session,
    person: Person | None,
    project_id: int,
    reason: str,
    *,
    now: datetime,
    cfg: ProjectsConfig,
) -> SecretaryProject:
    p = _prereviewable(session, person, project_id, cfg)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(strings.REASON_REQUIRED.format(id=p.id), status=422)
    p.status = ProjectStatus.RETURNED
    p.prereviewed_by_id, p.prereviewed_at = person.id, now
    p.return_reason = reason[:500]
    p.return_count += 1
    session.flush()
    _close_card(session, p, person, strings.VERDICT_RETURN, now=now, cfg=cfg)
    outbox.enqueue_to_people(
        session,
        [p.secretary_id],
        Text(
            strings.PRE_RETURNED_TO_SECRETARY.format(
                id=p.id, title=p.title, name=person.name, reason=p.return_reason
            )
        ),
        dedup_key=f"projects:returned:{p.id}:{p.return_count}",
        now=now,
    )
    return p


def ask_review(
    session: Session, p: SecretaryProject, *, now: datetime, cfg: ProjectsConfig, public_base_url: str
) -> list[int]:
    unit = session.get(OrgUnit, p.unit_id)
    who, _needed = access.reviewers(session, p, cfg)
    today = now.astimezone(cfg.tz).date()
    outbox.enqueue_to_people(
        session,
        who,
        Card(
            title=strings.REVIEW_TITLE.format(unit=unit.name),
            text=strings.REVIEW_TEXT.format(**_details(session, p, today), returned=""),
            buttons=(Button(strings.BUTTON_VIEW, url=page_url(public_base_url, p.id)),),
        ),
        dedup_key=f"projects:review:{p.id}",
        now=now,
    )
    return who


def score(
    session: Session,
    person: Person | None,
    project_id: int,
    value: int,
    comment: str,
    *,
    now: datetime,
    cfg: ProjectsConfig,
    public_base_url: str,
) -> tuple[SecretaryProject, ProjectReview, int]:
    """A reviewer scores once; when the last needed score is in, the project is accepted (mean ≥ pass)
    and published, or not accepted. Returns (project, the review, scores still missing)."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    who, needed = access.reviewers(session, p, cfg)
    if person.id not in who:
        raise Refused(strings.NOT_REVIEWER.format(id=p.id), status=403)
    if p.status != ProjectStatus.PRE_ACCEPTED:
        raise Refused(
            strings.WRONG_STATE.format(
                id=p.id, state=strings.STATUS_LABELS[p.status], action=strings.ACTION_SCORE
            ),
            status=409,
        )
    if not 0 <= value <= 100:
        raise Refused(strings.SCORE_BAD.format(value=value), status=422)
    existing = session.scalar(
        select(ProjectReview).where(ProjectReview.project_id == p.id, ProjectReview.reviewer_id == person.id)
    )
    if existing is not None:
        raise Refused(strings.ALREADY_SCORED.format(id=p.id, score=existing.score), status=409)
    row = ProjectReview(
        project_id=p.id, reviewer_id=person.id, score=value, comment=(comment or "")[:500], scored_at=now
    )
    session.add(row)
    session.flush()
    scores = list(session.scalars(select(ProjectReview.score).where(ProjectReview.project_id == p.id)))
    missing = max(needed - len(scores), 0)
    if missing == 0:
        mean = round(sum(scores) / len(scores), 1)
        p.score, p.decided_at = mean, now
        if mean >= cfg.pass_score:
            p.status = ProjectStatus.ACCEPTED
            text = strings.ACCEPTED_TO_SECRETARY.format(id=p.id, title=p.title, mean=mean)
        else:
            p.status = ProjectStatus.NOT_ACCEPTED
            text = strings.NOT_ACCEPTED_TO_SECRETARY.format(
                id=p.id, title=p.title, mean=mean, pass_score=f"{cfg.pass_score:g}"
            )
        session.flush()
        outbox.enqueue_to_people(
            session, [p.secretary_id], Text(text), dedup_key=f"projects:decided:{p.id}", now=now
        )
        if p.status == ProjectStatus.ACCEPTED:
            publish(session, p, now=now, cfg=cfg, public_base_url=public_base_url)
    return p, row, missing


def publish(
    session: Session, p: SecretaryProject, *, now: datetime, cfg: ProjectsConfig, public_base_url: str
) -> int:
    """公开承诺: a card to every member of the unit's subtree, linking to the project's H5 page (for a
    village branch the township committee's card is this same one: it reaches the village's members)."""
    unit = session.get(OrgUnit, p.unit_id)
    today = now.astimezone(cfg.tz).date()
    d = _details(session, p, today)
    sent = outbox.enqueue_to_people(
        session,
        access.members_of(session, unit),
        Card(
            title=strings.PUBLISH_TITLE.format(unit=unit.name),
            text=strings.PUBLISH_TEXT.format(**d),
            buttons=(Button(strings.BUTTON_VIEW, url=page_url(public_base_url, p.id)),),
        ),
        dedup_key=f"projects:published:{p.id}",
        now=now,
    )
    p.published_at = now
    session.flush()
    return sent
