"""QR sign-in: signed tokens bound to one meeting and a time, the sign-in use case, 代签, the live
attendance list, and closing the window (absent / on leave).

Tokens come from the one signer (bot.core.signing), one purpose for the sign-in QR and another for the
projector's link, so neither is ever accepted as the other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Dialect, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, Text
from bot.core.signing import BadToken, ExpiredToken, TokenSigner
from handlers.common.roles import people_with_roles
from handlers.meetings import strings
from handlers.meetings.makeup import create_makeup_tasks, withdraw_makeup
from handlers.meetings.meetings import (
    ACTION_MINUTES,
    ACTION_SIGNIN_CODE,
    get_managed_meeting,
    invitees_by_meeting,
    signin_window,
)
from handlers.meetings.types import PRESENT_STATUSES, MeetingsConfig, Refused
from models.base import UTCDateTime
from models.meetings import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Invitee,
    LeaveRequest,
    LeaveStatus,
    Meeting,
    MeetingStatus,
    SigninAttempt,
    SigninOutcome,
)
from models.org import Person

SIGNIN = "meetings.signin"
PROJECTOR = "meetings.projector"
H5_PREFIX = "/h5/meetings"


def make_token(secret: str, meeting_id: int, expires_at: datetime, purpose: str = SIGNIN) -> str:
    return TokenSigner(secret, purpose).sign(meeting_id, expires_at=expires_at)


def check_token(
    secret: str, token: str, meeting_id: int, now: datetime, *, grace: timedelta, purpose: str = SIGNIN
) -> SigninOutcome:
    """OK, or FORGED (malformed / bad signature), OTHER_MEETING (signed for another one), EXPIRED."""
    try:
        signed_for = TokenSigner(secret, purpose).unsign(token, now=now, grace=grace)
    except ExpiredToken as exc:
        return SigninOutcome.OTHER_MEETING if exc.subject != meeting_id else SigninOutcome.EXPIRED
    except BadToken:
        return SigninOutcome.FORGED
    return SigninOutcome.OK if signed_for == meeting_id else SigninOutcome.OTHER_MEETING


def chat_token_expiry(meeting: Meeting, now: datetime, cfg: MeetingsConfig) -> datetime:
    """The code sent in chat lasts cfg.chat_code_valid from when it is asked (from the window's opening
    when asked before it), never past the window's close."""
    opens, closes = signin_window(meeting, cfg)
    return min(closes, max(now, opens) + cfg.chat_code_valid)


def chat_token(secret: str, meeting: Meeting, now: datetime, cfg: MeetingsConfig) -> str:
    return make_token(secret, meeting.id, chat_token_expiry(meeting, now, cfg))


def projector_token(secret: str, meeting: Meeting, now: datetime, cfg: MeetingsConfig) -> str:
    return make_token(secret, meeting.id, now + timedelta(seconds=cfg.qr_refresh_seconds))


def signin_url(base_url: str, meeting_id: int, token: str) -> str:
    return f"{base_url.rstrip('/')}{H5_PREFIX}/{meeting_id}/signin?t={quote(token)}"


def qr_image_url(base_url: str, meeting_id: int, token: str) -> str:
    return f"{base_url.rstrip('/')}{H5_PREFIX}/{meeting_id}/qr.png?t={quote(token)}"


def projector_url(base_url: str, secret: str, meeting: Meeting, cfg: MeetingsConfig) -> str:
    key = make_token(secret, meeting.id, signin_window(meeting, cfg)[1], PROJECTOR)
    return f"{base_url.rstrip('/')}{H5_PREFIX}/{meeting.id}/projector?k={quote(key)}"


@dataclass(frozen=True)
class ScanMeeting:
    """What a scan reads of the meeting (signin_window takes it as it takes a Meeting)."""

    id: int
    title: str
    starts_at: datetime
    status: MeetingStatus
    closed_at: datetime | None


@dataclass(frozen=True)
class ScanPerson:
    """Who scanned: their name, for the page."""

    id: int
    name: str


@dataclass(frozen=True)
class SigninResult:
    outcome: SigninOutcome
    meeting: ScanMeeting | None
    person: ScanPerson | None
    at: datetime | None = None  # when the (existing) attendance was recorded

    @property
    def signed_in(self) -> bool:
        return self.outcome in (SigninOutcome.OK, SigninOutcome.LATE)


_meeting, _person = Meeting.__table__, Person.__table__
_MEETING_COLUMNS = (
    _meeting.c.id,
    _meeting.c.title,
    _meeting.c.starts_at,
    _meeting.c.status,
    _meeting.c.closed_at,
)

# The scan's one read: the person and the meeting (NULLs when there is none). Built once, of Core
# columns: neither the ORM's loading nor a new cache key per scan.
_SCAN_LOOKUP = (
    select(_person.c.name, *_MEETING_COLUMNS)
    .select_from(_person.outerjoin(_meeting, _meeting.c.id == bindparam("meeting_id")))
    .where(_person.c.id == bindparam("person_id"))
)
_MEETING_LOOKUP = select(*_MEETING_COLUMNS).where(_meeting.c.id == bindparam("meeting_id"))

# Plain SQL, valid on SQLite (≥ 3.35) and PostgreSQL: SQLAlchemy 2.0 does not cache the compiled form of
# dialect inserts with ON CONFLICT, and compiling it on every scan cost more than running it. The
# SELECT's WHERE also keeps SQLite's parser from reading ON CONFLICT as a join constraint.
_INSERT_IF_INVITED = text(
    "INSERT INTO attendance (meeting_id, person_id, status, method, at, receipt_due) "
    "SELECT meeting_id, person_id, :status, :method, :at, TRUE FROM meeting_invitee "
    "WHERE meeting_id = :meeting_id AND person_id = :person_id "
    "ON CONFLICT (meeting_id, person_id) DO NOTHING RETURNING id"
).bindparams(bindparam("at", type_=UTCDateTime()))


# A scan as it nearly always is, in one statement: the attendance row, written only when the person is
# an invitee with none yet and the meeting takes scans at `at` (not cancelled, its window open and not
# ended by hand), 迟到 after `late_after`; it returns what the page shows. The window is sign_in's own
# rule (signin_window), put as bounds on the start: `opens <= at <= closes` is
# `at - closes_after <= starts_at <= at + opens_before`, and `at > starts_at + late_after` is
# `starts_at < at - late_after`. When it writes nothing, sign_in reads the meeting and says why.
# RETURNING may hold scalar subqueries on both databases (not the joined meeting's columns).
_SIGN_IN_AT_ONCE = text(
    "INSERT INTO attendance (meeting_id, person_id, status, method, at, receipt_due) "
    "SELECT i.meeting_id, i.person_id, "
    "CASE WHEN m.starts_at < :late_if_started_before THEN :late ELSE :present END, :method, :at, TRUE "
    "FROM meeting_invitee i JOIN meeting m ON m.id = i.meeting_id "
    "WHERE i.meeting_id = :meeting_id AND i.person_id = :person_id AND m.status <> :cancelled "
    "AND m.closed_at IS NULL AND m.starts_at >= :starts_from AND m.starts_at <= :starts_until "
    "ON CONFLICT (meeting_id, person_id) DO NOTHING RETURNING status, "
    "(SELECT name FROM person WHERE id = :person_id) AS name, "
    "(SELECT title FROM meeting WHERE id = :meeting_id) AS title, "
    "(SELECT starts_at FROM meeting WHERE id = :meeting_id) AS starts_at"
).bindparams(
    *(
        bindparam(k, type_=UTCDateTime())
        for k in ("at", "late_if_started_before", "starts_from", "starts_until")
    )
)


@functools.lru_cache(maxsize=8)  # one dialect per engine: a process has one or two, a test run many
def _read_starts_at(dialect: Dialect) -> Callable[[Any], datetime]:
    """What meeting.starts_at's column type makes of the database's value. _SIGN_IN_AT_ONCE's row is
    left untyped: typed result columns on a text statement cost a match of the cursor's columns by name
    on every execution, a tenth of a scan's time; the strings and the status's value need nothing."""
    # UTCDateTime is a TypeDecorator, which always has a result processor (its process_result_value).
    return _meeting.c.starts_at.type.dialect_impl(dialect).result_processor(dialect, None)


def _sign_in_at_once(
    session: Session, meeting_id: int, person_id: int, now: datetime, cfg: MeetingsConfig
) -> SigninResult | None:
    """The scan's attendance row and its page in one statement (_SIGN_IN_AT_ONCE), or None when it wrote
    nothing (not invited, already there, not in the window, cancelled, no such meeting or person)."""
    params = {
        "meeting_id": meeting_id,
        "person_id": person_id,
        "at": now,
        "late_if_started_before": now - cfg.late_after,
        "starts_from": now - cfg.signin_closes_after,
        "starts_until": now + cfg.signin_opens_before,
        "cancelled": MeetingStatus.CANCELLED.value,
        "late": AttendanceStatus.LATE.value,
        "present": AttendanceStatus.PRESENT.value,
        "method": AttendanceMethod.QR.value,
    }
    # On the session's connection: a Core statement needs none of the ORM's execution.
    connection = session.connection()
    row = connection.execute(_SIGN_IN_AT_ONCE, params).first()
    if row is None:
        return None
    status, name, title, starts_at = row
    # It wrote, so the meeting is neither cancelled (the only other status) nor ended by hand.
    starts_at = _read_starts_at(connection.dialect)(starts_at)
    meeting = ScanMeeting(meeting_id, title, starts_at, MeetingStatus.SCHEDULED, None)
    late = status == AttendanceStatus.LATE.value
    outcome = SigninOutcome.LATE if late else SigninOutcome.OK
    return SigninResult(outcome, meeting, ScanPerson(person_id, name), now)


def _insert_if_invited(
    session: Session, meeting_id: int, person_id: int, status: AttendanceStatus, now: datetime
) -> int | None:
    """Insert the attendance row only if the person is an invitee and has none yet. None means "not
    invited" or "already there" (the caller tells which)."""
    params = {
        "meeting_id": meeting_id,
        "person_id": person_id,
        "status": status.value,
        "method": AttendanceMethod.QR.value,
        "at": now,
    }
    return session.execute(_INSERT_IF_INVITED, params).scalar()


def _scan_lookup(
    session: Session, meeting_id: int, person_id: int | None
) -> tuple[ScanMeeting | None, ScanPerson | None]:
    """The meeting and the person in one statement: (meeting, None) for no person, (None, None) when the
    id names nobody."""
    if person_id is None:
        row = session.execute(_MEETING_LOOKUP, {"meeting_id": meeting_id}).first()
        return (ScanMeeting(*row) if row is not None else None), None
    row = session.execute(_SCAN_LOOKUP, {"meeting_id": meeting_id, "person_id": person_id}).first()
    if row is None:
        return None, None
    meeting = ScanMeeting(*row[1:]) if row.id is not None else None
    return meeting, ScanPerson(person_id, row.name)


def sign_in(
    session: Session,
    *,
    meeting_id: int,
    token: str,
    person: Person | int | None,
    now: datetime,
    cfg: MeetingsConfig,
    secret: str,
) -> SigninResult | None:
    """Record a scan. `person` (a Person or just their id: the H5 session carries only the id) comes
    from the platform's login-free identity, never from the QR or a form.

    Only a first, valid, in-window scan by an invitee writes attendance (which is its record), marked
    `receipt_due`: the relays queue the chat receipt from it (queue_signin_receipts), many at a time;
    every other attempt goes to the attempt log. The unique (meeting, person) key makes concurrent or
    repeated scans add nothing. A successful scan is one statement (_SIGN_IN_AT_ONCE); any other reads
    the meeting and the person to say why. None (nothing recorded) when `person` is an id that names
    nobody: a session whose person has since been deleted is no identity.
    """
    person_id = person.id if isinstance(person, Person) else person
    if isinstance(person, Person) and (session.new or session.dirty or session.deleted):
        session.flush()  # the statements below read the tables, not the session
    outcome = check_token(secret, token, meeting_id, now, grace=timedelta(seconds=cfg.qr_grace_seconds))
    if outcome == SigninOutcome.OK and person_id is not None:
        done = _sign_in_at_once(session, meeting_id, person_id, now, cfg)
        if done is not None:
            return done
    meeting, scanner = _scan_lookup(session, meeting_id, person_id)
    if person_id is not None and scanner is None:
        return None
    if outcome == SigninOutcome.FORGED:
        meeting = None
    at = None
    if outcome == SigninOutcome.OK and meeting is None:
        outcome = SigninOutcome.FORGED
    if outcome == SigninOutcome.EXPIRED and meeting is not None and now > signin_window(meeting, cfg)[1]:
        # The chat code expires with the window: "签到已结束" tells the member more than "过期".
        outcome = SigninOutcome.CLOSED
    if outcome == SigninOutcome.OK:
        opens, closes = signin_window(meeting, cfg)
        if scanner is None:
            outcome = SigninOutcome.NOT_MEMBER
        elif meeting.status == MeetingStatus.CANCELLED:
            outcome = SigninOutcome.CANCELLED
        elif now < opens:
            outcome = SigninOutcome.NOT_OPEN
        elif now > closes or meeting.closed_at is not None:
            outcome = SigninOutcome.CLOSED
        else:
            late = now > meeting.starts_at + cfg.late_after
            status = AttendanceStatus.LATE if late else AttendanceStatus.PRESENT
            new_id = _insert_if_invited(session, meeting.id, scanner.id, status, now)
            if new_id is None:
                at = session.scalar(
                    select(Attendance.at).where(
                        Attendance.meeting_id == meeting.id, Attendance.person_id == scanner.id
                    )
                )
                outcome = SigninOutcome.NOT_EXPECTED if at is None else SigninOutcome.ALREADY
            else:
                outcome = SigninOutcome.LATE if late else SigninOutcome.OK
                at = now
    if outcome not in (SigninOutcome.OK, SigninOutcome.LATE):
        # A successful scan is recorded by its attendance row; everything else goes to the attempt log.
        session.add(
            SigninAttempt(
                meeting_id=meeting.id if meeting is not None else None,
                person_id=scanner.id if scanner is not None else None,
                outcome=outcome,
                at=now,
            )
        )
        session.flush()
    return SigninResult(outcome, meeting, scanner, at)


class _PageValues(dict):
    """The values an outcome page's template may use, each worked out only when it does."""

    def __init__(self, result: SigninResult, cfg: MeetingsConfig):
        super().__init__()
        self.result, self.cfg = result, cfg

    def __missing__(self, key: str) -> str:
        m, when = self.result.meeting, self.result.at
        if key == "name":
            return self.result.person.name if self.result.person else ""
        if key == "title":
            return m.title if m else ""
        if key == "at":
            return strings.fmt_when(when, self.cfg.tz) if when else ""
        if not m:
            return ""
        opens, closes = signin_window(m, self.cfg)
        moment = {"start": m.starts_at, "opens": opens, "closes": closes}[key]
        return strings.fmt_when(moment, self.cfg.tz)


def outcome_page(result: SigninResult, cfg: MeetingsConfig) -> tuple[str, str]:
    """(title, message) of the page a member sees after scanning: name, title, start, at, opens and
    closes, formatted only where the outcome's template uses them."""
    title, template = strings.SIGNIN_PAGE[result.outcome]
    return title, template.format_map(_PageValues(result, cfg))


# --- the scans' chat receipts --------------------------------------------------------------------------
#
# A scan does not queue its receipt: building it (the member's chat account, the text, the payload's hash)
# and writing it was a third of a scan's cost, paid while the member waited and, on SQLite, while the
# process's one writer was held (issue 22). The attendance row says a receipt is due; the relays' poll
# (bot.core.relay, RelayConfig.poll_seconds) queues them all at once, so a member gets it within about a
# second, as before. The receipt names the meeting and its start, not the moment of the scan, so a
# meeting's receipts share one text: it is made once for all its members.

RECEIPTS_PER_CALL = 500


def receipt_key(meeting_id: int) -> str:
    """The dedup key of a meeting's sign-in receipts: the outbox keeps one row per key and recipient, so
    each member is sent one, however often their scan is taken up."""
    return f"meeting:{meeting_id}:signin"


def queue_signin_receipts(session: Session, now: datetime, *, cfg: MeetingsConfig) -> int:
    """Queue the chat receipt (您已签到 …) of up to RECEIPTS_PER_CALL scans whose receipt is due, oldest
    first, and mark them done in the same transaction; returns how many scans were taken.

    Relays in several processes may call this at once: on PostgreSQL each takes rows the others have
    not locked (SKIP LOCKED), and the outbox's dedup key would skip a repeat anyway. A member with no
    reachable account gets a failed row saying why, as any message to them (outbox.enqueue_many)."""
    # Read first: the relays ask every second, and on SQLite even an UPDATE that matches nothing takes
    # the write lock the scans are queuing for.
    if session.scalar(select(Attendance.id).where(Attendance.receipt_due).limit(1)) is None:
        return 0
    due = select(Attendance.id).where(Attendance.receipt_due).order_by(Attendance.id).limit(RECEIPTS_PER_CALL)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    taken = session.execute(
        update(Attendance)
        .where(Attendance.id.in_(due.scalar_subquery()))
        .values(receipt_due=False)
        .returning(Attendance.meeting_id, Attendance.person_id, Attendance.status)
    ).all()
    if not taken:
        return 0
    # One receipt text for a meeting's on-time scans and one for its late ones, so its text, payload and
    # hash are made once for the many people the relays are about to send it to.
    receivers: dict[tuple[int, bool], list[int]] = {}
    for r in taken:
        receivers.setdefault((r.meeting_id, r.status == AttendanceStatus.LATE), []).append(r.person_id)
    meetings = select(Meeting.id, Meeting.title, Meeting.starts_at).where(
        Meeting.id.in_({meeting_id for meeting_id, _ in receivers})
    )
    about = {m.id: m for m in session.execute(meetings)}
    outbox.enqueue_many(
        session,
        [
            outbox.Queued(
                people,
                Text(
                    strings.SIGNIN_CONFIRM.format(
                        title=about[meeting_id].title,
                        when=strings.fmt_when(about[meeting_id].starts_at, cfg.tz),
                        late=strings.SIGNIN_CONFIRM_LATE if late else "",
                    )
                ),
                dedup_key=receipt_key(meeting_id),
            )
            for (meeting_id, late), people in receivers.items()
        ],
        now=now,
    )
    return len(taken)


def proxy_sign_in(
    session: Session,
    actor: Person | None,
    meeting_id: int,
    *,
    name: str,
    reason: str,
    now: datetime,
    cfg: MeetingsConfig,
) -> str:
    """代签: the secretary marks an invitee present by hand, with a reason; recorded as such."""
    meeting = get_managed_meeting(session, actor, meeting_id, cfg)
    name, reason = (name or "").strip(), (reason or "").strip()
    if not name:
        raise Refused(strings.PROXY_USAGE)
    if not reason:
        raise Refused(strings.PROXY_REASON_REQUIRED)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    people = session.scalars(
        select(Person)
        .join(Invitee, Invitee.person_id == Person.id)
        .where(Invitee.meeting_id == meeting.id, Person.name == name)
    ).all()
    if not people:
        raise Refused(strings.PROXY_NO_PERSON.format(name=name))
    if len(people) > 1:
        raise Refused(strings.PROXY_AMBIGUOUS.format(name=name))
    person = people[0]
    existing = session.scalars(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.person_id == person.id)
    ).first()
    if existing is not None and existing.method == AttendanceMethod.AUTO and not is_present(existing):
        # Marked 缺席 or 请假 when the window closed, but there after all: the 补学 goes with it.
        existing.status, existing.method = AttendanceStatus.PRESENT, AttendanceMethod.PROXY
        existing.reason, existing.marked_by_id = reason[:500], actor.id
        withdraw_makeup(session, meeting, person.id, now=now)
        return strings.PROXY_DONE.format(name=name, reason=reason)
    if existing is not None:
        return strings.PROXY_ALREADY.format(name=name, status=strings.ATTENDANCE_LABELS[existing.status])
    session.add(
        Attendance(
            meeting_id=meeting.id,
            person_id=person.id,
            status=AttendanceStatus.PRESENT,
            method=AttendanceMethod.PROXY,
            at=now,
            reason=reason[:500],
            marked_by_id=actor.id,
        )
    )
    session.flush()
    return strings.PROXY_DONE.format(name=name, reason=reason)


# --- who counts as present: the one definition ------------------------------------------------------
#
# Present means an attendance row PRESENT or LATE: the scan, the 代签, and the host and recorder, who
# get their row from here (issue 15 point 5). The sign-in list, 补学 creation, the minutes' 实到 and
# quorum (handlers/meetings/quorum.py), the score and the 自行脱党 watch (handlers/monthly) all read
# these rows, so a host who ran the meeting without scanning is never 缺席 in one and present in another.


def is_present(row: Attendance | None) -> bool:
    return row is not None and row.status in PRESENT_STATUSES


def meeting_hosts(
    session: Session, meeting: Meeting, *, chair: str | None = None, recorder: str | None = None
) -> dict[int, str]:
    """{invitee id: why they count as present} for the people who ran the meeting.

    The minutes' 主持人 and 记录人 (or `chair` and `recorder` about to be saved), matched by name among
    the invitees; a name two invitees share matches nobody. Before there are minutes, the person who
    scheduled the meeting (for a planned one, who submitted the plan) is taken to be its host.
    """
    invited = session.execute(
        select(Person.id, Person.name)
        .join(Invitee, Invitee.person_id == Person.id)
        .where(Invitee.meeting_id == meeting.id)
    ).all()
    minutes = meeting.minutes
    if chair is None and minutes is not None:
        chair, recorder = minutes.chair, minutes.recorder
    if chair is None:
        host = meeting.created_by_id
        on_leave = session.scalar(
            select(LeaveRequest.id).where(
                LeaveRequest.meeting_id == meeting.id,
                LeaveRequest.person_id == host,
                LeaveRequest.status == LeaveStatus.APPROVED,
            )
        )
        # Who was let off the meeting did not run it.
        if host in {pid for pid, _ in invited} and on_leave is None:
            return {host: strings.HOST_PRESUMED}
        return {}
    by_name: dict[str, list[int]] = {}
    for pid, name in invited:
        by_name.setdefault(name, []).append(pid)
    out: dict[int, str] = {}
    for name, reason in ((recorder, strings.HOST_RECORDER), (chair, strings.HOST_CHAIR)):
        found = by_name.get((name or "").strip(), [])
        if len(found) == 1:
            out[found[0]] = reason
    return out


def count_hosts_present(
    session: Session, meeting: Meeting, *, now: datetime, cfg: MeetingsConfig
) -> set[int]:
    """Give the meeting's hosts (meeting_hosts) a present row, replacing a 缺席 or 请假 the window's
    close wrote, and withdraw the 补学 it made; a presumed host the minutes name as neither becomes
    缺席 (or 请假) with a 补学 after all. Returns the hosts' ids. Idempotent."""
    hosts = meeting_hosts(session, meeting)
    rows = {
        a.person_id: a for a in session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id))
    }
    for pid, reason in hosts.items():
        row = rows.get(pid)
        if row is None:
            session.add(
                Attendance(
                    meeting_id=meeting.id,
                    person_id=pid,
                    status=AttendanceStatus.PRESENT,
                    method=AttendanceMethod.AUTO,
                    at=meeting.starts_at,
                    reason=reason,
                )
            )
        elif row.method == AttendanceMethod.AUTO and (not is_present(row) or row.reason != reason):
            row.status, row.reason = AttendanceStatus.PRESENT, reason
            withdraw_makeup(session, meeting, pid, now=now)
    demoted: dict[int, AttendanceStatus] = {}
    if meeting.minutes is not None:
        for pid, row in rows.items():
            if row.reason == strings.HOST_PRESUMED and pid not in hosts:
                on_leave = session.scalar(
                    select(LeaveRequest.id).where(
                        LeaveRequest.meeting_id == meeting.id,
                        LeaveRequest.person_id == pid,
                        LeaveRequest.status == LeaveStatus.APPROVED,
                    )
                )
                row.status = AttendanceStatus.LEAVE if on_leave else AttendanceStatus.ABSENT
                row.reason = None
                demoted[pid] = row.status
    session.flush()
    if demoted:
        create_makeup_tasks(session, meeting, demoted, now=now, cfg=cfg)
    return set(hosts)


def remind_hosts_to_sign_in(session: Session, *, now: datetime, cfg: MeetingsConfig) -> int:
    """When a window opens, the host (meeting_hosts) who has not signed in is asked to, once per
    version of the meeting, with the 签到码 button: the scan is the record the others see."""
    meetings = session.scalars(
        select(Meeting).where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.closed_at.is_(None),
            Meeting.created_by_id.is_not(None),
            Meeting.starts_at <= now + cfg.signin_opens_before,
            Meeting.starts_at > now - cfg.signin_closes_after,
        )
    ).all()
    sent = 0
    for meeting in meetings:
        for pid in meeting_hosts(session, meeting):
            signed = session.scalar(
                select(Attendance.id).where(Attendance.meeting_id == meeting.id, Attendance.person_id == pid)
            )
            if signed is not None:
                continue
            _, closes = signin_window(meeting, cfg)
            sent += outbox.enqueue_to_people(
                session,
                [pid],
                Card(
                    title=strings.HOST_SIGNIN_TITLE.format(title=meeting.title),
                    text=strings.HOST_SIGNIN_TEXT.format(
                        id=meeting.id,
                        when=strings.fmt_when(meeting.starts_at, cfg.tz),
                        closes=strings.fmt_when(closes, cfg.tz),
                    ),
                    buttons=(
                        Button(
                            strings.BUTTON_SIGNIN_CODE,
                            action=ACTION_SIGNIN_CODE,
                            params={"meeting": str(meeting.id)},
                        ),
                    ),
                ),
                dedup_key=f"meeting:{meeting.id}:v{meeting.version}:host-signin:{pid}",
                now=now,
            )
    return sent


def attendance_counts(session: Session, meeting_id: int) -> tuple[int, int]:
    """(present, expected) in two counts, for the projector's polling (no names, no rows)."""
    expected = session.scalar(
        select(func.count()).select_from(Invitee).where(Invitee.meeting_id == meeting_id)
    )
    present = session.scalar(
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.meeting_id == meeting_id, Attendance.status.in_(PRESENT_STATUSES))
    )
    return present or 0, expected or 0


@dataclass
class AttendanceSheet:
    meeting: Meeting
    present: list[tuple[Person, Attendance]]
    leave: list[Person]  # approved leave, not signed in
    missing: list[Person]  # no record yet (or marked absent)

    @property
    def expected(self) -> int:
        return len(self.present) + len(self.leave) + len(self.missing)


def attendance_sheet(session: Session, meeting: Meeting) -> AttendanceSheet:
    """Who is in, on leave and missing (three queries, however many members)."""
    people = session.scalars(
        select(Person)
        .join(Invitee, Invitee.person_id == Person.id)
        .where(Invitee.meeting_id == meeting.id)
        .order_by(Person.id)
    ).all()
    rows = {
        a.person_id: a for a in session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id))
    }
    on_leave = set(
        session.scalars(
            select(LeaveRequest.person_id).where(
                LeaveRequest.meeting_id == meeting.id, LeaveRequest.status == LeaveStatus.APPROVED
            )
        )
    )
    sheet = AttendanceSheet(meeting, [], [], [])
    for p in people:
        a = rows.get(p.id)
        if is_present(a):
            sheet.present.append((p, a))
        elif p.id in on_leave:
            sheet.leave.append(p)
        else:
            sheet.missing.append(p)
    return sheet


def attendance_text(sheet: AttendanceSheet) -> str:
    late = sum(1 for _, a in sheet.present if a.status == AttendanceStatus.LATE)
    proxy = sum(1 for _, a in sheet.present if a.method == AttendanceMethod.PROXY)
    lines = [
        strings.ATTENDANCE_TEXT.format(
            expected=sheet.expected,
            present=len(sheet.present),
            late=late,
            proxy=proxy,
            leave=len(sheet.leave),
            missing=len(sheet.missing),
        )
    ]
    if sheet.missing:
        lines.append(f"{strings.ATTENDANCE_MISSING}：" + "、".join(p.name for p in sheet.missing))
    if sheet.leave:
        lines.append(f"{strings.ATTENDANCE_LEAVE}：" + "、".join(p.name for p in sheet.leave))
    return "\n\n".join(lines)


def close_windows(session: Session, *, now: datetime, cfg: MeetingsConfig) -> list[int]:
    """Meetings whose window has closed: invitees with no record become 缺席, or 请假 where leave was
    approved, and each gets a 补学 task. Idempotent: a closed meeting is skipped, rows are unique.
    """
    due = session.scalars(
        select(Meeting)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.closed_at.is_(None),
            Meeting.starts_at <= now - cfg.signin_closes_after,
        )
        .order_by(Meeting.starts_at)
    ).all()
    return _close(session, due, now=now, cfg=cfg)


def end_signin(
    session: Session, actor: Person | None, meeting_id: int, *, now: datetime, cfg: MeetingsConfig
) -> Meeting:
    """结束签到: the secretary closes the window early, once the meeting has started, as the job
    would at its end (缺席/请假, 补学, the host's summary)."""
    meeting = get_managed_meeting(session, actor, meeting_id, cfg)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    if meeting.closed_at is not None:
        raise Refused(strings.SIGNIN_ALREADY_CLOSED)
    if now < meeting.starts_at:
        raise Refused(
            strings.SIGNIN_END_BEFORE_START.format(start=strings.fmt_when(meeting.starts_at, cfg.tz))
        )
    _close(session, [meeting], now=now, cfg=cfg)
    return meeting


def _close(session: Session, due: list[Meeting], *, now: datetime, cfg: MeetingsConfig) -> list[int]:
    # Three queries for all due meetings rather than three per meeting (a catch-up may close many).
    ids = [m.id for m in due]
    invitees = invitees_by_meeting(session, ids)
    recorded = set(
        session.execute(
            select(Attendance.meeting_id, Attendance.person_id).where(Attendance.meeting_id.in_(ids))
        ).tuples()
    )
    approved = set(
        session.execute(
            select(LeaveRequest.meeting_id, LeaveRequest.person_id).where(
                LeaveRequest.meeting_id.in_(ids), LeaveRequest.status == LeaveStatus.APPROVED
            )
        ).tuples()
    )
    closed = []
    for meeting in due:
        closes = min(signin_window(meeting, cfg)[1], now)
        hosts = count_hosts_present(session, meeting, now=now, cfg=cfg)
        missed: dict[int, AttendanceStatus] = {}
        for pid in invitees.get(meeting.id, []):
            if (meeting.id, pid) in recorded or pid in hosts:
                continue
            status = AttendanceStatus.LEAVE if (meeting.id, pid) in approved else AttendanceStatus.ABSENT
            missed[pid] = status
            session.add(
                Attendance(
                    meeting_id=meeting.id,
                    person_id=pid,
                    status=status,
                    method=AttendanceMethod.AUTO,
                    at=closes,
                )
            )
        meeting.closed_at = now
        session.flush()
        create_makeup_tasks(session, meeting, missed, now=now, cfg=cfg)
        _tell_hosts_closed(session, meeting, hosts, now=now, cfg=cfg)
        closed.append(meeting.id)
    return closed


def _tell_hosts_closed(
    session: Session, meeting: Meeting, hosts: set[int], *, now: datetime, cfg: MeetingsConfig
) -> None:
    """The host hears how the sign-in ended (实到/请假/缺席, who is missing) and is offered the
    minutes; with no known host, the branch's secretaries do."""
    sheet = attendance_sheet(session, meeting)
    text = strings.CLOSED_SUMMARY_TEXT.format(
        id=meeting.id,
        expected=sheet.expected,
        present=len(sheet.present),
        leave=len(sheet.leave),
        missing=len(sheet.missing),
    )
    if sheet.missing:
        text += "\n\n" + strings.CLOSED_SUMMARY_MISSING.format(names="、".join(p.name for p in sheet.missing))
    if sheet.leave:
        text += "\n\n" + strings.CLOSED_SUMMARY_LEAVE.format(names="、".join(p.name for p in sheet.leave))
    outbox.enqueue_to_people(
        session,
        sorted(hosts) or people_with_roles(session, meeting.branch_id, cfg.manager_roles),
        Card(
            title=strings.CLOSED_SUMMARY_TITLE.format(title=meeting.title),
            text=text,
            buttons=(
                Button(strings.BUTTON_MINUTES, action=ACTION_MINUTES, params={"meeting": str(meeting.id)}),
            ),
        ),
        dedup_key=f"meeting:{meeting.id}:closed-summary",
        now=now,
    )
