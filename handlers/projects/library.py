"""项目库: the year's call, and a secretary registering (or, once returned, correcting) a project.

A project is typed in chat as one message of "key：value" lines (strings.REGISTER_FORM) or posted from
the H5 page; both go through `parse_registration`, which names every problem at once and writes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.core.errors import Refused
from handlers.common import dates
from handlers.common.roles import roles_held
from handlers.projects import access, review, strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person, Role, UnitKind
from models.projects import (
    OrderStatus,
    PickKind,
    ProjectCall,
    ProjectMilestone,
    ProjectPick,
    ProjectReviewer,
    ProjectStatus,
    SecretaryProject,
    SupervisionOrder,
)

# The labels a secretary may use for each field (the first is the one the form shows).
FIELDS = {
    "title": ("名称", "项目名称", "项目"),
    "problem": ("问题", "拟解决的问题", "突出问题"),
    "content": ("内容", "举措", "内容和举措", "项目内容"),
    "milestones": ("节点", "进度", "进度安排"),
    "expected": ("成效", "目标", "预期目标", "预期成效"),
    "leaders": ("领办人", "领办", "负责人"),
}
LIMITS = {"title": 100, "problem": 2000, "content": 4000, "expected": 2000, "leaders": 200}
_LABEL_OF = {label: key for key, labels in FIELDS.items() for label in labels}
_LINE = re.compile(r"^\s*([^：:]{1,8})\s*[：:]\s*(.*)$")
_FULL_DAY = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?\s*(.*)$", re.S)
_SHORT_DAY = re.compile(r"^(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?\s*(.*)$", re.S)


@dataclass(frozen=True)
class Registration:
    title: str
    problem: str
    content: str
    expected: str
    leaders: str
    milestones: tuple[tuple[date, str], ...]


@dataclass(frozen=True)
class Window:
    """Which year a secretary may register for today: `year` with its `deadline` and `quota` when `open`;
    when closed, the year whose deadline has passed."""

    year: int
    deadline: date
    quota: int
    open: bool


def registration_window(session: Session, unit: OrgUnit, today: date, cfg: ProjectsConfig) -> Window:
    """This year's registration while its deadline has not passed; after it, next year's once a call for
    next year (the committee's or the 组织部's) is published and not past its deadline; else closed."""
    deadline, quota = deadline_and_quota(session, unit, today.year, cfg)
    if today <= deadline:
        return Window(today.year, deadline, quota, True)
    call = access.call_for(session, unit, today.year + 1)
    if call is not None and today <= call.deadline:
        return Window(today.year + 1, call.deadline, call.per_secretary, True)
    return Window(today.year, deadline, quota, False)


def closed_text(session: Session, unit: OrgUnit, window: Window, cfg: ProjectsConfig) -> str:
    """The call is closed: since when, when the next opens, and whom to ask (the 预审 people above)."""
    month, day = cfg.default_deadline
    names = [
        p.name
        for p in session.scalars(select(Person).where(Person.id.in_(access.prereviewers(session, unit, cfg))))
    ]
    return strings.CALL_CLOSED.format(
        year=window.year,
        deadline=dates.fmt_full_day(window.deadline),
        next=strings.CALL_NEXT.format(
            next_year=window.year + 1, default_deadline=dates.fmt_day(date(window.year + 1, month, day))
        ),
        who="、".join(sorted(names)) or strings.CALL_WHO_DEFAULT,
    )


def example_days(year: int, today: date) -> list[date]:
    """Up to two quarter ends of `year` still ahead of today (the year's last day at least): the dates
    the form's example shows, so that copying it gives valid milestones."""
    ends = [date(year, m, d) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))]
    return [d for d in ends if d > today][:2] or [ends[-1]]


def form_text(year: int, today: date) -> str:
    days = example_days(year, today)
    nodes = "；".join(
        label.format(day.isoformat())
        for label, day in zip(strings.REGISTER_NODES[-len(days) :], days, strict=True)
    )
    return strings.REGISTER_FORM.format(nodes=nodes)


def usage_text(window: Window, today: date) -> str:
    return strings.REGISTER_USAGE.format(
        year=window.year,
        deadline=dates.fmt_full_day(window.deadline),
        quota=window.quota,
        form=form_text(window.year, today),
    )


def _bad_milestone(text: str, year: int, today: date) -> ValueError:
    day = example_days(year, today)[0]
    return ValueError(strings.MILESTONE_BAD.format(text=text, full=day.isoformat(), short=dates.fmt_day(day)))


def _milestone(text: str, year: int, today: date) -> tuple[date, str]:
    folded = unicodedata.normalize("NFKC", text).strip()
    if m := _FULL_DAY.match(folded):
        y, mo, d, rest = int(m[1]), int(m[2]), int(m[3]), m[4]
    elif m := _SHORT_DAY.match(folded):
        y, mo, d, rest = year, int(m[1]), int(m[2]), m[3]
    else:
        raise _bad_milestone(text, year, today)
    try:
        day = date(y, mo, d)
    except ValueError:
        raise _bad_milestone(text, year, today) from None
    rest = rest.strip(" ，,、：:")
    if not rest:
        raise _bad_milestone(text, year, today)
    if day.year != year:
        raise ValueError(strings.MILESTONE_YEAR.format(text=text, year=year))
    return day, rest[:200]


def parse_registration(raw: str | dict, year: int, cfg: ProjectsConfig, *, today: date) -> Registration:
    """The fields of a registration, or Refused naming every problem (nothing is written); the examples
    shown with the problems use dates of `year` after `today`."""
    values: dict[str, list[str]] = {key: [] for key in FIELDS}
    if isinstance(raw, dict):
        for key in FIELDS:
            value = raw.get(key, "")
            values[key] = [v for v in (value if isinstance(value, list) else [str(value)]) if str(v).strip()]
    else:
        current = None
        for line in raw.splitlines():
            if m := _LINE.match(line):
                key = _LABEL_OF.get(m[1].strip())
                if key is not None:
                    current = key
                    values[key].append(m[2].strip())
                    continue
            if current is not None and line.strip():
                values[current].append(line.strip())
    problems: list[str] = []
    fields: dict[str, str] = {}
    for key, labels in FIELDS.items():
        if key == "milestones":
            continue
        text = "\n".join(values[key]).strip()
        if not text:
            problems.append(strings.FIELD_MISSING.format(label=labels[0]))
        elif len(text) > LIMITS[key]:
            problems.append(strings.FIELD_TOO_LONG.format(label=labels[0], limit=LIMITS[key]))
        fields[key] = text
    milestones: list[tuple[date, str]] = []
    for chunk in values["milestones"]:
        for part in re.split(r"[；;\n]", chunk):
            if part.strip():
                try:
                    milestones.append(_milestone(part, year, today))
                except ValueError as exc:
                    problems.append(str(exc))
    if not milestones and not any(p.startswith("节点") for p in problems):
        problems.append(strings.MILESTONE_NONE)
    if len(milestones) > cfg.max_milestones:
        problems.append(strings.MILESTONE_TOO_MANY.format(limit=cfg.max_milestones))
    if problems:
        raise Refused(
            strings.BAD_FORM.format(
                problems="\n".join(f"- {p}" for p in problems), form=form_text(year, today)
            ),
            status=422,
        )
    return Registration(milestones=tuple(sorted(milestones)), **fields)


def deadline_and_quota(session: Session, unit: OrgUnit, year: int, cfg: ProjectsConfig) -> tuple[date, int]:
    call = access.call_for(session, unit, year)
    if call is not None:
        return call.deadline, call.per_secretary
    month, day = cfg.default_deadline
    return date(year, month, day), cfg.default_per_secretary


def registering_unit(session: Session, person: Person | None, cfg: ProjectsConfig) -> OrgUnit:
    """The unit a person registers for (the lowest where they are 书记), or Refused."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    units = access.secretary_units(session, person, cfg)
    if not units:
        raise Refused(strings.NOT_SECRETARY, status=403)
    return units[0]


def register(
    session: Session,
    person: Person | None,
    raw: str | dict,
    *,
    now: datetime,
    cfg: ProjectsConfig,
) -> SecretaryProject:
    """A secretary registers a project for the year open today (registration_window); the pre-reviewers
    get a card. A closed call is answered first, before the form is read."""
    unit = registering_unit(session, person, cfg)
    today = now.astimezone(cfg.tz).date()
    window = registration_window(session, unit, today, cfg)
    if not window.open:
        raise Refused(closed_text(session, unit, window, cfg), status=409)
    year, quota = window.year, window.quota
    data = parse_registration(raw, year, cfg, today=today)
    count = session.scalar(
        select(func.count()).where(
            SecretaryProject.secretary_id == person.id,
            SecretaryProject.unit_id == unit.id,
            SecretaryProject.year == year,
            SecretaryProject.status != ProjectStatus.NOT_ACCEPTED,
        )
    )
    if count >= quota:
        raise Refused(strings.QUOTA_FULL.format(year=year, limit=quota, count=count), status=409)
    p = SecretaryProject(
        unit_id=unit.id,
        secretary_id=person.id,
        year=year,
        status=ProjectStatus.SUBMITTED,
        submitted_at=now,
        return_count=0,
        **_columns(data),
    )
    p.milestones = [
        ProjectMilestone(seq=i, due_on=day, title=title) for i, (day, title) in enumerate(data.milestones, 1)
    ]
    session.add(p)
    session.flush()
    review.ask_prereview(session, p, now=now, cfg=cfg)
    return p


def _columns(data: Registration) -> dict[str, str]:
    return {
        "title": data.title,
        "problem": data.problem,
        "content": data.content,
        "expected": data.expected,
        "leaders": data.leaders,
    }


def edit(
    session: Session,
    person: Person | None,
    project_id: int,
    raw: str | dict,
    *,
    now: datetime,
    cfg: ProjectsConfig,
) -> SecretaryProject:
    """The secretary corrects a project not yet pre-accepted (usually a returned one) and submits it again."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if p.secretary_id != person.id:
        raise Refused(strings.NOT_YOUR_PROJECT.format(id=p.id), status=403)
    if p.status not in (ProjectStatus.SUBMITTED, ProjectStatus.RETURNED):
        raise Refused(strings.CANNOT_EDIT.format(id=p.id, state=strings.STATUS_LABELS[p.status]), status=409)
    data = parse_registration(raw, p.year, cfg, today=now.astimezone(cfg.tz).date())
    for key, value in _columns(data).items():
        setattr(p, key, value)
    p.milestones.clear()
    session.flush()
    p.milestones.extend(
        ProjectMilestone(seq=i, due_on=day, title=title) for i, (day, title) in enumerate(data.milestones, 1)
    )
    p.status = ProjectStatus.SUBMITTED
    p.submitted_at = now
    session.flush()
    review.ask_prereview(session, p, now=now, cfg=cfg)
    return p


def _own_call(
    session: Session, person: Person | None, year: int, cfg: ProjectsConfig
) -> tuple[OrgUnit | None, ProjectCall | None]:
    """The person's first call unit (None: the whole tree) and the call they set there for the year, if
    any; refused when they may set no call."""
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    units = access.call_units(session, person, cfg)
    if not units:
        raise Refused(strings.CALL_NOT_ALLOWED, status=403)
    unit = units[0]
    unit_id = unit.id if unit is not None else None
    call = session.scalar(
        select(ProjectCall).where(
            ProjectCall.year == year,
            ProjectCall.unit_id.is_(None) if unit_id is None else ProjectCall.unit_id == unit_id,
        )
    )
    return unit, call


def set_call(
    session: Session,
    person: Person | None,
    year: int,
    deadline: date,
    per_secretary: int,
    *,
    cfg: ProjectsConfig,
) -> tuple[ProjectCall, OrgUnit | None]:
    """A committee (its 书记/组织委员) or the 组织部 sets the year's call for the units under it."""
    unit, call = _own_call(session, person, year, cfg)
    if not 1 <= per_secretary <= 10 or deadline.year != year:
        raise Refused(strings.CALL_USAGE.format(year=year), status=422)
    if call is None:
        call = ProjectCall(unit_id=unit.id if unit is not None else None, year=year)
        session.add(call)
    call.deadline, call.per_secretary, call.set_by_id = deadline, per_secretary, person.id
    session.flush()
    return call, unit


def own_call_and_people(
    session: Session, person: Person | None, year: int, names: list[str], cfg: ProjectsConfig
) -> tuple[ProjectCall, list[Person]]:
    """The call the person set for the year (their first call unit's) and the people named, each found
    exactly once in the roll; what naming a panel (评审专家, 观摩评比) starts from."""
    _, call = _own_call(session, person, year, cfg)
    if call is None:
        raise Refused(strings.REVIEWERS_NO_CALL.format(year=year), status=404)
    people = []
    for name in names:
        found = session.scalars(select(Person).where(Person.name == name, Person.active.is_(True))).all()
        if len(found) != 1:
            raise Refused(strings.REVIEWER_UNKNOWN.format(name=name), status=422)
        people.append(found[0])
    return call, list({p.id: p for p in people}.values())


def set_reviewers(
    session: Session, person: Person | None, year: int, names: list[str], *, cfg: ProjectsConfig
) -> list[Person]:
    """The call's setter names its reviewers (评审专家), replacing any named before."""
    call, people = own_call_and_people(session, person, year, names, cfg)
    call.reviewers.clear()
    session.flush()
    call.reviewers.extend(ProjectReviewer(person_id=p.id) for p in people)
    session.flush()
    return people


# --- a committee leader's or the 组织部's overview in chat ---------------------------------------------


def leader_scope(session: Session, person: Person, cfg: ProjectsConfig) -> list[OrgUnit] | None:
    """The units whose subtrees a person oversees for 书记项目: the committees where they are
    书记/副书记/组织委员 and the units of their 组织部 roles; None for 组织部 over the whole tree."""
    held = roles_held(session, person.id)
    if (None, Role.ORG_STAFF) in held:
        return None
    ids = {u for u, r in held if u is not None and (r == Role.ORG_STAFF or r in cfg.committee_roles)}
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.path)).all()
    return [u for u in units if u.kind == UnitKind.COMMITTEE or (u.id, Role.ORG_STAFF) in held]


def status_counts(
    session: Session, scope: list[OrgUnit] | None, years: list[int]
) -> dict[int, dict[ProjectStatus, int]]:
    """{year: {status: projects}} of the units under `scope` (None: the whole tree), years without any
    left out."""
    stmt = (
        select(SecretaryProject.year, SecretaryProject.status, func.count())
        .join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id)
        .where(SecretaryProject.year.in_(years))
        .group_by(SecretaryProject.year, SecretaryProject.status)
    )
    if scope is not None:
        if not scope:
            return {}
        stmt = stmt.where(or_(*(OrgUnit.path.startswith(u.path) for u in scope)))
    found: dict[int, dict[ProjectStatus, int]] = {}
    for year, status, count in session.execute(stmt):
        found.setdefault(year, {})[ProjectStatus(status)] = count
    return found


# --- the year's projects of many units at once (the 年终通报 reads this) ---------------------------------


@dataclass
class ProjectYear:
    """One project's year as plain values: its status, milestones, the committee's decided 红旗/蜗牛 picks
    (month, kind) and its 督办单 (issued, closed, still open past their date), and whether a 约谈 was called."""

    id: int
    title: str
    status: ProjectStatus
    milestones: int
    done: int
    late: int  # not done and due before `today` (review.late_milestones)
    picks: list[tuple[date, PickKind]]
    orders: int
    orders_closed: int
    orders_overdue: int
    interviewed: bool
    satisfaction: float | None  # 群众评议: (满意 + 基本满意) / all ratings, None before any
    excellent: bool  # chosen 优秀项目 at the year-end 观摩评比


def units_year(
    session: Session, units: list[OrgUnit], year: int, *, today: date
) -> tuple[dict[int, list[ProjectYear]], dict[int, date]]:
    """({unit id: its projects of `year`, in registration order}, {unit id: the registration deadline of the
    call of `year` covering it (access.call_for: the nearest ancestor's, else the whole tree's)}). Five
    statements for any number of units."""
    ids = [u.id for u in units]
    projects = list(
        session.scalars(
            select(SecretaryProject)
            .options(selectinload(SecretaryProject.milestones))
            .where(SecretaryProject.unit_id.in_(ids), SecretaryProject.year == year)
            .order_by(SecretaryProject.id)
        )
    ) if ids else []  # fmt: skip
    pids = [p.id for p in projects]
    picks: dict[int, list[tuple[date, PickKind]]] = {}
    orders: dict[int, list[SupervisionOrder]] = {}
    if pids:
        for pid, month, kind in session.execute(
            select(ProjectPick.project_id, ProjectPick.month, ProjectPick.chosen_kind)
            .where(ProjectPick.project_id.in_(pids), ProjectPick.chosen_kind.is_not(None))
            .order_by(ProjectPick.month)
        ):
            picks.setdefault(pid, []).append((month, PickKind(kind)))
        for o in session.scalars(select(SupervisionOrder).where(SupervisionOrder.project_id.in_(pids))):
            orders.setdefault(o.project_id, []).append(o)
    found: dict[int, list[ProjectYear]] = {}
    for p in projects:
        mine = orders.get(p.id, [])
        is_open = [o for o in mine if o.status != OrderStatus.CLOSED]
        found.setdefault(p.unit_id, []).append(
            ProjectYear(
                p.id, p.title, p.status, len(p.milestones), sum(m.done_on is not None for m in p.milestones),
                len(review.late_milestones(p, today)), picks.get(p.id, []), len(mine), len(mine) - len(is_open),
                sum(o.due_on < today for o in is_open), any(o.interview_at is not None for o in mine),
                p.satisfaction, p.excellent_at is not None,
            )
        )  # fmt: skip
    calls = dict(
        session.execute(
            select(ProjectCall.unit_id, ProjectCall.deadline).where(ProjectCall.year == year)
        ).all()
    )
    covered = {}
    for u in units:
        nearest = next((uid for uid in reversed(u.ancestor_ids()) if uid in calls), None)
        if nearest is not None or None in calls:
            covered[u.id] = calls[nearest]
    return found, covered
