"""Which talks a branch owes each year (domain.md rule 8: 支委↔支委, 支委↔党员, 党员↔党员, 每年一般不少于1次).

The rule read literally ("every pair") would ask a 30-member branch for 435 talks a year, which no branch
holds or counts. What branches do, and what their 组织生活会 preparation lists ask for, is:

* 支委 with 支委: every pair of branch committee members talks (at most 7 members: at most 21 pairs);
* 支委 with 党员: every member who is not on the committee talks with at least one 支委 (the 书记 takes
  most of them; `member_talks_with = "secretary"` asks for the 书记 only);
* 党员 with 党员: every member who is not on the committee talks with at least one other such member
  (not asked of a branch with fewer than two of them).

A talk with several people counts for every pair among them. The numbers are the defaults a secretary
recognises; an organisation that counts otherwise sets them (config.rules.TalksRules:
ZHIBU_TALKS__MEMBER_TALKS_WITH=secretary, ZHIBU_TALKS__MEMBER_PEER_TALK=false, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from config.rules import TalksRules
from handlers.meetings.types import roles_named
from models.org import Role

if TYPE_CHECKING:
    from bot.core.context import CoreConfig


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

    @classmethod
    def from_rules(cls, rules: TalksRules) -> TalksConfig:
        """The runtime config of the settings' talks section; an unknown role is refused at start-up."""
        return cls(
            member_talks_with=rules.member_talks_with,
            member_peer_talk=rules.member_peer_talk,
            recorder_roles=roles_named(rules.recorder_roles, "ZHIBU_TALKS__RECORDER_ROLES"),
            digest_from_month=rules.digest_from_month,
            max_people=rules.max_people,
        )


DEFAULT = TalksConfig()


def _from_core(core: CoreConfig) -> TalksConfig:
    return TalksConfig.from_rules(core.rules.talks)


def talks_config(core: CoreConfig) -> TalksConfig:
    """The organisation's 谈心谈话 rules, as the composition root configured them (built once per core)."""
    return core.derive(_from_core)
