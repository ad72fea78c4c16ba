"""The escalation ladders: one mechanism, presets for committees, branches and members.

A notice is a row keyed (ladder, subject, rung, month), inserted with ON CONFLICT DO NOTHING, and an
outbox message whose dedup key is the same key: a rerun, a restart or a second scheduler sends
nothing twice. Catching up ends the open notices of a subject and says so once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, md_escape
from handlers.fees.feeday import add_months
from handlers.fees.service import arrears_counts
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.types import MeetingsConfig
from handlers.monthly import strings
from handlers.monthly.config import LadderPreset, MonthlyConfig, Rung
from handlers.monthly.recipients import RoleBook
from handlers.monthly.scoring import MonthScores, UnitScore
from models.meetings import Attendance, AttendanceStatus, Meeting, MeetingStatus
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
    """unit → the lagging months of its current run, ending with `month` (one statement)."""
    start = add_months(month, -(mcfg.streak_lookback_months - 1))
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
    to = book.on(committee_id, rung.roles) if committee_id else []
    if rung.to_branch_secretary and branch_id:
        to = sorted(set(to) | set(book.on(branch_id, (Role.SECRETARY,))))
    cc = book.org_staff_over(units[committee_id]) if rung.copy_org_staff and committee_id in units else []
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


def _unit_notice(ladder: str, s: UnitScore, run: list[date], rung: Rung, cc: bool) -> Card:
    exp = s.explanation
    missing = strings.missing_text(exp.get("missing", [])) or []
    rule = strings.rung_text(ladder, rung.streak)
    text = strings.ESC_TEXT.format(
        rule=rule + (strings.ESC_CC if cc else ""),
        reason=strings.lag_reasons(s.lag_reasons),
        months="、".join(strings.fmt_month(m) for m in run),
        unit=md_escape(s.name),
        month=strings.fmt_month(run[-1]),
        score=s.score,
        group=strings.group_label(s.peer_group),
        rank=s.rank,
        size=s.group_size,
        missing="\n".join(f"- {m}" for m in missing) or strings.NONE_MISSING,
    )
    return Card(title=strings.ESC_TITLE.format(unit=s.name, ladder=strings.LADDER_LABELS[ladder]), text=text)


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
                "rule": strings.rung_text(ladder.value, rung.streak),
                "reasons": s.lag_reasons,
                "months": [m.isoformat() for m in run],
                "missing": s.explanation.get("missing", []),
                "score": s.score,
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
            card = _unit_notice(ladder, s, run, rung, bool(cc))
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


# --- members (rule E14: flag only) ----------------------------------------------------------------


def absence_month_runs(
    session: Session, month: date, mcfg: MonthlyConfig, cfg: MeetingsConfig, watch: set[int] = frozenset()
) -> dict[int, tuple[int, str, int, date | None]]:
    """person → (consecutive months, name, branch, first month of the run): months, ending with
    `month`, in which they attended nothing and missed something.

    A month with no meeting for the person neither counts nor breaks the run; any attendance or
    approved leave breaks it. The people in `watch` (those with open notices) who attended something
    this month come back with 0 months: they caught up. One statement over the look-back window.
    """
    months = [add_months(month, -i) for i in range(mcfg.member_lookback_months)]
    lo, _ = month_bounds_utc(months[-1], cfg)
    _, hi = month_bounds_utc(month, cfg)
    rows = session.execute(
        select(Attendance.person_id, Attendance.status, Meeting.starts_at, Person.name, Person.branch_id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Person, Person.id == Attendance.person_id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at >= lo, Meeting.starts_at < hi)
    )
    state: dict[int, dict[date, bool]] = defaultdict(dict)  # month → attended anything
    who: dict[int, tuple[str, int]] = {}
    for pid, status, starts_at, name, branch_id in rows:
        who[pid] = (name, branch_id)
        m = starts_at.astimezone(cfg.tz).date().replace(day=1)
        attended = AttendanceStatus(status) != AttendanceStatus.ABSENT
        state[pid][m] = state[pid].get(m, False) or attended
    out = {}
    for pid, by_month in state.items():
        this = by_month.get(month)
        if this is None:
            continue
        if this:
            if pid in watch:
                out[pid] = (0, *who[pid], None)
            continue
        n, first = 0, month
        for m in months:
            if m not in by_month:
                continue
            if by_month[m]:
                break
            n, first = n + 1, m
        out[pid] = (n, *who[pid], first)
    return out


MEMBER_LADDERS = (Ladder.MEMBER_ABSENCE, Ladder.MEMBER_FEES)


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
    """Flag members at the steps of the member ladder (rule E14: flag only, people decide).

    The counts come from the features that own them: absences from the attendance records and
    unpaid months from handlers.fees.service.arrears_counts. One card per branch and ladder lists
    the month's members; a member who caught up ends their open notices, and the people those
    notices went to are told once.
    """
    report = LadderReport()
    month = scores.month
    open_rows = session.execute(
        select(Escalation.id, Escalation.ladder, Escalation.subject_id, Escalation.unit_id, Escalation.month,
               Escalation.detail)
        .where(Escalation.ladder.in_(MEMBER_LADDERS), Escalation.ended_at.is_(None), Escalation.month < month)
    ).all()  # fmt: skip
    watch = {r.subject_id for r in open_rows if r.ladder == Ladder.MEMBER_ABSENCE}
    counts = {
        Ladder.MEMBER_ABSENCE: absence_month_runs(session, month, mcfg, cfg, watch),
        Ladder.MEMBER_FEES: {
            a.person_id: (a.months, a.name, a.branch_id, a.first_month)
            for a in arrears_counts(session, month).values()
        },
    }
    rows = []
    cards: dict[tuple[Ladder, int], list[tuple[str, int, Rung, date]]] = defaultdict(list)
    recipients: dict[tuple[Ladder, int], set[int]] = defaultdict(set)
    for ladder, by_person in counts.items():
        for pid, (n, name, branch_id, first) in by_person.items():
            rung = rung_for(mcfg.member_ladder, n)
            if rung is None:
                continue
            s = scores.branches.get(branch_id)
            if s is None:
                continue
            to, cc = _recipients(rung, s.committee_id, branch_id, scores.units, book)
            to, cc = _without_subject(pid, to, cc, s.committee_id, branch_id, book)
            # "to" holds everyone this member's line was sent to: only they may acknowledge it.
            rows.append({"ladder": ladder, "subject_id": pid, "unit_id": branch_id, "rung": rung.streak,
                         "month": month, "streak": n, "created_at": now, "updated_at": now,
                         "detail": {"name": name, "months": n, "since": first.isoformat(), "to": sorted({*to, *cc}),
                                    "rule": strings.rung_text("member", rung.streak)}})  # fmt: skip
            cards[(ladder, branch_id)].append((name, n, rung, first))
            recipients[(ladder, branch_id)].update(to, cc)
    _insert_ignore(session, rows)
    report.member_flags = len(rows)
    ended = _end_member_runs(session, open_rows, counts, month=month, now=now, record=send)
    report.ended = sum(len(v) for v in ended.values())
    if not send:
        return report
    notices, ends = [], []
    for (ladder, branch_id), items in cards.items():
        s = scores.branches[branch_id]
        lines = "\n".join(
            strings.MEMBER_LINE.format(
                name=md_escape(name),
                n=n,
                since=strings.fmt_month(first),
                step=strings.rung_text("member", rung.streak),
            )
            for name, n, rung, first in sorted(items, key=lambda x: (-x[1], x[0]))
        )
        top = max(r.streak for r in mcfg.member_ladder.rungs)
        article9 = strings.MEMBER_ARTICLE9 if any(r.streak == top for _, _, r, _ in items) else ""
        key = f"monthly:member:{ladder.value}:{branch_id}:{month:%Y-%m}"
        card = Card(
            title=strings.MEMBER_TITLE.format(
                branch=s.name, ladder=strings.LADDER_LABELS[ladder.value], month=strings.fmt_month(month)
            ),
            text=strings.MEMBER_TEXT.format(lines=lines, article9=article9),
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


def _end_member_runs(session: Session, open_rows, counts, *, month: date, now: datetime, record: bool):
    """End the open member notices of everyone who caught up this month (only counted unless `record`:
    see run_unit_ladders).

    Caught up: for fees, no unpaid run ends with this month (paid, 免交, or left the roster); for
    absences, attended something this month (a month without meetings neither ends nor extends a
    run). Returns (ladder, branch) → [(name, months of the notices, their recipients)].
    """
    by_subject: dict[tuple[Ladder, int], list] = defaultdict(list)
    for r in open_rows:
        ladder = Ladder(r.ladder)
        current = counts[ladder].get(r.subject_id)
        caught_up = (
            current is None if ladder == Ladder.MEMBER_FEES else (current is not None and current[0] == 0)
        )
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
