"""The 本月会议 / 会议 card: a title that already begins with the meeting's types is not followed by
them again, and every listed meeting is reachable although the platforms show six buttons at most
(the others are named with 「会议 #编号」, which opens the same card as the 详情 button) — through
the dispatcher and end to end through the sandbox on DingTalk and WeCom."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.meetings import meetings as meetings_uc
from handlers.meetings.chat import MAX_BUTTONS, router
from models.meetings import Meeting
from tests import harness
from tests.meetings.conftest import CFG, NOW
from tests.meetings.test_activity_day_e2e import _say


def _seven(session, secretary, count: int = 7) -> list[Meeting]:
    """Seven meetings from tomorrow on, all in May 2026: the first a 主题党日 with the default title."""
    made = [
        meetings_uc.schedule_meeting(
            session,
            secretary,
            types=["主题党日"],
            starts_at=NOW + timedelta(days=1),
            place="活动室",
            topic="学习二十届四中全会精神",
            now=NOW,
            cfg=CFG,
        )  # fmt: skip
    ]
    for n in range(2, count + 1):
        made.append(
            meetings_uc.schedule_meeting(
                session,
                secretary,
                types=["党课"],
                starts_at=NOW + timedelta(days=n),
                place="活动室",
                topic=f"第{n}讲",
                title=f"党课第{n}讲",
                now=NOW,
                cfg=CFG,
            )  # fmt: skip
        )
    session.commit()
    return made


def test_titles_do_not_repeat_their_types_and_every_meeting_is_reachable(session_factory, session, org):
    made = _seven(session, org.secretary)
    assert made[0].title == "主题党日：学习二十届四中全会精神"
    chat = harness.Chat(session_factory, [router], now=NOW)
    for command in ("本月会议", "会议"):
        (card,) = chat.say("wangsj", command).replies
        text = card["text"]
        assert "主题党日：学习二十届四中全会精神｜" in text and "（主题党日）" not in text
        assert "党课第2讲（党课）｜" in text  # a title of its own still says what the meeting is
        assert all(f"#{m.id} " in text for m in made)
        labels = [b["label"] for b in card["buttons"]]
        assert labels == [f"#{m.id} 详情" for m in made[:MAX_BUTTONS]] and MAX_BUTTONS == 6
        last = made[-1].id
        assert f"还有1次会议（#{last}）没有按钮，发送“会议 #编号”查看详情，例如“会议 #{last}”。" in text
    # 会议 #编号 opens what the 详情 button opens; the same people may see it.
    by_number = chat.say("wangsj", f"会议 #{made[-1].id}").text
    assert "党课第7讲" in by_number
    assert by_number == chat.press("wangsj", "meetings.detail", meeting=str(made[-1].id)).text
    assert "没有找到这次会议" in chat.say("wangsj", "会议 #99999").text
    # A member invited sees their own status, as with the button; someone not invited is refused.
    assert "我的状态：未签到" in chat.say("zhangli", f"会议 #{made[-1].id}").text
    assert "无法查看" in chat.say("zhengq", f"会议 #{made[-1].id}").text


def test_six_or_fewer_meetings_need_no_line(session_factory, session, org):
    made = _seven(session, org.secretary, count=6)
    (card,) = harness.Chat(session_factory, [router], now=NOW).say("wangsj", "本月会议").replies
    assert [b["label"] for b in card["buttons"]] == [f"#{m.id} 详情" for m in made]
    assert "没有按钮" not in card["text"]


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_the_card_through_the_sandbox(session_factory, database_url, platform):
    from config import demo
    from models.org import Platform, Role, UnitKind
    from tests import builders
    from tests.core.e2e import running_bot

    corp = demo.DINGTALK_CORP_ID if platform == "dingtalk" else demo.WECOM_CORP_ID
    with session_factory() as s, s.begin():
        committee = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        branch = builders.unit(s, "城关社区党支部", UnitKind.BRANCH, committee)
        secretary = builders.person(
            s, "王书记", branch, account_id="wangsj", corp=corp, platform=Platform(platform)
        )
        builders.role(s, secretary, branch, Role.SECRETARY)
        s.flush()
        made = [m.id for m in _seven(s, secretary)]
    with running_bot(session_factory, database_url, clock_start=NOW) as bot:
        card = _say(bot, platform, "wangsj", "本月会议")
        assert "主题党日：学习二十届四中全会精神" in card and "（主题党日）" not in card
        assert f"还有1次会议（#{made[-1]}）没有按钮" in card
        assert "党课第7讲" in _say(bot, platform, "wangsj", f"会议 #{made[-1]}")
