"""The monthly digest: one card per person (branch secretary, committee leaders and the committee's 包保
cadres, 组织部 staff), with a
chart image and a link to the same view on the web, built from the stored scores of the month.

Everything is read for the whole organisation in a constant number of statements; the same
builders serve the chat card and the web page, so both say the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, md_escape
from bot.core.signing import BadToken, TokenSigner
from handlers.common import batches
from handlers.common.dates import add_months
from handlers.common.roles import liaison_committees, roles_held
from handlers.lifemeeting import digest as lifemeeting_digest
from handlers.lifemeeting.config import DEFAULT as LIFE
from handlers.lifemeeting.config import LifeMeetingConfig
from handlers.lifemeeting.status import BranchLife
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.minutes import meeting_counts
from handlers.meetings.types import MeetingsConfig
from handlers.monthly import chart, strings
from handlers.monthly.config import Kinds, MonthlyConfig
from handlers.monthly.recipients import RoleBook
from handlers.monthly.scoring import Unit, load_units, nearest_committee
from handlers.talks import coverage as talks_coverage
from handlers.talks.config import DEFAULT as TALKS
from handlers.talks.config import TalksConfig
from models import startmonth
from models.meetings import (
    Attendance,
    AttendanceStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingType,
)
from models.monthly import MonthlyScore
from models.org import OrgUnit, Person, Role, UnitKind
from models.projects import PickKind, ProjectPick, ProjectStatus, SecretaryProject
from models.rating import GRADE_LABELS, BranchRating, RatingGrade

# December's committee digest lists at most this many branches' ratings (a card, not a ledger).
RATINGS_SHOWN = 15
H5_PREFIX = "/h5/monthly"
ALL = 0  # the "unit" of the whole-organisation view (组织部 staff over the whole tree)
CHART_TTL = timedelta(days=120)


def _chart_purpose(month: date) -> str:
    return f"monthly-chart:{month:%Y-%m}"


def chart_url(base_url: str, secret: str, unit_id: int, month: date, now: datetime) -> str:
    token = TokenSigner(secret, _chart_purpose(month)).sign(unit_id, expires_at=now + CHART_TTL)
    return f"{base_url.rstrip('/')}{H5_PREFIX}/{unit_id}/{month:%Y-%m}/chart.png?t={quote(token)}"


def chart_token_ok(secret: str, token: str, unit_id: int, month: date, now: datetime) -> bool:
    """The chart is fetched by the chat platform without a cookie: its link's token is the permission."""
    try:
        return TokenSigner(secret, _chart_purpose(month)).unsign(token, now=now) == unit_id
    except BadToken:
        return False


def view_url(base_url: str, unit_id: int, month: date) -> str:
    return f"{base_url.rstrip('/')}{H5_PREFIX}/{unit_id}/{month:%Y-%m}"


@dataclass
class Row:
    unit_id: int
    score: float
    rank: int
    group_size: int
    lagging: bool
    peer_group: str
    explanation: dict


@dataclass
class MonthData:
    month: date
    units: dict[int, Unit]
    rows: dict[int, Row]
    branches_of: dict[int, list[int]] = field(default_factory=dict)  # committee → branches
    absent: dict[int, list[str]] = field(default_factory=dict)  # branch → names
    makeup_open: dict[int, int] = field(default_factory=dict)
    first_month: bool = False  # the start month (models.startmonth): its digest says so
    talks: dict[int, talks_coverage.BranchTalks] = field(default_factory=dict)  # from Q3: the year's 谈心谈话
    talks_cfg: TalksConfig = TALKS
    # December: each branch's yearly rating as stored (proposed, confirmed), from handlers.rating's table.
    ratings: dict[int, tuple[RatingGrade | None, RatingGrade | None]] = field(default_factory=dict)
    # Q4: each branch's 组织生活会 as of the month's end (handlers.lifemeeting.digest), for the committees.
    life: dict[int, BranchLife] = field(default_factory=dict)
    # 书记项目晒比评: the month's decided 红旗/蜗牛 per committee that decided, as (kind chosen or None, unit
    # name, title); read from models.projects (handlers.projects sits above monthly and is not imported).
    picks: dict[int, list[tuple[PickKind | None, str, str]]] = field(default_factory=dict)
    with_projects: set[int] = field(default_factory=set)  # units above an accepted 书记项目 of the year

    def committees_under(self, scope: int) -> list[int]:
        ids = [c for c in self.branches_of if c in self.rows]
        if scope == ALL:
            return ids
        return [c for c in ids if scope in self.units[c].ancestors()]


def load(
    session: Session,
    month: date,
    cfg: MeetingsConfig,
    *,
    with_details: bool = True,
    scope: int | None = None,
    talks: TalksConfig = TALKS,
    life: LifeMeetingConfig = LIFE,
    explanations: Mapping[int, dict] | None = None,
) -> MonthData:
    """The month's stored scores (and, with details, absentees and open 补学) for everything, or only
    for one view: `scope` = a unit (it and the units below it) or ALL (the committees).

    `explanations`: the run's own explanations by unit, just stored (service.run_month), used instead of
    decoding the stored JSON again: at a province that is 0.76 GB of objects the run already holds."""
    units = load_units(session)
    columns = [MonthlyScore.unit_id, MonthlyScore.score, MonthlyScore.rank, MonthlyScore.group_size,
               MonthlyScore.lagging, MonthlyScore.peer_group]  # fmt: skip
    given = explanations or {}
    stmt = select(*columns, MonthlyScore.explanation if explanations is None else null()).where(
        MonthlyScore.month == month
    )
    in_scope = None
    if scope == ALL:
        stmt = stmt.where(MonthlyScore.unit_kind == UnitKind.COMMITTEE.value)
    elif scope is not None:
        path = units[scope].path if scope in units else "/-/"
        in_scope = select(OrgUnit.id).where(OrgUnit.path.startswith(path))
        stmt = stmt.where(MonthlyScore.unit_id.in_(in_scope))
    rows = {
        uid: Row(uid, score, rank, size, bool(lag), group, exp or given.get(uid) or {})
        for uid, score, rank, size, lag, group, exp in session.execute(stmt)
    }
    if explanations is not None:  # a unit stored earlier in the month but not in this run: read its own
        others = sorted(uid for uid in rows if uid not in given)
        read = select(MonthlyScore.unit_id, MonthlyScore.explanation).where(MonthlyScore.month == month)
        for batch in batches.by_ids(others, MonthlyScore.unit_id, read):
            for uid, exp in session.execute(batch):
                if uid in rows and uid not in given:
                    rows[uid].explanation = exp or {}
    data = MonthData(month, units, rows, first_month=startmonth.start_month(session) == month)
    branches_of: dict[int, list[int]] = defaultdict(list)
    for uid in rows:
        u = units.get(uid)
        if u is not None and u.kind == UnitKind.BRANCH:
            c = nearest_committee(u, units)
            if c is not None:
                branches_of[c].append(uid)
    data.branches_of = dict(branches_of)
    if scope == ALL:  # committees' own scores are all this view shows
        data.branches_of = {c: [] for c in rows}
    if with_details and scope != ALL:
        lo, hi = month_bounds_utc(month, cfg)
        absent: dict[int, set[str]] = defaultdict(set)
        for branch_id, name in session.execute(
            select(Meeting.branch_id, Person.name)
            .join(Attendance, Attendance.meeting_id == Meeting.id)
            .join(Person, Person.id == Attendance.person_id)
            .where(
                # The same meetings as the attendance figures beside these names (a meeting
                # ordered reconvened is not one of them).
                meeting_counts(),
                Meeting.starts_at >= lo,
                Meeting.starts_at < hi,
                Attendance.status == AttendanceStatus.ABSENT,
                *([Meeting.branch_id.in_(in_scope)] if in_scope is not None else []),
            )
        ):
            absent[branch_id].add(name)
        data.absent = {b: sorted(v) for b, v in absent.items()}
        open_states = [MakeupStatus.OPEN, MakeupStatus.REPORTED, MakeupStatus.RETURNED]
        counts: dict[int, int] = defaultdict(int)
        for (branch_id,) in session.execute(
            select(Meeting.branch_id)
            .join(MakeupTask, MakeupTask.meeting_id == Meeting.id)
            .where(MakeupTask.status.in_(open_states), Meeting.starts_at < hi)
            .where(*([Meeting.branch_id.in_(in_scope)] if in_scope is not None else []))
        ):
            counts[branch_id] += 1
        data.makeup_open = dict(counts)
        if month.month >= talks.digest_from_month:
            branches = [uid for uid in rows if units.get(uid) and units[uid].kind == UnitKind.BRANCH]
            month_end = add_months(month, 1) - timedelta(days=1)
            # The whole organisation in one read per table (constant statements); a part of it by id.
            wanted = None if in_scope is None else branches
            data.talks = talks_coverage.coverage(session, wanted, month.year, talks, until=month_end)
            data.talks_cfg = talks
        branch_ids = [uid for uid in rows if units.get(uid) and units[uid].kind == UnitKind.BRANCH]
        data.life = lifemeeting_digest.month_status(
            session, branch_ids, month, meetings_cfg=cfg, talks_cfg=talks, cfg=life,
            talks=data.talks if month.month >= talks.digest_from_month else None,
        )  # fmt: skip
        data.picks = _picks(session, month, in_scope)
        data.with_projects = _above_projects(session, month.year, units, in_scope)
        if month.month == 12:
            stmt = select(
                BranchRating.branch_id, BranchRating.proposed_grade, BranchRating.confirmed_grade
            ).where(BranchRating.year == month.year)
            if in_scope is not None:
                stmt = stmt.where(BranchRating.branch_id.in_(in_scope))
            data.ratings = {b: (p, c) for b, p, c in session.execute(stmt) if b in rows}
    return data


def _picks(session: Session, month: date, in_scope) -> dict[int, list[tuple[PickKind | None, str, str]]]:
    """The committees' 晒比评 decisions of the month (handlers.projects.compare stores one row per project
    proposed or chosen; a committee with rows has decided, even if it chose none)."""
    stmt = (
        select(ProjectPick.committee_id, ProjectPick.chosen_kind, OrgUnit.name, SecretaryProject.title)
        .join(SecretaryProject, SecretaryProject.id == ProjectPick.project_id)
        .join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id)
        .where(ProjectPick.month == month, ProjectPick.decided_at.is_not(None))
        .order_by(ProjectPick.committee_id, OrgUnit.path, SecretaryProject.id)
    )
    if in_scope is not None:
        stmt = stmt.where(ProjectPick.committee_id.in_(in_scope))
    found: dict[int, list[tuple[PickKind | None, str, str]]] = defaultdict(list)
    for committee_id, kind, unit, title in session.execute(stmt):
        found[committee_id].append((PickKind(kind) if kind else None, unit, title))
    return dict(found)


def _above_projects(session: Session, year: int, units: dict[int, Unit], in_scope) -> set[int]:
    """The units strictly above a unit with an accepted 书记项目 of the year: the committees that have a
    晒比评 to hold (handlers.projects.compare.committee_projects reads the same subtree)."""
    stmt = (
        select(SecretaryProject.unit_id)
        .where(SecretaryProject.year == year, SecretaryProject.status == ProjectStatus.ACCEPTED)
        .distinct()
    )
    if in_scope is not None:
        stmt = stmt.where(SecretaryProject.unit_id.in_(in_scope))
    found: set[int] = set()
    for (unit_id,) in session.execute(stmt):
        if unit_id in units:
            found.update(a for a in units[unit_id].ancestors() if a != unit_id)
    return found


# --- the texts ------------------------------------------------------------------------------------


def _lag(row: Row) -> str:
    if not row.lagging:
        return ""
    return strings.DIGEST_LAGGING.format(reasons=strings.lag_reasons(row.explanation.get("lagging", [])))


def branch_text(data: MonthData, branch_id: int, kinds: Kinds) -> str:
    row = data.rows[branch_id]
    exp = row.explanation
    meetings = [
        f"{strings.TYPE_LABELS[MeetingType(m['type'])]} {m['held']}/{m['required']:g}"
        for m in exp.get("meetings", [])
    ]
    att = exp.get("attendance", {})
    attendance = (
        strings.DIGEST_ATTENDANCE.format(
            present=att["present"], total=att["total"], rate=strings.pct(att["present"] / att["total"])
        )
        if att.get("total")
        else strings.DIGEST_NO_ATTENDANCE
    )
    names = data.absent.get(branch_id, [])
    obs = exp.get("observers")
    rect = exp.get("rectifications", {})
    return (
        strings.DIGEST_BRANCH.format(
            score=row.score,
            group=strings.group_label(row.peer_group, kinds),
            rank=row.rank,
            size=row.group_size,
            lag=_lag(row),
            meetings="，".join(meetings) or strings.DIGEST_NO_MEETINGS,
            attendance=attendance,
            absent=strings.DIGEST_ABSENT.format(names="、".join(map(md_escape, names))) if names else "",
            makeup=strings.DIGEST_MAKEUP.format(
                open=data.makeup_open.get(branch_id, 0), done=exp.get("makeup", {}).get("confirmed", 0)
            ),
            fees=strings.DIGEST_FEES.format(**exp.get("fees", {"members": 0, "unpaid": 0})),
            observers=(
                strings.DIGEST_OBS.format(
                    n=obs["observations"],
                    quality=strings.pct(obs["quality"]),
                    grades="、".join(obs["grades"]) or "—",
                )
                if obs and obs.get("observations")
                else strings.DIGEST_OBS_NONE
            ),
            rect=strings.DIGEST_RECT.format(
                due=rect.get("due", 0), ok=rect.get("closed_on_time", 0), open=(obs or {}).get("rect_open", 0)
            ),
        )
        + _talks_line(data, branch_id)
        + _rule_line(exp, "branch")
        + "\n\n"
        + strings.explain(row.score, exp)
    )


def _talks_line(data: MonthData, branch_id: int) -> str:
    """谈心谈话's year so far (domain.md rule 8), from July on: a short section naming who is owed a talk."""
    row = data.talks.get(branch_id)
    return "\n\n" + talks_coverage.digest_line(row, data.talks_cfg, escape=md_escape) if row else ""


def _rule_line(exp: dict, unit_kind: str) -> str:
    rule = strings.rank_rule(exp.get("rank") or {}, unit_kind)
    return "\n\n" + rule if rule else ""


def committee_text(data: MonthData, committee_id: int, kinds: Kinds) -> str:
    row = data.rows[committee_id]
    branches = sorted((data.rows[b] for b in data.branches_of.get(committee_id, [])), key=lambda r: -r.score)
    name = lambda r: md_escape(data.units[r.unit_id].name)  # noqa: E731
    laggards = [f"{name(r)}（{r.score:g}分）" for r in branches if r.lagging]
    top = [f"{name(r)} {r.score:g}" for r in branches[:5]]
    missing = strings.missing_text(row.explanation.get("missing", []))
    return strings.DIGEST_COMMITTEE.format(
        score=row.score,
        group=strings.group_label(row.peer_group, kinds),
        rank=row.rank,
        size=row.group_size,
        lag=_lag(row),
        n=len(branches),
        mean=round(sum(r.score for r in branches) / len(branches), 1) if branches else 0,
        lagging=len(laggards),
        laggards="、".join(laggards) or strings.DIGEST_NONE,
        top="、".join(top) or strings.DIGEST_NONE,
        missing="；".join(missing) or strings.DIGEST_NONE,
    ) + "".join(
        # The committee's own rank, then its branches' (ranked county-wide within their 类别).
        [_rule_line(row.explanation, "committee")]
        + [_rule_line(branches[0].explanation, "branch")] * bool(branches)
        + [_ratings_section(data, [r.unit_id for r in branches])] * (data.month.month == 12)
        + [_life_section(data, [r.unit_id for r in branches])]
        + [_picks_section(data, committee_id)]
    )


def _picks_section(data: MonthData, committee_id: int) -> str:
    """The month's 红旗项目 and 蜗牛项目 as the committee decided them (seed 003: 每月底评选公示); before it
    has decided, a line saying so where the committee has projects to compare, else nothing."""
    rows = data.picks.get(committee_id)
    if rows is None:
        # Decided after the card went out, the choice still shows on the digest's page (built when opened).
        pending = committee_id in data.with_projects
        return (
            "\n\n" + strings.DIGEST_PICKS_PENDING.format(month=strings.fmt_month(data.month))
            if pending
            else ""
        )

    def listed(kind: PickKind) -> str:
        chosen = [
            strings.DIGEST_PICK.format(unit=md_escape(unit), title=md_escape(title))
            for k, unit, title in rows
            if k == kind
        ]
        return "、".join(chosen) or strings.DIGEST_NONE

    return "\n\n" + strings.DIGEST_PICKS.format(
        month=strings.fmt_month(data.month), red=listed(PickKind.RED_FLAG), snail=listed(PickKind.SNAIL)
    )


def _life_section(data: MonthData, branch_ids: list[int]) -> str:
    """Q4: which of the committee's branches have not held the 组织生活会, and which miss steps before it."""
    ordered = sorted(branch_ids, key=lambda b: data.units[b].path)
    text = lifemeeting_digest.digest_section(
        data.life, ordered, lambda b: md_escape(data.units[b].name), data.month.year
    )
    return "\n\n" + text if text else ""


def _ratings_section(data: MonthData, branch_ids: list[int]) -> str:
    """December: the committee's branches' yearly ratings, proposed and confirmed (issue 19 item 4)."""
    year = data.month.year
    rated = sorted((b for b in branch_ids if b in data.ratings), key=lambda b: data.units[b].path)
    if not rated:
        return "\n\n" + strings.DIGEST_RATINGS_NONE.format(year=year)
    done = sum(data.ratings[b][1] is not None for b in rated)
    lines = [
        strings.DIGEST_RATING_ROW.format(
            branch=md_escape(data.units[b].name),
            proposed=GRADE_LABELS[p] if (p := data.ratings[b][0]) else strings.DIGEST_RATING_NO_PROPOSAL,
            confirmed=GRADE_LABELS[c] if (c := data.ratings[b][1]) else strings.DIGEST_RATING_PENDING,
        )
        for b in rated[:RATINGS_SHOWN]
    ]
    if len(rated) > RATINGS_SHOWN:
        lines.append(strings.DIGEST_RATINGS_MORE.format(n=len(rated)))
    head = strings.DIGEST_RATINGS_HEAD.format(year=year, done=done, todo=len(rated) - done)
    return "\n\n" + head + "\n\n" + "\n".join(lines)


def committee_ranking(data: MonthData, scope: int, kinds: Kinds) -> str:
    """The committees under `scope`, each kind ranked on its own, largest kind first."""
    rows = [data.rows[c] for c in data.committees_under(scope)]
    name = lambda r: md_escape(data.units[r.unit_id].name)  # noqa: E731
    groups: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        groups[r.peer_group].append(r)
    return "\n\n".join(
        strings.DIGEST_ORG_GROUP.format(
            group=strings.group_label(group, kinds),
            n=len(items),
            lines="\n".join(
                strings.RANK_LINE.format(
                    rank=r.rank, name=name(r), score=r.score, lag=strings.RANK_LAG if r.lagging else ""
                )
                for r in sorted(items, key=lambda r: (r.rank, r.unit_id))
            ),
        )
        for group, items in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
    )


def org_text(data: MonthData, scope: int, kinds: Kinds) -> str:
    rows = sorted((data.rows[c] for c in data.committees_under(scope)), key=lambda r: -r.score)
    name = lambda r: md_escape(data.units[r.unit_id].name)  # noqa: E731
    return strings.DIGEST_ORG.format(
        n=len(rows),
        mean=round(sum(r.score for r in rows) / len(rows), 1) if rows else 0,
        lagging=sum(r.lagging for r in rows),
        laggards="、".join(name(r) for r in rows if r.lagging) or strings.DIGEST_NONE,
        ranking=committee_ranking(data, scope, kinds),
    ) + (_rule_line(rows[0].explanation, "committee") if rows else "")


def unit_name(data: MonthData, unit_id: int) -> str:
    return data.units[unit_id].name if unit_id in data.units else "全部党委"


def text_for(data: MonthData, unit_id: int, kinds: Kinds) -> str:
    first = strings.DIGEST_FIRST_MONTH if data.first_month else ""
    return first + _text_for(data, unit_id, kinds)


def _text_for(data: MonthData, unit_id: int, kinds: Kinds) -> str:
    if unit_id != ALL and data.units.get(unit_id) and data.units[unit_id].kind == UnitKind.BRANCH:
        return branch_text(data, unit_id, kinds)
    if unit_id in data.branches_of and unit_id in data.rows:
        return committee_text(data, unit_id, kinds)
    return org_text(data, unit_id, kinds)


def chart_for(data: MonthData, unit_id: int, max_bars: int = 30) -> bytes:
    label = strings.fmt_month(data.month)
    if unit_id != ALL and data.units.get(unit_id) and data.units[unit_id].kind == UnitKind.BRANCH:
        return chart.branch_chart(data.units[unit_id].name, label, data.rows[unit_id].explanation)
    if unit_id in data.branches_of and unit_id in data.rows:
        ids = data.branches_of[unit_id]
    else:
        ids = data.committees_under(unit_id)
    rows = [(data.units[i].name, data.rows[i].score, data.rows[i].lagging) for i in ids]
    return chart.units_chart(unit_name(data, unit_id), label, rows, max_bars)


def available(data: MonthData, unit_id: int) -> bool:
    if unit_id == ALL:
        return bool(data.branches_of)
    u = data.units.get(unit_id)
    if u is None:
        return False
    if u.kind == UnitKind.BRANCH or unit_id in data.branches_of:
        return unit_id in data.rows
    return bool(data.committees_under(unit_id))


# --- who sees what ----------------------------------------------------------------------------------


def viewable_units(session: Session, person_id: int, mcfg: MonthlyConfig) -> tuple[set[int], set[int], bool]:
    """(units the person leads directly, units whose subtree they oversee, whole tree?)."""
    direct, over, everything = set(), set(), False
    for unit_id, role in roles_held(session, person_id):
        if role == Role.ORG_STAFF:
            if unit_id is None:
                everything = True
            else:
                over.add(unit_id)
        elif role in mcfg.committee_leader_roles or role in mcfg.branch_manager_roles:
            direct.add(unit_id)
    return direct, over, everything


def can_view(
    session: Session, person_id: int, unit_id: int, mcfg: MonthlyConfig, units: dict[int, Unit]
) -> bool:
    """A branch secretary sees their branch only; committee leaders their committee and its branches;
    组织部 staff everything under their unit (or the whole tree). A committee's 包保 cadre sees it as its
    leaders do: its 月度通报 reaches them as it reaches its leaders (RoleBook.liaisons_of), so its 查看详情
    opens for them too, whichever unit their own 组织部 role is at."""
    direct, over, everything = viewable_units(session, person_id, mcfg)
    direct |= set(liaison_committees(session, person_id))
    return visible((direct, over, everything), unit_id, units)


def visible(scope: tuple[set[int], set[int], bool], unit_id: int, units: dict[int, Unit]) -> bool:
    """can_view with the person's roles already read (viewable_units), for checking many units."""
    direct, over, everything = scope
    if everything:
        return True
    if unit_id == ALL:
        return False
    u = units.get(unit_id)
    if u is None:
        return False
    if unit_id in direct or unit_id in over:
        return True
    leads_above = {a for a in u.ancestors()[:-1] if units.get(a) and units[a].kind == UnitKind.COMMITTEE}
    return bool(leads_above & direct) or bool(set(u.ancestors()) & over)


# --- sending ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Addressed:
    unit_id: int
    people: list[int]


def addressees(data: MonthData, book: RoleBook, mcfg: MonthlyConfig) -> list[Addressed]:
    out = []
    for uid, u in data.units.items():
        if u.kind == UnitKind.BRANCH and uid in data.rows:
            people = book.on(uid, mcfg.branch_manager_roles)
        elif uid in data.branches_of and uid in data.rows:
            # Its leaders and its 包保 cadres, each once.
            people = sorted({*book.on(uid, mcfg.committee_leader_roles), *book.liaisons_of(uid)})
        else:
            continue
        if people:
            out.append(Addressed(uid, people))
    global_staff = book.on(None, (Role.ORG_STAFF,))
    if global_staff:
        out.append(Addressed(ALL, global_staff))
    for (unit_id, role), people in book.by_unit.items():
        if role == Role.ORG_STAFF and unit_id is not None and unit_id in data.units:
            out.append(Addressed(unit_id, sorted(people)))
    return out


def card_for(
    data: MonthData, unit_id: int, kinds: Kinds, *, base_url: str, secret: str, now: datetime
) -> Card:
    title = strings.DIGEST_TITLE.format(month=strings.fmt_month(data.month), unit=unit_name(data, unit_id))
    return Card(
        title=title,
        text=text_for(data, unit_id, kinds),
        buttons=(Button(strings.DIGEST_VIEW, url=view_url(base_url, unit_id, data.month)),)
        if base_url
        else (),
        image_url=chart_url(base_url, secret, unit_id, data.month, now) if base_url else "",
        card_key=f"digest:{unit_id}:{data.month:%Y-%m}",
    )


def send_digests(
    session: Session,
    month: date,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    base_url: str,
    secret: str,
    book: RoleBook | None = None,
    send: bool = True,
    talks: TalksConfig = TALKS,
    life: LifeMeetingConfig = LIFE,
    explanations: Mapping[int, dict] | None = None,
) -> int:
    """Queue every digest card of `month` (dedup key per unit and month: a rerun sends nothing new).

    With send=False the cards are only built (the benchmark times that) and nothing is queued.
    `explanations`: the run's own, as load takes them.
    """
    data = load(session, month, cfg, talks=talks, life=life, explanations=explanations)
    book = book or RoleBook(
        session, {Role.ORG_STAFF, *mcfg.committee_leader_roles, *mcfg.branch_manager_roles}
    )
    total, cards = 0, []
    for a in addressees(data, book, mcfg):
        if available(data, a.unit_id):
            card = card_for(data, a.unit_id, mcfg.committee_kinds, base_url=base_url, secret=secret, now=now)
            cards.append(outbox.Queued(a.people, card, f"monthly:digest:{a.unit_id}:{month:%Y-%m}"))
        if len(cards) == _QUEUE_BATCH:
            total += _queue(session, cards, now, send)
            cards = []
    return total + _queue(session, cards, now, send)


# Cards built and queued this many at a time: a province's 100,000 cards and their outbox rows are never
# all in memory at once.
_QUEUE_BATCH = 5000


def _queue(session: Session, cards: list[outbox.Queued], now: datetime, send: bool) -> int:
    if not send:
        return sum(len(c.person_ids) for c in cards)
    return outbox.enqueue_many(session, cards, now=now) if cards else 0
