"""晒比评: at month end the committee sees every project's progress against its milestones, the software
proposes 红旗项目 and 蜗牛项目, and people decide (桐城: 每月底评选公示若干“红旗项目”和“蜗牛项目”).

The proposal rule, for month M and the accepted projects of the units under the committee:

* a project is **late** by the number of its milestones due by the end of M and not done by then; while M
  is still running (today within it) only milestones whose date has passed by today count, and not having
  reported yet is no fault (the report is due by the month's end, with its reminder from the 25th);
* **蜗牛** candidates: no progress report in M, or at least one late milestone; the most late milestones
  first, then those that did not report, then the oldest project; at most `snails`;
* **红旗** candidates: reported in M, no late milestone, and at least one milestone completed in M; the
  most milestones completed in M first, then the most reports in M; at most `red_flags`;
* a project is never proposed as both; one that is neither is simply shown.

The committee's 书记/副书记/组织委员 (or the 组织部 over it) then choose, for either list, any of the
committee's accepted projects, proposed or not; the choice is stored beside the proposal, is final for the
month (a second decision is refused), and is published to the committee's leaders and secretaries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Markdown, md_escape
from handlers.common import dates
from handlers.common.roles import people_with_roles, roles_held
from handlers.projects import strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person, Role
from models.projects import PickKind, ProjectPick, ProjectProgress, ProjectStatus, SecretaryProject


@dataclass
class ProjectMonth:
    project: SecretaryProject
    unit: OrgUnit
    reports: int  # progress reports in the month
    due: int  # milestones due by the month's end
    done: int  # of those, done by the month's end
    late: int  # due by the month's end and not done by then
    completed: int  # milestones completed within the month
    closed: bool = True  # the month is over; while it runs, silence is not (yet) a fault
    proposal: PickKind | None = None
    reason: str = ""
    chosen: PickKind | None = None

    @property
    def reported(self) -> bool:
        return self.reports > 0


def committee_projects(session: Session, committee: OrgUnit) -> list[SecretaryProject]:
    return list(
        session.scalars(
            select(SecretaryProject)
            .options(selectinload(SecretaryProject.milestones))  # month_facts reads every project's
            .join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id)
            .where(
                SecretaryProject.status == ProjectStatus.ACCEPTED,
                OrgUnit.path.startswith(committee.path),
                OrgUnit.id != committee.id,
            )
            .order_by(SecretaryProject.id)
        )
    )


def month_facts(
    session: Session, projects: list[SecretaryProject], month: date, today: date | None = None
) -> list[ProjectMonth]:
    """The month's facts per project, judged as of its end, or as of `today` while it runs."""
    end = dates.add_months(month, 1)  # first day after the month
    closed = today is None or today >= end
    overdue_before = end if closed else today  # a milestone is late once its date has passed
    reports = Counter(
        session.scalars(
            select(ProjectProgress.project_id).where(
                ProjectProgress.project_id.in_([p.id for p in projects]), ProjectProgress.month == month
            )
        )
    )
    units = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects})))
    }
    rows = []
    for p in projects:
        due = [m for m in p.milestones if m.due_on < end]
        done = [m for m in due if m.done_on is not None and m.done_on < end]
        late = [m for m in due if m.due_on < overdue_before and m not in done]
        completed = [m for m in p.milestones if m.done_on is not None and month <= m.done_on < end]
        rows.append(
            ProjectMonth(
                p,
                units[p.unit_id],
                reports[p.id],
                len(due),
                len(done),
                len(late),
                len(completed),
                closed=closed,
            )
        )
    return rows


def propose(rows: list[ProjectMonth], cfg: ProjectsConfig) -> list[ProjectMonth]:
    """Fill in each row's proposal and reason by the rule of the module doc; returns the rows."""
    snails = sorted(
        (r for r in rows if (r.closed and not r.reported) or r.late),
        key=lambda r: (-r.late, r.reported, r.project.id),
    )[: cfg.snails]
    for r in snails:
        r.proposal = PickKind.SNAIL
        parts = []
        if r.late:
            parts.append(strings.REASON_LATE.format(count=r.late))
        if r.closed and not r.reported:
            parts.append(strings.REASON_SILENT)
        r.reason = "，".join(parts)
    flags = sorted(
        (r for r in rows if r.proposal is None and r.reported and not r.late and r.completed),
        key=lambda r: (-r.completed, -r.reports, r.project.id),
    )[: cfg.red_flags]
    for r in flags:
        r.proposal = PickKind.RED_FLAG
        r.reason = strings.REASON_COMPLETED.format(count=r.completed, reports=r.reports)
    return rows


def month_view(
    session: Session, committee: OrgUnit, month: date, cfg: ProjectsConfig, today: date | None = None
) -> tuple[list[ProjectMonth], bool]:
    """The committee's projects for the month with the proposal and, once decided, the choice; judged
    as of `today` when the month is still running (None: as of the month's end)."""
    rows = propose(month_facts(session, committee_projects(session, committee), month, today), cfg)
    picks = {
        p.project_id: p
        for p in session.scalars(
            select(ProjectPick).where(ProjectPick.committee_id == committee.id, ProjectPick.month == month)
        )
    }
    for r in rows:
        if r.project.id in picks:
            r.chosen = picks[r.project.id].chosen_kind
    return rows, bool(picks)


def decides(held: list[tuple[int | None, Role]], committee: OrgUnit, cfg: ProjectsConfig) -> bool:
    """From the (unit, role) pairs a person holds (roles_held): the committee's 书记/副书记/组织委员, or
    组织部 staff over it (on an ancestor, or over the whole tree)."""
    above = set(committee.ancestor_ids())
    return any(
        (unit == committee.id and role in cfg.committee_roles)
        or (role == Role.ORG_STAFF and (unit is None or unit in above))
        for unit, role in held
    )


def can_decide(session: Session, person: Person, committee: OrgUnit, cfg: ProjectsConfig) -> bool:
    return decides(roles_held(session, person.id), committee, cfg)


def decide(
    session: Session,
    person: Person,
    committee: OrgUnit,
    month: date,
    red: list[int],
    snail: list[int],
    *,
    now: datetime,
    cfg: ProjectsConfig,
    today: date | None = None,
) -> list[ProjectMonth]:
    """Store the month's choice beside the proposal and publish it; refused when not the person's to
    decide (403), already decided (409), or naming a project twice or outside the committee (422)."""
    if not can_decide(session, person, committee, cfg):
        raise Refused(strings.PICK_NOT_YOURS, status=403)
    rows, decided = month_view(session, committee, month, cfg, today)
    if decided:
        raise Refused(strings.PICK_DECIDED.format(month=dates.fmt_month(month)), status=409)
    by_id = {r.project.id: r for r in rows}
    if set(red) & set(snail):
        raise Refused(strings.PICK_BOTH, status=422)
    unknown = [i for i in [*red, *snail] if i not in by_id]
    if unknown:
        raise Refused(strings.PICK_UNKNOWN.format(ids="、".join(f"#{i}" for i in unknown)), status=422)
    for r in rows:
        kind = PickKind.RED_FLAG if r.project.id in red else PickKind.SNAIL if r.project.id in snail else None
        if kind is None and r.proposal is None:
            continue
        r.chosen = kind
        session.add(
            ProjectPick(
                committee_id=committee.id,
                month=month,
                project_id=r.project.id,
                proposed_kind=r.proposal,
                reason=r.reason,
                chosen_kind=kind,
                decided_by_id=person.id,
                decided_at=now,
            )
        )
    session.flush()
    _publish(session, committee, month, rows, now=now, cfg=cfg)
    return rows


def _publish(
    session: Session, committee: OrgUnit, month: date, rows: list[ProjectMonth], *, now: datetime, cfg
) -> int:
    def names(kind: PickKind) -> str:
        chosen = [r for r in rows if r.chosen == kind]
        return (
            "\n".join(
                strings.PICK_LINE.format(unit=md_escape(r.unit.name), title=md_escape(r.project.title))
                for r in chosen
            )
            or strings.PICK_NONE
        )

    people = set(people_with_roles(session, committee.id, cfg.committee_roles)) | {
        r.project.secretary_id for r in rows
    }
    return outbox.enqueue_to_people(
        session,
        sorted(people),
        Markdown(
            title=strings.PICK_TITLE.format(committee=committee.name, month=dates.fmt_month(month)),
            text=strings.PICK_TEXT.format(red=names(PickKind.RED_FLAG), snail=names(PickKind.SNAIL)),
        ),
        dedup_key=f"projects:picks:{committee.id}:{month:%Y-%m}",
        now=now,
    )
