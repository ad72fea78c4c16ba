"""Chat accounts found by phone (#18 item 1): for everyone with a phone number and no account on a
platform, ask that platform's directory which userid the number belongs to, and bind it.

A county's roster has names and phone numbers but nobody's DingTalk userId or WeCom userid. The
platforms answer "whose is this number" (DingTalk topapi/v2/user/getbymobile, WeCom user/getuserid);
the adapters in bot.platforms.*.directory ask them, within their rate limits, through the `Lookup`
port below. This module decides, over a Session, who is asked, what each answer means for the
roster (matched, not in the corp's directory, outside the app's visible range, the same account on
two people, an account already bound to someone else), and writes the matches all or nothing.

Three steps, so no transaction is held open while a platform is asked (a thousand numbers take a
minute at DingTalk's 20 calls a second): `candidates` reads who to ask, `look_up` asks (no Session),
`apply_matches` checks the answers again against the database and writes every one, or none.
Plain functions over a Session that never commit; the audit log records the rows through the
Session's actor (models.audit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from bot.core.errors import PermanentPlatformError, PlatformError
from handlers.roster.validate import chunks
from models.org import PLATFORM_LABELS, ChatAccount, OrgUnit, Person, Platform


class Outcome(StrEnum):
    MATCHED = "matched"  # a userid nobody holds yet: written by apply
    NOT_FOUND = "not_found"  # the number is not in the corp's directory (or the user left)
    OUT_OF_RANGE = "out_of_range"  # in the directory, outside the app's visible range (可见范围)
    INVALID = "invalid"  # the platform calls the number malformed
    DUPLICATE = "duplicate"  # two people's numbers gave the same userid: neither is bound
    TAKEN = "taken"  # the userid is already someone else's account here
    NOT_ASKED = "not_asked"  # the platform stopped answering (limit, token, permission)


OUTCOME_LABELS = {
    Outcome.MATCHED: "已匹配",
    Outcome.NOT_FOUND: "通讯录中没有这个手机号",
    Outcome.OUT_OF_RANGE: "不在应用的可见范围内",
    Outcome.INVALID: "手机号无效",
    Outcome.DUPLICATE: "与他人匹配到同一个账号",
    Outcome.TAKEN: "该账号已绑定给其他人",
    Outcome.NOT_ASKED: "未查询",
}

# What the secretary or the IT person does about each (one line, shown under the counts).
OUTCOME_HINTS = {
    Outcome.NOT_FOUND: "请确认花名册上的手机号与{platform}通讯录中的一致，或先把此人加入{platform}通讯录。",
    Outcome.OUT_OF_RANGE: "请在{platform}管理后台把此人（或其部门）加入本应用的可见范围，然后重新匹配。",
    Outcome.INVALID: "请在花名册或人员页面改正手机号。",
    Outcome.DUPLICATE: "两人的手机号对应同一个{platform}账号，请核对后在人员页面手工填写。",
    Outcome.TAKEN: "该账号已属于系统中的另一人，请核对是否重复录入。",
    Outcome.NOT_ASKED: "{reason}",
}


class NumberNotUsable(PermanentPlatformError):
    """The platform says the number is malformed (DingTalk 40104, WeCom 60103)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason=OUTCOME_LABELS[Outcome.INVALID])


class OutOfRange(PermanentPlatformError):
    """The user exists, but the app may not see them (DingTalk 50004, WeCom 60011)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason=OUTCOME_LABELS[Outcome.OUT_OF_RANGE])


class Lookup(Protocol):
    """One platform's directory, as the adapters (bot.platforms.*.directory) offer it."""

    platform: Platform
    corp_id: str

    def userid_by_mobile(self, mobile: str) -> str | None:
        """The userid the number belongs to, or None when the corp's directory has no such number.
        NumberNotUsable / OutOfRange for those answers; any other PlatformError means the platform
        stopped answering (a limit, a bad token, a missing permission): ask it nothing more today."""


@dataclass(frozen=True)
class Candidate:
    person_id: int
    name: str
    phone: str
    branch: str
    platform: Platform
    corp_id: str


@dataclass
class Row:
    candidate: Candidate
    outcome: Outcome
    userid: str = ""
    other: str = ""  # who else: the other person of a duplicate, the holder of a taken account

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass
class MatchReport:
    rows: list[Row] = field(default_factory=list)
    stopped: dict[Platform, str] = field(default_factory=dict)  # platform → why it was not asked further
    applied: bool = False
    stale: list[Row] = field(
        default_factory=list
    )  # matches the database no longer allows (apply wrote nothing)

    def of(self, outcome: Outcome) -> list[Row]:
        return [r for r in self.rows if r.outcome == outcome]

    @property
    def matched(self) -> list[Row]:
        return self.of(Outcome.MATCHED)

    @property
    def platforms(self) -> list[Platform]:
        """The platforms asked, in the deployment's order (DingTalk first)."""
        return [p for p in Platform if any(r.candidate.platform == p for r in self.rows)]

    def counts(self, platform: Platform | None = None) -> dict[Outcome, int]:
        out = dict.fromkeys(Outcome, 0)
        for r in self.rows:
            if platform is None or r.candidate.platform == platform:
                out[r.outcome] += 1
        return out

    def heading(self, outcome: Outcome) -> str:
        """ "已匹配：钉钉 17 人，企业微信 15 人" (one person counts once on each platform)."""
        parts = [f"{PLATFORM_LABELS[p]} {n} 人" for p in self.platforms if (n := self.counts(p)[outcome])]
        return f"{OUTCOME_LABELS[outcome]}：{'，'.join(parts)}"

    def hint(self, outcome: Outcome, platform: Platform) -> str:
        return OUTCOME_HINTS.get(outcome, "").format(
            platform=PLATFORM_LABELS[platform], reason=self.stopped.get(platform, "")
        )

    def summary(self) -> str:
        """One sentence per platform: how many were asked and what came back."""
        if not self.rows:
            return "没有需要查询的人员。"
        lines = []
        for p in self.platforms:
            c = self.counts(p)
            parts = "，".join(f"{OUTCOME_LABELS[o]} {n} 人" for o, n in c.items() if n)
            lines.append(f"{PLATFORM_LABELS[p]}：查询 {sum(c.values())} 人，{parts}。")
        return "\n".join(lines)


# ---- 1. who is asked


def candidates(
    session: Session,
    corps: Sequence[tuple[Platform, str]],
    *,
    people: ColumnElement[bool] | None = None,
) -> list[Candidate]:
    """Active people with a phone number and no account on each (platform, corp), optionally within a
    WHERE clause over Person (the console's scope). An account marked as gone from the directory still
    counts as an account: following it is the directory events' work, not a new match."""
    where = [
        Person.active.is_(True),
        Person.phone.is_not(None),
        Person.phone != "",
        people if people is not None else true(),
    ]
    found = session.execute(
        select(Person.id, Person.name, Person.phone, OrgUnit.name)
        .outerjoin(OrgUnit, OrgUnit.id == Person.branch_id)
        .where(*where)
        .order_by(Person.branch_id, Person.id)
    ).all()
    if not found:
        return []
    asked = select(Person.id).where(*where)  # a subquery: a city's roster is more than a bind list holds
    held = set(
        session.execute(
            select(ChatAccount.person_id, ChatAccount.platform, ChatAccount.corp_id).where(
                ChatAccount.person_id.in_(asked)
            )
        ).all()
    )
    out = []
    for platform, corp_id in corps:
        for pid, name, phone, branch in found:
            if (pid, Platform(platform), corp_id) not in held:
                out.append(Candidate(pid, name, phone, branch or "", Platform(platform), corp_id))
    return out


# ---- 2. asking the platforms (no Session)


def look_up(wanted: Iterable[Candidate], lookups: Sequence[Lookup]) -> MatchReport:
    """Ask each candidate's platform for their number's userid. A platform that stops answering is
    asked nothing more (WeCom suspends the lookup for a day when misses pile up): the rest of its
    people are NOT_ASKED, with the reason."""
    by_platform = {(lk.platform, lk.corp_id): lk for lk in lookups}
    report = MatchReport()
    for c in wanted:
        lookup = by_platform.get((c.platform, c.corp_id))
        if lookup is None:
            continue
        if c.platform in report.stopped:
            report.rows.append(Row(c, Outcome.NOT_ASKED))
            continue
        try:
            userid = lookup.userid_by_mobile(c.phone)
        except NumberNotUsable:
            report.rows.append(Row(c, Outcome.INVALID))
        except OutOfRange:
            report.rows.append(Row(c, Outcome.OUT_OF_RANGE))
        except PlatformError as exc:
            report.stopped[c.platform] = _stopped_reason(c.platform, exc)
            report.rows.append(Row(c, Outcome.NOT_ASKED))
        else:
            report.rows.append(Row(c, Outcome.MATCHED, userid) if userid else Row(c, Outcome.NOT_FOUND))
    _mark_duplicates(report)
    return report


def _stopped_reason(platform: Platform, exc: PlatformError) -> str:
    label = PLATFORM_LABELS[platform]
    detail = getattr(exc, "reason", "") or str(exc)
    return f"{label}停止了查询（{detail}），其余人员没有查询。请按原因处理后再查询一次（已绑定账号的人员不会再查）。"


def _mark_duplicates(report: MatchReport) -> None:
    seen: dict[tuple, list[Row]] = {}
    for r in report.matched:
        seen.setdefault((r.candidate.platform, r.candidate.corp_id, r.userid.lower()), []).append(r)
    for rows in seen.values():
        if len(rows) > 1:
            for r in rows:
                r.outcome = Outcome.DUPLICATE
                r.other = "、".join(o.candidate.name for o in rows if o is not r)


# ---- 3. checking against the database, and writing


def check_taken(session: Session, report: MatchReport) -> list[Row]:
    """Mark matches whose userid is already someone's account here (TAKEN, naming the holder), and
    return the matches that no longer fit: the person got an account on that platform meanwhile, or
    left the roster."""
    matched = report.matched
    if not matched:
        return []
    # WeCom userids are case-insensitive ("不区分大小写"): compare them lowered.
    holders = {}
    for part in chunks({r.userid.lower() for r in matched}):
        for p, corp, acc, pid, name in session.execute(
            select(ChatAccount.platform, ChatAccount.corp_id, ChatAccount.account_id, Person.id, Person.name)
            .join(Person, Person.id == ChatAccount.person_id)
            .where(func.lower(ChatAccount.account_id).in_(part))
        ):
            holders[(Platform(p), corp, acc.lower())] = (pid, name)
    now_held, active = set(), set()
    for part in chunks({r.candidate.person_id for r in matched}):
        now_held |= set(
            session.execute(
                select(ChatAccount.person_id, ChatAccount.platform, ChatAccount.corp_id).where(
                    ChatAccount.person_id.in_(part)
                )
            ).all()
        )
        active |= set(session.scalars(select(Person.id).where(Person.id.in_(part), Person.active.is_(True))))
    stale = []
    for r in matched:
        c = r.candidate
        holder = holders.get((c.platform, c.corp_id, r.userid.lower()))
        if holder is not None and holder[0] != c.person_id:
            r.outcome, r.other = Outcome.TAKEN, holder[1]
        elif (c.person_id, c.platform, c.corp_id) in now_held or c.person_id not in active:
            stale.append(r)
    return stale


def apply_matches(
    session: Session, report: MatchReport, *, allowed: ColumnElement[bool] | None = None
) -> int:
    """Bind every MATCHED row's userid to its person, all or nothing: when any of them no longer fits
    the database (someone bound that person or account meanwhile, or, with `allowed`, the person is
    no longer the caller's to change), nothing is written and `report.stale` lists them. Returns the
    number of accounts written."""
    stale = check_taken(session, report)
    if allowed is not None and report.matched:
        mine = set()
        for part in chunks({r.candidate.person_id for r in report.matched}):
            mine |= set(session.scalars(select(Person.id).where(Person.id.in_(part), allowed)))
        stale += [r for r in report.matched if r.candidate.person_id not in mine and r not in stale]
    if stale:
        report.stale = stale
        return 0
    for r in report.matched:
        c = r.candidate
        session.add(
            ChatAccount(person_id=c.person_id, platform=c.platform, corp_id=c.corp_id, account_id=r.userid)
        )
    session.flush()
    report.applied = True
    return len(report.matched)
