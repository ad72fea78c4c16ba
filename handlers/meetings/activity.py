"""党员活动日 and the 主题党日's menu (issue 20 item 5; domain.md rules 5, 22, 66, 67, 69).

An organisation may fix its 主题党日 to a day of each month: a day of the month (the 25th) or the
党费交纳日's rule (the first Friday that is a working day). A rest day moves it as it moves the fee
day: the day is computed by the fee feature's own function (handlers/fees/feeday.fee_day) on the
branch's working-day calendar (models/workcalendar.py), so there is one holiday rule, not two.

The minutes of a 主题党日 record which of the menu's fixed items were done (曲阜 "4+X": four themes;
湖滨区 "7+X": seven fixed items; or the organisation's own list) and the 自选动作 (X) as free text.
Pure logic here; the minutes use case stores it, the monthly score may count a missing item.
"""

from __future__ import annotations

import calendar as _calendar
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.errors import Refused
from config.rules import ACTIVITY_MENUS, ActivityDayRules
from handlers.common.dates import WEEKDAYS, fmt_day, fmt_month
from handlers.fees.feeday import fee_day, first_friday, rest_reason
from handlers.meetings import strings
from models.fees import FeeDayRule
from models.workcalendar import NATIONAL, WorkCalendar


class DayRule(enum.StrEnum):
    NONE = "none"  # no fixed day
    DAY_OF_MONTH = "day_of_month"  # ActivityConfig.day, 顺延 off rest days (the fee day's fixed-day rule)
    FIRST_WORKING_FRIDAY = "first_working_friday"  # the 党费交纳日's default rule


@dataclass(frozen=True)
class ActivityConfig:
    rule: DayRule = DayRule.NONE
    day: int | None = None
    items: tuple[str, ...] = tuple(ACTIVITY_MENUS["7+X"])  # the fixed items (规定动作)
    label: str = "7+X"
    extra_limit: int = 200  # the 自选动作's length
    penalty_per_missing: float = 0.0  # monthly score points per fixed item left out; 0: off

    @classmethod
    def from_rules(cls, rules: ActivityDayRules) -> ActivityConfig:
        items = tuple(rules.items)
        return cls(
            rule=DayRule(rules.rule),
            day=rules.day,
            items=items,
            label=rules.menu if isinstance(rules.menu, str) else f"{len(items)}+X",
            extra_limit=rules.extra_limit,
            penalty_per_missing=rules.penalty_per_missing,
        )


@dataclass(frozen=True)
class ActivityDay:
    """A month's 党员活动日: `day`, moved from `nominal` when that was a rest day (`why` says which)."""

    day: date
    nominal: date
    why: str = ""
    no_friday: bool = False  # not one working Friday in the month: its first working day

    @property
    def moved(self) -> bool:
        return self.day != self.nominal


def activity_day(month: date, acfg: ActivityConfig, cal: WorkCalendar = NATIONAL) -> ActivityDay | None:
    """The 党员活动日 of `month` on the branch's calendar `cal`; None when the organisation fixes none."""
    if acfg.rule == DayRule.NONE:
        return None
    year, mon = month.year, month.month
    if acfg.rule == DayRule.DAY_OF_MONTH:
        rule = FeeDayRule.FIXED_DAY
        nominal = date(year, mon, min(acfg.day or 1, _calendar.monthrange(year, mon)[1]))
    else:
        rule = FeeDayRule.FIRST_WORKING_FRIDAY
        nominal = first_friday(year, mon)
    found = fee_day(year, mon, rule=rule, fixed_day=acfg.day, cal=cal).day
    if found == nominal:
        return ActivityDay(found, nominal)
    no_friday = rule == FeeDayRule.FIRST_WORKING_FRIDAY and found.weekday() != nominal.weekday()
    return ActivityDay(found, nominal, rest_reason(cal, nominal), no_friday)


def fmt_day_long(day: date) -> str:
    """12月25日（星期五）"""
    return f"{fmt_day(day)}（星期{WEEKDAYS[day.weekday()]}）"


def day_text(found: ActivityDay) -> str:
    """12月25日（星期五）, with why it moved: （遇节假日顺延：10月25日为国庆节假期）."""
    text = fmt_day_long(found.day)
    if found.no_friday:
        return text + strings.ACTIVITY_DAY_NO_FRIDAY
    if found.moved:
        text += strings.ACTIVITY_DAY_MOVED.format(nominal=fmt_day(found.nominal), why=found.why)
    return text


def month_line(
    month: date, acfg: ActivityConfig, cal: WorkCalendar = NATIONAL, *, this_month: bool = True
) -> str:
    """本月党员活动日：12月25日（星期五） (or 2026年12月党员活动日：…); "" without a fixed day."""
    found = activity_day(month, acfg, cal)
    if found is None:
        return ""
    if this_month:
        return strings.ACTIVITY_DAY_LINE.format(day=day_text(found))
    return strings.ACTIVITY_DAY_MONTH_LINE.format(month=fmt_month(month), day=day_text(found))


def meeting_day_note(day: date, acfg: ActivityConfig, cal: WorkCalendar = NATIONAL) -> str:
    """What a 主题党日 on `day` is told about the fixed day: on it, or not the same day (allowed)."""
    found = activity_day(day.replace(day=1), acfg, cal)
    if found is None:
        return ""
    if found.day == day:
        return strings.ACTIVITY_DAY_ON_IT + strings.ACTIVITY_DAY_LINE.format(day=day_text(found))
    return strings.ACTIVITY_DAY_DIFFERS.format(
        day=fmt_day_long(day), month=fmt_month(day.replace(day=1)), fixed=day_text(found)
    )


def plan_item_note(day: date, acfg: ActivityConfig, cal: WorkCalendar = NATIONAL) -> str:
    """The plan card's mark on a 主题党日 planned off the fixed day; "" on it or without one."""
    found = activity_day(day.replace(day=1), acfg, cal)
    if found is None or found.day == day:
        return ""
    return strings.ACTIVITY_PLAN_DIFFERS.format(fixed=fmt_day_long(found.day))


def plan_item_sentence(day: date, acfg: ActivityConfig, cal: WorkCalendar = NATIONAL) -> str:
    """The plan's confirmation on a 主题党日 planned off the fixed day:
    主题党日安排在1月20日，与党员活动日（1月25日）不是同一天; "" on it or without one."""
    found = activity_day(day.replace(day=1), acfg, cal)
    if found is None or found.day == day:
        return ""
    return strings.ACTIVITY_PLAN_DIFFERS_SENTENCE.format(day=fmt_day(day), fixed=fmt_day(found.day))


# --- the menu --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuInput:
    """Which fixed items were done (by name, or by their number in the menu, from 1) and the 自选动作."""

    done: tuple[str, ...] = ()
    extra: str = ""


def menu_text(acfg: ActivityConfig) -> str:
    """1.集中学习 2.重温入党誓词 …"""
    return " ".join(f"{n}.{item}" for n, item in enumerate(acfg.items, 1))


def check_menu(data: MenuInput, acfg: ActivityConfig) -> tuple[list[str], str]:
    """The fixed items done, in the menu's order, and the 自选动作; a Chinese refusal for an item that
    is not on the menu or a 自选动作 that is too long."""
    done: set[str] = set()
    for raw in data.done:
        item = str(raw).strip()
        if not item:
            continue
        if item.isdigit() and 1 <= int(item) <= len(acfg.items):
            item = acfg.items[int(item) - 1]
        if item not in acfg.items:
            raise Refused(strings.MENU_UNKNOWN_ITEM.format(item=item[:20], items=menu_text(acfg)), ("menu",))
        done.add(item)
    extra = (data.extra or "").strip()
    if len(extra) > acfg.extra_limit:
        raise Refused(strings.MENU_EXTRA_TOO_LONG.format(limit=acfg.extra_limit), ("menu_extra",))
    return [item for item in acfg.items if item in done], extra


def missing_items(done: Iterable[str] | None, acfg: ActivityConfig) -> list[str]:
    have = set(done or ())
    return [item for item in acfg.items if item not in have]


_SPLIT = re.compile(r"[\s、，,；;]+")
# 「自选：」 with nothing after it (the chat router trims the colon at the end) means no 自选动作.
_EXTRA = re.compile(r"自选(?:动作)?\s*(?:[:：]|\Z)")


def parse_menu_text(text: str) -> MenuInput:
    """「1 2 集中学习、民主议事 自选：参观红色教育基地」 → the items and the 自选动作."""
    parts = _EXTRA.split(text, maxsplit=1)
    items = tuple(t for t in _SPLIT.split(parts[0]) if t)
    return MenuInput(items, parts[1].strip() if len(parts) > 1 else "")


def menu_from_form(fields: Mapping[str, Any]) -> MenuInput | None:
    """The menu as the minutes form sends it: `menu` (a list, or one string joined by 、 as multipart
    sends it) and `menu_extra`; None when the form has no menu (not a 主题党日, an older page)."""
    if "menu" not in fields and "menu_extra" not in fields:
        return None
    raw = fields.get("menu")
    if isinstance(raw, list | tuple):
        items = tuple(str(x) for x in raw)
    elif raw is None:
        items = ()
    else:
        items = tuple(t for t in _SPLIT.split(str(raw)) if t)
    extra = fields.get("menu_extra")
    return MenuInput(items, "" if extra is None else str(extra))


def done_text(done: Iterable[str] | None, extra: str | None) -> str:
    """集中学习、交纳党费；自选动作：参观红色教育基地 (or 未勾选规定动作)."""
    parts = ["、".join(done or ()) or strings.MENU_NONE_DONE]
    if extra:
        parts.append(strings.MENU_EXTRA_DONE.format(extra=extra))
    return "；".join(parts)


def form_menu(acfg: ActivityConfig, done: Iterable[str] | None, extra: str | None) -> dict[str, Any]:
    """The minutes form's menu block: each fixed item with whether it is ticked, and the 自选动作."""
    ticked = set(done or ())
    return {
        "title": strings.MENU_TITLE.format(label=acfg.label, items="、".join(acfg.items)),
        "choices": [(item, item in ticked) for item in acfg.items],
        "extra": extra or "",
        "limit": acfg.extra_limit,
        "fixed_label": strings.MENU_FIELD_FIXED,
        "extra_label": strings.MENU_FIELD_EXTRA.format(limit=acfg.extra_limit),
    }
