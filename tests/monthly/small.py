"""The ranking rules for the tests' small county (conftest.build_county: two branches per 类别, two
township committees), whose tests rank within those groups of two.

The defaults (MonthlyConfig.min_peer_group = 5, min_committee_group = 3) merge groups that small, and
leave a group still below the minimum without a rank-based 落后 (issue 15: 10); tests of what a
落后 then does (ladders, digests, notices) lower the minimums to the county they build.
"""

from __future__ import annotations

from handlers.monthly.config import MonthlyConfig


def small_county(**settings) -> MonthlyConfig:
    return MonthlyConfig(**{"min_peer_group": 2, "min_committee_group": 2, **settings})
