"""Ranking within peer groups, the 落后 rules, and storing scores (a recompute reports what changed)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from handlers.monthly.config import LagKind, LagRule, MonthlyConfig
from handlers.monthly.scoring import COMMITTEE_GROUP, NO_ITEMS, MonthScores, UnitScore
from models.monthly import MonthlyScore

MIXED = "mixed"  # the peer group of the small 类别 (or committee kinds) merged together


def rank_group(
    items: list[UnitScore], rules: tuple[LagRule, ...], *, min_size: int = 1, below: float | None = None
) -> None:
    """Competition ranking (equal scores share a rank) and the 落后 flags of one peer group.

    A rank rule (bottom N, bottom X%) marks a unit 落后 only in a group of at least `min_size` (a
    rank among one or two says nothing) and only when its score is also under `below` and under the
    group's median: the last of a group that did well is not behind anyone a county would 约谈.
    """
    ordered = sorted(items, key=lambda s: (-s.score, s.unit_id))
    size = len(ordered)
    best = ordered[0].score if ordered else 0.0
    for i, s in enumerate(ordered):
        # Equal scores share the rank of the first of them (1, 2, 2, 4).
        s.rank = ordered[i - 1].rank if i and ordered[i - 1].score == s.score else i + 1
        s.group_size = size
        s.lag_reasons = NO_ITEMS  # a list of its own only for a unit that lags (see NO_ITEMS)
    scores_low_first = sorted(s.score for s in ordered)
    middle = statistics.median(scores_low_first) if ordered else 0.0
    for rule in rules:
        if rule.kind in (LagKind.BOTTOM_N, LagKind.BOTTOM_PCT):
            k = int(rule.value) if rule.kind == LagKind.BOTTOM_N else math.ceil(size * rule.value / 100)
            # Bottom N needs someone above it; when the whole group ties nobody is behind anyone.
            if k <= 0 or size <= k or size < min_size:
                continue
            cutoff = scores_low_first[k - 1]
            for s in ordered:
                if (
                    s.score <= cutoff
                    and s.score < best
                    and s.score < middle
                    and (below is None or s.score < below)
                ):
                    s.lag_reasons = [*s.lag_reasons, f"{rule.kind.value}:{rule.value:g}"]
        elif rule.kind == LagKind.BELOW:
            for s in ordered:
                if s.score < rule.value:
                    s.lag_reasons = [*s.lag_reasons, f"below:{rule.value:g}"]
        elif rule.kind == LagKind.HALT:
            for s in ordered:
                if s.halted:
                    s.lag_reasons = [*s.lag_reasons, "halt"]
    for s in ordered:
        s.lagging = bool(s.lag_reasons)


def merge_small(groups: dict[str, list[UnitScore]], min_size: int, mixed: str) -> dict[str, list[UnitScore]]:
    """The peer groups with the small ones (fewer than `min_size`) merged into one `mixed` group, when
    there are two or more of them; a lone small group stays itself (it has no rank-based 落后)."""
    small = [k for k, items in groups.items() if len(items) < min_size]
    if len(small) < 2:
        return groups
    out = {k: items for k, items in groups.items() if k not in small}
    out[mixed] = [s for k in sorted(small) for s in groups[k]]
    for s in out[mixed]:
        s.explanation.setdefault("merged_from", s.peer_group)  # its own 类别 (or committee kind)
        s.peer_group = mixed
    return out


def rank(scores: MonthScores, mcfg: MonthlyConfig) -> MonthScores:
    """Rank branches within their 类别 and committees within their kind (乡镇, 街道, 机关…), small
    groups merged (MonthlyConfig.min_peer_group, min_committee_group), and flag 落后 (lag_rules,
    lag_rank_below)."""
    branch_groups: dict[str, list[UnitScore]] = defaultdict(list)
    for s in scores.branches.values():
        branch_groups[s.peer_group].append(s)
    committee_groups: dict[str, list[UnitScore]] = defaultdict(list)
    for s in scores.committees.values():
        committee_groups[s.peer_group].append(s)
    for groups, min_size, mixed in (
        (branch_groups, mcfg.min_peer_group, MIXED),
        (committee_groups, mcfg.min_committee_group, f"{COMMITTEE_GROUP}:{MIXED}"),
    ):
        rules = [f"{r.kind.value}:{r.value:g}" for r in mcfg.lag_rules]  # one list, shared (see NO_ITEMS)
        for items in merge_small(groups, min_size, mixed).values():
            rank_group(items, mcfg.lag_rules, min_size=min_size, below=mcfg.lag_rank_below)
            for s in items:
                s.explanation["rank"] = {
                    "rank": s.rank, "of": s.group_size, "group": s.peer_group, "min": min_size,
                    "below": mcfg.lag_rank_below, "rules": rules,
                }  # fmt: skip
                s.explanation["lagging"] = s.lag_reasons
    return scores


@dataclass(frozen=True)
class Change:
    unit_id: int
    name: str
    old_score: float
    new_score: float
    old_rank: int
    new_rank: int
    old_lagging: bool
    new_lagging: bool
    changed_items: tuple[str, ...]


@dataclass(frozen=True)
class StoreResult:
    inserted: int
    updated: int
    unchanged: int
    changes: list[Change]


def _changed_items(old: dict, new: dict) -> tuple[str, ...]:
    keys = ("completion", "quality", "rectification")
    out = [k for k in keys if old.get(k) != new.get(k)]
    old_items, new_items = old.get("items") or {}, new.get("items") or {}
    out += [k for k in new_items if old_items.get(k) != new_items.get(k)]
    if old.get("penalties") != new.get("penalties"):
        out.append("penalties")
    return tuple(out)


# Stored rows are compared a batch at a time (one statement, read as a stream): at a province the month's
# 103,000 stored explanations, decoded all at once, were 0.76 GB beside the new ones.
_STORED_BATCH = 2000


def store(session: Session, scores: MonthScores, now: datetime) -> StoreResult:
    """Upsert every score of the month: one read, one bulk insert, one bulk update."""
    by_unit = {s.unit_id: s for s in scores.all()}
    seen: set[int] = set()
    updates: dict[int, dict] = {}
    changes: dict[int, Change] = {}
    unchanged = 0
    existing = select(
        MonthlyScore.id,
        MonthlyScore.unit_id,
        MonthlyScore.score,
        MonthlyScore.rank,
        MonthlyScore.lagging,
        MonthlyScore.explanation,
        MonthlyScore.revision,
    ).where(MonthlyScore.month == scores.month)
    for old in session.execute(existing.execution_options(yield_per=_STORED_BATCH)):
        s = by_unit.get(old.unit_id)
        if s is None:
            continue  # a unit no longer scored keeps its row
        seen.add(s.unit_id)
        if (
            old.score == s.score
            and old.rank == s.rank
            and old.lagging == s.lagging
            and old.explanation == s.explanation
        ):
            unchanged += 1
            continue
        updates[s.unit_id] = {
            "id": old.id,
            "revision": old.revision + 1,
            "updated_at": now,
            **_values(s, now),
        }
        changes[s.unit_id] = Change(
            s.unit_id, s.name, old.score, s.score, old.rank, s.rank, old.lagging, s.lagging,
            _changed_items(old.explanation or {}, s.explanation),
        )  # fmt: skip
    new_rows = [
        {"unit_id": s.unit_id, "month": scores.month, "unit_kind": s.kind, "revision": 1, "created_at": now,
         "updated_at": now, **_values(s, now)}
        for s in by_unit.values()
        if s.unit_id not in seen
    ]  # fmt: skip
    if new_rows:
        session.execute(insert(MonthlyScore), new_rows)
    if updates:  # in the scores' order, as the changes are reported
        session.execute(update(MonthlyScore), [updates[u] for u in by_unit if u in updates])
    return StoreResult(len(new_rows), len(updates), unchanged, [changes[u] for u in by_unit if u in changes])


def _values(s: UnitScore, now: datetime) -> dict:
    return {
        "score": s.score,
        "rank": s.rank,
        "group_size": s.group_size,
        "lagging": s.lagging,
        "explanation": s.explanation,
        "peer_group": s.peer_group,
        "computed_at": now,
    }


def stored(session: Session, month: date, unit_ids: list[int] | None = None) -> dict[int, MonthlyScore]:
    stmt = select(MonthlyScore).where(MonthlyScore.month == month)
    if unit_ids is not None:
        stmt = stmt.where(MonthlyScore.unit_id.in_(unit_ids))
    return {r.unit_id: r for r in session.scalars(stmt)}
