"""宿松县's reminder (seed 000): 对组织生活未落实或质量不高的，提醒所在党支部书记、组织委员和支部联系人，
逐项提示当月组织生活未落实的内容，明确整改措施及要求. Configurable per committee.

September 2026 (a quarter's last month). Each branch has a 书记; 东门社区 and 河西村 also a 组织委员
and a 支部联系人. Then:
- 城关社区 (b1): everything done: no reminder;
- 东门社区 (b2): no 党员大会, no plan filed, one 主题党日 with minutes filed late;
- 河西村 (b3): everything held, but observers scored it 55% (质量不高);
- 河东村 (b4): nothing held at all.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.monthly import service
from handlers.monthly.config import MonthlyConfig
from handlers.monthly.observers_bridge import ObserverSummary
from models.meetings import MeetingType
from models.org import Role, RoleAssignment
from tests.monthly.conftest import CFG, QUARTER, comply, outbox, run_at

SEP = date(2026, 9, 1)


@pytest.fixture
def september(session, county, observers):
    for key, branch in (("m2a", county.b2), ("m3a", county.b3)):
        session.add(RoleAssignment(person_id=county.people[key].id, org_unit_id=branch.id,
                                   role=Role.ORGANIZATION_MEMBER))  # fmt: skip
    for key, branch in (("m2b", county.b2), ("m3b", county.b3)):
        session.add(RoleAssignment(person_id=county.people[key].id, org_unit_id=branch.id, role=Role.CONTACT))
    comply(session, county, county.b1, SEP, QUARTER)
    comply(session, county, county.b2, SEP, (MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE), plan=False,
           minutes_late=True)  # fmt: skip
    comply(session, county, county.b3, SEP, QUARTER)
    observers[county.b3.id] = ObserverSummary(quality=0.55, observations=1, grades=["D"])
    session.commit()
    return county


def _run(session, mcfg=None):
    run = service.run_month(session, SEP, now=run_at(SEP), send=True, base_url="", secret="",
                            mcfg=mcfg or MonthlyConfig(), cfg=CFG)  # fmt: skip
    session.commit()
    return run


def _reminders(session, county) -> dict[str, dict[str, set[str]]]:
    """branch name → {recipient names}, and the card texts, for the month's 未落实提醒."""
    names = {p.id: p.name for p in county.people.values()}
    branches = {b.id: b.name for b in (county.b1, county.b2, county.b3, county.b4)}
    out: dict[str, dict] = {}
    for m in outbox(session, "monthly:remind:"):
        branch = branches[int(m.dedup_key.split(":")[2])]
        got = out.setdefault(branch, {"to": set(), "text": set(), "title": set()})
        got["to"].add(names[m.person_id])
        got["text"].add(m.payload["text"])
        got["title"].add(m.payload["title"])
    return out


def test_seed000_secretary_org_member_and_contact_each_get_the_months_unfinished_items(session, september):
    county = september
    run = _run(session)
    got = _reminders(session, county)
    assert set(got) == {"东门社区党支部", "河西村党支部", "河东村党支部"}  # 城关社区 left nothing undone
    assert got["东门社区党支部"]["to"] == {"书记2", "党员2甲", "党员2乙"}  # 书记, 组织委员, 支部联系人
    assert got["河东村党支部"]["to"] == {"书记4"}  # the only one of the three roles it has
    assert run.reminders == 3 + 3 + 1
    (title,) = got["东门社区党支部"]["title"]
    assert title == "【2026年9月组织生活未落实提醒】东门社区党支部"
    (text,) = got["东门社区党支部"]["text"]
    # Item by item, each with what to do about it.
    assert "东门社区党支部2026年9月的组织生活有以下4项未落实，请逐项整改" in text
    lines = [line for line in text.split("\n") if line[:1].isdigit()]
    assert (
        lines
        == [
            "1. **支部党员大会**：本季度应开1次，实开0次。整改要求：尽快补开，会后3个工作日内上传会议记录。",
            "2. **支委会**：本月应开1次，实开0次。整改要求：尽快补开，会后3个工作日内上传会议记录。",  # it has a 组织委员
            "3. **2026年9月计划未按时报送**（应于8月25日前报上级党组织审核备案）。整改要求：每月25日前报送下月计划。",
            "4. **1次会议记录未按时上传**（应在会后3个工作日内）。整改要求：未上传的立即补齐。",
        ]
    )
    assert "本提醒发给支部书记、组织委员、支部联系人" in text
    (quality,) = got["河西村党支部"]["text"]
    assert "**组织生活质量不高**：观察员评分55%（等级D）" in quality
    (nothing,) = got["河东村党支部"]["text"]
    assert "主题党日**：本月应开1次，实开0次" in nothing and "党课**：本季度应开1次" in nothing
    # A rerun (the scheduler after a restart, or run-job --send again) sends nothing twice.
    assert _run(session).reminders == 0


def test_seed000_reminder_roles_are_configured_per_committee_by_name(session, september):
    """河西乡党委 wants only its branch secretaries told; the county committee above sets nobody for the
    rest: the nearest setting wins, and an empty one turns the reminder off."""
    county = september
    mcfg = MonthlyConfig(
        reminder_roles_of={"宿松县委": frozenset(), "河西乡党委": frozenset({Role.SECRETARY})}
    )
    assert _run(session, mcfg).reminders == 2
    got = _reminders(session, county)
    assert set(got) == {"河西村党支部", "河东村党支部"}
    assert got["河西村党支部"]["to"] == {"书记3"} and got["河东村党支部"]["to"] == {"书记4"}
    assert "本提醒发给支部书记。" in next(iter(got["河西村党支部"]["text"]))


def test_seed000_reminder_roles_are_configured_per_committee_by_id(session, september):
    county = september
    _run(session, MonthlyConfig(reminder_roles_of={county.c1.id: frozenset({Role.CONTACT})}))
    got = _reminders(session, county)
    assert got["东门社区党支部"]["to"] == {"党员2乙"}
    assert got["河西村党支部"]["to"] == {"书记3", "党员3甲", "党员3乙"}  # the default elsewhere
