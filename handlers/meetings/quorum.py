"""Quorum and votes of the branch's deciding meetings (条例 第十一、十二条; domain.md §1.2 rules 10–16).

- 支部党员大会 (rule 10): a vote may be taken only when MORE THAN HALF of the members with a vote are
  present. A motion passes when the yes votes are more than half of those who SHOULD attend with a
  vote (应到会有表决权的党员), not of those present: with 10 such members and 6 present, it takes 6 yes.
- Who has a vote (rule 12): 正式党员 only. 预备党员 attend and are counted in 应到/实到 (rule 20) but
  neither vote nor count in the base. (留党察看 also takes the vote away; the roster does not record
  it yet.)
- Left out of the base (rule 13; rule 50): members exempt from organisational life, which the roster
  marks with Person.attendance_exempt_reason and scheduling already leaves out of the invitees; one who
  comes anyway counts, present and in the base (中组部: 如本人参加会议，应计算在应到会人数之内).
- Written votes (rule 14): for 接收预备党员 / 预备党员转正, an absent member's written opinion counts as
  a vote (towards the yes count, never towards the quorum).
- Elections (rule 15): more than FOUR FIFTHS present; elected with yes > half of the base.
- 支委会 (rule 11): more than half of its 委员 (the branch's committee roles) present.
- "More than half" is strictly greater (domain.md §1.2's note), and 2/3 is no branch quorum (rule 16).

A vote taken without its quorum is saved as it happened, flagged to the branch's secretaries and the
committee's 组织委员, and marks the meeting as needing a 补开 until a later meeting of the same body
reaches its quorum.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.meetings import strings
from handlers.meetings.types import Refused
from models.meetings import Meeting, MeetingType, VoteKind
from models.org import BRANCH_COMMITTEE_ROLES, MemberStatus, Person, RoleAssignment


class Body(enum.StrEnum):
    """The branch body a meeting decides as."""

    CONGRESS = "congress"  # 支部党员大会
    COMMITTEE = "committee"  # 支部委员会


def deciding_body(types: Iterable[MeetingType]) -> Body | None:
    """The body an event decides as: a 主题党日 held as a 党员大会 decides as the 党员大会."""
    types = set(types)
    if MeetingType.PARTY_CONGRESS in types:
        return Body.CONGRESS
    if MeetingType.BRANCH_COMMITTEE in types:
        return Body.COMMITTEE
    return None


def more_than(part: int, whole: int, num: int = 1, den: int = 2) -> bool:
    """part > whole × num/den, in integers (no rounding at 5 of 10)."""
    return part * den > whole * num


def least_more_than(whole: int, num: int = 1, den: int = 2) -> int:
    """The smallest count that is more than whole × num/den: 10 → 6 (half), 10 → 9 (four fifths)."""
    return whole * num // den + 1


@dataclass(frozen=True)
class Headcount:
    """应到 / 实到 split 正式 / 预备 (rule 20), and the bases of the two deciding bodies."""

    expected_full: int
    expected_probationary: int
    present_full: int
    present_probationary: int
    voting_base: int  # 党员大会: 应到会有表决权的党员 (正式, exempt ones only when present)
    voting_present: int
    committee_base: int  # 支委会: the branch's 委员
    committee_present: int

    @property
    def expected(self) -> int:
        return self.expected_full + self.expected_probationary

    @property
    def present(self) -> int:
        return self.present_full + self.present_probationary

    def base(self, body: Body | None) -> tuple[int, int]:
        """(those who should attend with a vote, those of them present) for the body."""
        if body == Body.COMMITTEE:
            return self.committee_base, self.committee_present
        return self.voting_base, self.voting_present


def headcount(
    session: Session, meeting: Meeting, invited: Iterable[Person], present_ids: set[int]
) -> Headcount:
    """Counts from the meeting's invitees (fixed at scheduling) and who is present (signed in or 代签)."""
    invited = list(invited)
    full = [p for p in invited if p.status == MemberStatus.FULL]
    probationary = [p for p in invited if p.status != MemberStatus.FULL]
    voting = [p for p in full if p.attendance_exempt_reason is None or p.id in present_ids]
    committee = set(
        session.scalars(
            select(RoleAssignment.person_id)
            .join(Person, Person.id == RoleAssignment.person_id)
            .where(
                RoleAssignment.org_unit_id == meeting.branch_id,
                RoleAssignment.role.in_(BRANCH_COMMITTEE_ROLES),
                Person.active.is_(True),
            )
        )
    )
    return Headcount(
        expected_full=len(full),
        expected_probationary=len(probationary),
        present_full=sum(p.id in present_ids for p in full),
        present_probationary=sum(p.id in present_ids for p in probationary),
        voting_base=len(voting),
        voting_present=sum(p.id in present_ids for p in voting),
        committee_base=len(committee),
        committee_present=len(committee & present_ids),
    )


@dataclass(frozen=True)
class VoteInput:
    held: bool = False
    kind: VoteKind = VoteKind.DECISION
    votes_for: int | None = None  # an election: the fewest yes votes of any candidate declared elected
    written: int = 0  # written votes of absent members (rule 14)


@dataclass(frozen=True)
class Thresholds:
    """What a body needs, for the form to show before anything is saved."""

    base: int
    present: int
    quorum_needed: int  # present members needed (> 1/2, an election > 4/5)
    quorum_met: bool
    pass_needed: int | None  # yes votes needed (> 1/2 of the base); None for a 支委会 (rule 11: quorum only)


def thresholds(head: Headcount, body: Body, kind: VoteKind = VoteKind.DECISION) -> Thresholds:
    base, present = head.base(body)
    num, den = (4, 5) if kind == VoteKind.ELECTION else (1, 2)
    return Thresholds(
        base=base,
        present=present,
        quorum_needed=least_more_than(base, num, den),
        quorum_met=base > 0 and more_than(present, base, num, den),
        pass_needed=least_more_than(base) if body == Body.CONGRESS else None,
    )


@dataclass(frozen=True)
class VoteResult:
    body: Body | None
    vote: VoteInput
    limits: Thresholds | None  # None: not a deciding meeting
    passed: bool | None  # None: no vote, or a 支委会

    @property
    def quorum_met(self) -> bool | None:
        return self.limits.quorum_met if self.limits else None

    @property
    def needs_reconvene(self) -> bool:
        """A decision taken without its quorum is void: the meeting must be held again (补开)."""
        return self.vote.held and self.limits is not None and not self.limits.quorum_met


def judge(head: Headcount, types: Iterable[MeetingType], vote: VoteInput) -> VoteResult:
    """Check the vote as entered against the rules; Refused (Chinese) for numbers that cannot be."""
    types = list(types)
    body = deciding_body(types)
    if body is None:
        if vote.held:
            raise Refused(strings.VOTE_NOT_A_DECIDING_MEETING)
        return VoteResult(None, vote, None, None)
    if not vote.held:
        return VoteResult(body, VoteInput(), thresholds(head, body), None)
    if vote.kind == VoteKind.ELECTION and body != Body.CONGRESS:
        raise Refused(strings.VOTE_ELECTION_ONLY_CONGRESS)
    written = vote.written or 0
    if written and (body != Body.CONGRESS or vote.kind != VoteKind.DECISION):
        raise Refused(strings.VOTE_WRITTEN_ONLY_DECISION)
    limits = thresholds(head, body, vote.kind)
    if vote.votes_for is None:
        raise Refused(strings.VOTE_COUNT_REQUIRED)
    if written < 0 or written > limits.base - limits.present:
        raise Refused(strings.VOTE_WRITTEN_TOO_MANY.format(absent=limits.base - limits.present))
    most = limits.present + written
    if not 0 <= vote.votes_for <= most:
        raise Refused(strings.VOTE_COUNT_OVER.format(most=most, present=limits.present, written=written))
    passed = more_than(vote.votes_for, limits.base) and limits.quorum_met if body == Body.CONGRESS else None
    return VoteResult(body, VoteInput(True, vote.kind, vote.votes_for, written), limits, passed)


def _count(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise Refused(strings.VOTE_COUNT_BAD)
    try:
        return int(str(value).strip())
    except ValueError:
        raise Refused(strings.VOTE_COUNT_BAD) from None


def vote_from_form(fields: dict) -> VoteInput:
    """The vote as the minutes form sends it (JSON, or multipart strings when photos go along)."""
    held = fields.get("vote_held")
    held = held if isinstance(held, bool) else str(held or "").strip().lower() in ("1", "true", "on", "yes")
    if not held:
        return VoteInput()
    try:
        kind = VoteKind(str(fields.get("vote_kind") or VoteKind.DECISION.value))
    except ValueError:
        raise Refused(strings.VOTE_KIND_BAD) from None
    return VoteInput(True, kind, _count(fields.get("votes_for")), _count(fields.get("written_votes")) or 0)
