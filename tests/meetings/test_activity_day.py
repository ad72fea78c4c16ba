"""党员活动日 and the 主题党日 menu (issue 20 item 5): the fixed day on known months, holidays
included (the fee day's own rule and calendar), the settings, the notice and the plan, and the menu
recorded with the minutes (form) and in chat, bad input refused in Chinese with nothing saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from config.rules import MeetingsRules
from handlers.fees.feeday import fee_day
from handlers.meetings import activity, plans
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings.activity import ActivityConfig, DayRule
from handlers.meetings.chat import router
from handlers.meetings.types import MeetingsConfig, Refused
from models.fees import FeeDayRule
from models.meetings import Meeting, Minutes
from models.workcalendar import WorkCalendar
from tests import harness
from tests.meetings.conftest import CFG, NOW, sent

TWENTY_FIFTH = replace(CFG.activity, rule=DayRule.DAY_OF_MONTH, day=25)
FRIDAY = replace(CFG.activity, rule=DayRule.FIRST_WORKING_FRIDAY)
ON_25 = replace(CFG, activity=TWENTY_FIFTH)


def _local(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CFG.tz).astimezone(UTC)


# --- the day ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "day", "line"),
    [
        (date(2026, 12, 1), date(2026, 12, 25), "本月党员活动日：12月25日（星期五）"),
        # 中秋 2026 is 9/25–27: the next working day, as the fee day's fixed-day rule moves it.
        (
            date(2026, 9, 1),
            date(2026, 9, 28),
            "本月党员活动日：9月28日（星期一）（遇节假日顺延：9月25日为中秋假期）",
        ),
        # 春节 2023: 1/25 is off; the next working day is Saturday 1/28, a 调休 working day.
        (date(2023, 1, 1), date(2023, 1, 28), "（遇节假日顺延：1月25日为春节假期）"),
        (date(2026, 10, 1), date(2026, 10, 26), "（遇节假日顺延：10月25日为周末休息日）"),
    ],
)
def test_the_25th_moves_off_holidays_like_the_fee_day(month, day, line):
    found = activity.activity_day(month, TWENTY_FIFTH)
    assert found.day == day
    assert line in activity.month_line(month, TWENTY_FIFTH)
    assert found.day == fee_day(month.year, month.month, rule=FeeDayRule.FIXED_DAY, fixed_day=25).day


@pytest.mark.parametrize(
    ("month", "day", "why"),
    [
        (date(2026, 10, 1), date(2026, 10, 9), "10月2日为国庆节假期"),
        (date(2022, 2, 1), date(2022, 2, 11), "2月4日为春节假期"),  # the first Friday inside 春节
        (date(2026, 1, 1), date(2026, 1, 9), "1月2日为元旦假期"),
        (date(2026, 2, 1), date(2026, 2, 6), ""),
    ],
)
def test_first_working_friday_is_the_fee_days_rule(month, day, why):
    found = activity.activity_day(month, FRIDAY)
    assert found.day == day and found.day == fee_day(month.year, month.month).day
    line = activity.month_line(month, FRIDAY, this_month=False)
    assert line.startswith(f"{month.year}年{month.month}月党员活动日：{day.month}月{day.day}日（星期五）")
    assert (f"遇节假日顺延：{why}" in line) if why else ("顺延" not in line)


def test_a_local_day_off_moves_it_and_no_rule_means_no_day():
    local = WorkCalendar(local_days_off={date(2026, 12, 25): "建州纪念日"})
    found = activity.activity_day(date(2026, 12, 1), TWENTY_FIFTH, local)
    assert found.day == date(2026, 12, 28) and "12月25日为建州纪念日" in activity.day_text(found)
    assert activity.activity_day(date(2026, 12, 1), CFG.activity) is None
    assert activity.month_line(date(2026, 12, 1), CFG.activity) == ""


def test_settings_presets_and_bad_values():
    cfg = MeetingsConfig.from_rules(
        MeetingsRules(
            activity_day={"rule": "day_of_month", "day": 25, "menu": "4+X", "penalty_per_missing": 2}
        ),
        CFG.tz,
    )
    assert cfg.activity == ActivityConfig(
        DayRule.DAY_OF_MONTH, 25, ("党员教育", "为民服务", "民主议事", "和谐稳定"), "4+X", 200, 2.0
    )
    assert MeetingsConfig.from_rules(MeetingsRules(), CFG.tz).activity.items == (
        "集中学习", "重温入党誓词", "交纳党费", "开展组织生活", "民主议事", "志愿服务", "党内关怀",
    )  # fmt: skip
    custom = MeetingsConfig.from_rules(MeetingsRules(activity_day={"menu": ["学习", "服务", "议事"]}), CFG.tz)
    assert custom.activity.label == "3+X" and custom.activity.rule == DayRule.NONE
    for bad in (
        {"rule": "day_of_month"},  # which day?
        {"rule": "second_friday"},
        {"menu": "5+X"},
        {"menu": ["学习", "学习"]},
        {"menu": ["学习、服务"]},
        {"penalty_per_missing": -1},
    ):
        with pytest.raises(ValidationError):
            MeetingsRules(activity_day=bad)


# --- notice and plan -------------------------------------------------------------------------------


def _schedule(session, org, day: date, types=("主题党日",), cfg=ON_25) -> Meeting:
    return meetings_uc.schedule_meeting(
        session, org.secretary, types=list(types), starts_at=_local(day), place="党员活动室",
        topic="重温入党誓词", now=NOW, cfg=cfg,
    )  # fmt: skip


def _notice(session, meeting: Meeting) -> str:
    (message,) = {m.payload["text"] for m in sent(session, f"meeting:{meeting.id}:notice")}
    return message


def test_the_notice_states_the_fixed_day_or_that_it_differs(session, org):
    on_it = _schedule(session, org, date(2026, 5, 25))
    other = _schedule(session, org, date(2026, 5, 22))
    lecture = _schedule(session, org, date(2026, 5, 22), types=("党课",))
    none = _schedule(session, org, date(2026, 5, 22), cfg=CFG)
    assert "本次主题党日在党员活动日举行。本月党员活动日：5月25日（星期一）" in _notice(session, on_it)
    assert (
        "本次主题党日安排在5月22日（星期五），与2026年5月党员活动日（5月25日（星期一））不是同一天。"
        in _notice(session, other)
    )
    assert "党员活动日" not in _notice(session, lecture) and "党员活动日" not in _notice(session, none)
    # Moved onto the fixed day, the notice of the move says so.
    meetings_uc.move_meeting(
        session, org.secretary, other.id, now=NOW, cfg=ON_25, starts_at=_local(date(2026, 5, 25))
    )
    (moved,) = {m.payload["text"] for m in sent(session, f"meeting:{other.id}:v2:moved")}
    assert "本次主题党日在党员活动日举行" in moved


def test_the_plan_proposes_the_day_and_the_card_marks_a_theme_day_off_it(session, org):
    june = date(2026, 6, 1)
    text = plans.required_text(session, org.branch, june, ON_25)
    assert "2026年6月党员活动日：6月25日（星期四）。" in text
    assert plans.activity_day_of(session, org.branch, june, ON_25) == date(2026, 6, 25)
    assert "党员活动日" not in plans.required_text(session, org.branch, june, CFG)
    plan = plans.save_plan(
        session, org.secretary, month=june, now=NOW, cfg=ON_25, confirm_missing=True,
        items=[plans.PlanItemInput(["theme_day"], _local(date(2026, 6, 24)), "活动室", "志愿服务"),
               plans.PlanItemInput(["party_lecture"], _local(date(2026, 6, 24)), "活动室", "党课")],
    )  # fmt: skip
    card = plans.review_card(plan, org.branch, ON_25)
    assert "主题党日（与党员活动日6月25日（星期四）不同）" in card.text
    assert card.text.count("不同") == 1  # the 党课 that day is not a 主题党日
    # The secretary's confirmation says it in a sentence; on the day (or without one) nothing is said.
    assert plans.plan_day_notes(session, plan, ON_25) == [
        "主题党日安排在6月24日，与党员活动日（6月25日）不是同一天"
    ]
    assert plans.plan_day_notes(session, plan, CFG) == []
    plan.items[0].starts_at = _local(date(2026, 6, 25))
    assert plans.plan_day_notes(session, plan, ON_25) == []


# --- the menu --------------------------------------------------------------------------------------


def _held(session, org, types=("主题党日",)) -> Meeting:
    meeting = _schedule(session, org, date(2026, 5, 19), types=types, cfg=CFG)
    session.flush()
    return meeting


def _record(session, org, meeting, menu, now=NOW + timedelta(days=2)):
    data = minutes_uc.MinutesInput("王书记", "赵委员", "学习", menu=menu)
    return minutes_uc.record_minutes(session, org.secretary, meeting.id, data, now=now, cfg=CFG)


def test_minutes_record_the_menu_of_a_theme_day_only(session, org):
    theme = _held(session, org)
    saved = _record(
        session, org, theme, activity.MenuInput(("交纳党费", "1", "集中学习"), " 参观红色教育基地 ")
    )
    assert saved.menu_done == ["集中学习", "交纳党费"] and saved.menu_extra == "参观红色教育基地"
    # A correction without the menu (an older page) keeps it; one with it replaces it.
    assert _record(session, org, theme, None).menu_done == ["集中学习", "交纳党费"]
    assert _record(session, org, theme, activity.MenuInput()).menu_done == []
    lecture = _held(session, org, ("党课",))
    assert _record(session, org, lecture, activity.MenuInput(("集中学习",))).menu_done is None


@pytest.mark.parametrize(
    ("menu", "error"),
    [
        (activity.MenuInput(("唱红歌",)), "「唱红歌」不是本组织主题党日的规定动作"),
        (activity.MenuInput(("8",)), "「8」不是本组织主题党日的规定动作"),
        (activity.MenuInput((), "参观" * 101), "自选动作太长了（最多200字）"),
    ],
)
def test_bad_menu_is_refused_in_chinese_and_nothing_is_saved(session, org, menu, error):
    theme = _held(session, org)
    session.commit()
    with pytest.raises(Refused) as refused:
        _record(session, org, theme, menu)
    assert error in str(refused.value)
    session.rollback()
    assert session.get(Meeting, theme.id).minutes is None


def test_menu_text_and_form_parsing():
    assert activity.parse_menu_text("1 2、民主议事 自选：参观红色教育基地，重温誓词") == activity.MenuInput(
        ("1", "2", "民主议事"), "参观红色教育基地，重温誓词"
    )
    # 「自选：」 with nothing after it is no 自选动作, not an item called 自选 (the chat router trims the
    # colon at the end of a message, so 「自选」 last arrives bare).
    for text in ("1 2 自选：", "1 2 自选:", "1 2 自选动作：", "1 2 自选", "1、2 自选动作", "1 2 自选 ："):
        assert activity.parse_menu_text(text) == activity.MenuInput(("1", "2"), ""), text
    assert activity.parse_menu_text("自选") == activity.MenuInput((), "")
    assert activity.parse_menu_text("1 自选：参观 自选") == activity.MenuInput(("1",), "参观 自选")
    assert activity.menu_from_form({"chair": "x"}) is None
    assert activity.menu_from_form({"menu": "集中学习、交纳党费", "menu_extra": "x"}) == activity.MenuInput(
        ("集中学习", "交纳党费"), "x"
    )
    assert activity.menu_from_form({"menu": ["集中学习"]}) == activity.MenuInput(("集中学习",), "")
    # A 自选动作 sent as a number is taken as its text, not as "none" (which would wipe the one saved).
    assert activity.menu_from_form({"menu": [], "menu_extra": 123}) == activity.MenuInput((), "123")


def test_menu_in_chat_records_shows_and_refuses(session_factory, session, org):
    theme = _held(session, org)
    session.commit()
    chat = harness.Chat(session_factory, [router], now=NOW + timedelta(days=2))
    assert "还没有会议记录，请先填写会议记录" in chat.say("wangsj", f"党日动作 #{theme.id} 1 2").text
    with session_factory() as s, s.begin():
        minutes_uc.record_minutes(
            s, s.merge(org.secretary), theme.id, minutes_uc.MinutesInput("王书记", "赵委员", "学习"),
            now=chat.now, cfg=CFG,
        )  # fmt: skip
    assert "党日动作" in chat.say("wangsj", f"会议记录 #{theme.id}").text
    assert "只有本支部" in chat.say("zhangli", f"党日动作 #{theme.id} 1").text
    assert "「唱红歌」不是本组织主题党日的规定动作" in chat.say("wangsj", f"党日动作 #{theme.id} 唱红歌").text
    with session_factory() as s:
        assert s.scalars(select(Minutes)).one().menu_done is None
    # Without a number: the one 主题党日 waiting for its menu.
    assert f"#{theme.id}" in chat.say("wangsj", "党日动作").text
    reply = chat.say("wangsj", "党日动作 1 2 3 4 5 6 自选：参观红色教育基地").text
    assert f"已记录会议 #{theme.id} 的主题党日动作" in reply and "未开展的规定动作：党内关怀。" in reply
    shown = chat.say("wangsj", f"党日动作 #{theme.id}").text
    assert "自选动作：参观红色教育基地" in shown and "集中学习、重温入党誓词" in shown
    with session_factory() as s:
        m = s.get(Meeting, theme.id).minutes
        assert m.menu_done == list(CFG.activity.items[:6]) and m.menu_extra == "参观红色教育基地"
    # 「自选：」 left empty records the items and no 自选动作 (it was refused as an item called 自选).
    for empty in ("自选：", "自选:", "自选动作："):
        reply = chat.say("wangsj", f"党日动作 #{theme.id} 1 2 {empty}").text
        assert f"已记录会议 #{theme.id} 的主题党日动作：集中学习、重温入党誓词。" in reply, reply
        with session_factory() as s:
            m = s.get(Meeting, theme.id).minutes
            assert m.menu_done == ["集中学习", "重温入党誓词"] and not m.menu_extra


def test_chat_new_meeting_card_states_this_months_activity_day(session_factory, org):
    from bot.core.context import CoreConfig
    from config.rules import Rules
    from tests.meetings.conftest import CORE

    rules = Rules(meetings=MeetingsRules(activity_day={"rule": "day_of_month", "day": 25}))
    core = CoreConfig(
        tz=CORE.tz, public_base_url=CORE.public_base_url, secret_key=CORE.secret_key, rules=rules
    )
    card = harness.Chat(session_factory, [router], now=NOW, config=core).say("wangsj", "安排会议").text
    assert "本月党员活动日：5月25日（星期一）。" in card
    plain = harness.Chat(session_factory, [router], now=NOW).say("wangsj", "安排会议").text
    assert "党员活动日" not in plain


def test_the_settings_come_from_the_environment_and_a_bad_one_stops_start_up(monkeypatch):
    from config import SettingsError, load_settings

    monkeypatch.setenv("ZHIBU_MEETINGS__ACTIVITY_DAY__RULE", "first_working_friday")
    monkeypatch.setenv("ZHIBU_MEETINGS__ACTIVITY_DAY__MENU", "4+X")
    monkeypatch.setenv("ZHIBU_MEETINGS__ACTIVITY_DAY__PENALTY_PER_MISSING", "2")
    acfg = MeetingsConfig.from_rules(load_settings(_env_file=None).rules.meetings, CFG.tz).activity
    assert (acfg.rule, acfg.label, acfg.penalty_per_missing) == (DayRule.FIRST_WORKING_FRIDAY, "4+X", 2.0)
    monkeypatch.setenv("ZHIBU_MEETINGS__ACTIVITY_DAY__RULE", "day_of_month")  # without its day
    with pytest.raises(SettingsError, match="ZHIBU_MEETINGS"):
        load_settings(_env_file=None)
