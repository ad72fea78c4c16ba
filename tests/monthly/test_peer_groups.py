"""Peer groups and 落后 a county would accept (issue 15: 10; domain.md I26–I27).

A branch at 90.8 was 落后 while one at 83.2 was not, and the lowest branch was "农村类支部第1名（共1个）":
groups of one or two made ranks meaningless. Now small 类别 (kinds) are ranked together, a group still
below the minimum has no rank-based 落后, and a rank rule needs a score below the threshold and below
the group's median too. Tested on the rule itself, the demo organisation and a generated county.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.cli.serve import DEMO_HISTORY_MONTHS, demo_monthly, demo_settings
from config import demo
from handlers.monthly import ranking
from handlers.monthly.config import MonthlyConfig
from handlers.monthly.scoring import MonthScores, UnitScore
from models.monthly import MonthlyScore
from models.org import OrgUnit
from models.outbox import OutboxMessage
from models.seed import seed

DEFAULT = MonthlyConfig()


def _branch(uid: int, category: str, score: float) -> UnitScore:
    return UnitScore(uid, f"支部{uid}", "branch", category, score)


def _committee(uid: int, kind: str, score: float) -> UnitScore:
    return UnitScore(uid, f"党委{uid}", "committee", f"committee:{kind}", score)


def _scores(branches: list[UnitScore], committees: list[UnitScore] = ()) -> MonthScores:
    return MonthScores(
        date(2026, 10, 1), {}, {s.unit_id: s for s in branches}, {s.unit_id: s for s in committees}
    )


def test_the_leaders_example():
    """90.8, last of three 机关 branches that all did well, is not behind; 83.2, alone among the
    农村, is not 第1名（共1个）: with the other small 类别 it is ranked, and last."""
    scores = _scores(
        [
            _branch(1, "government", 100),
            _branch(2, "government", 95),
            _branch(3, "government", 90.8),
            _branch(4, "rural", 83.2),
            _branch(5, "school", 96),
            _branch(6, "community", 99),
        ]  # fmt: skip
    )
    ranking.rank(scores, MonthlyConfig(min_peer_group=3))
    b = scores.branches
    assert (b[3].peer_group, b[3].rank, b[3].group_size, b[3].lagging) == ("government", 3, 3, False)
    assert (b[4].peer_group, b[4].rank, b[4].group_size, b[4].lagging) == ("mixed", 3, 3, True)
    assert b[4].lag_reasons == ["bottom_n:1"] and b[4].explanation["merged_from"] == "rural"
    # The old rule (no minimum, no threshold) gave exactly the complaint.
    old = _scores(
        [_branch(u.unit_id, u.explanation.get("merged_from", u.peer_group), u.score) for u in b.values()]
    )
    ranking.rank(old, MonthlyConfig(min_peer_group=1, lag_rank_below=None))
    assert old.branches[3].lagging and not old.branches[4].lagging
    assert (old.branches[4].rank, old.branches[4].group_size) == (1, 1)


def test_a_group_below_the_minimum_and_a_kind_of_one_or_two_committees_have_no_laggard():
    lone = _scores(
        [_branch(i, "rural", 100 - i) for i in range(1, 7)]
        + [_branch(10, "school", 40), _branch(11, "school", 80)],
        [_committee(20, "town", 95), _committee(21, "town", 60)],
    )
    ranking.rank(lone, DEFAULT)
    b, c = lone.branches, lone.committees
    # The only small 类别 has nobody to merge with: it keeps its name and ranks, but nobody lags by rank.
    assert (b[10].peer_group, b[10].rank, b[10].group_size, b[10].lagging) == ("school", 2, 2, False)
    # Six 农村 branches, the last at 94: last, but above 90, so not behind.
    assert (b[6].rank, b[6].group_size, b[6].lagging) == (6, 6, False)
    # Two 乡镇 committees, one at 60: a group of two says nothing, nobody is 落后.
    assert (c[21].rank, c[21].group_size, c[21].lagging) == (2, 2, False)
    # A third committee of another kind: the two kinds are ranked together, and the last is behind.
    merged = _scores(
        [], [_committee(20, "town", 95), _committee(21, "town", 60), _committee(22, "organs", 50)]
    )
    ranking.rank(merged, DEFAULT)
    c = merged.committees
    assert {s.peer_group for s in c.values()} == {"committee:mixed"}
    assert [(s.unit_id, s.rank) for s in c.values() if s.lagging] == [(22, 3)]
    # A score rule still applies to anyone, in any group.
    from handlers.monthly.config import LagKind, LagRule

    below = _scores([_branch(10, "school", 40), _branch(11, "school", 80)])
    ranking.rank(below, MonthlyConfig(lag_rules=(LagRule(LagKind.BOTTOM_N, 1), LagRule(LagKind.BELOW, 60))))
    assert below.branches[10].lag_reasons == ["below:60"] and not below.branches[11].lagging


def test_the_demo_ranks_its_six_branches_together(session, database_url):
    now = datetime(2026, 11, 23, 2, tzinfo=UTC)
    seed(session, "demo", dingtalk_corp_id=demo.DINGTALK_CORP_ID, wecom_corp_id=demo.WECOM_CORP_ID,
         months=DEMO_HISTORY_MONTHS, today=now.date(), now=now)  # fmt: skip
    session.commit()
    run = demo_monthly(
        session, demo_settings(database_url, "http://127.0.0.1:18080", "http://127.0.0.1:8000"), now
    )
    session.commit()
    rows = session.scalars(select(MonthlyScore).where(MonthlyScore.month == run.month)).all()
    branches = [r for r in rows if r.unit_kind == "branch"]
    committees = [r for r in rows if r.unit_kind == "committee"]
    # Six branches of five 类别, none with five of its kind: one 综合 group of six, ranked 1..6.
    assert {r.peer_group for r in branches} == {"mixed"} and {r.group_size for r in branches} == {6}
    by_score = sorted(branches, key=lambda r: -r.score)
    assert [r.rank for r in by_score] == [1 + sum(x.score > r.score for x in branches) for r in by_score]
    lowest = min(branches, key=lambda r: r.score)
    assert lowest.rank == max(r.rank for r in branches) > 1
    median = statistics.median(r.score for r in branches)
    for r in branches:
        assert r.lagging == (r.rank == lowest.rank and r.score < 90 and r.score < median), r.unit_id
    # Two committees of two kinds: merged, still fewer than three, so neither is 落后.
    assert {r.peer_group for r in committees} == {"committee:mixed"} and not any(
        r.lagging for r in committees
    )
    # The lowest branch's secretary reads its place among six and the rule it was judged by.
    name = session.get(OrgUnit, lowest.unit_id).name
    digest = session.scalars(
        select(OutboxMessage.payload).where(
            OutboxMessage.dedup_key == f"monthly:digest:{lowest.unit_id}:2026-10"
        )
    ).first()
    assert digest is not None and name in digest["title"]
    assert f"综合类支部第{lowest.rank}名（共6个）" in digest["text"]
    assert "同类支部满5个的在同类中排名，不足5个的类别合并为“综合类”排名" in digest["text"]


def test_a_generated_county():
    """A county's shape (1,300 branches: many 农村 and 社区, a handful of 两新, one 其他; 30 committees:
    mostly 乡镇, a few 机关, one or two of the rest) with random scores."""
    rng = random.Random(15)
    categories = {"rural": 650, "community": 260, "government": 200, "school": 100, "enterprise": 70,
                  "public_institution": 15, "new_economy": 4, "other": 1}  # fmt: skip
    kinds = {"town": 16, "street": 3, "organs": 6, "education": 2, "health": 1, "soe": 1, "park": 1}
    uid = 0
    branches, committees = [], []
    for category, n in categories.items():
        for _ in range(n):
            uid += 1
            branches.append(_branch(uid, category, round(rng.uniform(55, 100), 1)))
    for kind, n in kinds.items():
        for _ in range(n):
            uid += 1
            committees.append(_committee(uid, kind, round(rng.uniform(70, 98), 1)))
    scores = _scores(branches, committees)
    ranking.rank(scores, DEFAULT)
    groups: dict[str, list[UnitScore]] = {}
    for s in scores.all():
        groups.setdefault(s.peer_group, []).append(s)
    # The big 类别 keep their own ranking; new_economy (4) and other (1) are ranked together (5).
    assert {g for g in groups if not g.startswith("committee")} == {
        "rural", "community", "government", "school", "enterprise", "public_institution", "mixed"
    }  # fmt: skip
    assert sorted(s.explanation["merged_from"] for s in groups["mixed"]) == ["new_economy"] * 4 + ["other"]
    # Committees: education, health, soe and park (one or two each) are ranked together (5).
    assert {g for g in groups if g.startswith("committee")} == {
        "committee:town", "committee:street", "committee:organs", "committee:mixed"
    }  # fmt: skip
    for group, items in groups.items():
        minimum = DEFAULT.min_committee_group if group.startswith("committee") else DEFAULT.min_peer_group
        assert len(items) >= minimum, group  # nobody is first or last of one or two
        median = statistics.median(s.score for s in items)
        for s in items:
            assert s.group_size == len(items)
            if s.lagging:  # low rank, under 90 and under the group's median: every one of them
                assert s.rank == max(x.rank for x in items) and s.score < 90 and s.score < median, s
    # The last of each branch group (scores down to 55 leave each last under 90 and the median); ties share it.
    assert {s.peer_group for s in scores.branches.values() if s.lagging} == {
        g for g in groups if not g.startswith("committee")
    }
    assert all(s.explanation["rank"]["min"] in (3, 5) for s in scores.all())
