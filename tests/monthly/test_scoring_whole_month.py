"""A whole generated township's months, scored and ranked, are exactly what they were (issue #22 item 3).

The scoring is tuned for speed at city scale (rows read as plain values, work shared across branches,
explanations built from shared parts); none of that may change a single number or word. This seeds
a township (8 committees, 240 branches, 5,000 members, three months of meetings, sign-ins, minutes,
补学 and observations), scores three months under three configurations, and compares every unit's
score, rank, 落后 flags and full explanation, serialised to JSON, with the fingerprint the code gave
before the tuning (commit 2469c10). The same fingerprints hold on SQLite and PostgreSQL.

A deliberate change of the scores or their explanations changes these fingerprints: regenerate them
with `_fingerprint` (and say in the commit why the month's results changed).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest

from handlers.meetings.types import DEFAULT_CONFIG
from handlers.monthly import service
from handlers.monthly.config import MonthlyConfig, QuarterMode
from models.seed import seed
from models.seed.generator import Scale

TOWNSHIP = Scale("township", 8, 240, 5000)
# 18:00 local on New Year's Eve: December is scored while its last meetings' minutes are not due yet.
NOW = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)

# (month, configuration) → (units, lagging units, sum of scores, sha256 of every unit's results).
EXPECTED = {
    "2026-12 end": (248, 9, 20432.9, "c3739c842a8c405694c50b56b4ff85d0b1c60e7d5452396f0706028f8ac6624d"),
    "2026-11 spread, weighted by members": (
        248,
        10,
        20367.1,
        "988f5300a1e0b4ef025df8d11712c521231de64d2f41cde96fc75f8b7416af27",
    ),
    "2026-10 end": (248, 9, 21868.4, "191d5b52b907b64dd57b5214b46d807f686733f365d1da16c87de4873d0c1dd5"),
}
CONFIGS = {
    "2026-12 end": (date(2026, 12, 1), MonthlyConfig()),
    "2026-11 spread, weighted by members": (
        date(2026, 11, 1),
        MonthlyConfig(quarter_mode=QuarterMode.SPREAD, weight_by_members=True),
    ),
    "2026-10 end": (date(2026, 10, 1), MonthlyConfig()),
}


def _fingerprint(scores) -> tuple[int, int, float, str]:
    rows = [
        [s.unit_id, s.name, s.kind, s.peer_group, s.score, s.committee_id, s.members, s.halted, s.rank,
         s.group_size, s.lagging, s.lag_reasons, s.explanation]
        for s in scores.all()
    ]  # fmt: skip
    blob = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return (
        len(rows),
        sum(s.lagging for s in scores.all()),
        round(sum(s.score for s in scores.all()), 1),
        hashlib.sha256(blob.encode()).hexdigest(),
    )


@pytest.fixture
def township(session):
    seed(session, TOWNSHIP, dingtalk_corp_id="dingtownship", wecom_corp_id="wwtownship", months=3,
         today=NOW.date(), now=NOW)  # fmt: skip
    session.commit()
    return session


def test_a_townships_months_score_and_rank_as_before(township):
    got = {}
    for label, (month, mcfg) in CONFIGS.items():
        scores = service.score_month(township, month, now=NOW, mcfg=mcfg, cfg=DEFAULT_CONFIG)
        got[label] = _fingerprint(scores)
        # What the fingerprint covers is really there: observers' grades, penalties, late minutes.
        explained = [s.explanation for s in scores.branches.values()]
        assert any(e["observers"] for e in explained) and any(e["penalties"] for e in explained)
        assert any(e["minutes"]["late"] for e in explained) and any(e["makeup"]["total"] for e in explained)
        assert all("rank" in e and "lagging" in e for e in explained)
    assert got == EXPECTED
