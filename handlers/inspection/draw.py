"""The monthly random patrol (曲阜, issue #20 item 3) and the 交叉互查 pairing (大观区, item 4).

The patrol draws `share` of the active branches, stratified by committee (each committee gives its
share, the remainder going to the committees with the largest fractions), and within a committee
prefers the branches drawn longest ago (never drawn first). Everything random comes from one
random.Random(seed), and the seed is recorded on the round: the same seed over the same branches and
history draws the same branches. The round is visible to the drawn branches only from the 1st of the
next month (rounds.visible_units).
"""

from __future__ import annotations

import math
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Markdown, md_escape
from handlers.common import dates
from handlers.inspection import rounds, strings
from handlers.inspection.config import InspectionConfig
from models.inspection import InspectionRound, RoundKind, RoundUnit
from models.org import OrgUnit, RoleAssignment, UnitKind, committees_of

# Where the inspector's finding form lives (bot/web/inspection.py mounts it there).
H5_PREFIX = "/h5/inspection"


@dataclass(frozen=True)
class Candidate:
    branch_id: int
    committee_id: int  # 0: no committee above
    last_drawn: date | None  # the month it was last drawn in


def quotas(sizes: dict[int, int], share: float) -> dict[int, int]:
    """Largest remainder: round(total × share) in all (at least 1), each stratum ⌊n × share⌋ plus one
    for the largest fractions, and at least one per stratum while the total allows."""
    total = sum(sizes.values())
    if not total:
        return {}
    want = max(1, round(total * share))
    exact = {k: n * share for k, n in sizes.items()}
    got = {k: min(n, math.floor(exact[k])) for k, n in sizes.items()}
    order = sorted(sizes, key=lambda k: (got[k] > 0, -(exact[k] - got[k]), k))
    i = 0
    while sum(got.values()) < want and i < 10 * len(order) + want:
        k = order[i % len(order)]
        if got[k] < sizes[k]:
            got[k] += 1
        i += 1
    return got


def draw(candidates: list[Candidate], share: float, seed: int) -> list[int]:
    """The drawn branch ids, sorted. Pure: the same inputs draw the same branches."""
    rng = random.Random(seed)
    strata: dict[int, list[Candidate]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: c.branch_id):
        strata[c.committee_id].append(c)
    take = quotas({k: len(v) for k, v in strata.items()}, share)
    drawn: list[int] = []
    for k in sorted(strata):
        keyed = [(c.last_drawn or date.min, rng.random(), c.branch_id) for c in strata[k]]
        drawn += [b for _, _, b in sorted(keyed)[: take[k]]]
    return sorted(drawn)


def candidates(session: Session, scope: OrgUnit | None) -> list[Candidate]:
    """Every active branch under `scope` (None: the whole tree), with its committee and last draw."""
    q = select(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True))
    if scope is not None:
        q = q.where(OrgUnit.path.startswith(scope.path))
    branches = session.scalars(q).all()
    committees = committees_of(session, branches)
    last = dict(
        session.execute(
            select(RoundUnit.branch_id, InspectionRound.month)
            .join(InspectionRound, InspectionRound.id == RoundUnit.round_id)
            .where(InspectionRound.kind == RoundKind.PATROL)
            .order_by(InspectionRound.month)
        ).all()
    )  # ordered by month: the dict keeps each branch's latest
    return [
        Candidate(b.id, committees[b.id].id if b.id in committees else 0, last.get(b.id)) for b in branches
    ]


def inspectors_for(session: Session, branches: list[OrgUnit], cfg: InspectionConfig) -> dict[int, int | None]:
    """{branch id: inspector}: 组织部 staff over the branch, the least loaded first (then by id)."""
    staff = session.execute(
        select(RoleAssignment.person_id, OrgUnit.path)
        .outerjoin(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.role.in_(cfg.inspector_roles))
        .order_by(RoleAssignment.person_id)
    ).all()
    load: dict[int, int] = defaultdict(int)
    out: dict[int, int | None] = {}
    for b in sorted(branches, key=lambda b: b.path):
        eligible = sorted({p for p, path in staff if path is None or b.path.startswith(path)})
        if not eligible:
            out[b.id] = None
            continue
        pick = min(eligible, key=lambda p: (load[p], p))
        load[pick] += 1
        out[b.id] = pick
    return out


def patrol_month(
    session: Session, month: date, *, now: datetime, cfg: InspectionConfig, seed: int | None = None,
    share: float | None = None, scope: OrgUnit | None = None, created_by_id: int | None = None,
    public_base_url: str = "",
) -> InspectionRound:  # fmt: skip
    """Draw the month's patrol (once: a second call answers with the first draw's round number), and
    send each inspector their list."""
    month = dates.month_start(month)
    share = cfg.patrol_share if share is None else share
    if not 0 < share <= 1:
        raise Refused(strings.BAD_SHARE, ("share",), status=422)
    existing = session.scalar(
        select(InspectionRound).where(
            InspectionRound.kind == RoundKind.PATROL,
            InspectionRound.month == month,
            InspectionRound.unit_id == scope.id if scope else InspectionRound.unit_id.is_(None),
        )
    )
    if existing is not None:
        raise Refused(strings.ALREADY_DRAWN.format(month=dates.fmt_month(month), id=existing.id), status=409)
    seed = secrets.randbelow(2**31) if seed is None else seed
    drawn_ids = draw(candidates(session, scope), share, seed)
    branches = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(drawn_ids))).all()
    inspectors = inspectors_for(session, list(branches), cfg)
    rnd = InspectionRound(
        kind=RoundKind.PATROL, year=month.year, title=strings.PATROL_ROUND_TITLE.format(month=dates.fmt_month(month)),
        unit_id=scope.id if scope else None, target_kind="随机", method="看现场", opened_on=month, month=month,
        seed=seed, share=share, visible_from=dates.add_months(month, 1), created_by_id=created_by_id,
    )  # fmt: skip
    rnd.units = [RoundUnit(branch_id=b, inspector_id=inspectors.get(b)) for b in drawn_ids]
    session.add(rnd)
    session.flush()
    send_lists(session, rnd, now=now, public_base_url=public_base_url)
    return rnd


def send_lists(session: Session, rnd: InspectionRound, *, now: datetime, public_base_url: str = "") -> int:
    """Each inspector gets the branches they check, one message (dedup: once per round), each with the
    link to its finding form on the phone (bot/web/inspection.py) when the public address is known."""
    names = dict(
        session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_([u.branch_id for u in rnd.units]))
        ).all()
    )
    per: dict[int, list[str]] = defaultdict(list)
    for ru in sorted(rnd.units, key=lambda u: names[u.branch_id]):
        if ru.inspector_id is not None:
            link = (
                f"{public_base_url.rstrip('/')}{H5_PREFIX}/{rnd.id}/units/{ru.branch_id}"
                if public_base_url
                else ""
            )
            name = md_escape(names[ru.branch_id])
            per[ru.inspector_id].append(f"[{name}]({link})" if link else name)
    sent = 0
    month = dates.fmt_month(rnd.month or rnd.opened_on)
    for person_id, units in sorted(per.items()):
        sent += outbox.enqueue_to_people(
            session, [person_id],
            Markdown(title=strings.PATROL_LIST_TITLE.format(month=month),
                     text=strings.PATROL_LIST_TEXT.format(lines="\n".join(f"- {u}" for u in units))),
            dedup_key=f"inspection:patrol:{rnd.id}", now=now,
        )  # fmt: skip
    return sent


# ---- 交叉互查


def pair(branch_ids: list[int], previous: set[frozenset[int]], seed: int) -> list[tuple[int, int]]:
    """[(checker, checked)]: a cycle over a seeded shuffle, so every branch checks one other and is
    checked by one other, never itself; of 200 seeded shuffles the first whose pairs share none with
    the previous round's (else the one sharing fewest: with three branches or fewer every cycle
    repeats a pair)."""
    if len(branch_ids) < 2:
        return []
    rng = random.Random(seed)
    best: list[tuple[int, int]] = []
    best_overlap = math.inf
    ids = sorted(branch_ids)
    for _ in range(200):
        rng.shuffle(ids)
        pairs = [(ids[i], ids[(i + 1) % len(ids)]) for i in range(len(ids))]
        overlap = sum(frozenset(p) in previous for p in pairs)
        if overlap < best_overlap:
            best, best_overlap = pairs, overlap
        if overlap == 0:
            break
    return sorted(best)


def previous_pairs(session: Session, committee: OrgUnit) -> set[frozenset[int]]:
    """The pairs of the committee's last 交叉互查."""
    last = session.scalar(
        select(InspectionRound.id)
        .where(InspectionRound.kind == RoundKind.CROSS, InspectionRound.unit_id == committee.id)
        .order_by(InspectionRound.id.desc())
        .limit(1)
    )
    if last is None:
        return set()
    return {
        frozenset((c, b))
        for b, c in session.execute(
            select(RoundUnit.branch_id, RoundUnit.checker_branch_id).where(RoundUnit.round_id == last)
        )
        if c is not None
    }


def open_cross(
    session: Session, st: rounds.Standing, committee: OrgUnit, title: str, period: tuple[date, date], *, today: date,
    seed: int | None = None,
) -> InspectionRound:  # fmt: skip
    """A 交叉互查 round of the committee's active branches, paired by a recorded seed: each branch's
    checker_roles check the branch it is paired with, for `period`."""
    if period[1] < period[0]:
        raise Refused(strings.BAD_DAY, ("period",), status=422)
    branches = {
        b.id: b
        for b in session.scalars(
            select(OrgUnit).where(
                OrgUnit.kind == UnitKind.BRANCH,
                OrgUnit.active.is_(True),
                OrgUnit.path.startswith(committee.path),
            )
        )
    }
    if len(branches) < 2:
        raise Refused(strings.TOO_FEW_TO_PAIR.format(name=committee.name, n=len(branches)), status=422)
    seed = secrets.randbelow(2**31) if seed is None else seed
    pairs = pair(list(branches), previous_pairs(session, committee), seed)
    rnd = rounds.open_round(
        session, st, kind=RoundKind.CROSS, title=title, unit=committee,
        assignments=[(branches[checked], None, checker) for checker, checked in pairs], today=today,
        method="查资料", period=period,
    )  # fmt: skip
    rnd.seed = seed
    session.flush()
    return rnd
