"""The 年终通报's Chinese text (handlers.ledgers.year_report): the branch's report read out at the year-end
党员大会 (seed 001: 通报年度组织生活开展情况，查找存在问题、听取意见建议) and the committee's roll-up."""

from __future__ import annotations

NAV = "年终通报"
TITLE = "{branch}{year}年度组织生活开展情况通报"
SUBTITLE = "（在年底党员大会上通报　统计截至{as_of}）"
ROLLUP = "年终通报汇总"
ROLLUP_CAPTION = "{unit} {year}年度 各党支部组织生活开展情况汇总（统计截至{as_of}）"
MADE_ON = "制表日期：{day}"

NUMERALS = "一二三四五六七八九十"

# Sections, in the order read out.
S_BASICS = "基本情况"
S_MEETINGS = "“三会一课”等组织生活开展情况"
S_ATTENDANCE = "党员参加组织生活情况"
S_FEES = "党费收缴情况"
S_OBSERVERS = "组织生活观察员列席和整改情况"
S_TALKS = "谈心谈话开展情况"
S_SCORES = "月度积分情况"
S_RATING = "支部年度评定"
S_PROBLEMS = "存在问题"
S_OPINIONS = "党员意见建议（会上记录）"

MEMBERS = "党员人数"
MEMBERS_VALUE = "{n} 人"
PERIOD = "统计期间"
PERIOD_VALUE = "{first}至{last}"
NOT_IN_USE = (
    "这一年本系统尚未启用，没有可通报的记录，以下不列各项数据和存在问题；请支部根据纸质台账另行通报。"
)
NOT_IN_USE_SHORT = "本年度系统尚未启用，无记录。"
FROM_START = "本系统自{start}起启用，此前月份不计入应开次数和月积分。"

MEETING_HEADERS = ["会议类型", "应开（次）", "实开（次）", "计入完成（次）"]
MEETINGS_TOTAL = "合计应开 {required} 次，计入完成 {credited} 次，完成率 {rate}。"
MEETINGS_RULE = "应开次数和计入完成按月积分口径统计，与总览、月积分台账一致（党小组会按党小组个数计）；实开为已召开并已提交会议记录（或记录尚未到期）的会议次数，一次会议可计入多个类型。"
NO_REQUIRED = "统计期间没有应开的会议。"
MEETINGS_RUNNING = "{month}尚在进行中，该月应开而未开的会议在月底前召开的仍可计入。"
TYPE_NOTE = "（{note}）"
TYPE_DECIDED = "已于{day}经支部大会评定"

ATT_EXPECTED = "应到人次"
ATT_PRESENT = "实到人次（含迟到）"
ATT_RATE = "出勤率"
ATT_LEAVE = "请假人次"
ATT_ABSENT = "无故缺席人次"
ATT_ABSENT_NAMES = "无故缺席人员"
ATT_MAKEUP = "补学"
MAKEUP_VALUE = "应补学 {total} 人次，已完成 {done} 人次，未完成 {open} 人次"
TIMES = "{name}（{n}次）"
NONE = "无"

FEE_OWED = "应交"
FEE_OWED_VALUE = "{n} 人·月，{amount} 元"
FEE_PAID = "已交"
FEE_PAID_VALUE = "{n} 人·月，{amount} 元"
FEE_UNPAID = "未交"
FEE_UNPAID_VALUE = "{n} 人·月，{amount} 元"
FEE_EXEMPT = "免交"
FEE_EXEMPT_VALUE = "{n} 人·月"
FEE_ARREARS = "截至目前连续欠缴"
FEE_RUN = "{name}（连续{n}个月）"
FEE_USED = "党费使用"
FEE_USED_NONE = "本系统不记录党费使用情况，请支部按党费管理规定另行说明。"
FEE_UNTRACKED = "另有 {n} 人·月在本系统开始统计该党员党费之前，不计入应交和未交。"
FEE_PENDING = "{month}党费交纳日为{day}，尚未到期，本月未交的不计入未交和连续欠缴（已交的计入已交）。"
FEE_UNKNOWN = "部分党员月交纳额尚未核定，应交金额按已交金额计。"

OBS_VISITS = "观察员列席"
OBS_VISITS_VALUE = "{n} 次，平均得分 {mean}"
OBS_VISITS_NONE = "0 次"
OBS_OUTCOMES = "处理结果"
OBS_COVERAGE = "列席覆盖"
COVERAGE_OK = "{period}：列席 {n} 次，达到要求"
COVERAGE_SHORT = "{period}：列席 {n} 次，应至少 {required} 次"
COVERAGE_RUNNING = "（进行中）"
RECTS = "整改事项"
RECTS_VALUE = "提出 {raised} 项，已销号 {closed} 项，未销号 {open} 项（其中逾期 {overdue} 项）"
RECT_HEADERS = ["未销号的整改事项", "提出观察员", "整改期限", "状态"]
OVERDUE_MARK = "（已逾期）"

TALKS_DONE = "完成情况"
TALKS_VALUE = "应谈 {required} 项，已谈 {done} 项（全年共记录谈话 {talks} 次）"
TALKS_COMMITTEE = "支委之间"
TALKS_MEMBERS = "支委与党员"
TALKS_PEERS = "党员之间"
PAIR_COUNTS = "{done}/{required}"
TALKS_MISSING = "尚未谈心谈话"
TALKS_NONE = "本支部没有在册党员，不涉及。"

SCORE_HEADERS = ["月份", "得分", "排名", "是否落后"]
SCORE_MEAN = "已结束月份平均 {mean} 分，{lagging} 个月落后（进行中的月份不计）。"
SCORE_MEAN_NONE = "尚无已结束月份的积分（进行中的月份不计入平均）。"
RUNNING = "（进行中）"
RUNNING_LAGGING = "（月末确定）"
SCORE_NONE = "统计期间没有月积分。"
LAGGING = "落后"
NOT_LAGGING = "—"
RANK = "{rank}/{size}"

RATING_CONFIRMED = "{grade}（党委已确定）"
RATING_PROPOSED = "系统建议{grade}（待党委确定）"
RATING_NONE = "暂无评定建议（统计期间没有已结算的月积分）。"
RATING_GRADE = "评定等次"
RATING_REASONS = "依据"
RATING_CHANGE = "调整理由"

NO_PROBLEMS = "对照以上情况，暂未发现明显问题。"
OPINION_LINES = 6

# 存在问题: one sentence per fact, derived from the figures above (year_report.problems).
P_MEETING = "{type}应开{required}次，计入完成{credited}次，少{short}次。"
P_MEETING_RUNNING = (
    "{type}应开{required}次，计入完成{credited}次，少{short}次（其中{pending}次属进行中的{month}）。"
)
P_ABSENT = "无故缺席{n}人次（{names}）。"
P_MAKEUP = "补学未完成{n}人次。"
P_PLAN = "{n}个月未按时报送月度计划。"
P_MINUTES = "会议记录逾期提交{n}次。"
P_FEES = "欠缴党费{n}人·月，共{amount}元。"
P_FEES_NO_AMOUNT = "欠缴党费{n}人·月（部分党员交纳额尚未核定）。"
P_FEES_RUN = "{names}连续欠缴党费3个月及以上。"
P_STOPS = "组织生活被观察员叫停{stops}次、责令重开{reopens}次。"
P_RECTS = "观察员提出的整改事项{open}项未销号（其中逾期{overdue}项）。"
P_COVERAGE = "{period}观察员列席{n}次，未达到每期至少{required}次的要求。"
P_TALKS = "谈心谈话应谈{required}项，已谈{done}项，尚有{missing}项未谈。"
P_LAGGING = "{n}个月月积分落后。"

# 组织生活会 (handlers.lifemeeting.status).
S_LIFE = "组织生活会召开情况"
LIFE_HELD = "召开情况"
LIFE_HELD_ON = "已于{day}召开"
LIFE_PLANNED = "尚未召开，计划于{day}召开"
LIFE_NO_PLAN = "尚未召开，也未制定计划"
LIFE_CRITICISM = "批评和自我批评"
LIFE_CRITICISM_VALUE = "已记录 {n} 人"
LIFE_MEASURES = "整改措施"
LIFE_MEASURES_VALUE = "共 {total} 项，已完成 {done} 项，未完成 {open} 项（其中逾期 {overdue} 项）"
LIFE_STEP_HEADERS = ["会前步骤", "应完成（人）", "已完成（人）", "未完成人员"]
LIFE_MORE = "等{n}人"
P_LIFE_NOT_HELD = "全年未召开组织生活会。"
P_LIFE_LATE = "组织生活会原计划于{day}召开，至今尚未召开。"
P_LIFE_STEPS = "组织生活会会前步骤未全部完成（{steps}）。"
LIFE_STEP_SHORT = "{step}{n}人未完成"
P_LIFE_MEASURES = "组织生活会整改措施{open}项未完成（其中逾期{overdue}项）。"

# 书记项目 (handlers.projects.library.units_year).
S_PROJECTS = "书记项目"
PROJECT_HEADERS = ["项目", "状态", "节点完成", "逾期节点", "红旗/蜗牛", "督办单", "群众满意率"]
PROJECT_TITLE = "《{title}》"
PROJECT_EXCELLENT = "（优秀项目）"
PROJECT_MILESTONES = "{done}/{total}"
PROJECT_PICK = "{kind}{n}次（{months}）"
PROJECT_ORDERS = "{n} 份，已办结 {closed} 份"
PROJECT_ORDERS_OPEN = "，未办结 {open} 份（其中逾期 {overdue} 份）"
PROJECT_INTERVIEW = "，已约谈"
PROJECT_NONE = "本年度未申报书记项目。"
PICK_KINDS = {"red_flag": "红旗项目", "snail": "蜗牛项目"}
P_PROJECT_NONE = "本年度未申报书记项目。"
P_PROJECT_NOT_ACCEPTED = "书记项目尚未通过评审入库。"
P_PROJECT_LATE = "书记项目《{title}》有{n}个节点逾期未完成。"
P_PROJECT_SNAIL = "书记项目《{title}》被评为蜗牛项目{n}次。"
P_PROJECT_ORDERS = "书记项目《{title}》督办单{open}份未办结（其中逾期{overdue}份）。"

# 民主评议党员 (handlers.appraisal.grades.branch_years; the labels are the feature's: handlers.appraisal.strings).
# Counts only: who was graded what is the 支部大会's own record, and no ballot is ever linked to a voter.
APPRAISAL_MEMBERS_VALUE = "{n} 人"
APPRAISAL_TURNOUT_RATE = "（{rate}）"
P_APPRAISAL_NONE = "全年没有开展民主评议党员。"
P_APPRAISAL_UNDECIDED = "民主评议党员的等次还没有经支部大会决定。"

# The roll-up's sheet.
ROLLUP_SHEET = "汇总"
ROLLUP_HEADERS = [
    "党支部", "党员（人）", "应开（次）", "计入完成（次）", "完成率", "出勤率", "无故缺席（人次）", "补学完成/应补",
    "党费已交（元）", "欠缴（人·月）", "观察员列席（次）", "叫停/重开（次）", "整改未销号（项）", "谈心谈话已谈/应谈",
    "月平均积分", "落后（月）", "年度评定", "存在问题",
]  # fmt: skip
ROLLUP_WIDTHS = (24, 8, 8, 10, 8, 8, 10, 10, 10, 10, 10, 10, 10, 12, 10, 8, 16, 60)
TOTAL = "合计（{n}个支部）"
GRADE_COUNT = "{grade}{n}个"
PENDING = "待确定"

# The console page.
PAGE_INTRO = (
    "每个党支部一份年度通报（Word），供支部书记在年底党员大会上通报全年组织生活开展情况、查找存在问题、听取意见建议；"
    "党委汇总表（Excel）每个支部一行，列出关键数据和年度评定，末行合计。"
)
BRANCHES = "支部通报"
COMMITTEES = "党委汇总"
DOWNLOAD_DOCX = "下载通报（Word）"
DOWNLOAD_XLSX = "下载汇总表（Excel）"
NO_BRANCHES = "您负责的范围内没有党支部。"
BAD_YEAR = "年份应为四位数字，例如 2026。"
FUTURE_YEAR = "这一年还没有开始，没有可通报的数据。"
NOT_A_BRANCH = "年度通报按党支部生成，请选择一个党支部。"
