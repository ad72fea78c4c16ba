"""Which talks a branch owes each year (domain.md rule 8: 支委↔支委, 支委↔党员, 党员↔党员, 每年一般不少于1次).

The rule read literally ("every pair") would ask a 30-member branch for 435 talks a year, which no branch
holds or counts. What branches do, and what their 组织生活会 preparation lists ask for, is:

* 支委 with 支委: every pair of branch committee members talks (at most 7 members: at most 21 pairs);
* 支委 with 党员: every member who is not on the committee talks with at least one 支委 (the 书记 takes
  most of them; `member_talks_with = "secretary"` asks for the 书记 only);
* 党员 with 党员: every member who is not on the committee talks with at least one other such member
  (not asked of a branch with fewer than two of them).

A talk with several people counts for every pair among them. The numbers are the defaults a secretary
recognises; an organisation that counts otherwise changes them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from models.org import Role


@dataclass(frozen=True)
class TalksConfig:
    # Who must have talked with each ordinary member: any 支委, or the 书记 (any 书记 of the branch).
    member_talks_with: Literal["committee", "secretary"] = "committee"
    # Whether each ordinary member must also talk with another ordinary member (党员↔党员).
    member_peer_talk: bool = True
    # Who records a talk between any two people of the branch (others record only talks they took part in).
    recorder_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )
    # The first month whose digest shows the year's coverage: July, the start of Q3, leaves the half
    # year a branch needs to catch up before its 组织生活会 (Q4).
    digest_from_month: int = 7
    # At most this many people in one talk: a larger gathering is a meeting, not a 谈心谈话.
    max_people: int = 5
    # How many missing names a chat or digest line lists before "等N人".
    names_shown: int = 8


DEFAULT = TalksConfig()
