"""Every piece of Chinese text the 党费 feature shows, in one place for review."""

from __future__ import annotations

from decimal import Decimal


def yuan(amount: Decimal | None) -> str:
    return "待核定" if amount is None else f"{amount:.2f} 元"


# --- fee day -------------------------------------------------------------------------------------
WEEKEND = "周末休息日"
LOCAL_HOLIDAY = "本地假日"
HOLIDAY_OF = "{name}假期"
NO_REASON_GIVEN = "未注明原因"
REASON_OVERRIDE = "已人工调整：{reason}"
REASON_NEXT_FRIDAY = "{day}为{why}，改为当月第一个工作日的周五 {to}"
REASON_POSTPONED = "{day}为{why}，顺延至 {to}"
REASON_ADVANCED = "{day}为{why}，提前至 {to}"
REASON_PREVIOUS_MONTH = "（已提前到上个月）"
REASON_NO_WORKING_FRIDAY = "当月没有作为工作日的周五，改为当月第一个工作日 {to}"
FALLBACK_FLAG = (
    "⚠ 节假日数据未覆盖 {year} 年（chinesecalendar 只含 {first}–{last} 年）：本年按周一至周五为工作日计算，"
    "未计入法定节假日和调休。请在国务院公布安排后升级 chinesecalendar，或用人工调整表逐月修正。"
)
FALLBACK_LOG = (
    "fee days for %s use the weekday fallback: chinesecalendar has no data for that year; "
    "upgrade the package or set overrides"
)
FEE_DAYS_HEADER = "{year} 年党费交纳日（规则：{rule}）"
FEE_DAYS_LINE = "{month:>2}月  {day}"
FEE_DAYS_MOVED = "  ← {reason}"

# --- errors (each one changes nothing) -----------------------------------------------------------
NOT_BOUND = "还没有找到您的党员信息，请联系支部书记把您的钉钉/企业微信账号登记到花名册。"
NOT_A_MEMBER = "您不在任何党支部的名册中，无法办理党费。"
NO_ROLE = "只有本支部的党费收缴员或书记可以{what}。"
SELF_CONFIRM = "不能确认自己的党费，请由本支部其他党费收缴员或书记确认。"
OTHER_BRANCH = "{name}不属于您负责的支部，不能{what}。"
TOO_FAR_BACK = "{month}已超过补交期限：补交最多补前 {n} 个月（《党费收缴、使用和管理的规定》第十二条）。"
TOO_FAR_AHEAD = "{month}太远了：预交最多提前 {n} 个月。"
BEFORE_LIABILITY = "{month}还不需要交党费：{name}从 {start} 起交纳。"
EXEMPT_MONTH = "{name}{month}经批准免交党费，无需登记。"
ALREADY_CONFIRMED = "{name}{month}的党费已确认，无需重复登记。"
NOT_PENDING = "这笔党费当前状态为“{status}”，无需再处理。"
PAYMENT_NOT_FOUND = "没有找到这笔党费记录，可能已被删除。"
BAD_MONTH = "没看懂月份“{text}”。请写成“11月”或“2026年11月”，多个月份用空格分开。"
AMOUNT_UNKNOWN = "{name}的党费金额尚未核定（缺少党费基数），请先在花名册中补充。"
BAD_AMOUNT = "金额“{text}”不正确，请填写大于 0 的数字（元，最多两位小数）。"

VOLUNTARY_EXTRA = "自愿多交 {extra}（一次性 1000 元以上，按规定全部上缴中央）"

# --- chat ----------------------------------------------------------------------------------------
HELP_PAID = "已交 [月份]：报告本月（或指定月份）党费已交，例如“已交 11月 12月”"
HELP_STATUS = "党费：查看自己的党费情况"
HELP_CONFIRM = "党费确认：收缴员/书记查看并确认待确认的党费"
HELP_LIST = "党费名单：收缴员/书记查看本月未交党费名单"
REPORTED_OK = "已记录：{months}党费已交（{amount}），等待党费收缴员确认。"
REPORTED_NOTHING = "{months}的党费此前已报告或已确认，无需重复报告。"
STATUS_TITLE = "我的党费"
STATUS_LINES = (
    "本月交纳日：{fee_day}\n"
    "每月应交：{monthly}\n"
    "本月状态：{this_month}\n"
    "未交月份：{unpaid}\n"
    "合计应补交：{due}"
)
STATUS_NONE_UNPAID = "无"
STATUS_EXEMPT = "经批准免交"
STATUS_NOT_DUE = "尚未开始交纳"
STATUS_UNPAID = "未交"
PENDING_TITLE = "{branch}：待确认党费"
PENDING_EMPTY = "{branch}目前没有待确认的党费。"
PENDING_LINE = "{name}　{month}　{amount}　{how}"
PENDING_PROXY = "（{payer}代交）"
PENDING_MORE = "另有 {n} 笔，请点“全部确认”或稍后再次发送“党费确认”。"
BUTTON_CONFIRM_ONE = "确认 {name}"
BUTTON_CONFIRM_ALL = "全部确认"
BUTTON_PAID = "已交"
# --- the H5 已交 page (bot.web.fees), opened from the reminder ------------------------------------
PAY_PAGE_TITLE = "党费交纳"
PAY_PAGE_BUTTON = "我已交纳{month}党费"
PAY_PAGE_DONE = "{month}党费无需再报告（已报告、已确认或无需交纳）。"
PAY_PAGE_BAD_MONTH = "链接中的月份不正确，请从党费提醒重新打开。"
CONFIRMED_ONE = "已确认 {name}{month}党费 {amount}。"
CONFIRMED_ALL = "已确认 {n} 笔党费。"
CONFIRMED_NONE = "没有需要确认的党费。"
CONFIRMED_NOTICE = "您{months}的党费（{amount}）已由{by}确认，谢谢！"
CONFIRMED_TOTAL = "合计{amount}"
# DingTalk shows a markdown message's title only in the notification, WeCom shows it above the text: the
# title says what the list is, the text's own heading whose list it is, so neither platform shows a
# line twice nor a list without its heading (the heading in the form of 本月会议's month headings).
UNPAID_TITLE = "党费未交名单"
UNPAID_HEADING = "**{branch} {month}**"
UNPAID_COLUMNS = "姓名　应交金额"
UNPAID_EMPTY = "{branch}{month}党费已全部交清（含待确认）。"
UNPAID_LINE = "{name}　{amount}"
UNPAID_FOOTER = "共 {n} 人未交，待确认 {pending} 人。交纳日：{fee_day}"
NO_BRANCH_ROLE = "您不是任何支部的党费收缴员或书记。"

# --- reminders -----------------------------------------------------------------------------------
REMINDER_TITLE = "党费交纳提醒"
# The same text for everyone (no amount): identical cards go to many members per platform call. The
# amount is on the page 已交 opens, and in the answer to 党费.
REMINDER_TEXT_TODAY = (
    "今天（{day}）是{month}党费交纳日，请按时交纳党费。点“已交”可查看应交金额，交纳后在页面上报告。"
)
REMINDER_TEXT_TOMORROW = (
    "明天（{day}）是{month}党费交纳日，请按时交纳党费。点“已交”可查看应交金额，交纳后在页面上报告。"
)
