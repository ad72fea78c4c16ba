"""The escalation ladders: one mechanism, presets for committees, branches and members.

A notice is a row keyed (ladder, subject, rung, month), inserted with ON CONFLICT DO NOTHING, and an
outbox message whose dedup key is the same key: a rerun, a restart or a second scheduler sends
nothing twice. Catching up ends the open notices of a subject and says so once.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, except_, func, or_, select, text, union, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, md_escape
from handlers.common.dates import add_months, month_start, months_between
from handlers.fees.arrears import arrears_counts
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.minutes import held_condition, meeting_counts
from handlers.meetings.types import MeetingsConfig
from handlers.monthly import strings
from handlers.monthly.config import Kinds, LadderPreset, MonthlyConfig, Rung
from handlers.monthly.recipients import RoleBook
from handlers.monthly.scoring import MonthScores, UnitScore
from handlers.monthly.watch import LOST_CONTACT_MONTHS, MemberRun, lost_contact_runs, work_runs
from models import startmonth
from models.meetings import (
    Attendance,
    AttendanceStatus,
    Invitee,
    LeaveRequest,
    LeaveStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingStatus,
    Minutes,
)
from models.monthly import Escalation, Ladder, MonthlyScore
from models.org import Person, Role

ACK_ACTION = "monthly.ack"
# Who hears of a member's notice when its addressee is that member (a secretary behind with his own
# fees): the branch's 副书记, else the committee's 组织委员, as for a secretary's own leave.
SELF_FALLBACK_BRANCH = (Role.DEPUTY_SECRETARY,)
SELF_FALLBACK_COMMITTEE = (Role.ORGANIZATION_MEMBER,)
SELF_FALLBACK_ROLES = (*SELF_FALLBACK_BRANCH, *SELF_FALLBACK_COMMITTEE)


def rung_for(preset: LadderPreset, streak: int) -> Rung | None:
    fitting = [r for r in preset.rungs if r.streak <= streak]
    if not fitting:
        return None
    rung = max(fitting, key=lambda r: r.streak)
    if preset.exact_steps and rung.streak != streak:
        return None
    return rung


def lag_streaks(session: Session, month: date, mcfg: MonthlyConfig) -> dict[int, list[date]]:
    """unit → the lagging months of its current run, ending with `month` (one statement); a run
    starts at the start month at the earliest (scores stored before it was moved later do not count)."""
    start = add_months(month, -(mcfg.streak_lookback_months - 1))
    start = max(start, startmonth.start_month(session) or start)
    rows = session.execute(
        select(MonthlyScore.unit_id, MonthlyScore.month, MonthlyScore.lagging).where(
            MonthlyScore.month >= start, MonthlyScore.month <= month
        )
    )
    by_unit: dict[int, dict[date, bool]] = defaultdict(dict)
    for uid, m, lagging in rows:
        by_unit[uid][m] = bool(lagging)
    out = {}
    for uid, months in by_unit.items():
        run: list[date] = []
        m = month
        while m >= start:
            if m in months:
                if not months[m]:
                    break
                run.append(m)
            elif mcfg.gap_breaks_streak:
                break
            m = add_months(m, -1)
        if run:
            out[uid] = sorted(run)
    return out


def _insert_ignore(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = ins(Escalation).on_conflict_do_nothing(index_elements=["ladder", "subject_id", "rung", "month"])
    session.execute(stmt, rows)


def esc_key(ladder: str, subject: int, rung: int, month: date) -> str:
    return f"monthly:esc:{ladder}:{subject}:{rung}:{month:%Y-%m}"


def ack_buttons(params: dict[str, str]) -> tuple[Button, ...]:
    return (
        Button(strings.ACK_READ, action=ACK_ACTION, params={**params, "kind": "read"}),
        Button(strings.ACK_INTERVIEWED, action=ACK_ACTION, params={**params, "kind": "interviewed"}),
    )


@dataclass
class LadderReport:
    notices: int = 0
    ended: int = 0
    member_flags: int = 0


def _recipients(rung: Rung, committee_id: int | None, branch_id: int | None, units, book: RoleBook):
    """(to, cc) of a notice: the rung's roles on the committee (and the branch's secretary), copied to
    组织部 when the rung says so, and to the committee's 包保 cadres whenever it goes to the committee's
    leaders (a cadre already addressed is not added twice)."""
    to = book.on(committee_id, rung.roles) if committee_id else []
    if rung.to_branch_secretary and branch_id:
        to = sorted(set(to) | set(book.on(branch_id, (Role.SECRETARY,))))
    cc = book.org_staff_over(units[committee_id]) if rung.copy_org_staff and committee_id in units else []
    if committee_id and rung.roles:
        cc = sorted({*cc, *(p for p in book.liaisons_of(committee_id) if p not in to)})
    return to, cc


def _without_subject(
    pid: int, to: list[int], cc: list[int], committee_id: int | None, branch_id: int, book: RoleBook
) -> tuple[list[int], list[int]]:
    """Nobody is addressed by the notice about themselves: they could not 约谈 themselves, nor
    acknowledge it. When that leaves nobody, the fallback people are told instead."""
    if pid not in to and pid not in cc:
        return to, cc
    to = [p for p in to if p != pid]
    cc = [p for p in cc if p != pid]
    if not to:
        to = [p for p in book.on(branch_id, SELF_FALLBACK_BRANCH) if p != pid]
    if not to and committee_id:
        to = [p for p in book.on(committee_id, SELF_FALLBACK_COMMITTEE) if p != pid]
    return to, cc


def _unit_notice(ladder: str, s: UnitScore, run: list[date], rung: Rung, cc: bool, kinds: Kinds) -> Card:
    return unit_notice(ladder, s.name, _notice_detail(ladder, s, run, rung, cc), kinds)


def _notice_detail(ladder: str, s: UnitScore, run: list[date], rung: Rung, cc: bool) -> dict:
    """What a unit notice says, kept on its Escalation row so the card can be shown again as sent."""
    return {
        "rule": strings.rung_text(ladder, rung.streak),
        "reasons": s.lag_reasons,
        "months": [m.isoformat() for m in run],
        "missing": s.explanation.get("missing", []),
        "score": s.score,
        "group": s.peer_group,
        "rank": s.rank,
        "size": s.group_size,
        "copied": cc,
    }


def unit_notice(ladder: str, unit_name: str, detail: dict, kinds: Kinds, *, state: str = "") -> Card:
    """The card of a unit notice from its recorded detail; with `state` (who acknowledged it, when),
    the same card as updated after the press, without the request to press."""
    months = [date.fromisoformat(m) for m in detail.get("months", [])]
    missing = strings.missing_text(detail.get("missing", [])) or []
    text = strings.ESC_TEXT.format(
        rule=detail.get("rule", "") + (strings.ESC_CC if detail.get("copied") else ""),
        reason=strings.lag_reasons(detail.get("reasons", [])),
        months="、".join(strings.fmt_month(m) for m in months),
        unit=md_escape(unit_name),
        month=strings.fmt_month(months[-1]) if months else "",
        score=detail.get("score", 0),
        group=strings.group_label(detail.get("group", ""), kinds)
        + ("" if detail.get("group", "").startswith("committee") else strings.BRANCH_GROUP_SUFFIX),
        rank=detail.get("rank", ""),
        size=detail.get("size", ""),
        missing="\n".join(f"- {m}" for m in missing) or strings.NONE_MISSING,
    )
    text += "\n\n" + (state or strings.ESC_ASK)
    return Card(
        title=strings.ESC_TITLE.format(unit=unit_name, ladder=strings.LADDER_LABELS[ladder]), text=text
    )


def run_unit_ladders(
    session: Session, scores: MonthScores, *, now: datetime, mcfg: MonthlyConfig, book: RoleBook, send: bool
) -> LadderReport:
    report = LadderReport()
    month = scores.month
    streaks = lag_streaks(session, month, mcfg)
    open_rows = session.execute(
        select(
            Escalation.id, Escalation.ladder, Escalation.subject_id, Escalation.month, Escalation.detail
        ).where(
            Escalation.ladder.in_([Ladder.COMMITTEE, Ladder.BRANCH]),
            Escalation.ended_at.is_(None),
            Escalation.month < month,
        )
    ).all()
    rows, sends = [], []
    for ladder, preset, items in (
        (Ladder.COMMITTEE, mcfg.committee_ladder, scores.committees),
        (Ladder.BRANCH, mcfg.branch_ladder, scores.branches),
    ):
        for uid, s in items.items():
            run = streaks.get(uid) if s.lagging else None
            if not run:
                continue
            rung = rung_for(preset, len(run))
            if rung is None:
                continue
            to, cc = _recipients(rung, s.committee_id, None, scores.units, book)
            key = esc_key(ladder.value, uid, rung.streak, month)
            detail = {
                **_notice_detail(ladder.value, s, run, rung, bool(cc)),
                "to": to,
                "cc": cc,
                "dedup_key": key,
            }
            rows.append({"ladder": ladder, "subject_id": uid, "unit_id": uid, "rung": rung.streak, "month": month,
                         "streak": len(run), "detail": detail, "created_at": now, "updated_at": now})  # fmt: skip
            sends.append((ladder.value, s, run, rung, to, cc, key))
    _insert_ignore(session, rows)
    if send and sends:
        ids = {
            (lad, sub, r): i
            for i, lad, sub, r in session.execute(
                select(Escalation.id, Escalation.ladder, Escalation.subject_id, Escalation.rung).where(
                    Escalation.month == month, Escalation.ladder.in_([Ladder.COMMITTEE, Ladder.BRANCH])
                )
            )
        }
        notices = []
        for ladder, s, run, rung, to, cc, key in sends:
            card = _unit_notice(ladder, s, run, rung, bool(cc), mcfg.committee_kinds)
            esc_id = ids[(Ladder(ladder), s.unit_id, rung.streak)]
            card = Card(
                card.title, card.text, buttons=ack_buttons({"id": str(esc_id)}), card_key=f"esc:{esc_id}"
            )
            notices.append(outbox.Queued([*to, *cc], card, key))
        report.notices += outbox.enqueue_many(session, notices, now=now)
    # Catching up: a subject scored this month and not lagging ends its open notices.
    ended_ids, ended_by_subject = [], {}
    for esc_id, ladder, subject, _m, detail in open_rows:
        s = (scores.committees if ladder == Ladder.COMMITTEE else scores.branches).get(subject)
        if s is None or s.lagging:
            continue
        ended_ids.append(esc_id)
        ended_by_subject.setdefault((ladder, subject), []).append(detail or {})
    # A run without send (a preview, a recompute) must not end anything: the run that sends would
    # then find nothing open and never say that the escalation ended.
    if ended_ids and send:
        session.execute(
            update(Escalation).where(Escalation.id.in_(ended_ids)).values(ended_at=now, ended_month=month),
            execution_options={"synchronize_session": False},
        )
    report.ended = len(ended_by_subject)
    if not send:
        return report
    ends = []
    for (ladder, subject), details in ended_by_subject.items():
        s = (scores.committees if ladder == Ladder.COMMITTEE else scores.branches)[subject]
        people = sorted({p for d in details for p in [*d.get("to", []), *d.get("cc", [])]})
        months = sorted({m for d in details for m in d.get("months", [])})
        card = Card(
            title=strings.ESC_END_TITLE.format(unit=s.name),
            text=strings.ESC_END_TEXT.format(
                unit=md_escape(s.name),
                month=strings.fmt_month(month),
                score=s.score,
                ladder=strings.LADDER_LABELS[ladder.value],
                months="、".join(strings.fmt_month(date.fromisoformat(m)) for m in months),
            ),
        )
        ends.append(outbox.Queued(people, card, f"monthly:esc-end:{ladder.value}:{subject}:{month:%Y-%m}"))
    outbox.enqueue_many(session, ends, now=now)
    return report


# --- members (domain.md §2: rules 32–35, E14–E15; flag only) ---------------------------------------

# Attendance that is not "absent without good reason" (rule 33): present, late, or on approved leave.
GOOD_ATTENDANCE = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEAVE)


def absence_runs(
    session: Session, month: date, cfg: MeetingsConfig, *, now: datetime, watch=frozenset()
) -> dict[int, MemberRun]:
    """person → their run of months without 组织生活, ending with `month` (rules 32–33, E14a).

    A month counts when the member was expected at a held meeting (invited, or marked at it) and
    had no good reason for any of them: none attended, none on approved leave, none made up by a
    confirmed 补学. A month with no such meeting neither breaks nor extends the run, so the run goes
    back to the member's last good month however long ago that was: the last good meeting is found
    over all history in SQL, and only the meetings after it come back. Held is the one definition
    the score and the digest use (handlers.meetings.minutes: not cancelled, not ordered reconvened,
    minutes recorded or not yet due): a meeting that did not count was missed by nobody. Attending
    any meeting that took place is good, though: the member came. Members exempt from
    organisational life, or no longer active, are not watched.

    Only members expected (or present) this month are returned, and of those who had a good month
    only the ones in `watch` (person ids, or a SELECT of them: those with open notices), with 0
    months: they caught up. Both are chosen in SQL, so only they and their missed meetings come
    back. Months before the start month (models.startmonth) are not counted: nobody used zhibu then.
    Two statements (the start month, then the runs); on PostgreSQL two more turn JIT off and back.
    """
    since = startmonth.start_month(session)
    lo, hi = month_bounds_utc(month, cfg)
    cut = min(hi, now)
    took_place = (Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at < cut)
    counted = (meeting_counts(), held_condition(now, cfg), Meeting.starts_at < cut)
    this_month = Meeting.starts_at >= lo
    # Who the ladder can act on, from this month's rows only: members who missed a meeting that
    # counted and had no good reason this month (a run ending with `month`), and watched members
    # who had one (they caught up). Only their history is read: a city's is every invited
    # member's meetings since the start.
    missed = union(
        select(Invitee.person_id.label("pid"))
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, this_month),
        select(Attendance.person_id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, Attendance.status == AttendanceStatus.ABSENT, this_month),
    ).subquery()
    good_now = union(*_good_events(took_place, since=lo)).subquery()
    # EXCEPT, not NOT IN: PostgreSQL probes a NOT IN list too large to hash once per row.
    behind = except_(select(missed.c.pid), select(good_now.c.pid)).subquery()
    # The watched who had a good reason this month and were expected (or marked): a few people with
    # open notices, each looked up by index.
    came = select(Person.id).where(
        Person.id.in_(watch),
        or_(*(q.exists() for q in _good_events(took_place, since=lo, of=Person.id))),
        or_(
            select(Invitee.id)
            .join(Meeting, Meeting.id == Invitee.meeting_id)
            .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
            .where(*counted, this_month, Invitee.person_id == Person.id)
            .exists(),
            # Attendance too: a marked member was expected, and rows imported without invitees still count.
            select(Attendance.id)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(*took_place, this_month, Attendance.person_id == Person.id)
            .exists(),
        ),
    )
    affected = union(select(behind.c.pid), came).cte("affected")
    in_affected = select(affected.c.pid)
    good_events = union_all(*_good_events(took_place, people=in_affected)).subquery()
    good = (
        select(good_events.c.pid, func.max(good_events.c.at).label("last_good"))
        .group_by(good_events.c.pid)
        .cte("good")
    )
    # Every expected meeting after the last good one is, by that, missed without good reason.
    expected = union_all(
        select(Invitee.person_id.label("pid"), Meeting.starts_at.label("at"))
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, Invitee.person_id.in_(in_affected)),
        select(Attendance.person_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(*counted, Attendance.status == AttendanceStatus.ABSENT, Attendance.person_id.in_(in_affected)),
    ).subquery()
    stmt = (
        select(affected.c.pid, Person.name, Person.branch_id, good.c.last_good, expected.c.at)
        .select_from(affected)
        .join(Person, Person.id == affected.c.pid)
        .outerjoin(good, good.c.pid == affected.c.pid)
        .outerjoin(
            expected,
            and_(
                expected.c.pid == affected.c.pid,
                or_(good.c.last_good.is_(None), expected.c.at > good.c.last_good),
            ),
        )
        .where(
            Person.active.is_(True), Person.attendance_exempt_reason.is_(None), Person.branch_id.is_not(None)
        )
    )
    with _without_jit(session):
        rows = session.execute(stmt).all()
    tz = cfg.tz
    state: dict[int, tuple[str, int, date | None, set[date]]] = {}
    for pid, name, branch_id, last_good, at in rows:
        if pid not in state:
            good_month = month_start(last_good.astimezone(tz).date()) if last_good is not None else None
            state[pid] = (name, branch_id, good_month, set())
        if at is not None:
            state[pid][3].add(month_start(at.astimezone(tz).date()))
    out = {}
    for pid, (name, branch_id, good_month, missed) in state.items():
        if good_month is not None and good_month >= month:  # watched (SQL chose them): caught up
            out[pid] = MemberRun(0, name, branch_id, None)
            continue
        if month not in missed:
            continue
        run = sorted(m for m in missed - {good_month} if since is None or m >= since)
        if not run:
            continue
        out[pid] = MemberRun(len(run), name, branch_id, run[0], run)
    return out


@contextmanager
def _without_jit(session: Session):
    """PostgreSQL without JIT compilation for one statement, then as it was. The planner's row
    estimates for the absences' unions overshoot by a thousandfold, so it compiles and optimises
    the plan (5.5 s of 7.4 s at city scale) for a query that runs in under two seconds."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.execute(text("SELECT current_setting('jit'), set_config('jit', 'off', true)")).first()[0]
    yield
    # Restored on success only: the setting is local to the transaction, so a failed statement's
    # rollback undoes it anyway, and a statement sent on the aborted transaction would replace the
    # real error with "current transaction is aborted".
    session.execute(text("SELECT set_config('jit', :v, true)"), {"v": before})


def _good_events(took_place, *, since: datetime | None = None, people=None, of=None) -> list:
    """(pid, at) of the good reasons (rule 33) at meetings that took place: attended, approved leave,
    confirmed 补学; at meetings from `since` on, of `people` (a SELECT of person ids), or of the
    person `of` (a column, for a correlated EXISTS)."""
    out = []
    for table, good in (
        (Attendance, Attendance.status.in_(GOOD_ATTENDANCE)),
        (LeaveRequest, LeaveRequest.status == LeaveStatus.APPROVED),
        (MakeupTask, MakeupTask.status == MakeupStatus.CONFIRMED),
    ):
        stmt = select(table.person_id.label("pid"), Meeting.starts_at.label("at"))
        stmt = stmt.join(Meeting, Meeting.id == table.meeting_id).where(good, *took_place)
        if since is not None:
            stmt = stmt.where(Meeting.starts_at >= since)
        if people is not None:
            stmt = stmt.where(table.person_id.in_(people))
        if of is not None:
            stmt = stmt.where(table.person_id == of)
        out.append(stmt)
    return out


MEMBER_LADDERS = (Ladder.MEMBER_ABSENCE, Ladder.MEMBER_FEES, Ladder.MEMBER_WORK, Ladder.MEMBER_LOST_CONTACT)
# The three conditions of 党章第九条, each counted on its own and notified at the preset's steps.
ARTICLE9_LADDERS = (Ladder.MEMBER_ABSENCE, Ladder.MEMBER_FEES, Ladder.MEMBER_WORK)


def _member_line(ladder: Ladder, run: MemberRun, step: int, month: date) -> str:
    name = md_escape(run.name)
    if ladder == Ladder.MEMBER_LOST_CONTACT:
        return strings.LOST_LINE.format(
            name=name, since=strings.fmt_month(run.first), n=run.n, note=md_escape(run.note)
        )
    step_text = strings.rung_text("member", step)
    gaps = run.months and len(run.months) != months_between(run.first, month) + 1
    if gaps:
        line = strings.MEMBER_LINE_GAPS.format(
            name=name, n=run.n, since=strings.fmt_month(run.first), months=strings.fmt_months(run.months),
            step=step_text,
        )  # fmt: skip
    else:
        line = strings.MEMBER_LINE.format(
            name=name, n=run.n, since=strings.fmt_month(run.first), step=step_text
        )
    if ladder == Ladder.MEMBER_WORK and run.note:
        line += strings.MEMBER_WORK_REASON.format(reason=md_escape(run.note))
    return line


def member_notice(
    ladder: Ladder,
    branch_name: str,
    month: date,
    items: list[tuple[MemberRun, int]],
    top_step: int,
    *,
    state: str = "",
) -> Card:
    """The card of a branch's member notices of one ladder and month: (run, step) per member; with
    `state`, the same card as updated after 已阅 / 已约谈."""
    lines = "\n".join(
        _member_line(ladder, run, step, month)
        for run, step in sorted(items, key=lambda x: (-x[0].n, x[0].name))
    )
    if ladder == Ladder.MEMBER_LOST_CONTACT:
        article = strings.LOST_RULE
    else:
        article = strings.MEMBER_ARTICLE9 if any(step == top_step for _, step in items) else ""
    return Card(
        title=strings.MEMBER_TITLE.format(
            branch=branch_name, ladder=strings.LADDER_LABELS[ladder.value], month=strings.fmt_month(month)
        ),
        text=strings.MEMBER_TEXT.format(lines=lines, article9=article)
        + "\n\n"
        + (state or strings.MEMBER_ASK),
    )


def member_run(esc_detail: dict, branch_id: int) -> MemberRun:
    """A member's run as its notice recorded it (Escalation.detail), to show the notice again."""
    d = esc_detail
    since = date.fromisoformat(d["since"]) if d.get("since") else None
    counted = [date.fromisoformat(m) for m in d.get("counted", [])]
    return MemberRun(int(d.get("months", 0)), d.get("name", ""), branch_id, since, counted, d.get("note", ""))


def run_member_ladders(
    session: Session,
    scores: MonthScores,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    book: RoleBook,
    send: bool,
) -> LadderReport:
    """Flag members at the steps of the member ladder (rules 32–35, E14–E15: flag only, people decide).

    Four counters, each with its own run and notices: months without 组织生活 (absence_runs),
    unpaid months (handlers.fees.arrears.arrears_counts), months the branch recorded the assigned
    work as not done (watch.work_runs), each at the preset's steps (1/3/5/6, the last worded as a
    党章第九条 case for the 支部大会); and members the branch recorded as out of contact for six
    months (watch.lost_contact_runs), listed once per episode as 停止党籍 candidates (E15). One card
    per branch and ladder lists the month's members; a member who caught up ends their open
    notices, and the people those notices went to are told once.
    """
    report = LadderReport()
    month = scores.month
    open_rows = session.execute(
        select(Escalation.id, Escalation.ladder, Escalation.subject_id, Escalation.unit_id, Escalation.month,
               Escalation.detail)
        .where(Escalation.ladder.in_(MEMBER_LADDERS), Escalation.ended_at.is_(None), Escalation.month < month)
    ).all()  # fmt: skip
    # Exact steps (1/3/5/6) act on no run longer than the last step, but for members with open
    # notices, whose catching up must be seen: so runs longer than that stay in SQL.
    longest = max(r.streak for r in mcfg.member_ladder.rungs) if mcfg.member_ladder.exact_steps else None
    counts: dict[Ladder, dict[int, MemberRun]] = {
        Ladder.MEMBER_ABSENCE: absence_runs(
            session, month, cfg, now=now, watch=_open_subjects(Ladder.MEMBER_ABSENCE, month)
        ),
        Ladder.MEMBER_FEES: {
            a.person_id: MemberRun(a.months, a.name, a.branch_id, a.first_month)
            for a in arrears_counts(
                session,
                month,
                tz=cfg.tz,
                default=mcfg.fees,
                longest=longest,
                keep=_open_subjects(Ladder.MEMBER_FEES, month),
            ).values()  # fmt: skip
        },
        Ladder.MEMBER_WORK: work_runs(session, month),
        Ladder.MEMBER_LOST_CONTACT: lost_contact_runs(session, month),
    }
    listed_lost = {r.subject_id for r in open_rows if r.ladder == Ladder.MEMBER_LOST_CONTACT}
    top = max(mcfg.member_ladder.rungs, key=lambda r: r.streak)
    rows = []
    cards: dict[tuple[Ladder, int], list[tuple[MemberRun, Rung]]] = defaultdict(list)
    recipients: dict[tuple[Ladder, int], set[int]] = defaultdict(set)
    for ladder, by_person in counts.items():
        for pid, run in by_person.items():
            if ladder == Ladder.MEMBER_LOST_CONTACT:
                # Listed once per episode, at six months or more (a record may start long ago),
                # to the people of the ladder's top step; it stays open until contact is restored.
                if run.n < LOST_CONTACT_MONTHS or pid in listed_lost:
                    continue
                rung = Rung(LOST_CONTACT_MONTHS, top.roles, top.copy_org_staff, top.to_branch_secretary)
                rule = strings.LADDER_LABELS[ladder.value]
            else:
                rung = rung_for(mcfg.member_ladder, run.n)
                if rung is None:
                    continue
                rule = strings.rung_text("member", rung.streak)
            s = scores.branches.get(run.branch_id)
            if s is None:
                continue
            to, cc = _recipients(rung, s.committee_id, run.branch_id, scores.units, book)
            to, cc = _without_subject(pid, to, cc, s.committee_id, run.branch_id, book)
            # "to" holds everyone this member's line was sent to: only they may acknowledge it.
            detail = {"name": run.name, "months": run.n, "since": run.first.isoformat(), "to": sorted({*to, *cc}),
                      "rule": rule}  # fmt: skip
            if run.months:
                detail["counted"] = [m.isoformat() for m in run.months]
            if run.note:
                detail["note"] = run.note
            rows.append({"ladder": ladder, "subject_id": pid, "unit_id": run.branch_id, "rung": rung.streak,
                         "month": month, "streak": run.n, "created_at": now, "updated_at": now,
                         "detail": detail})  # fmt: skip
            cards[(ladder, run.branch_id)].append((run, rung))
            recipients[(ladder, run.branch_id)].update(to, cc)
    _insert_ignore(session, rows)
    report.member_flags = len(rows)
    ended = _end_member_runs(session, open_rows, counts, month=month, now=now, record=send)
    report.ended = sum(len(v) for v in ended.values())
    if not send:
        return report
    notices, ends = [], []
    for (ladder, branch_id), items in cards.items():
        s = scores.branches[branch_id]
        key = f"monthly:member:{ladder.value}:{branch_id}:{month:%Y-%m}"
        card = member_notice(ladder, s.name, month, [(run, rung.streak) for run, rung in items], top.streak)
        card = Card(
            title=card.title,
            text=card.text,
            buttons=ack_buttons(
                {"ladder": ladder.value, "branch": str(branch_id), "month": f"{month:%Y-%m}"}
            ),
            card_key=f"esc-member:{ladder.value}:{branch_id}:{month:%Y-%m}",
        )
        notices.append(outbox.Queued(recipients[(ladder, branch_id)], card, key))
    for (ladder, branch_id), items in ended.items():
        s = scores.branches.get(branch_id)
        people = sorted({p for _name, _months, to in items for p in to})
        if s is None or not people:
            continue
        lines = "\n".join(
            strings.MEMBER_END_LINE.format(
                name=md_escape(name), months="、".join(strings.fmt_month(m) for m in months)
            )
            for name, months, _to in sorted(items)
        )
        card = Card(
            title=strings.MEMBER_END_TITLE.format(
                branch=s.name, ladder=strings.LADDER_LABELS[ladder.value], month=strings.fmt_month(month)
            ),
            text=strings.MEMBER_END_TEXT[ladder.value].format(month=strings.fmt_month(month), lines=lines),
        )
        ends.append(
            outbox.Queued(people, card, f"monthly:member-end:{ladder.value}:{branch_id}:{month:%Y-%m}")
        )
    report.notices += outbox.enqueue_many(session, notices, now=now)
    outbox.enqueue_many(session, ends, now=now)
    return report


def _open_subjects(ladder: Ladder, month: date):
    """The members with notices of `ladder` still open from before `month` (a SELECT, for SQL)."""
    return select(Escalation.subject_id).where(
        Escalation.ladder == ladder, Escalation.ended_at.is_(None), Escalation.month < month
    )


def _end_member_runs(session: Session, open_rows, counts, *, month: date, now: datetime, record: bool):
    """End the open member notices of everyone who caught up this month (only counted unless `record`:
    see run_unit_ladders).

    Caught up: for absences, attended something (or had good reason) this month — a month without
    meetings neither ends nor extends a run; for fees, no unpaid run ends with this month (paid,
    免交, or left the roster); for the assigned work, no record for this month; for lost contact,
    the record was closed (contact restored, or withdrawn). Returns (ladder, branch) → [(name,
    months of the notices, their recipients)].
    """
    by_subject: dict[tuple[Ladder, int], list] = defaultdict(list)
    for r in open_rows:
        ladder = Ladder(r.ladder)
        current = counts[ladder].get(r.subject_id)
        caught_up = current.n == 0 if ladder == Ladder.MEMBER_ABSENCE and current is not None else (
            current is None and ladder != Ladder.MEMBER_ABSENCE
        )  # fmt: skip
        if caught_up:
            by_subject[(ladder, r.subject_id)].append(r)
    if not by_subject:
        return {}
    if record:
        session.execute(
            update(Escalation)
            .where(Escalation.id.in_([r.id for rs in by_subject.values() for r in rs]))
            .values(ended_at=now, ended_month=month),
            execution_options={"synchronize_session": False},
        )
    out: dict[tuple[Ladder, int], list] = defaultdict(list)
    for (ladder, _pid), rs in by_subject.items():
        latest = max(rs, key=lambda r: r.month)
        detail = latest.detail or {}
        to = sorted({p for r in rs for p in (r.detail or {}).get("to", [])})
        out[(ladder, latest.unit_id)].append((detail.get("name", ""), sorted({r.month for r in rs}), to))
    return dict(out)
