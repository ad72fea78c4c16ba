"""消息台账 (#17 item 5): every message the bot sent to a unit's people over a period, from the delivery
ledger itself (models.outbox.OutboxMessage): recipient, kind, when, platform and status, and for 未送达
the reason in plain Chinese with the platform's own words kept beside it; and 补发 (resend) of 未送达 rows.

A row belongs to the unit its recipient's branch was when it was queued (OutboxMessage.branch_id, which
ix_outbox_message_branch_status leads with). Pages are keyset pages on the id, newest first, so a county's
millions of rows cost the same statements per page as a branch's dozens; the .xlsx walks the same query a
chunk at a time (a branch's while the browser waits, with the page's filters; a committee's or the
county's in the background, handlers.ledgers.exports, every message of the period).

The kind of a message is read from its dedup key (each feature names its keys: meeting:{id}:notice,
fee:{day}…); a 补发 is keyed resend:{kind}:{original id}, unique per recipient, so pressing 补发 twice
queues one row, and the original and its 补发 name each other. A 补发 is a new row (a new send id: the
platforms must not take it for a repeat of the failed one), sent to the person's current account as
bot.core.outbox.reach_people chooses it, written through the ORM so the audit log records who sent it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.outbox import Reach, notify_relays, person_recipient, reach_people
from handlers.console.overview import NotInScope
from handlers.console.scope import Scope
from handlers.ledgers import strings
from handlers.ledgers.period import LedgerPeriod
from handlers.ledgers.workbook import Sheet, write_xlsx, xlsx_bytes
from handlers.meetings.meetings import signin_window
from handlers.meetings.types import MeetingsConfig
from models.meetings import Meeting, MeetingStatus
from models.org import PLATFORM_LABELS, OrgUnit, Person, Platform
from models.outbox import DELIVERY_STATUS_LABELS, DeliveryStatus, OutboxMessage, TargetKind

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
RESEND_LIMIT = 200  # rows one press may resend: a page's worth, with room
# The page counts the period's 未送达 up to this many: each is a heap visit (a county's year of failures,
# spread over millions of rows, took a second cold on PostgreSQL), and past it the figure is "more than".
FAILED_COUNT_CAP = 1000
TITLE_LENGTH = 40
RESEND_PREFIX = "resend:"


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    patterns: tuple[str, ...]  # dedup keys, as SQL LIKE patterns ('%' any run of characters)
    # Addressed to the person in a role (observer, leader, the one they spoke to) and often about another
    # unit than their home branch, under which the row is filed: its title is shown to 组织部 and to the
    # recipient only, so a home branch's secretary does not read another unit's 观察提示 or 月积分.
    private: str | None = None  # the placeholder shown instead of the title

    def matches(self, dedup_key: str) -> bool:
        return any(_regex(p).fullmatch(dedup_key) for p in self.patterns)


# What each feature names its messages' dedup keys (handlers/*: meetings, fees, observers, monthly,
# roster.directory; bot.core.context for replies). First match wins; anything else is 其他. A kind's key
# is part of its 补发's dedup key (resend_key), which is how a row finds its 补发 and a second press is
# recognised: never rename a key, nor move a pattern to another kind.
KINDS: tuple[Kind, ...] = (
    Kind("meeting_notice", "会议通知", ("meeting:%:notice",)),
    Kind("meeting_change", "会议变更或取消", ("meeting:%:moved", "meeting:%:cancelled")),
    Kind("meeting_remind", "会前提醒", ("meeting:%:remind:%",)),
    # A scan's receipt: "meeting:%:signin" (handlers.meetings.signin.receipt_key); before 2026-12-05 its key
    # also named the member ("meeting:%:signin:%"), and such rows stay in the ledger.
    Kind(
        "signin",
        "签到",
        ("meeting:%:signin", "meeting:%:signin:%", "meeting:%:host-signin:%", "meeting:%:closed-summary"),
    ),
    Kind("minutes", "会议记录", ("minutes:%", "meeting:%:minutes-to-makeup")),
    Kind("leave", "请假", ("leave:%",)),
    Kind("makeup", "补学", ("makeup:%",)),
    Kind("plan", "月度计划", ("plan:%",)),
    Kind("fees", "党费", ("fee:%", "fee-pending:%", "fee-confirmed:%")),
    Kind("observers", "观察员", ("observers:%",), strings.MESSAGE_PRIVATE_NOTICE),
    Kind("digest", "月度通报", ("monthly:digest:%",), strings.MESSAGE_PRIVATE_NOTICE),
    Kind("escalation", "落后提醒约谈", ("monthly:esc:%", "monthly:member:%"), strings.MESSAGE_PRIVATE_NOTICE),
    Kind("todo", "待办提醒", ("monthly:todo:%", "monthly:remind:%"), strings.MESSAGE_PRIVATE_NOTICE),
    Kind("directory", "通讯录变动", ("directory:%",), strings.MESSAGE_PRIVATE_NOTICE),
    Kind("reply", "对话回复", ("reply:%",), strings.MESSAGE_PRIVATE_REPLY),
)
OTHER = Kind("other", "其他", ())
KIND_BY_KEY = {k.key: k for k in (*KINDS, OTHER)}
STATUSES = tuple(s.value for s in DELIVERY_STATUS_LABELS)  # the status filter's values

_REGEX: dict[str, re.Pattern] = {}


def _source(pattern: str) -> str:
    return ".*".join(re.escape(part) for part in pattern.split("%"))


def _regex(pattern: str) -> re.Pattern:
    if pattern not in _REGEX:
        _REGEX[pattern] = re.compile(_source(pattern), re.S)
    return _REGEX[pattern]


# Every kind's patterns in one expression, a named group per kind in KINDS' order: one match per row
# instead of one per pattern (a county's file classifies millions). The alternatives are tried in order,
# so the first kind that matches the whole key wins, as Kind.matches in KINDS' order would say.
_KINDS_RE = re.compile(
    "|".join(f"(?P<k{i}>{'|'.join(_source(p) for p in k.patterns)})" for i, k in enumerate(KINDS)), re.S
)


def _like(pattern: str) -> ColumnElement[bool]:
    escaped = pattern.replace("\\", "\\\\").replace("_", "\\_")
    return OutboxMessage.dedup_key.like(escaped, escape="\\")


def resend_key(kind: Kind, original_id: int) -> str:
    return f"{RESEND_PREFIX}{kind.key}:{original_id}"


def classify(dedup_key: str) -> tuple[Kind, int | None]:
    """The message's kind, and the row it was sent again for (a 补发) or None."""
    if dedup_key.startswith(RESEND_PREFIX):
        _, key, original = dedup_key.split(":", 2)
        return KIND_BY_KEY.get(key, OTHER), int(original) if original.isdigit() else None
    found = _KINDS_RE.fullmatch(dedup_key)
    return (KINDS[int(found.lastgroup[1:])] if found else OTHER), None


def kind_clause(kind: Kind) -> ColumnElement[bool]:
    """The rows of `kind`, its 补发 included."""
    again = _like(f"{RESEND_PREFIX}{kind.key}:%")
    if kind is OTHER:
        known = [_like(p) for k in KINDS for p in k.patterns] + [_like(f"{RESEND_PREFIX}%")]
        return or_(and_(*(not_(c) for c in known)), again)
    return or_(*(_like(p) for p in kind.patterns), again)


def plain_reason(status: str, reason: str | None, last_error: str | None) -> tuple[str, str]:
    """(what happened in plain Chinese, the platform's own words or code: shown small, or "")."""
    if status == DeliveryStatus.FAILED:
        reason = reason or ""
        rejected = texts.REASON_REJECTED.format(error="")
        gave_up = texts.REASON_GAVE_UP.format(error="")
        if reason.startswith(rejected):
            raw = reason[len(rejected) :].strip()
            code = raw.split(" ", 1)[0]
            return strings.REASON_CODES.get(code, strings.REASON_REJECTED_PLAIN), raw
        if reason.startswith(gave_up):
            return strings.REASON_GAVE_UP_PLAIN, reason[len(gave_up) :].strip()
        return reason or strings.REASON_MISSING, ""
    if status == DeliveryStatus.QUEUED and last_error:
        return strings.REASON_RETRYING_PLAIN, last_error
    return "", ""


@dataclass
class Resent:
    id: int
    status: str


@dataclass
class MessageLine:
    id: int
    person_id: int | None
    name: str
    branch: str
    kind: Kind
    title: str
    created_at: datetime
    sent_at: datetime | None
    platform: str  # label, "" when no account was chosen
    account: str
    status: str  # DeliveryStatus value
    status_label: str
    reason: str  # plain Chinese
    raw: str  # the platform's words, shown small
    attempts: int
    resent_of: int | None  # this row is a 补发 of that row
    resent_as: list[Resent] = field(default_factory=list)  # this row's 补发
    reach: Reach | None = None  # where a 补发 would go now (未送达 rows on the page)

    @property
    def failed(self) -> bool:
        return self.status == DeliveryStatus.FAILED

    @property
    def resendable(self) -> bool:
        return self.failed and self.person_id is not None and not self.resent_as

    @property
    def pickable(self) -> bool:
        """未送达, not yet sent again, and there is an account to send it to now (the page's checkbox)."""
        return self.resendable and self.reach is not None and self.reach.account is not None


@dataclass
class MessagesLedger:
    unit: OrgUnit
    period: LedgerPeriod
    status: str | None
    kind: Kind | None
    rows: list[MessageLine]
    next_before: int | None  # the cursor of the next page, None on the last
    first_page: bool
    failed_total: int  # 未送达 in the whole period (all kinds), at most FAILED_COUNT_CAP + 1

    @property
    def failed_text(self) -> str:
        return (
            f"{FAILED_COUNT_CAP} 条以上"
            if self.failed_total > FAILED_COUNT_CAP
            else f"{self.failed_total} 条"
        )


def _bounds(period: LedgerPeriod, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(period.start, time(), tz), datetime.combine(period.end, time(), tz)


def _units(scope: Scope, unit: OrgUnit):
    """The units whose people's messages the unit's ledger holds: its subtree, within the scope."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path), scope.unit_clause())


def _where(
    scope: Scope, unit: OrgUnit, period: LedgerPeriod, tz: ZoneInfo, status: str | None, kind: Kind | None
):
    start, end = _bounds(period, tz)
    where = [
        OutboxMessage.branch_id.in_(_units(scope, unit)),
        OutboxMessage.created_at >= start,
        OutboxMessage.created_at < end,
    ]
    if status is not None:
        where.append(OutboxMessage.status == DeliveryStatus(status))
    if kind is not None:
        where.append(kind_clause(kind))
    return where


_TITLE = func.coalesce(OutboxMessage.payload["title"].as_string(), OutboxMessage.payload["text"].as_string())


def _lines(
    session: Session, scope: Scope, where: Sequence, before: int | None, limit: int
) -> list[MessageLine]:
    """One keyset page, newest first: one statement for the rows with names, one for their 补发."""
    stmt = (
        select(
            OutboxMessage.id, OutboxMessage.dedup_key, OutboxMessage.person_id, Person.name, OrgUnit.name,
            _TITLE, OutboxMessage.created_at, OutboxMessage.sent_at, OutboxMessage.platform,
            OutboxMessage.target, OutboxMessage.status, OutboxMessage.reason, OutboxMessage.last_error,
            OutboxMessage.attempts,
        )
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .outerjoin(OrgUnit, OrgUnit.id == OutboxMessage.branch_id)
        .where(*where, *([OutboxMessage.id < before] if before is not None else []))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )  # fmt: skip
    out = []
    for (rid, key, pid, name, branch, title, created, sent, platform, target, status, reason, error,
         attempts) in session.execute(stmt):  # fmt: skip
        status = DeliveryStatus(status)
        kind, original = classify(key)
        plain, raw = plain_reason(status, reason, error)
        label = DELIVERY_STATUS_LABELS[status.value]
        if status == DeliveryStatus.QUEUED and attempts:
            label = strings.RETRYING
        title = " ".join(str(title or "").split())
        if kind.private and not (scope.everything or pid == scope.person_id):
            title = kind.private
        out.append(MessageLine(
            rid, pid, name or "", branch or "", kind,
            title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…",
            created, sent, PLATFORM_LABELS.get(Platform(platform), platform) if platform else "", target or "",
            status.value, label, plain, raw, attempts or 0, original,
        ))  # fmt: skip
    _mark_resent(session, out)
    return out


def _mark_resent(session: Session, lines: list[MessageLine]) -> None:
    """Each 未送达 row's 补发, found by the keys they would carry (the dedup key's unique index)."""
    keys = {resend_key(ln.kind, ln.id): ln for ln in lines if ln.failed}
    if not keys:
        return
    for rid, key, status in session.execute(
        select(OutboxMessage.id, OutboxMessage.dedup_key, OutboxMessage.status)
        .where(OutboxMessage.dedup_key.in_(list(keys)))
        .order_by(OutboxMessage.id)
    ):
        keys[key].resent_as.append(Resent(rid, DeliveryStatus(status).value))


def check(scope: Scope, unit: OrgUnit) -> None:
    """The ledger is for those who lead the unit: an observer (who only looks on at meetings) must not
    read its people's every message, their 1:1 replies included, so a unit only observed answers as one
    outside the scope."""
    if not scope.can_edit_unit(unit):
        raise NotInScope(unit.id)


def parse_filters(status: str | None, kind: str | None) -> tuple[str | None, Kind | None]:
    """The filters from the query; an unknown value is no filter (a stale link still shows the rows)."""
    return (status if status in STATUSES else None), KIND_BY_KEY.get(kind or "")


def messages_ledger(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    *,
    tz: ZoneInfo,
    status: str | None = None,
    kind: Kind | None = None,
    before: int | None = None,
) -> MessagesLedger:
    """One page of the unit's messages over the period (newest first, before the row `before`)."""
    check(scope, unit)
    where = _where(scope, unit, period, tz, status, kind)
    lines = _lines(session, scope, where, before, PAGE_SIZE + 1)
    more = len(lines) > PAGE_SIZE
    lines = lines[:PAGE_SIZE]
    failed = select(OutboxMessage.id).where(
        *_where(scope, unit, period, tz, DeliveryStatus.FAILED.value, None)
    )
    failed_total = session.scalar(
        select(func.count()).select_from(failed.limit(FAILED_COUNT_CAP + 1).subquery())
    )
    waiting = [ln for ln in lines if ln.resendable]
    reach = reach_people(session, {ln.person_id for ln in waiting})
    for ln in waiting:
        ln.reach = reach.get(ln.person_id)
    return MessagesLedger(unit, period, status, kind, lines, lines[-1].id if more and lines else None,
                          before is None, failed_total)  # fmt: skip


def all_lines(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    *,
    tz: ZoneInfo,
    status: str | None = None,
    kind: Kind | None = None,
    before: int | None = None,
) -> Iterator[MessageLine]:
    """Every row the pages show (older than the row `before`, when given), in their order, a chunk at a
    time (the .xlsx)."""
    check(scope, unit)
    where = _where(scope, unit, period, tz, status, kind)
    while True:
        chunk = _lines(session, scope, where, before, EXPORT_CHUNK)
        yield from chunk
        if len(chunk) < EXPORT_CHUNK:
            return
        before = chunk[-1].id


def snapshot(
    session: Session, scope: Scope, unit: OrgUnit, period: LedgerPeriod, *, tz: ZoneInfo
) -> tuple[int | None, int]:
    """(the row id a file's rows are read below, how many rows that is), in one statement: a background
    file holds the unit's messages as they were when it began, so its progress counts to a known total
    while the bot goes on sending. (None, 0) when there are none."""
    check(scope, unit)
    top, count = session.execute(
        select(func.max(OutboxMessage.id), func.count()).where(*_where(scope, unit, period, tz, None, None))
    ).one()
    return (top + 1 if top is not None else None), count


# --- 补发 -----------------------------------------------------------------------------------------------


@dataclass
class ResendOutcome:
    queued: list[tuple[str, str]] = field(default_factory=list)  # (name, platform label)
    already: list[str] = field(default_factory=list)  # names
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name or #id, why)

    def notices(self) -> list[str]:
        out = []
        if self.queued:
            out.append(strings.RESEND_DONE.format(n=len(self.queued)))
        if self.already:
            out.append(strings.RESEND_ALREADY.format(n=len(self.already), names="、".join(self.already)))
        if self.refused:
            items = "；".join(f"{who}：{why}" for who, why in self.refused)
            out.append(strings.RESEND_REFUSED.format(n=len(self.refused), items=items))
        return out or [strings.RESEND_NONE]


# The meeting messages whose content goes stale (handlers.meetings names them): a notice or a moved
# notice (its version: the notice is the first, meeting:{id}:notice), a 会前提醒 and the host's sign-in
# card (both carry the version they were sent for). Another message of a meeting (the cancellation, a
# sign-in confirmation, the closing summary) states what happened and stays true.
_MEETING_KEY = re.compile(r"meeting:(\d+):(?:v(\d+):)?(notice|moved|remind:.+|host-signin:.+)")


def _stale(
    session: Session, rows: Sequence[OutboxMessage], *, now: datetime, cfg: MeetingsConfig
) -> dict[int, str]:
    """Row id → why a 补发 would now mislead: its meeting was cancelled, moved since (a newer version),
    or, for a reminder or a sign-in card, is over (the sign-in window closed). A 补发 that failed in turn
    is judged by the message it was sent again for."""
    keys = {r.id: r.dedup_key for r in rows}
    for _ in range(8):  # a 补发 of a 补发…: each step one statement, and a chain this long is not real
        back = {rid: original for rid, key in keys.items() if (original := classify(key)[1]) is not None}
        if not back:
            break
        found = dict(session.execute(
            select(OutboxMessage.id, OutboxMessage.dedup_key).where(OutboxMessage.id.in_(set(back.values())))
        ).tuples().all())  # fmt: skip
        keys = {rid: found.get(back[rid], "") if rid in back else key for rid, key in keys.items()}
    parsed = {rid: m for rid, key in keys.items() if (m := _MEETING_KEY.fullmatch(key))}
    if not parsed:
        return {}
    meetings = {
        m.id: m
        for m in session.scalars(select(Meeting).where(Meeting.id.in_({int(p[1]) for p in parsed.values()})))
    }
    out = {}
    for rid, match in parsed.items():
        meeting, version, what = meetings.get(int(match[1])), int(match[2] or 1), match[3]
        if meeting is None or meeting.status == MeetingStatus.CANCELLED or meeting.version > version:
            out[rid] = strings.RESEND_MEETING_CHANGED
        elif what.startswith(("remind:", "host-signin:")) and now >= signin_window(meeting, cfg)[1]:
            out[rid] = strings.RESEND_SIGNIN_OVER
    return out


def resend(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    row_ids: Sequence[int],
    *,
    now: datetime,
    cfg: MeetingsConfig,
) -> ResendOutcome:
    """Queue each chosen 未送达 row of the unit again, as a new row to the person's current account.

    NotInScope for a unit the viewer does not lead (before anything is read). A row already sent again is not sent a second time; a row that cannot be (not
    未送达, a card update, a meeting message gone stale, a person with still no reachable account, off
    the roster) is refused with its reason in Chinese and nothing written for it."""
    check(scope, unit)
    ids = sorted(set(row_ids))[:RESEND_LIMIT]
    outcome = ResendOutcome()
    if not ids:
        return outcome
    rows = {
        r.id: r
        for r in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.id.in_(ids), OutboxMessage.branch_id.in_(_units(scope, unit))
            )
        )
    }
    people = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_({r.person_id for r in rows.values() if r.person_id}))
        )
    }
    for rid in ids:
        if rid not in rows:
            outcome.refused.append((f"#{rid}", strings.RESEND_NOT_HERE))
    candidates: list[tuple[OutboxMessage, Kind]] = []
    stale = _stale(session, [r for r in rows.values() if r.status == DeliveryStatus.FAILED], now=now, cfg=cfg)
    for rid in ids:
        row = rows.get(rid)
        if row is None:
            continue
        who = people[row.person_id].name if row.person_id in people else f"#{rid}"
        if row.status != DeliveryStatus.FAILED:
            outcome.refused.append((who, strings.RESEND_NOT_FAILED))
        elif row.person_id not in people:
            outcome.refused.append((who, strings.RESEND_NO_PERSON))
        elif not people[row.person_id].active:
            outcome.refused.append((who, strings.RESEND_INACTIVE))
        elif (row.payload or {}).get("kind") == "card_update":
            outcome.refused.append((who, strings.RESEND_CARD_UPDATE))
        elif rid in stale:
            outcome.refused.append((who, stale[rid]))
        else:
            candidates.append((row, classify(row.dedup_key)[0]))
    if not candidates:
        return outcome
    keys = {(resend_key(kind, row.id), person_recipient(row.person_id)) for row, kind in candidates}
    done = set(
        session.execute(
            select(OutboxMessage.dedup_key, OutboxMessage.recipient).where(
                OutboxMessage.dedup_key.in_({k for k, _ in keys})
            )
        ).tuples()
    )
    reach = reach_people(session, {row.person_id for row, _ in candidates})
    fresh: list[tuple[OutboxMessage, str]] = []
    for row, kind in candidates:
        name = people[row.person_id].name
        key = (resend_key(kind, row.id), person_recipient(row.person_id))
        where = reach.get(row.person_id)
        if key in done:
            outcome.already.append(name)
        elif where is None or where.account is None:
            outcome.refused.append((name, where.reason if where else strings.RESEND_NO_PERSON))
        else:
            platform, corp, target = where.account
            fresh.append((OutboxMessage(
                dedup_key=key[0], recipient=key[1], platform=platform, corp_id=corp,
                target_kind=TargetKind.USER, target=target, person_id=row.person_id, branch_id=row.branch_id,
                payload=row.payload, content_hash=row.content_hash, status=DeliveryStatus.QUEUED, attempts=0,
                next_attempt_at=now, created_at=now,
            ), name))  # fmt: skip
    for new, name, ok in _insert(session, fresh):
        if ok:
            outcome.queued.append((name, PLATFORM_LABELS.get(Platform(new.platform), new.platform)))
        else:
            outcome.already.append(name)
    if outcome.queued:
        notify_relays(session)
    return outcome


def _insert(
    session: Session, fresh: list[tuple[OutboxMessage, str]]
) -> list[tuple[OutboxMessage, str, bool]]:
    """Add the rows in one flush; when a concurrent press queued one of them first (the dedup key's
    unique constraint), each row alone, so the others still go and that one counts as already sent."""
    if not fresh:
        return []
    try:
        with session.begin_nested():
            session.add_all([new for new, _ in fresh])
    except IntegrityError:
        out = []
        for new, name in fresh:
            copy = OutboxMessage(**{c.key: getattr(new, c.key) for c in OutboxMessage.__table__.columns
                                    if c.key != "id"})  # fmt: skip
            try:
                with session.begin_nested():
                    session.add(copy)
                out.append((copy, name, True))
            except IntegrityError:
                out.append((copy, name, False))
        return out
    return [(new, name, True) for new, name in fresh]


# --- .xlsx ----------------------------------------------------------------------------------------------

XLSX_HEADERS = ["编号", "发送时间", "收件人", "所在支部", "类别", "内容", "平台", "账号", "状态", "送达时间",
                "未送达原因", "平台原话", "发送次数", "补发情况"]  # fmt: skip


def xlsx_cells(ln: MessageLine, tz: ZoneInfo) -> list[object]:
    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    return [ln.id, when(ln.created_at), ln.name, ln.branch, ln.kind.label, ln.title, ln.platform, ln.account,
            ln.status_label, when(ln.sent_at), ln.reason, ln.raw, ln.attempts, resend_text(ln)]  # fmt: skip


def resend_text(ln: MessageLine) -> str:
    """How a row and its 补发 name each other, as the page and the .xlsx say it."""
    if ln.resent_of is not None:
        return f"补发自 #{ln.resent_of}"
    return "；".join(f"已补发 #{r.id}（{DELIVERY_STATUS_LABELS[r.status]}）" for r in ln.resent_as)


def messages_sheet(lines: Iterable[MessageLine], unit: OrgUnit, period: LedgerPeriod, tz: ZoneInfo) -> Sheet:
    """The ledger's one sheet (the workbook goes on in 「消息（2）」… past Excel's rows, none dropped)."""
    caption = f"{unit.name} {strings.MESSAGES}（{period.label}）"
    return Sheet("消息", XLSX_HEADERS, (xlsx_cells(ln, tz) for ln in lines),
                 (9, 17, 10, 20, 12, 30, 8, 14, 10, 17, 36, 30, 8, 20), caption)  # fmt: skip


def messages_xlsx(lines: Iterable[MessageLine], unit: OrgUnit, period: LedgerPeriod, tz: ZoneInfo) -> bytes:
    """A branch's file, built while the browser waits."""
    return xlsx_bytes([messages_sheet(lines, unit, period, tz)])


def write_messages_xlsx(
    out: IO[bytes], lines: Iterable[MessageLine], unit: OrgUnit, period: LedgerPeriod, tz: ZoneInfo
) -> int:
    """A committee's or the county's file, streamed into `out` by the background export
    (handlers.ledgers.exports); the rows written."""
    return write_xlsx(out, [messages_sheet(lines, unit, period, tz)])
