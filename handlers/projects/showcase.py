"""Year-end of 书记项目 (issue #21 item 8): 观摩评比 scores entered by the call's named panel (观摩评委),
one each and never changed; a ranking the software offers (mean 观摩 score, then the members'
satisfaction rate, then the 评审 score); 优秀项目 chosen by people, the committee above's leaders or the
组织部 (the same people who issue 督办单), never by the ranking; and the 典型项目 they make up, shown on
a read-only H5 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.core.errors import Refused
from handlers.projects import access, library, orders, rating, strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person
from models.projects import ProjectJudge, ProjectShowScore, ProjectStatus, SecretaryProject


def set_judges(
    session: Session, person: Person | None, year: int, names: list[str], *, cfg: ProjectsConfig
) -> list[Person]:
    """The call's setter names its 观摩评比 panel, replacing any named before."""
    call, people = library.own_call_and_people(session, person, year, names, cfg)
    for row in session.scalars(select(ProjectJudge).where(ProjectJudge.call_id == call.id)):
        session.delete(row)
    session.flush()
    session.add_all(ProjectJudge(call_id=call.id, person_id=p.id) for p in people)
    session.flush()
    return people


def judges(session: Session, p: SecretaryProject) -> list[int]:
    call = access.call_for(session, session.get(OrgUnit, p.unit_id), p.year)
    if call is None:
        return []
    return sorted(session.scalars(select(ProjectJudge.person_id).where(ProjectJudge.call_id == call.id)))


def _accepted(p: SecretaryProject) -> None:
    if p.status != ProjectStatus.ACCEPTED:
        raise Refused(
            strings.NOT_ACCEPTED_YET.format(id=p.id, state=strings.STATUS_LABELS[p.status]), status=409
        )


def score(
    session: Session,
    person: Person | None,
    project_id: int,
    value: int,
    comment: str,
    *,
    now: datetime,
) -> ProjectShowScore:
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if person.id not in judges(session, p):
        raise Refused(strings.SHOW_NOT_JUDGE.format(id=p.id), status=403)
    _accepted(p)
    if not 0 <= value <= 100:
        raise Refused(strings.SCORE_BAD.format(value=value), status=422)
    earlier = session.scalar(
        select(ProjectShowScore).where(
            ProjectShowScore.project_id == p.id, ProjectShowScore.judge_id == person.id
        )
    )
    if earlier is not None:
        raise Refused(strings.SHOW_TWICE.format(id=p.id, score=earlier.score), status=409)
    row = ProjectShowScore(
        project_id=p.id, judge_id=person.id, score=value, comment=(comment or "")[:500], scored_at=now
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Ranked:
    project: SecretaryProject
    unit: str
    show: float | None  # the mean 观摩评比 score
    judged: int  # how many judges scored


def ranking(session: Session, person: Person, year: int, cfg: ProjectsConfig) -> list[Ranked]:
    """The year's accepted projects the person oversees (library.leader_scope), best first: the mean
    观摩 score (unscored last), then the satisfaction rate, then the 评审 score. A proposal only."""
    scope = library.leader_scope(session, person, cfg)
    query = (
        select(SecretaryProject, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id)
        .where(SecretaryProject.year == year, SecretaryProject.status == ProjectStatus.ACCEPTED)
    )
    if scope is not None:
        if not scope:
            return []
        query = query.where(or_(*(OrgUnit.path.startswith(u.path) for u in scope)))
    rows = session.execute(query).all()
    means = {
        pid: (float(mean), n)
        for pid, mean, n in session.execute(
            select(ProjectShowScore.project_id, func.avg(ProjectShowScore.score), func.count())
            .where(ProjectShowScore.project_id.in_([p.id for p, _ in rows]))
            .group_by(ProjectShowScore.project_id)
        )
    }
    ranked = [Ranked(p, unit, *means.get(p.id, (None, 0))) for p, unit in rows]
    return sorted(
        ranked,
        key=lambda r: (
            r.show is None,
            -(r.show or 0),
            -(r.project.satisfaction or 0),
            -(r.project.score or 0),
            r.project.id,
        ),
    )


def choose_excellent(
    session: Session, person: Person | None, project_id: int, *, now: datetime, cfg: ProjectsConfig
) -> SecretaryProject:
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if person.id not in orders.issuers(session, p, cfg):
        raise Refused(strings.EXCELLENT_NOT_ALLOWED.format(id=p.id), status=403)
    _accepted(p)
    if p.excellent_at is not None:
        raise Refused(strings.EXCELLENT_TWICE.format(id=p.id), status=409)
    p.excellent_at, p.excellent_by_id = now, person.id
    session.flush()
    return p


def excellent(session: Session, year: int) -> list[tuple[SecretaryProject, str]]:
    """The year's 优秀项目 (典型项目), in tree order, with their unit's name."""
    return list(
        session.execute(
            select(SecretaryProject, OrgUnit.name)
            .options(selectinload(SecretaryProject.milestones))  # the showcase counts each one's milestones
            .join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id)
            .where(SecretaryProject.year == year, SecretaryProject.excellent_at.is_not(None))
            .order_by(OrgUnit.path, SecretaryProject.id)
        ).all()
    )


def cards(session: Session, year: int) -> list[dict]:
    """What the 典型项目 showcase shows of each of the year's 优秀项目 (H5 page and console page alike)."""
    chosen = excellent(session, year)
    ratings = rating.tallies(session, [p.id for p, _ in chosen])
    return [
        {
            "project": p,
            "unit": unit,
            "done": sum(m.done_on is not None for m in p.milestones),
            "total": len(p.milestones),
            "rating": rating.result_line(session, p, ratings[p.id]),
        }
        for p, unit in chosen
    ]
