"""Every Chinese text of the observers feature, in one place."""

from __future__ import annotations

from models.observers import Outcome, RectificationStatus

OUTCOME_LABELS = {
    Outcome.PASS: "合格",
    Outcome.REMIND: "现场提醒",
    Outcome.STOP: "叫停",
    Outcome.CORRECT: "责令纠正",
    Outcome.REOPEN: "责令重开",
}

RECT_STATUS_LABELS = {
    RectificationStatus.OPEN: "待整改",
    RectificationStatus.REPORTED: "待观察员确认",
    RectificationStatus.CLOSED: "已销号",
    RectificationStatus.REOPENED: "退回重改",
}

# Presets
PRESET_TAIHU = "党内组织生活观察质量评价表"
PRESET_HUBIN = "党建观察员打分表（四比一争）"
ITEM_PREP = "会前准备"
ITEM_PROCEDURE = "程序规范"
ITEM_ATTENDANCE = "到会情况"
ITEM_CONTENT = "内容质量"
ITEM_RECORD = "记录规范"
ITEM_FOLLOWUP = "议定事项落实/整改"
ITEM_STUDY = "比学习"
ITEM_DISCIPLINE = "比纪律"
ITEM_DEDICATION = "比奉献"
ITEM_EFFECT = "比效果"
ITEM_MODEL = "争创模范机关"
PERIOD_HALF_YEAR = "半年"
PERIOD_MONTH = "月"

# Refusals (shown as is; nothing was written)
NOT_BOUND = "您的聊天账号还没有绑定到花名册中的党员，请联系支部书记或组织部。"
NO_BRANCH = "没有找到这个党支部。"
NO_PERSON = "没有找到这位观察员。"
OWN_BRANCH = "{name}是{branch}的党员，按“领域交叉、异地观察”的要求，观察员不能观察本人所在的支部。"
ALREADY_ASSIGNED = "{name}已经是{branch}的观察员。"
NOT_A_BRANCH = "{unit}不是党支部，观察员只能联系党支部。"
NOT_ASSIGNED = "您不是{branch}的观察员，不能填写这个支部的评价表。"
OBSERVE_OWN_BRANCH = "您现在是{branch}的党员或负责人，按“领域交叉、异地观察”的要求，不能评价本支部的会议。"
NO_MEETING = "没有找到这次会议。"
NO_PHOTO = "没有找到这张照片。"
PHOTO_NOT_YOURS = "这张照片只有观察员、被观察支部的书记和党委组织委员等能看。"
MEETING_CANCELLED = "这次会议已取消。"
NOT_HELD_YET = "会议还没有召开，会后才能填写评价表。"
FORM_CLOSED = "评价表已截止：会后 {days} 天内可以填写和修改（截至{deadline}）。"
SCORE_MISSING = "“{label}”还没有打分。"
SCORE_NOT_NUMBER = "“{label}”的得分要填整数（0–{max}）。"
SCORE_OUT_OF_RANGE = "“{label}”的得分 {score} 超出范围，应为 0–{max} 分。"
COMMENT_TOO_LONG = "“{label}”的说明太长了（最多 {limit} 字）。"
BAD_OUTCOME = "请选择观察结论：合格、现场提醒、叫停、责令纠正或责令重开。"
DEADLINE_REQUIRED = "责令纠正要填写整改期限。"
BAD_DEADLINE = "整改期限要在今天之后、{max_days} 天以内（例如 {example}）。"
ISSUES_REQUIRED = "责令纠正要列出整改事项，每行一条。"
TOO_MANY_ISSUES = "整改事项最多 {limit} 条。"
ERRORS_HEAD = "评价表没有保存，请修改以下问题：\n"
NO_RECT = "没有找到编号为 {id} 的整改事项。"
RECT_NOT_YOURS = "这条整改事项不是您负责的。"
RECT_SELF_CONFIRM = (
    "您本人是这个支部的成员或负责人，不能确认或退回本支部的整改，应由上级党委组织委员确认，您的操作没有执行。"
)
RECT_WRONG_STATE = "这条整改事项现在是“{state}”，不能这样操作。"
RECT_NOTE_REQUIRED = "请说明整改情况，例如：整改完成 #{id} 已补齐会议记录签名"
RECT_REASON_REQUIRED = "请说明退回的原因，例如：退回整改 #{id} 会议记录仍缺主持人签名"
NOT_OBSERVER = "您还没有联系的支部。观察员分工由组织部在花名册的“观察员分工”表中维护。"
NO_ROLE_STATS = "只有观察员和党委组织委员、组织部可以查看观察统计。"

# Notice card (to observers)
NOTICE_TITLE = "观察提示：{branch}{title}"
NOTICE_TEXT = "您联系的支部安排了组织生活。如要列席，请点“我要列席”，支部书记会收到通知；会后请点“填写评价”。"
FIELD_BRANCH = "支部"
FIELD_TIME = "时间"
FIELD_PLACE = "地点"
FIELD_TOPIC = "议题"
NOTICES_TITLE = "观察提示：您联系的支部近期有{count}次组织生活"
NOTICES_TEXT = (
    "您联系的支部安排了以下组织生活（按时间先后）：\n\n{lines}\n\n"
    "如要列席，请回复“我要列席 编号”，例如“我要列席 {example}”，支部书记会收到通知；"
    "会后请点该次会议后面的“填写评价”。"
)
NOTICES_LINE = "- **编号{id}**：{when}，{branch}“{title}”，地点：{place}{topic}（[填写评价]({url})）"
NOTICES_TOPIC = "，议题：{topic}"
NOTICES_MORE = "\n\n另有 {count} 次会议，几分钟后另发一条提示。"
ATTEND_USAGE = "请在“我要列席”后面写上观察提示里的会议编号，例如“我要列席 12”。"
BUTTON_ATTEND = "我要列席"
BUTTON_EVALUATE = "填写评价"
ATTEND_REPLY = "已告知{branch}书记：您将列席 {when} 的“{title}”。"
ATTEND_ALREADY = "您已报名列席这次会议，支部书记已知道。"
ATTEND_TOO_LATE = "这次会议已经结束，不能再报名列席；如已到场观察，请直接填写评价。"
CANCELLED_TEXT = "观察提示：{branch}原定 {when} 的“{title}”已取消。原因：{reason}"
ATTEND_TO_SECRETARY = "观察员{name}将列席 {when} 的“{title}”，请做好准备。"

# Result of a submitted form (to the branch and the committee)
RESULT_TITLE = "观察评价结果：{branch}{title}"
RESULT_TITLE_EDITED = "观察评价结果（已修改）：{branch}{title}"
RESULT_STOP_TITLE = "【叫停】{branch}{title}"
RESULT_TEXT = "观察员{observer}：{total}/{max_total} 分，等次 {grade}，结论：{outcome}。\n\n{comment}"
RESULT_CORRECT = "\n\n请在 {deadline} 前完成整改：\n{items}\n\n每项整改好后发送：整改完成 #编号 整改说明"
RESULT_REOPEN = "\n\n本次会议不计入已召开，请在 {deadline} 前重新召开。"
RESULT_STOP = "\n\n观察员当场叫停了本次会议，已同时报告党委。"
FORM_SAVED = "评价表已保存：{total}/{max_total} 分，等次 {grade}，结论：{outcome}。会后 {days} 天内可以修改。"

# Rectification lifecycle
RECT_LINE = "#{id} {text}（{status}，期限 {due}）"
RECT_REPORTED_REPLY = "已报告整改完成，等待观察员确认：#{id} {text}"
RECT_REPORTED_ROUTED = "已报告整改完成：#{id} {text}。观察员本人也是本支部的成员或负责人，不能确认，已转请上级党委的{names}确认。"
RECT_REPORTED_NOBODY = (
    "已报告整改完成：#{id} {text}。观察员本人也是本支部的成员或负责人，上级党委目前也没有其他组织委员可以确认，"
    "请联系上级党委组织部安排确认。"
)
RECT_REVIEW_TITLE = "整改确认：{branch}"
RECT_REVIEW_TEXT = "#{id} {text}\n\n支部的整改说明：{note}"
BUTTON_CONFIRM = "确认销号"
BUTTON_REOPEN = "退回"
RECT_CONFIRMED_REPLY = "已确认销号：#{id} {text}"
RECT_CONFIRMED_TO_SECRETARY = "观察员已确认整改销号：#{id} {text}"
RECT_CONFIRMED_BY_COMMITTEE = "上级党委的{name}已确认整改销号：#{id} {text}"
RECT_REOPEN_PROMPT = "请发送：退回整改 #{id} 原因"
RECT_REOPENED_REPLY = "已退回支部重新整改：#{id} {text}"
RECT_REOPENED_TO_SECRETARY = (
    "观察员退回了整改事项 #{id} {text}\n原因：{reason}\n整改好后请再发送：整改完成 #{id} 整改说明"
)
RECT_LIST_TITLE = "整改事项"
RECT_LIST_EMPTY = "没有未销号的观察员提出的整改事项。督查、巡查发现的整改请发送“督查任务”查看。"
RECT_DUE_TITLE = "整改明天到期"
RECT_DUE_TEXT = "以下整改事项明天到期：\n{items}\n\n整改好后发送：整改完成 #编号 整改说明"
RECT_OVERDUE_TITLE = "整改逾期：{branch}"
RECT_OVERDUE_TEXT = "以下整改事项已逾期：\n{items}"
REOPEN_OVERDUE_TITLE = "未按要求重新召开：{branch}"
REOPEN_OVERDUE_TEXT = "{when}的“{title}”被责令重开，期限 {deadline} 已过，仍未重新召开。"

# 我的支部
MY_BRANCHES_TITLE = "我联系的支部"
MY_BRANCH_LINE = "**{branch}**　本{period}已观察 {done}/{required} 次"
MY_MEETING_LINE = "- {when}　{title}　{place}"
MY_NO_MEETINGS = "- 近期没有安排会议"

# Coverage
COVERAGE_TITLE = "观察提醒：{branch}"
COVERAGE_TEXT = (
    "按要求每{period}至少列席 {required} 次，本期（{end}结束）{branch}还没有观察员列席。{meetings}"
)
COVERAGE_MEETINGS = "\n\n近期会议：\n{lines}"
COVERAGE_NO_MEETINGS = "\n\n该支部近期还没有安排会议，可以联系支部书记。"
NO_OBSERVER = "未安排观察员"
COVERAGE_LINE = "- {branch}（{observers}）：已列席 {observed}/{required} 次"

# Branches no observer has attended yet (to the committee's 组织委员)
GAPS_TITLE = "观察员列席缺口：{committee}"
GAPS_TEXT = (
    "按照每{period}至少列席 {required} 次的要求，截至{today}，以下 {count} 个支部在{name}还没有观察员列席"
    "（本期到{end}结束）：\n\n{lines}"
)
GAPS_ACT = "\n\n请在{end}前安排观察员列席这些支部的组织生活。"
GAPS_ENDED = "\n\n本期已经结束，请督促观察员在下一期尽早列席这些支部。"
GAPS_UNASSIGNED = "\n\n其中 {count} 个支部未安排观察员，请在花名册的“观察员分工”表中补上。"

# 观察统计
STATS_TITLE = "观察统计（{year}年）"
STATS_LINE = (
    "**{name}**：联系 {branches} 个支部，今年列席 {attended} 次，"
    "提交评价 {forms} 份（按时 {on_time} 份），提出整改 {raised} 条（已销号 {closed} 条）。\n"
    "{period}已列席：{done}；还没列席：{pending}。\n"
    "{basis}"
)
STATS_NONE = "无"
RATING_BASIS = (
    "年度评定：系统建议等次、理由和党委的评定见管理后台“年度工作 → 观察员年度评定”（发送“登录后台”获取链接）。"
    "今年情况：每个联系支部每{period}至少列席 {required} 次，已到期的 {periods} 次中做到 {covered} 次；"
    "评价表按时提交 {on_time}/{forms} 份。"
)
STATS_EMPTY = "还没有观察员记录。"
STATS_COVERAGE_HEAD = (
    "**支部列席情况**（{name}，截至{as_of}）：{total} 个支部中 {covered} 个已有观察员列席，"
    "{gaps} 个还没有，{unassigned} 个未安排观察员。"
)
STATS_COMMITTEE = "**{committee}**"
STATS_COVERAGE_MORE = "……另有 {count} 个支部未列出，完整名单请导出 Excel。"
STATS_EXPORT = "导出 Excel"
RATING_SEE_CONSOLE = "见管理后台“观察员年度评定”"

# Export (.xlsx)
EXPORT_SHEET = "观察员年度统计"
EXPORT_FORMS_SHEET = "评价表明细"
EXPORT_HEADERS = (
    "观察员",
    "手机号",
    "联系支部",
    "列席次数",
    "提交评价表",
    "按时提交",
    "提出整改",
    "已销号",
    "应观察支部期次",
    "已覆盖期次",
    "年度评定",
)
EXPORT_FORM_HEADERS = (
    "观察员",
    "支部",
    "会议",
    "会议时间",
    "得分",
    "满分",
    "等次",
    "结论",
    "提交时间",
    "按时",
)
EXPORT_COVERAGE_SHEET = "支部列席情况"
EXPORT_COVERAGE_HEADERS = ("党委", "党支部", "观察员", "期次", "已列席次数", "要求次数", "是否达到要求")
EXPORT_PERIOD_RUNNING = "{name}（进行中，截至{as_of}）"
YES = "是"
NO = "否"

# H5
H5_TITLE = "观察质量评价表"
H5_SCORE = "得分（0–{max}）"
H5_ITEM_COMMENT = "说明"
H5_COMMENT = "总体评价"
H5_OUTCOME = "观察结论"
H5_DEADLINE = "整改期限"
H5_ISSUES = "整改事项（每行一条）"
H5_SUBMIT = "提交评价"
H5_WORKING = "正在提交…"
H5_EDITING = "您已提交过这份评价表，可以修改到 {deadline}。"
H5_DEADLINE_NOTE = "会后 {days} 天内可以填写和修改（截至 {deadline}）。"
H5_NEED_LOGIN = "请在钉钉或企业微信中打开这个页面。"
H5_BAD_FORM = "提交的内容格式不对，没有保存。请刷新页面后重新填写。"
H5_EXPORT_DENIED = "只有党委组织委员和组织部可以导出观察统计。"

# Help
HELP_ATTEND = "我要列席 编号：观察员报名列席联系支部的会议（编号见观察提示）"
HELP_MY_BRANCHES = "我的支部：观察员查看联系的支部和近期会议"
HELP_STATS = "观察统计：观察员的列席、评价、整改记录"
HELP_RECT_DONE = "整改完成 #编号 说明：报告观察员提出的整改已完成"
HELP_RECT_LIST = "整改：查看未销号的整改事项"

# The roster's extra sheet
SHEET = "观察员分工"
COL_NAME = "观察员姓名"
COL_PHONE = "手机号"
COL_BRANCH = "党支部"
SHEET_MISSING_COLUMNS = "“观察员分工”表缺少列：{columns}"
SHEET_NO_NAME = "没有填观察员姓名"
SHEET_NO_BRANCH = "没有填党支部"
SHEET_UNKNOWN_PERSON = "花名册里没有{name}（手机号 {phone}）"
SHEET_NAME_MISMATCH = "手机号 {phone} 登记的是{actual}，不是{name}"
SHEET_AMBIGUOUS_PERSON = "花名册里有 {count} 个{name}，请填写手机号区分"
SHEET_UNKNOWN_BRANCH = "没有找到党支部“{branch}”"
SHEET_AMBIGUOUS_BRANCH = "有 {count} 个党支部叫“{branch}”，请写完整路径，例如“城关镇党委/{branch}”"
SHEET_DUPLICATE = "与第{row}行重复"
SHEET_SUMMARY = "观察员分工：共 {total} 条，新增 {added} 条，结束 {ended} 条。"

# ---- 观察员年度评定 (handlers/observers/yearly*.py; the console's /console/observer-ratings)
YEAR_TITLE = "观察员年度评定"
YEAR_NOTHING = "{year}年还没有到期的列席要求，也没有提交评价表，暂无法提出建议"
YEAR_COVERAGE = "联系{branches}个支部，到期应列席{required}次，做到{done}次（覆盖{rate}）"
YEAR_MISSED = "未按要求列席：{items}"
YEAR_MISSED_ITEM = "{branch}（{period}）"
YEAR_MISSED_MORE = "等{n}处"
YEAR_ON_TIME = "提交评价表{forms}份，会后{days}天内按时提交{on_time}份（及时{rate}）"
YEAR_UNREPORTED = "另有{n}次报名列席的会议没有提交评价表"
YEAR_NO_FORMS = "全年没有提交评价表"
YEAR_QUALITY = "记录完整的{complete}份（完整{rate}）"
YEAR_GAP_UNSCORED = "{n}份有项目未打分"
YEAR_GAP_COMMENT = "{n}份没有写总体评价"
YEAR_GAP_EXPLAIN = "{n}份扣分较多的项目没有写明原因"
YEAR_BELOW = "，低于{line}，至多评为{grade}"
YEAR_FOLLOWUP = "需要回头看{due}次，按时做到{done}次"
YEAR_FOLLOWUP_MISSED = (
    "，{n}次没有按时回头看（整改报告{days}天内未销号或退回，或责令重开后重新召开的会议未列席），{cap}"
)
YEAR_NOT_EXCELLENT = "不宜评为优秀"
YEAR_AT_MOST_BASIC = "至多评为基本称职"
YEAR_PROPOSE = "建议评为{grade}"
YEAR_NOT_RATER = "只有任命观察员的党委的书记、副书记、组织委员或组织部可以评定观察员的年度等次。"
YEAR_NOT_SELF = "不能评定自己的年度等次，请由党委其他负责同志或组织部评定。"
YEAR_BAD_GRADE = "请选择评定等次：优秀、称职、基本称职或不称职。"
YEAR_NEED_REASON = "评定等次与系统建议（{proposed}）不同，请填写调整的理由。"
YEAR_REASON_TOO_LONG = "理由请控制在500字以内。"
YEAR_BAD_YEAR = "年份应为 2026 这样的四位数。"
YEAR_SAVED = "已将{observer}{year}年度评定为{grade}。"
YEAR_NOT_OBSERVER = "{name}不是{committee}{year}年度的观察员。"
YEAR_NO_PROPOSAL = "暂无建议"
YEAR_NOT_CONFIRMED = "待评定"
TRAINING_SAVED = "已登记培训：{day} {title}（{hours}学时，{n}人参加）。"
TRAINING_BAD_DAY = "培训日期应为 2026-11-20 这样的日期，且不晚于今天。"
TRAINING_WRONG_YEAR = "培训日期应在{year}年内。"
TRAINING_NO_TITLE = "请填写培训内容（200字以内）。"
TRAINING_BAD_HOURS = "学时应为 0.5 到 100 之间的数字，例如 3 或 1.5。"
TRAINING_NO_ATTENDEES = "请勾选参加培训的观察员。"
TRAINING_NOT_YOURS = "只能为您负责评定的观察员登记培训。"
TRAINING_NO_UNIT = "请选择举办培训的党委。"
TRAINING_LINE = "{day} {title}（{hours}学时）"
TRAINING_TOTAL = "共{n}次、{hours}学时"
TRAINING_NONE = "今年未登记培训"
