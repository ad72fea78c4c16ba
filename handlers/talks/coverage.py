"""Which of the talks a branch owes this year (handlers.talks.config) it has held, and who is missing.

Read for many branches in a fixed number of statements (people, committee roles, the year's talks), so
the monthly digest can show every branch's line without a query per branch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.talks import strings
from handlers.talks.config import TalksConfig
from models.org import BRANCH_COMMITTEE_ROLES, Person, Role, RoleAssignment
from models.talks import HeartTalk, HeartTalkPerson

_CHUNK = 1000  # ids per IN list
_STREAM_BATCH = 20_000  # member rows per fetch


@dataclass
class BranchTalks:
    """One branch's year: what it owes and what it has done, with the names a secretary acts on."""

    branch_id: int
    year: int
    talks: int = 0
    names: dict[int, str] = field(default_factory=dict)
    committee: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # active members not on the committee
    committee_missing: list[tuple[int, int]] = field(default_factory=list)
    members_missing: list[int] = field(default_factory=list)  # no talk with a 支委 (or the 书记)
    peers_missing: list[int] = field(default_factory=list)  # no talk with another member
    peers_required: bool = True

    @property
    def committee_required(self) -> int:
        return len(self.committee) * (len(self.committee) - 1) // 2

    @property
    def peer_count(self) -> int:
        return len(self.members) if self.peers_required else 0

    @property
    def required(self) -> int:
        return self.committee_required + len(self.members) + self.peer_count

    @property
    def done(self) -> int:
        return (
            self.required - len(self.committee_missing) - len(self.members_missing) - len(self.peers_missing)
        )

    @property
    def complete(self) -> bool:
        return self.done == self.required

    def missing_people(self) -> list[int]:
        """Everyone still owed a talk, each once, 支委 first, in the roster's order."""
        owed = {p for pair in self.committee_missing for p in pair} | {
            *self.members_missing,
            *self.peers_missing,
        }
        return [p for p in self.committee + self.members if p in owed]


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def year_talks(
    session: Session, branch_ids: list[int] | None, year: int, until: date | None = None
) -> dict[int, list[set[int]]]:
    """{branch id: the participant sets of its talks held in `year` (up to `until`, inclusive)}; None:
    every branch."""
    lo, hi = date(year, 1, 1), date(year + 1, 1, 1)
    if until is not None:
        hi = min(hi, until + timedelta(days=1))
    stmt = (
        select(HeartTalk.branch_id, HeartTalk.id, HeartTalkPerson.person_id)
        .join(HeartTalkPerson, HeartTalkPerson.talk_id == HeartTalk.id)
        .where(HeartTalk.held_on >= lo, HeartTalk.held_on < hi)
    )
    found: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    batches = (
        [stmt]
        if branch_ids is None
        else [stmt.where(HeartTalk.branch_id.in_(c)) for c in _chunks(branch_ids)]
    )
    for batch in batches:
        for branch_id, talk_id, person_id in session.execute(batch):
            found[branch_id][talk_id].add(person_id)
    return {b: list(talks.values()) for b, talks in found.items()}


def branch_people(
    session: Session, branch_ids: list[int] | None
) -> tuple[dict[int, dict[int, str]], dict[int, dict[int, set[Role]]]]:
    """Who belongs to each branch (None: every branch with members) for 谈心谈话, the one definition the coverage and
    the recording command share: ({branch id: {person id: name}} of its active members and its active
    支委, {branch id: {支委 id: their offices there}}). A 支委 who is not a member of the branch (a 书记
    sent from another) is one of its people; in two statements per thousand branches."""
    person_stmt = select(Person.branch_id, Person.id, Person.name).where(
        Person.active.is_(True), Person.branch_id.is_not(None)
    )
    role_stmt = (
        select(RoleAssignment.org_unit_id, RoleAssignment.person_id, RoleAssignment.role, Person.name)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.role.in_(list(BRANCH_COMMITTEE_ROLES)), Person.active.is_(True))
    )
    person_batches = (
        [person_stmt]
        if branch_ids is None
        else [person_stmt.where(Person.branch_id.in_(c)) for c in _chunks(branch_ids)]
    )
    role_batches = (
        [role_stmt]
        if branch_ids is None
        else [role_stmt.where(RoleAssignment.org_unit_id.in_(c)) for c in _chunks(branch_ids)]
    )
    names: dict[int, dict[int, str]] = defaultdict(dict)
    committee: dict[int, dict[int, set[Role]]] = defaultdict(lambda: defaultdict(set))
    for batch in role_batches:
        for unit_id, pid, role, name in session.execute(batch):
            committee[unit_id][pid].add(Role(role))
            names[unit_id][pid] = name
    with_members: set[int] = set()
    for batch in person_batches:
        # Streamed (a server-side cursor on PostgreSQL): a province's 3 million members are read a batch
        # at a time instead of all in the driver's buffer and a list of rows at once, about 1 GB.
        for branch_id, pid, name in session.execute(batch.execution_options(yield_per=_STREAM_BATCH)):
            names[branch_id][pid] = name
            with_members.add(branch_id)
    # Every branch: those with members (the role query also read the 党委's own 书记 and 委员).
    kept = with_members if branch_ids is None else names.keys()
    return {b: names[b] for b in kept}, {b: dict(committee[b]) for b in kept if b in committee}


def coverage(
    session: Session,
    branch_ids: Iterable[int] | None,
    year: int,
    cfg: TalksConfig,
    *,
    until: date | None = None,
) -> dict[int, BranchTalks]:
    """Each branch's coverage of `year` (None: every branch with members), as the roster stands now;
    with `until`, of the talks held by then (a month's digest reads the same however late it is opened)."""
    ids = None if branch_ids is None else sorted(set(branch_ids))
    names, committee = branch_people(session, ids)
    talks = year_talks(session, ids, year, until)
    wanted = ids if ids is not None else sorted(names)
    result = {}
    for branch_id in wanted:
        if branch_id not in names:
            continue
        result[branch_id] = branch_coverage(
            branch_id, year, names[branch_id], committee.get(branch_id, {}), talks.get(branch_id, []), cfg
        )
    return result


def branch_coverage(
    branch_id: int,
    year: int,
    names: dict[int, str],
    committee_roles: dict[int, set[Role]],
    talks: list[set[int]],
    cfg: TalksConfig,
) -> BranchTalks:
    """The rule of handlers.talks.config applied to one branch: `names` is everyone of the branch (members
    and 支委), `committee_roles` the 支委 with their offices, `talks` the year's participant sets."""
    # The roster's order (ids), as the secretary's member list reads; code-point order of Chinese names
    # would mean nothing to them.
    committee = sorted(committee_roles)
    members = sorted(p for p in names if p not in committee_roles)
    talked: dict[int, set[int]] = defaultdict(set)
    for people in talks:
        for a, b in combinations(people, 2):
            talked[a].add(b)
            talked[b].add(a)
    # `names` is the caller's own dict for this branch (branch_people's), kept rather than copied: at a
    # province that is three million entries, and nothing writes to it.
    row = BranchTalks(branch_id, year, len(talks), names, committee, members)
    row.committee_missing = [(a, b) for a, b in combinations(committee, 2) if b not in talked[a]]
    leaders = set(committee)
    if cfg.member_talks_with == "secretary":
        secretaries = {p for p, roles in committee_roles.items() if Role.SECRETARY in roles}
        leaders = secretaries or leaders  # a branch without a 书记 on record: any 支委 counts
    row.members_missing = [m for m in members if not talked[m] & leaders]
    row.peers_required = cfg.member_peer_talk and len(members) >= 2
    if row.peers_required:
        others = set(members)
        row.peers_missing = [m for m in members if not (talked[m] & others) - {m}]
    return row


def _names(row: BranchTalks, ids: list[int], limit: int) -> str:
    shown = "、".join(row.names.get(p, "?") for p in ids[:limit])
    return shown + (strings.MORE.format(n=len(ids)) if len(ids) > limit else "")


def _with_whom(cfg: TalksConfig) -> str:
    return (
        strings.RULE_WITH_SECRETARY if cfg.member_talks_with == "secretary" else strings.RULE_WITH_COMMITTEE
    )


def coverage_text(row: BranchTalks, branch_name: str, cfg: TalksConfig, *, escape=lambda s: s) -> str:
    """The secretary's chat answer: the counts per pair type and the pairs and people still missing."""
    limit = cfg.names_shown
    with_whom = _with_whom(cfg)
    lines = [
        strings.COVERAGE_HEAD.format(
            branch=escape(branch_name), year=row.year, talks=row.talks, required=row.required, done=row.done
        ),
        strings.LINE_COMMITTEE.format(
            done=row.committee_required - len(row.committee_missing), required=row.committee_required
        ),
    ]
    if row.committee_missing:
        pairs = [
            strings.PAIR.format(a=escape(row.names.get(a, "?")), b=escape(row.names.get(b, "?")))
            for a, b in row.committee_missing
        ]
        more = strings.MORE_PAIRS.format(n=len(pairs)) if len(pairs) > limit else ""
        lines.append(strings.MISSING_PAIRS.format(pairs="、".join(pairs[:limit]) + more))
    lines.append(
        strings.LINE_MEMBERS.format(
            with_whom=with_whom, done=len(row.members) - len(row.members_missing), required=len(row.members)
        )
    )
    if row.members_missing:
        lines.append(strings.MISSING_PEOPLE.format(names=escape(_names(row, row.members_missing, limit))))
    if row.peers_required:
        lines.append(
            strings.LINE_PEERS.format(done=row.peer_count - len(row.peers_missing), required=row.peer_count)
        )
        if row.peers_missing:
            lines.append(strings.MISSING_PEOPLE.format(names=escape(_names(row, row.peers_missing, limit))))
    elif cfg.member_peer_talk:
        lines.append(strings.NOT_APPLICABLE.format(n=len(row.members)))
    if row.complete:
        lines.append(strings.ALL_DONE)
    peer = strings.RULE_PEER if cfg.member_peer_talk else ""
    lines.append(strings.COVERAGE_RULE.format(with_whom=with_whom, peer=peer))
    return "\n".join(lines)


def digest_line(row: BranchTalks, cfg: TalksConfig, *, escape=lambda s: s) -> str:
    """The digest's short section: the counts and, for the secretary, who is still owed a talk."""
    missing = row.missing_people()
    parts = [
        strings.DIGEST_COMMITTEE.format(
            counts=f"{row.committee_required - len(row.committee_missing)}/{row.committee_required}"
        ),
        strings.DIGEST_MEMBERS.format(
            with_whom=_with_whom(cfg),
            counts=f"{len(row.members) - len(row.members_missing)}/{len(row.members)}",
        ),
    ]
    if row.peers_required:  # as the chat's answer: no 党员之间 line where the rule does not ask for it
        parts.append(
            strings.DIGEST_PEERS.format(counts=f"{row.peer_count - len(row.peers_missing)}/{row.peer_count}")
        )
    return strings.DIGEST_SECTION.format(
        year=row.year,
        done=row.done,
        required=row.required,
        parts="，".join(parts),
        missing=strings.DIGEST_MISSING.format(names=escape(_names(row, missing, cfg.names_shown)))
        if missing
        else strings.DIGEST_DONE,
    )
