"""排位赛 and 进度通报: every quarter each committee ranks its units' 书记项目 and publishes a progress
bulletin (桐城: 每季度通报一次进度、开展一次排位赛, so 4 bulletins a year).

The facts, per accepted project of the quarter's year under the committee, as of the quarter's end (or
as of today while it runs), each one line of the bulletin:

* **due / on time**: milestones due by the quarter's end, and of those the ones done by their own date;
* **late**: milestones due by the quarter's end and not done by then (while the quarter runs, only those
  whose date has passed by today);
* **months reported**: months of the quarter with at least one progress report (of 3);
* **红旗 / 蜗牛**: months of the quarter in which the committee chose the project 红旗 or 蜗牛 (晒比评,
  handlers.projects.compare: what people decided, not what the software proposed);
* **open 督办单**: 督办单 issued before the quarter's end and not closed by then.

The rule (models.projects.ProjectRanking.order_key), best first: fewer late milestones; then fewer
蜗牛; then fewer open 督办单; then more 红旗; then more months reported; then more milestones done on
time; a tie on all of these goes to the older project (the smaller number). Every project gets its own
place, so the ranking is the same on every run.

The software only proposes. Once the quarter is over the committee's 书记/副书记/组织委员 (or the 组织部
over it) confirm it, once (a second confirmation is refused); the ranking and its facts are stored
(ProjectBulletin, ProjectRanking) and the 进度通报 (the ranking, each project's line, the quarter's
红旗/蜗牛 and the open 督办单) goes in chat to the committee's leaders and the secretaries of the units
whose projects are in it, with a link to its H5 page, readable by those units' members. `bulletin_days`
after a quarter still unconfirmed, the deciders are reminded once (remind, run by the daily job).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Markdown, md_escape
from handlers.common import dates
from handlers.common.roles import people_with_roles, people_with_roles_by_unit, roles_held
from handlers.projects import access, compare, review, strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person, Role, UnitKind
from models.projects import (
    OrderStatus,
    PickKind,
    ProjectBulletin,
    ProjectPick,
    ProjectProgress,
    ProjectRanking,
    ProjectStatus,
    SecretaryProject,
    SupervisionOrder,
)

MONTHS = 3
_CN = {"一": 1, "二": 2, "三": 3, "四": 4}
_QUARTER = re.compile(r"(\d{4})\s*(?:[-年]?\s*[Qq]\s*([1-4])|[-年]\s*第?\s*([1-4一二三四])\s*季度?)")


# --- quarters -------------------------------------------------------------------------------------


def quarter_start(day: date) -> date:
    return dates.period_bounds(day, MONTHS)[0]


def quarter_end(quarter: date) -> date:
    """The first day after the quarter."""
    return dates.add_months(quarter, MONTHS)


def last_quarter(today: date) -> date:
    """The last whole quarter before `today`."""
    return dates.add_months(quarter_start(today), -MONTHS)


def code(quarter: date) -> str:
    """2027Q1: how a quarter is written in addresses and commands."""
    return f"{quarter.year}Q{dates.quarter_of(quarter)}"


def parse_quarter(text: str, today: date) -> date | None:
    """2027Q1, 2027-Q1, 2027年第1季度, 2027年一季度 → that quarter; empty → the last whole quarter;
    None for anything else."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return last_quarter(today)
    m = _QUARTER.fullmatch(text)
    if not m:
        return None
    number = m[2] or m[3]
    n = int(number) if number.isdigit() else _CN[number]
    year = int(m[1])
    return date(year, 3 * n - 2, 1) if 2000 <= year <= 2100 else None


def examples(today: date) -> dict[str, str]:
    """The last whole quarter as the example in usage and error texts: {example} 2026Q3, {example_cn}
    2026年第3季度."""
    q = last_quarter(today)
    return {"example": code(q), "example_cn": dates.fmt_quarter(q)}


def headed(kind: str, heading: str, text: str) -> Markdown:
    """A Markdown message titled by its kind, with its own heading as the body's first line (as 党费名单
    does): DingTalk shows the title only in the notification preview, WeCom above the text, so the
    heading says which committee and quarter on both without repeating the title."""
    return Markdown(title=kind, text=f"**{md_escape(heading)}**\n\n{text}")


def _utc(day: date, cfg: ProjectsConfig) -> datetime:
    return datetime.combine(day, time(0), tzinfo=cfg.tz).astimezone(UTC)


# --- the facts and the proposal -------------------------------------------------------------------


@dataclass
class QuarterRow:
    project: SecretaryProject
    unit: OrgUnit
    due: int
    on_time: int
    late: int
    months_reported: int
    red_flags: int
    snails: int
    open_orders: int
    rank: int = 0

    def key(self) -> tuple[int, ...]:
        return ProjectRanking.order_key(
            late=self.late,
            snails=self.snails,
            open_orders=self.open_orders,
            red_flags=self.red_flags,
            months_reported=self.months_reported,
            on_time=self.on_time,
            project_id=self.project.id,
        )

    def facts(self) -> str:
        return strings.QUARTER_FACTS.format(
            on_time=self.on_time,
            due=self.due,
            late=self.late,
            reported=self.months_reported,
            months=MONTHS,
            red=self.red_flags,
            snail=self.snails,
            orders=self.open_orders,
        )


def quarter_projects(session: Session, committee: OrgUnit, quarter: date) -> list[SecretaryProject]:
    return [p for p in compare.committee_projects(session, committee) if p.year == quarter.year]


def quarter_facts(
    session: Session, committee: OrgUnit, quarter: date, cfg: ProjectsConfig, today: date | None = None
) -> list[QuarterRow]:
    """The quarter's facts per project (module doc), judged as of its end, or as of `today` while it runs."""
    projects = quarter_projects(session, committee, quarter)
    if not projects:
        return []
    ids = [p.id for p in projects]
    end = quarter_end(quarter)
    overdue_before = end if today is None or today >= end else today
    reported: dict[int, set[date]] = {i: set() for i in ids}
    for pid, month in session.execute(
        select(ProjectProgress.project_id, ProjectProgress.month).where(
            ProjectProgress.project_id.in_(ids), ProjectProgress.month >= quarter, ProjectProgress.month < end
        )
    ):
        reported[pid].add(month)
    picks = {i: {PickKind.RED_FLAG: 0, PickKind.SNAIL: 0} for i in ids}
    for pid, kind in session.execute(
        select(ProjectPick.project_id, ProjectPick.chosen_kind).where(
            ProjectPick.committee_id == committee.id,
            ProjectPick.project_id.in_(ids),
            ProjectPick.month >= quarter,
            ProjectPick.month < end,
            ProjectPick.chosen_kind.is_not(None),
        )
    ):
        picks[pid][kind] += 1
    orders: dict[int, int] = dict.fromkeys(ids, 0)
    for o in open_orders(session, ids, quarter, cfg):
        orders[o.project_id] += 1
    units = {
        u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects})))
    }
    rows = []
    for p in projects:
        due = [m for m in p.milestones if m.due_on < end]
        rows.append(
            QuarterRow(
                project=p,
                unit=units[p.unit_id],
                due=len(due),
                on_time=sum(m.done_on is not None and m.done_on <= m.due_on for m in due),
                late=sum(
                    m.due_on < overdue_before and (m.done_on is None or m.done_on >= overdue_before)
                    for m in due
                ),
                months_reported=len(reported[p.id]),
                red_flags=picks[p.id][PickKind.RED_FLAG],
                snails=picks[p.id][PickKind.SNAIL],
                open_orders=orders[p.id],
            )
        )
    return rows


def nothing_to_rank(rows: list[QuarterRow]) -> bool:
    """There are projects, and none had a milestone due by the quarter's end or reported progress in it
    (no projects at all is said otherwise: QUARTER_EMPTY)."""
    return bool(rows) and all(r.due == 0 and r.months_reported == 0 for r in rows)


def propose(rows: list[QuarterRow]) -> list[QuarterRow]:
    """The rows in the rule's order (module doc), each with its place."""
    ranked = sorted(rows, key=QuarterRow.key)
    for i, r in enumerate(ranked, 1):
        r.rank = i
    return ranked


def bulletin_of(session: Session, committee: OrgUnit, quarter: date) -> ProjectBulletin | None:
    return session.scalar(
        select(ProjectBulletin).where(
            ProjectBulletin.committee_id == committee.id, ProjectBulletin.quarter == quarter
        )
    )


def quarter_view(
    session: Session, committee: OrgUnit, quarter: date, cfg: ProjectsConfig, today: date | None = None
) -> tuple[list[QuarterRow], ProjectBulletin | None]:
    """The confirmed ranking as stored, with its bulletin; else the proposal (and None)."""
    b = bulletin_of(session, committee, quarter)
    if b is None or b.confirmed_at is None:
        return propose(quarter_facts(session, committee, quarter, cfg, today)), None
    projects = {
        p.id: p
        for p in session.scalars(
            select(SecretaryProject)
            .options(selectinload(SecretaryProject.milestones))
            .where(SecretaryProject.id.in_([r.project_id for r in b.rankings]))
        )
    }
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in projects.values()}))
        )
    }
    rows = [
        QuarterRow(
            project=projects[r.project_id],
            unit=units[projects[r.project_id].unit_id],
            due=r.due,
            on_time=r.on_time,
            late=r.late,
            months_reported=r.months_reported,
            red_flags=r.red_flags,
            snails=r.snails,
            open_orders=r.open_orders,
            rank=r.rank,
        )
        for r in b.rankings
    ]
    return rows, b


def open_orders(
    session: Session, project_ids: list[int], quarter: date, cfg: ProjectsConfig
) -> list[SupervisionOrder]:
    """督办单 of these projects issued before the quarter's end and not closed by then, oldest first."""
    end = _utc(quarter_end(quarter), cfg)
    return list(
        session.scalars(
            select(SupervisionOrder)
            .where(
                SupervisionOrder.project_id.in_(project_ids),
                SupervisionOrder.issued_at < end,
                (SupervisionOrder.status != OrderStatus.CLOSED)
                | (SupervisionOrder.closed_at.is_(None))
                | (SupervisionOrder.closed_at >= end),
            )
            .order_by(SupervisionOrder.id)
        )
    )


def picks_by_month(
    session: Session, committee: OrgUnit, quarter: date, rows: list[QuarterRow]
) -> list[tuple[date, list[QuarterRow], list[QuarterRow]]]:
    """(month, 红旗, 蜗牛) for the quarter's months the committee decided, in order."""
    by_id = {r.project.id: r for r in rows}
    found: dict[date, tuple[list[QuarterRow], list[QuarterRow]]] = {}
    for pick in session.scalars(
        select(ProjectPick)
        .where(
            ProjectPick.committee_id == committee.id,
            ProjectPick.month >= quarter,
            ProjectPick.month < quarter_end(quarter),
        )
        .order_by(ProjectPick.month, ProjectPick.project_id)
    ):
        red, snail = found.setdefault(pick.month, ([], []))
        if pick.project_id in by_id and pick.chosen_kind == PickKind.RED_FLAG:
            red.append(by_id[pick.project_id])
        elif pick.project_id in by_id and pick.chosen_kind == PickKind.SNAIL:
            snail.append(by_id[pick.project_id])
    return [(month, red, snail) for month, (red, snail) in sorted(found.items())]


# --- who -----------------------------------------------------------------------------------------


def can_confirm(session: Session, person: Person | None, committee: OrgUnit, cfg: ProjectsConfig) -> bool:
    return person is not None and compare.can_decide(session, person, committee, cfg)


def recipients(
    session: Session, committee: OrgUnit, rows: list[QuarterRow], cfg: ProjectsConfig
) -> list[int]:
    """The committee's leaders and the secretaries of the units whose projects are ranked (the project's
    own secretary too, should the unit's 书记 have changed since)."""
    people = set(people_with_roles(session, committee.id, cfg.committee_roles))
    by_unit = people_with_roles_by_unit(session, {r.unit.id for r in rows}, {Role.SECRETARY})
    for r in rows:
        people.update(by_unit.get(r.unit.id, []))
        people.add(r.project.secretary_id)
    return sorted(people)


def can_read(
    session: Session,
    person: Person,
    committee: OrgUnit,
    units: Iterable[OrgUnit],
    cfg: ProjectsConfig,
    *,
    held: list[tuple[int | None, Role]] | None = None,
) -> bool:
    """The bulletin's readers: those who confirm it, anyone holding an office on the committee or above it,
    and the members and office holders of the units whose projects are in it (`units`). `held`: the
    person's roles_held, when the caller checks many bulletins."""
    held = roles_held(session, person.id) if held is None else held
    if compare.decides(held, committee, cfg):
        return True
    units = list(units)
    if person.branch is not None and any(person.branch.path.startswith(u.path) for u in units):
        return True
    offices = {u for u, _ in held}
    return bool(offices & ({*committee.ancestor_ids(), committee.id} | {u.id for u in units}))


def readable(
    session: Session, person: Person, cfg: ProjectsConfig, quarter: date | None = None
) -> list[tuple[ProjectBulletin, OrgUnit]]:
    """The published bulletins `person` may read (can_read, the H5 page's rule), of `quarter` or all,
    latest first, with their committees: five statements however many there are."""
    stmt = (
        select(ProjectBulletin)
        .options(selectinload(ProjectBulletin.rankings))
        .where(ProjectBulletin.confirmed_at.is_not(None))
        .order_by(ProjectBulletin.quarter.desc(), ProjectBulletin.committee_id)
    )
    if quarter is not None:
        stmt = stmt.where(ProjectBulletin.quarter == quarter)
    found = list(session.scalars(stmt))
    if not found:
        return []
    unit_of = dict(
        session.execute(
            select(SecretaryProject.id, SecretaryProject.unit_id).where(
                SecretaryProject.id.in_({r.project_id for b in found for r in b.rankings})
            )
        ).all()
    )
    ids = set(unit_of.values()) | {b.committee_id for b in found}
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    held = roles_held(session, person.id)
    return [
        (b, units[b.committee_id])
        for b in found
        if can_read(
            session,
            person,
            units[b.committee_id],
            [units[unit_of[r.project_id]] for r in b.rankings],
            cfg,
            held=held,
        )
    ]


# --- confirming and publishing ---------------------------------------------------------------------


def h5_url(public_base_url: str, committee: OrgUnit, quarter: date) -> str:
    return f"{public_base_url.rstrip('/')}{review.H5_PREFIX}/bulletin/{committee.id}/{code(quarter)}"


def confirm(
    session: Session,
    person: Person | None,
    committee: OrgUnit,
    quarter: date,
    *,
    now: datetime,
    cfg: ProjectsConfig,
    public_base_url: str,
) -> tuple[ProjectBulletin, list[QuarterRow], int]:
    """Fix the proposed ranking and publish the bulletin; (bulletin, rows, how many were told). Refused
    when not the person's to confirm (403), the quarter still running (422), nothing to rank (422) or
    confirmed before (409); nothing is changed then."""
    if not can_confirm(session, person, committee, cfg):
        raise Refused(strings.QUARTER_NOT_YOURS, status=403)
    label = dates.fmt_quarter(quarter)
    if now.astimezone(cfg.tz).date() < quarter_end(quarter):
        raise Refused(strings.QUARTER_NOT_OVER.format(quarter=label), status=422)
    rows, confirmed = quarter_view(session, committee, quarter, cfg)
    if confirmed is not None:
        raise Refused(strings.QUARTER_CONFIRMED.format(committee=committee.name, quarter=label), status=409)
    if not rows:
        raise Refused(strings.QUARTER_EMPTY.format(committee=committee.name, quarter=label), status=422)
    if nothing_to_rank(rows):
        raise Refused(strings.QUARTER_NOTHING, status=422)
    b = bulletin_of(session, committee, quarter)
    if b is None:
        b = ProjectBulletin(committee_id=committee.id, quarter=quarter, recipients=[])
        session.add(b)
    people = recipients(session, committee, rows, cfg)
    b.confirmed_by_id, b.confirmed_at, b.recipients = person.id, now, people
    b.rankings = [
        ProjectRanking(
            project_id=r.project.id,
            rank=r.rank,
            due=r.due,
            on_time=r.on_time,
            late=r.late,
            months_reported=r.months_reported,
            red_flags=r.red_flags,
            snails=r.snails,
            open_orders=r.open_orders,
        )
        for r in rows
    ]
    session.flush()
    outbox.enqueue_to_people(
        session,
        people,
        bulletin_message(session, committee, quarter, rows, cfg, public_base_url),
        dedup_key=f"projects:bulletin:{committee.id}:{code(quarter)}",
        now=now,
    )
    return b, rows, len(people)


def ranking_lines(rows: list[QuarterRow]) -> str:
    return "\n".join(
        strings.QUARTER_LINE.format(
            rank=r.rank, unit=md_escape(r.unit.name), title=md_escape(r.project.title), facts=r.facts()
        )
        for r in rows
    )


@dataclass(frozen=True)
class Details:
    """What a bulletin says beside the ranking: the quarter's 红旗/蜗牛 per month (month, red titles, snail
    titles) and the 督办单 open at its end, with their projects."""

    picks: list[tuple[str, list[str], list[str]]]
    orders: list[tuple[SupervisionOrder, SecretaryProject]]


def details(
    session: Session, committee: OrgUnit, quarter: date, rows: list[QuarterRow], cfg: ProjectsConfig
) -> Details:
    by_id = {r.project.id: r.project for r in rows}
    return Details(
        picks=[
            (dates.fmt_month(month), [r.project.title for r in red], [r.project.title for r in snail])
            for month, red, snail in picks_by_month(session, committee, quarter, rows)
        ],
        orders=[(o, by_id[o.project_id]) for o in open_orders(session, list(by_id), quarter, cfg)],
    )


def bulletin_message(
    session: Session,
    committee: OrgUnit,
    quarter: date,
    rows: list[QuarterRow],
    cfg: ProjectsConfig,
    public_base_url: str,
) -> Markdown:
    """The 进度通报 in chat: the ranking with each project's line, the quarter's 红旗/蜗牛, the open 督办单."""
    found = details(session, committee, quarter, rows, cfg)

    def names(titles: list[str]) -> str:
        return "、".join(md_escape(t) for t in titles) or strings.PICK_NONE

    picks = [
        strings.BULLETIN_PICK_LINE.format(month=month, red=names(red), snail=names(snail))
        for month, red, snail in found.picks
    ]
    orders = [
        strings.BULLETIN_ORDER_LINE.format(
            id=o.id, title=md_escape(p.title), text=md_escape(o.text), due=dates.fmt_full_day(o.due_on)
        )
        for o, p in found.orders
    ]
    parts = [
        strings.BULLETIN_RANKING,
        ranking_lines(rows),
        strings.BULLETIN_PICKS,
        "\n".join(picks) or strings.BULLETIN_PICKS_NONE,
        strings.BULLETIN_ORDERS,
        "\n".join(orders) or strings.BULLETIN_ORDERS_NONE,
        strings.BULLETIN_LINK.format(url=h5_url(public_base_url, committee, quarter)),
    ]
    return headed(
        strings.BULLETIN_KIND,
        strings.BULLETIN_TITLE.format(committee=committee.name, quarter=dates.fmt_quarter(quarter)),
        "\n\n".join(parts),
    )


# --- the reminder ----------------------------------------------------------------------------------


def remind(session: Session, *, now: datetime, cfg: ProjectsConfig) -> int:
    """`bulletin_days` after a quarter, tell the deciders of every committee with projects in it whose
    ranking is still unconfirmed (its 书记/副书记/组织委员, else the 组织部 over it); once per committee
    and quarter (ProjectBulletin.reminded_at). Returns how many messages were queued."""
    today = now.astimezone(cfg.tz).date()
    quarter = last_quarter(today)
    days = (today - quarter_end(quarter)).days
    if days < cfg.bulletin_days:
        return 0
    paths = set(
        session.scalars(
            select(OrgUnit.path)
            .join(SecretaryProject, SecretaryProject.unit_id == OrgUnit.id)
            .where(SecretaryProject.year == quarter.year, SecretaryProject.status == ProjectStatus.ACCEPTED)
        )
    )
    if not paths:
        return 0
    committees = [
        c
        for c in session.scalars(
            select(OrgUnit)
            .where(OrgUnit.kind == UnitKind.COMMITTEE, OrgUnit.active.is_(True))
            .order_by(OrgUnit.path)
        )
        if any(p.startswith(c.path) and p != c.path for p in paths)
    ]
    known = {
        b.committee_id: b
        for b in session.scalars(
            select(ProjectBulletin).where(
                ProjectBulletin.quarter == quarter,
                ProjectBulletin.committee_id.in_([c.id for c in committees]),
            )
        )
    }
    sent = 0
    for c in committees:
        b = known.get(c.id)
        if b is not None and (b.confirmed_at is not None or b.reminded_at is not None):
            continue
        deciders = people_with_roles(session, c.id, cfg.committee_roles) or access.org_staff_over(session, c)
        if b is None:
            b = ProjectBulletin(committee_id=c.id, quarter=quarter, recipients=[])
            session.add(b)
        b.reminded_at = now
        sent += outbox.enqueue_to_people(
            session,
            deciders,
            Markdown(
                title=strings.BULLETIN_REMIND_TITLE,
                text=strings.BULLETIN_REMIND_TEXT.format(
                    committee=md_escape(c.name),
                    quarter=dates.fmt_quarter(quarter),
                    days=days,
                    code=code(quarter),
                ),
            ),
            dedup_key=f"projects:bulletin-remind:{c.id}:{code(quarter)}",
            now=now,
        )
    session.flush()
    return sent
