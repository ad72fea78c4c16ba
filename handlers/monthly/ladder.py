"""The escalation ladders: one mechanism, presets for committees, branches and members.

A notice is a row keyed (ladder, subject, rung, month), inserted with ON CONFLICT DO NOTHING, and an
outbox message whose dedup key is the same key: a rerun, a restart or a second scheduler sends
nothing twice. Catching up ends the open notices of a subject and says so once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card
from handlers.fees.feeday import add_months
from handlers.fees.service import COUNTS_AS_PAID, PolicyBook, local_month
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.types import MeetingsConfig
from handlers.monthly import strings
from handlers.monthly.config import LadderPreset, MonthlyConfig, Rung
from handlers.monthly.recipients import RoleBook
from handlers.monthly.scoring import MonthScores, UnitScore
from models.fees import FeeExemption, FeePayment
from models.meetings import Attendance, AttendanceStatus, Meeting, MeetingStatus
from models.monthly import Escalation, Ladder, MonthlyScore
from models.org import Person, Role

ACK_ACTION = "monthly.ack"


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


def _unit_notice(ladder: str, s: UnitScore, run: list[date], rung: Rung, cc: bool) -> Card:
    exp = s.explanation
    missing = strings.missing_text(exp.get("missing", [])) or []
    rule = strings.rung_text(ladder, rung.streak)
    text = strings.ESC_TEXT.format(
        rule=rule + (strings.ESC_CC if cc else ""),
        reason=strings.lag_reasons(s.lag_reasons),
        months="、".join(strings.fmt_month(m) for m in run),
        unit=s.name,
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
        for ladder, s, run, rung, to, cc, key in sends:
            card = _unit_notice(ladder, s, run, rung, bool(cc))
            esc_id = ids[(Ladder(ladder), s.unit_id, rung.streak)]
            card = Card(
                card.title, card.text, buttons=ack_buttons({"id": str(esc_id)}), card_key=f"esc:{esc_id}"
            )
            report.notices += outbox.enqueue_to_people(session, [*to, *cc], card, dedup_key=key, now=now)
    # Catching up: a subject scored this month and not lagging ends its open notices.
    ended_ids, ended_by_subject = [], {}
    for esc_id, ladder, subject, _m, detail in open_rows:
        s = (scores.committees if ladder == Ladder.COMMITTEE else scores.branches).get(subject)
        if s is None or s.lagging:
            continue
        ended_ids.append(esc_id)
        ended_by_subject.setdefault((ladder, subject), []).append(detail or {})
    if ended_ids:
        session.execute(
            update(Escalation).where(Escalation.id.in_(ended_ids)).values(ended_at=now, ended_month=month),
            execution_options={"synchronize_session": False},
        )
    for (ladder, subject), details in ended_by_subject.items():
        report.ended += 1
        if not send:
            continue
        s = (scores.committees if ladder == Ladder.COMMITTEE else scores.branches)[subject]
        people = sorted({p for d in details for p in [*d.get("to", []), *d.get("cc", [])]})
        months = sorted({m for d in details for m in d.get("months", [])})
        card = Card(
            title=strings.ESC_END_TITLE.format(unit=s.name),
            text=strings.ESC_END_TEXT.format(
                unit=s.name,
                month=strings.fmt_month(month),
                score=s.score,
                ladder=strings.LADDER_LABELS[ladder.value],
                months="、".join(strings.fmt_month(date.fromisoformat(m)) for m in months),
            ),
        )
        outbox.enqueue_to_people(
            session,
            people,
            card,
            dedup_key=f"monthly:esc-end:{ladder.value}:{subject}:{month:%Y-%m}",
            now=now,
        )
    return report


# --- members (rule E14: flag only) ----------------------------------------------------------------


def absence_month_runs(
    session: Session, month: date, mcfg: MonthlyConfig, cfg: MeetingsConfig
) -> dict[int, tuple[int, str, int]]:
    """person → (consecutive months, name, branch): months, ending with `month`, in which they attended nothing and missed something.

    A month with no meeting for the person neither counts nor breaks the run; any attendance or
    approved leave breaks it. One statement over the look-back window.
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
        if by_month.get(month) is not False:
            continue
        n = 0
        for m in months:
            if m not in by_month:
                continue
            if by_month[m]:
                break
            n += 1
        out[pid] = (n, *who[pid])
    return out


def unpaid_month_runs(
    session: Session, month: date, units, cfg: MeetingsConfig
) -> dict[int, tuple[int, str, int]]:
    """person → (consecutive unpaid months ending with `month`, name, branch), for members unpaid this month.

    The rule of handlers.fees.service.arrears_counts (which it is tested against), but the members
    who paid this month are left out in SQL and each remaining member's last paid and last 免交 month
    come with them, so a city costs one statement and a loop over the unpaid only.
    """
    paid = exists().where(
        FeePayment.person_id == Person.id, FeePayment.month == month, FeePayment.status.in_(COUNTS_AS_PAID)
    )
    last_paid = (
        select(func.max(FeePayment.month))
        .where(
            FeePayment.person_id == Person.id,
            FeePayment.status.in_(COUNTS_AS_PAID),
            FeePayment.month <= month,
        )
        .scalar_subquery()
    )
    last_exempt_end = (
        select(func.max(func.coalesce(FeeExemption.to_month, month)))
        .where(
            FeeExemption.person_id == Person.id, FeeExemption.amount <= 0, FeeExemption.from_month <= month
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Person.id, Person.name, Person.branch_id, Person.created_at, Person.joined_on, last_paid,
               last_exempt_end)
        .where(Person.active.is_(True), Person.branch_id.is_not(None), ~paid)
    )  # fmt: skip
    book = PolicyBook(session, [])
    policies: dict[int, date | None] = {}
    out = {}
    for pid, name, branch_id, created_at, joined_on, paid_until, exempt_until in rows:
        if branch_id not in policies:
            unit = units.get(branch_id)
            policies[branch_id] = book.policy(unit.ancestors() if unit else [branch_id]).tracking_start
        tracking = policies[branch_id]
        start = tracking.replace(day=1) if tracking else (local_month(created_at) if created_at else month)
        if joined_on is not None:
            start = max(start, joined_on.replace(day=1))
        if paid_until is not None:
            start = max(start, add_months(paid_until, 1))
        if exempt_until is not None:
            start = max(start, add_months(min(exempt_until, month), 1))
        n = (month.year - start.year) * 12 + month.month - start.month + 1
        if n > 0:
            out[pid] = (n, name, branch_id)
    return out


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
    report = LadderReport()
    month = scores.month
    counts = {
        Ladder.MEMBER_ABSENCE: absence_month_runs(session, month, mcfg, cfg),
        Ladder.MEMBER_FEES: unpaid_month_runs(session, month, scores.units, cfg),
    }
    rows = []
    cards: dict[tuple[Ladder, int], list[tuple[str, int, Rung]]] = defaultdict(list)
    for ladder, by_person in counts.items():
        for pid, (n, name, branch_id) in by_person.items():
            rung = rung_for(mcfg.member_ladder, n)
            if rung is None:
                continue
            if branch_id not in scores.branches:
                continue
            rows.append({"ladder": ladder, "subject_id": pid, "unit_id": branch_id, "rung": rung.streak,
                         "month": month, "streak": n, "created_at": now, "updated_at": now,
                         "detail": {"name": name, "months": n,
                                    "rule": strings.rung_text("member", rung.streak)}})  # fmt: skip
            cards[(ladder, branch_id)].append((name, n, rung))
    _insert_ignore(session, rows)
    report.member_flags = len(rows)
    if not send:
        return report
    for (ladder, branch_id), items in cards.items():
        s = scores.branches[branch_id]
        to: set[int] = set()
        for _name, _n, rung in items:
            a, b = _recipients(rung, s.committee_id, branch_id, scores.units, book)
            to.update(a)
            to.update(b)
        lines = "\n".join(
            strings.MEMBER_LINE.format(name=name, n=n, step=strings.rung_text("member", rung.streak))
            for name, n, rung in sorted(items, key=lambda x: (-x[1], x[0]))
        )
        key = f"monthly:member:{ladder.value}:{branch_id}:{month:%Y-%m}"
        card = Card(
            title=strings.MEMBER_TITLE.format(
                branch=s.name, ladder=strings.LADDER_LABELS[ladder.value], month=strings.fmt_month(month)
            ),
            text=strings.MEMBER_TEXT.format(lines=lines),
            buttons=ack_buttons(
                {"ladder": ladder.value, "branch": str(branch_id), "month": f"{month:%Y-%m}"}
            ),
            card_key=f"esc-member:{ladder.value}:{branch_id}:{month:%Y-%m}",
        )
        report.notices += outbox.enqueue_to_people(session, sorted(to), card, dedup_key=key, now=now)
    return report
