"""Committees are ranked within their kind (乡镇/街道/机关/教育/卫健/两新/国资…), as branches are within
their 类别 (domain.md §6 rule I26: "rank within peer groups"; rule I27: 落后 = bottom N = 1 per peer
group), with the branches' small-group rule: a kind with one committee has nobody behind it.

September 2026, the small county plus 县直机关工委 (one 机关 branch that held nothing) and 县委教育工委
(one school branch that held its 主题党日 only). 城关镇党委's branches did everything, 河西乡党委's
河东村 only its 主题党日. Ranked all together, 县直机关工委 is last and the only committee behind; ranked
within their kinds, 河西乡党委 is behind among the 乡镇, and the 机关 and 教育 committees, alone of their
kind, are behind nobody.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.monthly import service
from models.meetings import MeetingType
from models.org import BranchCategory, Role, RoleAssignment, UnitKind
from tests.monthly.conftest import CFG, QUARTER, _unit, comply, outbox, run_at
from tests.monthly.small import small_county

SEP = date(2026, 9, 1)


@pytest.fixture
def kinds(session, county, observers):
    organs = _unit(session, "县直机关工委", UnitKind.COMMITTEE, county.county)
    education = _unit(session, "县委教育工委", UnitKind.COMMITTEE, county.county)
    office = _unit(session, "县委办机关党支部", UnitKind.BRANCH, organs, BranchCategory.GOVERNMENT)
    school = _unit(session, "县第一中学党支部", UnitKind.BRANCH, education, BranchCategory.SCHOOL)
    org_member = county.people["c1org"]  # 组织委员 of 城关镇党委 doubles for the two new committees
    for unit in (organs, education):
        session.add(
            RoleAssignment(person_id=org_member.id, org_unit_id=unit.id, role=Role.ORGANIZATION_MEMBER)
        )
    for branch in (county.b1, county.b2, county.b3):
        comply(session, county, branch, SEP, QUARTER)
    comply(session, county, county.b4, SEP, (MeetingType.THEME_DAY,))
    comply(session, county, school, SEP, (MeetingType.THEME_DAY,))
    session.commit()
    return {"organs": organs, "education": education, "office": office, "school": school}


def by_kind(**settings):
    """Each kind ranked on its own however small (min_committee_group = 1): these tests are about
    the kinds; merging the small ones is tested in tests/monthly/test_peer_groups.py."""
    return small_county(min_committee_group=1, **settings)


def _run(session, mcfg=None, send=False):
    run = service.run_month(session, SEP, now=run_at(SEP), send=send, base_url="", secret="",
                            mcfg=mcfg or by_kind(), cfg=CFG)  # fmt: skip
    session.commit()
    return run.scores.committees


def test_i27_committees_are_ranked_within_their_kind(session, county, kinds):
    c = _run(session, send=True)
    organs, education = kinds["organs"].id, kinds["education"].id
    assert c[county.c1.id].peer_group == c[county.c2.id].peer_group == "committee:town"
    assert (c[organs].peer_group, c[education].peer_group) == ("committee:organs", "committee:education")
    # The lowest score of all, but alone of its kind: first of one, not behind.
    assert c[organs].score < c[education].score < c[county.c2.id].score < c[county.c1.id].score
    assert (c[organs].rank, c[organs].group_size, c[organs].lagging) == (1, 1, False)
    assert (c[education].rank, c[education].group_size, c[education].lagging) == (1, 1, False)
    # Among the 乡镇: 河西乡党委 is second of two, and behind.
    assert (c[county.c2.id].rank, c[county.c2.id].group_size, c[county.c2.id].lagging) == (2, 2, True)
    assert (c[county.c1.id].rank, c[county.c1.id].lagging) == (1, False)
    assert c[county.c2.id].explanation["rank"]["rank"] == 2
    assert c[county.c2.id].explanation["rank"]["group"] == "committee:town"

    # The ladder follows: 河西乡党委's 组织委员 is told, nobody about 县直机关工委.
    assert outbox(session, f"monthly:esc:committee:{county.c2.id}:")
    assert not outbox(session, f"monthly:esc:committee:{organs}:")
    # Every card says which kind the rank is within.
    (c2_digest,) = {m.payload["text"] for m in outbox(session, f"monthly:digest:{county.c2.id}:")}
    assert "乡镇类党委第2名（共2个）" in c2_digest
    (esc,) = {m.payload["text"] for m in outbox(session, f"monthly:esc:committee:{county.c2.id}:")}
    assert "在乡镇类党委中排第2名（共2个）" in esc
    (org_view,) = {m.payload["text"] for m in outbox(session, "monthly:digest:0:")}
    assert "**乡镇类党委**（2个）\n- 第1名 城关镇党委" in org_view and "- 第2名 河西乡党委" in org_view
    assert "**机关类党委**（1个）\n- 第1名 县直机关工委" in org_view and "**教育类党委**（1个）" in org_view


def test_i27_a_committee_is_given_its_kind_by_configuration(session, county, kinds):
    """A name that does not say the kind (or says it wrongly) is set per committee, by id or by name."""
    organs, education = kinds["organs"].id, kinds["education"].id
    by_name = _run(session, by_kind(committee_kind_of={"县委教育工委": "organs"}))
    assert by_name[education].peer_group == by_name[organs].peer_group == "committee:organs"
    assert (by_name[organs].rank, by_name[organs].group_size, by_name[organs].lagging) == (2, 2, True)
    by_id = _run(session, by_kind(committee_kind_of={county.c2.id: "street"}))
    assert by_id[county.c2.id].peer_group == "committee:street"
    # Now alone among the 街道, and 城关镇党委 alone among the 乡镇: nobody behind.
    assert not by_id[county.c2.id].lagging and not by_id[county.c1.id].lagging


def test_i27_kinds_found_in_the_names_a_county_uses():
    cfg = small_county()
    names = {
        "望湖县徐桥镇党委": "town", "河西乡党委": "town", "城东街道党工委": "street", "县直机关工委": "organs",
        "县委教育工委": "education", "县卫生健康委员会党委": "health", "县非公有制经济组织和社会组织党委": "new_economy",
        "县国资委党委": "soe", "县公安局党委": "organs", "县经济开发区党工委": "park", "县供销社党委": "other",
    }  # fmt: skip
    assert {n: cfg.committee_kind(1, n).key for n in names} == names
