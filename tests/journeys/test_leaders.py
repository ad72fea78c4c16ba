"""The leaders in the chat page on DingTalk and on WeCom (issue #15): 周明华, 城关镇党委组织委员, and
赵敏, 组织部. Each finds last month's digest in chat, opens 查看详情 in the same browser, asks 本月积分
and 排名, and the committee's officer marks a 落后 escalation 已阅 from its card, which keeps what it said."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models.monthly import MonthlyScore
from models.org import OrgUnit
from tests.journeys.conftest import pytestmark  # noqa: F401 - the browser mark and the Chromium check

COMMITTEE, ORG_DEPARTMENT = "zhouminghua01", "zhaomin01"
REFUSED = "只对"  # the refusal's wording: "月积分只对……开放"


def test_committee_journey(demo):
    zhou = demo.person(COMMITTEE)

    # The digest of October: the committee's score, its branches, the one behind.
    digest = zhou.wait_for("【2026年10月月度通报】城关镇党委")
    assert "党委得分" in digest.inner_text() and "落后支部" in digest.inner_text()
    zhou.shot("leader-digest", row=digest)
    detail = zhou.open("查看详情", in_text="【2026年10月月度通报】城关镇党委")
    detail.wait_for_load_state("networkidle")
    assert "城关镇党委" in detail.text_content("body")
    assert "东风村党支部" in detail.text_content("body")
    zhou.shot("leader-detail", detail)
    detail.close()

    # 本月积分 and 排名 in chat: the committee's October score as the month's run stored it (the figure
    # itself follows the demo's random history, which every new seed generator may reshuffle).
    with demo.session_factory() as s:
        stored = s.scalar(
            select(MonthlyScore.score)
            .join(OrgUnit, OrgUnit.id == MonthlyScore.unit_id)
            .where(OrgUnit.name == "城关镇党委", MonthlyScore.month == date(2026, 10, 1))
        )
    assert stored is not None
    score = zhou.say("本月积分")
    assert "城关镇党委 2026年10月月积分" in score and f"得分 {stored:g}" in score
    assert "城关镇党委" in zhou.say("排名")
    zhou.shot("leader-score")

    # The escalation: 已阅 records who and when, and the card still says which branch and what was missing.
    before = zhou.card("支部落后提醒").inner_text()
    assert "支部落后提醒" in before and "未完成事项" in before
    after = zhou.press("已阅", "支部落后提醒", answer=False)
    assert "已阅" in after and "周明华" in after
    # Everything but the buttons and the line asking to press them stays.
    kept = [
        line
        for line in before.splitlines()
        if line.strip() and line not in ("已阅", "已约谈") and "点击下方按钮" not in line
    ]
    assert [line for line in kept if line not in after] == [], after
    zhou.shot("leader-escalation-read", row=zhou.card("支部落后提醒"))


def test_org_department_journey(demo):
    zhao = demo.person(ORG_DEPARTMENT)

    digest = zhao.wait_for("【2026年10月月度通报】全部党委")
    text = digest.inner_text()
    assert "县直机关工委" in text and "城关镇党委" in text
    detail = zhao.open("查看详情", in_text="【2026年10月月度通报】全部党委")
    detail.wait_for_load_state("networkidle")
    assert "城关镇党委" in detail.text_content("body")
    detail.close()

    # 组织部 sees the whole county's points and ranks (issue #15 point 4: it used to be refused).
    score = zhao.say("本月积分")
    assert REFUSED not in score and "2026年10月" in score
    rank = zhao.say("排名")
    assert REFUSED not in rank and "城关镇党委" in rank and "县直机关工委" in rank
