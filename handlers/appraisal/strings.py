"""All Chinese text of 民主评议党员, in one place."""

from __future__ import annotations

TITLE = "民主评议党员"
HELP_MEMBER = "民主评议：打开本支部今年的民主评议（个人自评、党员互评和民主测评）"
HELP_OPEN = (
    "开始民主评议 [开始日期] [截止日期]：开启本支部今年的民主评议，通知全体党员（不写日期为今天起{days}天）"
)

# Chat answers and refusals.
NOT_BOUND = "您的账号还没有绑定党员信息，请联系支部书记。"
NOT_MANAGER = "只有支部{managers}可以开启民主评议。"
OPEN_USAGE = (
    "用法：开始民主评议 [开始日期] [截止日期]，例如：开始民主评议 12-05 12-12；不写日期为今天起{days}天。"
)
BAD_DAY = "没有看懂日期“{text}”。请写成 2026-12-12 或 12月12日。"
START_PAST = "开始日期{day}已经过去了，请从今天或以后开始。"
END_BEFORE_START = "截止日期{end}早于开始日期{start}。"
WINDOW_TOO_LONG = "评议时间最长{n}天，请缩短。"
SPLIT_YEAR = "开始和截止日期请在同一年内。"
ALREADY_OPEN = "{branch}{year}年的民主评议已经开启（{start}至{end}），每年一次。"
TOO_FEW = "{branch}只有{n}名党员，至少要有2名正式党员才能互评。"
OPENED = "已开启{branch}{year}年民主评议：{start}至{end}，已通知{n}名党员。预备党员参加评议但不投票；有受留党察看处分的党员，请在投票开始前到评议管理页面标出。"
NONE_THIS_YEAR = "{branch}{year}年还没有开启民主评议。"
NO_BRANCH = "您还没有编入党支部。"

# The members' card.
CARD_TITLE = "民主评议党员（{year}年）"
CARD_TEXT = (
    "{branch}开展{year}年民主评议党员，时间：**{start}至{end}**。\n\n"
    "请在此期间完成：1. 个人自评（截止前可修改）；2. 党员互评和民主测评（正式党员对其他党员逐一评价，"
    "匿名，每人一票，提交后不能修改）。预备党员参加自评，不参加投票。"
)
CARD_BUTTON = "参加评议"
MANAGE_BUTTON = "评议管理"
STATUS_LINE = "{branch}{year}年民主评议：{state}；应投票{voters}人，已投{voted}人。"

# States.
STATE_NOT_STARTED = "未开始（{start}开始）"
STATE_OPEN = "进行中（{end}截止）"
STATE_CLOSED = "已截止，待支委会提出建议"
STATE_PROPOSED = "支委会已提出建议，待支部大会决定"
STATE_DECIDED = "支部大会已决定（{day}）"
STATE_NONE = "未开启"

# The H5 pages.
PAGE_NOT_FOUND = "没有找到这次民主评议。"
PAGE_NOT_MEMBER = "您不是这次民主评议的党员（以开启时的支部名单为准）。"
PAGE_NOT_MANAGER = "评议管理只给本支部{managers}使用。"
WINDOW_NOT_OPEN = "民主评议{start}开始，现在还不能提交。"
WINDOW_CLOSED = "民主评议已于{end}截止，不能再提交。"
SELF_EMPTY = "请填写个人自评。"
SELF_TOO_LONG = "个人自评请控制在{n}字以内。"
SELF_SAVED = "个人自评已保存。截止前可以修改。"
NO_VOTE_PROBATIONARY = "预备党员参加民主评议，但没有表决权，不参加投票。"
NO_VOTE_SUSPENDED = "受留党察看处分期间没有表决权，不参加投票。"
ALREADY_VOTED = "您已经投过票了，每人一票。为保证匿名，选票上不记录投票人，提交后无法找回或修改。"
BALLOT_INCOMPLETE = "还有{n}人没有评价：{names}。请对每一名党员选择等次。"
BALLOT_BAD = "选票内容不正确，请重新打开页面填写。"
BALLOT_SAVED = "投票成功，谢谢！您的选票不记录投票人。"
SUSPENDED_AFTER_VOTES = "已经有人投票，不能再更改投票资格。"
SUSPENDED_CLOSED = "评议已截止，不能再更改投票资格。"
SUSPENDED_PROBATIONARY = "预备党员本来就不参加投票。"
NOT_CLOSED = "投票{end}截止后才能计票和提出建议。"
ALREADY_DECIDED = "支部大会已于{day}作出决定，不能再修改。"
NEED_PROPOSAL = "请先记录支委会提出的评定建议。"
MISSING_GRADE = "请为{names}选择等次。"
NEED_HANDLING = "{names}评为不合格，请选择组织处置方式（限期改正、劝其退党或除名）。"
OVER_CAP = "优秀{n}人，超过党员人数的{cap_text}（最多{cap}人）。"
BAD_DAY_FIELD = "请填写{what}日期（如 2026-12-20）。"
DAY_FUTURE = "{what}日期{day}还没有到。"
DAY_BEFORE = "{what}日期{day}早于{after}。"
NEED_REASON = "{names}的决定与支委会建议不同，请写明理由。"
REASON_TOO_LONG = "理由请控制在{n}字以内。"
# The 支部大会 that decides is also a meeting the month's points count (rule 6: one event may count as several
# types): said where the secretary records the proposal (before it) and the decision (after it).
CONGRESS_AS_MEETING = (
    "这次支部大会也要作为会议登记：用“安排会议”安排时，会议类型同时选“支部党员大会”和“民主评议党员”"
    "（一次会议可计入两类），会上签到，会后填写会议记录，月度积分才会计入这两类会议。"
)
PROPOSAL_SAVED = "已记录支委会{day}提出的评定建议，提交支部大会决定。" + CONGRESS_AS_MEETING
DECISION_SAVED = (
    "已记录支部大会{day}的决定。这次支部大会应是一次安排过的会议，类型同时有“支部党员大会”和“民主评议党员”"
    "（一次会议可计入两类）：请发“会议记录”填写它的记录，月度积分才会计入这两类会议。"
)
COMMITTEE_MEETING = "支委会"
CONGRESS_MEETING = "支部大会"
AFTER_CLOSE = "投票截止日"
AFTER_PROPOSAL = "支委会日期"

# Count notes (the 支委会 reads them beside the suggestion).
NOTE_TIE = "与{names}并列（{n}票优秀），优秀名额只剩{seats}个，由支委会决定"
NOTE_OVER_CAP = "优秀票过半，但优秀名额已满"
NOTE_NO_BALLOTS = "无人投票"
NOTE_UNQUALIFIED = "不合格，须选择组织处置方式，提交支部大会决定"
LOW_TURNOUT = "投票人数{voted}/{voters}，未超过应投票人数的一半，请支委会斟酌。"
CAP_TEXT = "{num}/{den}"

# Console page.
CONSOLE_TITLE = "民主评议党员"
CONSOLE_EXPLAIN = (
    "个人自评、党员互评和民主测评由党员在手机上完成（匿名，每人一票）；截止后系统计票，支部委员会提出等次建议"
    "（优秀一般不超过党员人数的1/3，不合格须提出处置方式），支部大会决定。这里只显示各支部的进度和结果，不显示任何人的投票。"
)

# Scheduled messages (handlers/appraisal/jobs.py).
LAST_DAY_TITLE = "民主评议今天截止"
LAST_DAY_TEXT = "{branch}{year}年民主评议今天（{end}）24时截止，您还没有完成：{what}。"
LAST_DAY_VOTE = "投票"
LAST_DAY_SELF = "个人自评"
CLOSED_TITLE = "民主评议投票已截止"
CLOSED_TEXT = (
    "{branch}{year}年民主评议已于{end}截止：应投票{voters}人，已投{voted}人。"
    "请打开评议管理查看计票结果，记录支委会提出的等次建议，再提交支部大会决定。" + CONGRESS_AS_MEETING
)
JOB_DESCRIPTION = "民主评议：截止当天提醒未完成的党员，截止后通知支部书记计票"

# The year-end report's section (handlers/ledgers/year_report.py reads these).
REPORT_TITLE = "民主评议党员"
REPORT_WINDOW = "评议时间"
REPORT_MEMBERS = "参评党员"
REPORT_TURNOUT = "民主测评投票"
REPORT_TURNOUT_VALUE = "应投票{voters}人，实投{voted}人"
REPORT_PROPOSED = "支委会提出建议"
REPORT_DECIDED = "支部大会决定"
REPORT_NOT_YET = "未进行"
REPORT_HEADERS = ["等次", "人数"]
REPORT_HANDLING = "其中{handling}"
REPORT_NONE = "{year}年没有开展民主评议党员。"
