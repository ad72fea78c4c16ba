"""Every Chinese text of 书记项目, in one place."""

from __future__ import annotations

from models.org import BranchCategory
from models.projects import ProjectStatus, RatingVerdict

STATUS_LABELS = {
    ProjectStatus.SUBMITTED: "待预审",
    ProjectStatus.RETURNED: "预审退回，待修改",
    ProjectStatus.PRE_ACCEPTED: "预审通过，待评审",
    ProjectStatus.ACCEPTED: "已入库（公开承诺）",
    ProjectStatus.NOT_ACCEPTED: "评审未通过",
}

# Registration
# The example dates ({nodes}) are built from the project's year and today (library.example_days), so a
# secretary copying the example never gets a date outside the year.
REGISTER_FORM = (
    "申报项目\n名称：……\n问题：拟解决的突出问题\n内容：项目内容和举措\n"
    "节点：{nodes}\n成效：预期目标\n领办人：张三、李四"
)
REGISTER_NODES = ("{0} 完成入户调研", "{0} 完成建设")
REGISTER_USAGE = (
    "{year}年书记项目申报中（{deadline}截止，每位书记{quota}个）。请按以下格式发送"
    "（每项一行，节点可写多个，用“；”隔开，日期须在{year}年内）：\n{form}"
)
# Templates per kind of unit (村/社区/机关/两新…): what such a project typically tackles.
TEMPLATES = {
    BranchCategory.RURAL: "村党组织可围绕村集体经济增收、人居环境整治、乡风文明、产业发展选题。",
    BranchCategory.COMMUNITY: "社区党组织可围绕楼道清理、停车难、老旧小区改造、志愿服务等群众急难愁盼选题。",
    BranchCategory.GOVERNMENT: "机关党组织可围绕优化营商环境、作风建设、服务基层、业务与党建融合选题。",
    BranchCategory.ENTERPRISE: "企业党组织可围绕生产经营难题、技术攻关、党员先锋岗、产业链党建选题。",
    BranchCategory.NEW_ECONOMY: "两新党组织可围绕党的组织覆盖、员工服务、企业发展、行业自律选题。",
    BranchCategory.SCHOOL: "学校党组织可围绕立德树人、师德师风、课后服务、家校共育选题。",
    BranchCategory.PUBLIC_INSTITUTION: "事业单位党组织可围绕服务质量提升、窗口作风、便民举措选题。",
}
TEMPLATE_GENERAL = "选题要小切口、可操作、群众可感可知（变“问题”为“议题”）。"
FIELD_MISSING = "缺少“{label}”。"
FIELD_TOO_LONG = "“{label}”太长（最多{limit}字）。"
MILESTONE_BAD = "节点“{text}”看不懂：请写成“{full} 完成建设”或“{short} 完成建设”。"
MILESTONE_YEAR = "节点“{text}”的日期不在{year}年内。"
MILESTONE_NONE = "请至少写一个节点（日期和要完成的事）。"
MILESTONE_TOO_MANY = "节点最多{limit}个。"
BAD_FORM = "申报内容有误，未保存：\n{problems}\n\n请按以下格式发送（每项一行）：\n{form}"
NOT_SECRETARY = "只有党支部、党总支或党委的书记可以申报书记项目。"
CALL_CLOSED = (
    "{year}年书记项目申报已于{deadline}截止，现在不能申报。{next}如需补报{year}年项目，请联系{who}。"
)
CALL_NEXT = (
    "{next_year}年的申报待上级党委或组织部发布{next_year}年书记项目征集后开始"
    "（未发布征集的，{next_year}年1月1日起可申报，{default_deadline}截止）。"
)
CALL_WHO_DEFAULT = "上级党组织"
QUOTA_FULL = (
    "{year}年每位书记申报{limit}个项目，您已申报{count}个（退回的可用“修改项目 #编号”修改后重新提交）。"
)
REGISTERED = "已提交书记项目 #{id}“{title}”，{nodes}个节点，等待{who}预审。"
REGISTERED_NOBODY = (
    "已提交书记项目 #{id}“{title}”。上级党组织还没有组织委员或组织部人员，无人预审，请联系组织部。"
)
RESUBMITTED = "已修改并重新提交书记项目 #{id}“{title}”，等待{who}预审。"
NOT_YOUR_PROJECT = "项目 #{id} 不是您申报的，只有申报的书记可以修改或报告进展。"
NO_PROJECT = "没有编号为 #{id} 的书记项目。"
CANNOT_EDIT = "项目 #{id} 已{state}，不能再修改。"

# Pre-review (预审)
PREREVIEW_TITLE = "书记项目预审：{unit}"
PREREVIEW_TEXT = (
    "**#{id} {title}**\n\n申报人：{secretary}\n\n问题：{problem}\n\n内容和举措：{content}\n\n"
    "进度安排：\n{milestones}\n\n预期目标：{expected}\n\n领办人：{leaders}{returned}"
)
PREREVIEW_RETURNED_BEFORE = "\n\n（此前退回{count}次，上次理由：{reason}）"
BUTTON_PRE_ACCEPT = "预审通过"
BUTTON_PRE_RETURN = "退回修改"
PRE_RETURN_PROMPT = "请发送：预审退回 #{id} 退回理由"
NOT_PREREVIEWER = "项目 #{id} 不在您的预审范围内：由其上级党委的组织委员（或组织部）预审。"
WRONG_STATE = "项目 #{id} 目前{state}，不能再{action}。"
ACTION_PREREVIEW = "预审"
ACTION_SCORE = "评分"
REASON_REQUIRED = "请写明退回理由，例如：预审退回 #{id} 问题不够具体，请补充入户调研情况"
PRE_ACCEPTED_REPLY = "已预审通过项目 #{id}“{title}”，已提交评审。"
PRE_RETURNED_REPLY = "已退回项目 #{id}“{title}”，已告知申报书记。"
PRE_ACCEPTED_TO_SECRETARY = "您申报的书记项目 #{id}“{title}”已通过预审（{name}），进入评审。"
PRE_RETURNED_TO_SECRETARY = (
    "您申报的书记项目 #{id}“{title}”被退回修改（{name}）：{reason}\n"
    "请按原格式发送“修改项目 #{id}”加修改后的内容重新提交。"
)
PRE_CARD_DONE = "{name}已{verdict}"
VERDICT_ACCEPT = "预审通过"
VERDICT_RETURN = "退回修改"

# Review (评审)
REVIEW_TITLE = "书记项目评审：{unit}"
REVIEW_TEXT = (
    PREREVIEW_TEXT + "\n\n请评分（0–100）：发送“项目评分 #{id} 分数 意见”，例如：项目评分 #{id} 85 选题精准"
)
NOT_REVIEWER = "您不是项目 #{id} 的评审人。评审由征集方指定的评审专家（或组织部）进行。"
SCORE_USAGE = "请发送：项目评分 #编号 分数（0–100） 意见，例如：项目评分 #12 85 选题精准"
SCORE_BAD = "分数应为 0–100 的整数，收到“{value}”。"
ALREADY_SCORED = "您已为项目 #{id} 评过分（{score}分），评分不能修改。"
SCORED_REPLY = "已为项目 #{id}“{title}”评分：{score}分。{outcome}"
SCORED_WAITING = "还有{count}位评审人未评分。"
SCORED_ACCEPTED = "评审均分{mean}分，项目已入库并向党员公开承诺。"
SCORED_NOT_ACCEPTED = "评审均分{mean}分，低于{pass_score}分，项目未通过评审。"
ACCEPTED_TO_SECRETARY = (
    "您申报的书记项目 #{id}“{title}”评审均分{mean}分，已入库，并已向党员公开承诺。每月请报告进展。"
)
NOT_ACCEPTED_TO_SECRETARY = (
    "您申报的书记项目 #{id}“{title}”评审均分{mean}分，低于{pass_score}分，未通过评审。"
)

# Public commitment (公开承诺)
PUBLISH_TITLE = "书记项目公开承诺：{unit}"
PUBLISH_TEXT = (
    "书记{secretary}承诺领办：**{title}**\n\n拟解决的问题：{problem}\n\n项目内容和举措：{content}\n\n"
    "进度安排：\n{milestones}\n\n预期目标：{expected}\n\n欢迎党员群众监督，提出意见建议。"
)
BUTTON_VIEW = "查看项目"

# Progress
PROGRESS_USAGE = "请发送：项目进展 #编号 内容；某个节点的进展写“节点2”，完成写“完成”，例如：项目进展 #12 节点2 完成 停车位已建成"
PROGRESS_NOT_ACCEPTED = "项目 #{id} 还没有入库（{state}），入库后再报告进展。"
PROGRESS_NO_MILESTONE = "项目 #{id} 没有节点{seq}，共{count}个节点。"
PROGRESS_TEXT_REQUIRED = "请写进展内容。" + "\n" + PROGRESS_USAGE
PROGRESS_SAVED = "已记录项目 #{id}“{title}”{month}的进展{photos}。{done}{late}"
PROGRESS_PHOTOS = "（{count}张照片）"
PROGRESS_DONE = "节点{seq}“{title}”已标记完成。"
PROGRESS_LATE = "\n逾期未完成的节点：\n{lines}"
MILESTONE_LINE = "{seq}. {due} {title}{mark}"
MARK_DONE = "（已完成 {day}）"
MARK_LATE = "（已逾期）"
MARK_OPEN = ""

# Reminders and escalation
REMIND_TITLE = "书记项目月度进展提醒"
REMIND_TEXT = (
    "您领办的书记项目 #{id}“{title}”{month}还没有报告进展，请于月底前报告（文字、照片均可）。\n\n"
    "进度安排：\n{milestones}"
)
BUTTON_REPORT = "报告进展"
ESCALATE_TITLE = "书记项目进展未报告：{unit}"
ESCALATE_TEXT = (
    "书记项目 #{id}“{title}”（书记{secretary}）已连续{streak}个月（{months}）未报告进展。\n"
    "依据：每月报告进展，连续{streak}个月未报告，告知{to}。{late}"
)
ESCALATE_LATE = "\n逾期节点：\n{lines}"

# Call (征集)
# {year}: the example's year, next year (calls are published ahead of the year they open).
CALL_USAGE = "请发送：项目征集 年份 截止日期 每人项目数，例如：项目征集 {year} {year}-03-31 1"
CALL_NOT_ALLOWED = "只有党委书记、组织委员或组织部可以发布书记项目征集。"
CALL_SAVED = "已发布{year}年书记项目征集（{unit}）：{deadline}前申报，每位书记{count}个。"
CALL_WHOLE = "全部党组织"
REVIEWERS_USAGE = "请发送：项目评审人 年份 姓名、姓名，例如：项目评审人 {year} 张三、李四"
REVIEWERS_NO_CALL = "{year}年还没有您发布的书记项目征集，请先发送“项目征集”。"
REVIEWER_UNKNOWN = "花名册中找不到“{name}”（或重名），未保存。"
REVIEWERS_SAVED = "{year}年书记项目评审人：{names}。"

# Listing
LIST_TITLE = "书记项目"
LIST_EMPTY = "暂无与您相关的书记项目。书记可发送“申报项目”申报。"
LIST_MINE = "**我申报的**"
LIST_TO_PREREVIEW = "**待我预审**"
LIST_TO_SCORE = "**待我评分**"
LIST_LINE = "#{id} {title}（{year}年，{status}）"
LIST_SCOPE = "**{scope}的书记项目**"
LIST_SCOPE_WHOLE = "全县"
LIST_SCOPE_YEAR = "{year}年：共{total}个，{parts}"
LIST_SCOPE_PART = "{status}{count}个"
LIST_SCOPE_NONE = "{year}年：还没有书记项目。"
LIST_SCOPE_MORE = "各项目的节点、进展、督办单和晒比评见管理后台“书记项目”（/console/projects；发送“登录后台”获取登录链接）。"

# H5
H5_TITLE = "书记项目"
H5_NEED_LOGIN = "请在钉钉或企业微信中打开此页面。"
H5_NOT_MEMBER = ("书记项目", "您的账号还没有绑定到花名册中的党员，请联系支部书记。")
H5_NOT_VISIBLE = "此书记项目不在您所在党组织的公开范围内。"
H5_PROGRESS_TITLE = "报告进展"
H5_MILESTONE = "对应节点（选填）"
H5_WHOLE = "项目整体"
H5_TEXT = "进展情况"
H5_DONE = "该节点已完成"
H5_SUBMIT = "提交"
H5_WORKING = "正在提交……"
H5_HISTORY = "进展记录"
H5_NO_PROGRESS = "还没有报告进展。"
H5_BAD_FORM = "提交内容有误，请检查标出的项目。"

# Help
HELP_LIST = "书记项目：查看我申报的、待我预审或评分的书记项目"
HELP_REGISTER = (
    "申报项目：书记在征集期内申报书记项目（发送“申报项目”查看格式、截止日期，或征集已截止时何时再开始）"
)
HELP_EDIT = "修改项目 #编号：修改退回的书记项目并重新提交"
HELP_PRE = "预审通过 #编号 / 预审退回 #编号 理由：上级组织委员预审书记项目"
HELP_SCORE = "项目评分 #编号 分数 意见：评审人为书记项目评分"
HELP_PROGRESS = "项目进展 #编号 内容：书记报告项目月度进展（可写“节点2 完成”）"
HELP_CALL = "项目征集 年份 截止日期 每人项目数：党委或组织部发布年度书记项目征集"
HELP_REVIEWERS = "项目评审人 年份 姓名、姓名：指定年度书记项目评审人"
NOT_BOUND = "您的聊天账号还没有绑定到花名册中的党员，请联系支部书记或组织部。"
NO_REF = "请写项目编号，例如：#12"

# 晒比评
PICK_LABELS = {"red_flag": "红旗项目", "snail": "蜗牛项目"}
REASON_LATE = "{count}个节点逾期未完成"
REASON_SILENT = "本月未报告进展"
REASON_COMPLETED = "本月完成{count}个节点，报告进展{reports}次，无逾期节点"
PICK_NOT_YOURS = "只有本党委的书记、副书记、组织委员或组织部可以评定红旗项目和蜗牛项目。"
PICK_DECIDED = "{month}的红旗项目和蜗牛项目已经评定，不能重复评定。"
PICK_BOTH = "同一个项目不能既是红旗项目又是蜗牛项目。"
PICK_UNKNOWN = "{ids}不是本党委已入库的书记项目。"
PICK_TITLE = "{committee}{month}书记项目晒比评"
PICK_TEXT = "**红旗项目**\n\n{red}\n\n**蜗牛项目**\n\n{snail}\n\n请蜗牛项目所在党组织书记抓紧推进。"
PICK_LINE = "- {unit}：{title}"
PICK_NONE = "无"

# 督办单
ORDER_STATUS = {"open": "待办理", "reported": "待确认办结", "closed": "已办结", "reopened": "退回重办"}
NO_ORDER = "没有编号为 #{id} 的督办单。"
ORDER_USAGE = "请发送：督办 #项目编号 办结日期 督办事项，例如：督办 #12 2027-04-15 4月15日前完成停车位选址；针对某个节点可写“节点2”"
ORDER_NOT_ISSUER = "项目 #{id} 的督办由其上级党委的书记、副书记、组织委员或组织部负责。"
ORDER_NOT_YOURS = "督办单 #{id} 不是发给您的。"
ORDER_NOTE_REQUIRED = "请写明办理情况，例如：督办完成 #{id} 已完成选址并公示"
ORDER_REASON_REQUIRED = "请写明退回理由，例如：退回督办 #{id} 未附公示照片"
ORDER_WRONG_STATE = "督办单 #{id} 目前{state}，不能这样操作。"
ORDER_MILESTONE = "（节点{seq}：{title}）"
ORDER_TO_SECRETARY = (
    "督办单 #{id}：书记项目 #{project}“{title}”{milestone}\n督办事项：{text}\n办结时限：{due}\n督办人：{issuer}\n"
    "办结后请发送：督办完成 #{id} 办理情况"
)
ORDER_ISSUED_REPLY = "已向{secretary}发出督办单 #{id}，办结时限{due}。"
ORDER_REVIEW_TITLE = "督办单办结确认：{unit}"
ORDER_REVIEW_TEXT = "**督办单 #{id}**（{title}）\n\n督办事项：{text}\n\n办理情况：{note}"
BUTTON_ORDER_CONFIRM = "确认办结"
BUTTON_ORDER_REOPEN = "退回重办"
ORDER_REOPEN_PROMPT = "请发送：退回督办 #{id} 理由"
ORDER_REPORTED_REPLY = "已报告督办单 #{id} 办结，等待督办人确认。"
ORDER_CLOSED_REPLY = "已确认督办单 #{id} 办结。"
ORDER_REOPENED_REPLY = "已退回督办单 #{id}，已告知书记。"
ORDER_CLOSED_TO_SECRETARY = "督办单 #{id} 已确认办结（{name}）。"
ORDER_REOPENED_TO_SECRETARY = "督办单 #{id} 被退回重办：{reason}\n办结后请再次发送：督办完成 #{id} 办理情况"
ORDER_OVERDUE = "督办单 #{id} 已超过办结时限（{due}）仍未办结：{text}"
INTERVIEW_TEXT = (
    "约谈提醒：书记项目 #{id}“{title}”的督办已{count}次未按时办结或被退回（最近一次：督办单 #{order}），"
    "请上级党委书记对{secretary}进行约谈提醒。"
)
ORDER_LIST_TITLE = "督办单"
ORDER_LIST_EMPTY = "没有未办结的督办单。"
ORDER_LINE = "#{id} {text}（{due}前，{state}）"
HELP_ORDER = "督办 #项目编号 日期 事项：党委向书记项目发督办单"
HELP_ORDER_DONE = "督办完成 #编号 办理情况：书记报告督办单办结"
HELP_ORDER_LIST = "督办单：查看未办结的督办单"

# Console
COMPARE_TITLE = "书记项目晒比评"
COMPARE_BAD_MONTH = "月份应写成 2027-03 这样的格式。"
COMPARE_BAD_CHOICE = "评定只能选“红旗项目”“蜗牛项目”或不选。"
COMPARE_RUNNING = "{month}尚未结束：逾期节点按今天（{today}）计算，本月还未报告进展的暂不列为蜗牛项目。"
COMPARE_SAVED = "已保存本月评定，并已通报本党委领导和各项目书记。"

# 群众评议
VERDICT_LABELS = {
    RatingVerdict.SATISFIED: "满意",
    RatingVerdict.FAIRLY: "基本满意",
    RatingVerdict.DISSATISFIED: "不满意",
}
RATING_OPEN_USAGE = (
    "请发送：开启评议 #项目编号 开始日期 结束日期 [公开]，如：开启评议 #12 2027-11-01 2027-11-30 公开"
)
RATING_OPENED = "项目 #{id}「{title}」群众评议已开启：{opens}至{closes}{public}。"
RATING_OPENED_PUBLIC = "，群众可通过链接参与：{url}"
RATING_NOTICE_TITLE = "书记项目群众评议"
RATING_NOTICE_TEXT = (
    "{unit}书记项目「{title}」开展群众评议（{opens}至{closes}），请对项目成效作出评价：\n"
    "发送 评议 #{id} 满意/基本满意/不满意 意见"
)
RATING_USAGE = (
    "请发送：评议 #项目编号 满意/基本满意/不满意 意见（意见可不写），如：评议 #12 满意 停车方便多了"
)
RATING_NOT_OPEN = "项目 #{id} 的群众评议不在开放时间内。"
RATING_NOT_MEMBER = "项目 #{id} 由本单位党员评议，您不在该单位。"
RATING_TWICE = "您已评议过项目 #{id}（{verdict}），每人只能评议一次。"
RATING_PUBLIC_CLOSED = "项目 #{id} 未开放群众通过链接评议。"
RATING_BAD_LINK = "评议链接无效或已过期。"
RATING_SAVED = "已收到您对项目 #{id}「{title}」的评议：{verdict}。谢谢！"
RATING_RESULT = (
    "群众评议：{total}人参评，满意{satisfied}、基本满意{fairly}、不满意{dissatisfied}，满意率{rate}"
)
RATING_NONE = "群众评议：尚无评议"
HELP_RATING_OPEN = "开启评议 #项目编号 开始日期 结束日期 [公开]：党委开启书记项目群众评议"
HELP_RATING = "评议 #项目编号 满意/基本满意/不满意 意见：党员评议本单位书记项目"
HELP_RATING_RESULT = "评议结果 #项目编号：查看书记项目群众评议结果"
RATING_RESULT_REPLY = "项目 #{id}「{title}」{line}"
RATING_PUBLIC_WORD = "公开"
H5_RATING_TITLE = "书记项目群众评议"
H5_RATING_DONE = "您已评议过本项目，谢谢参与！"
H5_RATING_NO_COOKIE = "请在手机浏览器中打开评议链接后再提交。"
RATING_WINDOW = "评议时间：{opens}至{closes}"

# 项目档案 (.docx, handlers.ledgers.project_file)
FILE_TITLE = "{year}年书记项目档案"
FILE_NAME = "书记项目档案_{id}.docx"
FILE_SECTIONS = (
    "一、项目申报",
    "二、预审和评审",
    "三、进度安排",
    "四、每月进展",
    "五、晒比评",
    "六、督办",
    "七、群众评议",
    "八、结果",
)
FILE_NONE = "无"
FILE_APPLY = (
    "党组织",
    "书记",
    "项目名称",
    "拟解决的问题",
    "项目内容和举措",
    "预期目标",
    "领办人",
    "申报时间",
    "当前状态",
)
FILE_PRE = ("预审人", "预审时间", "退回次数", "最近退回理由")
FILE_REVIEW_HEAD = ("评审人", "分数", "意见", "评分时间")
FILE_MILESTONE_HEAD = ("节点", "事项", "计划完成", "实际完成")
FILE_PROGRESS_HEAD = ("月份", "节点", "进展情况", "完成节点", "报告时间")
FILE_PICK_HEAD = ("月份", "系统建议", "党委评定")
FILE_ORDER_HEAD = ("编号", "督办事项", "期限", "状态", "办理情况", "约谈")
FILE_RATING_HEAD = ("评价", "意见", "来源")
FILE_RATING_FROM = ("党员", "群众（链接）")
FILE_RESULT = ("评审得分", "群众满意率", "节点完成", "观摩评比", "优秀项目")
FILE_SHOW = "{mean:.1f}分（{count}位评委：{scores}）"
FILE_EXCELLENT = "是（{when}）"
FILE_INTERVIEWED = "已约谈"
PICK_NAMES = {"red_flag": "红旗项目", "snail": "蜗牛项目"}

# 观摩评比, 优秀项目, 典型项目
HELP_JUDGES = "观摩评委 年份 姓名、姓名：指定观摩评比评委"
HELP_SHOW_SCORE = "观摩评分 #编号 分数 意见：观摩评比评委打分"
HELP_RANKING = "观摩排名 年份：查看观摩评比排名（供选定优秀项目参考）"
HELP_EXCELLENT = "评为优秀 #编号：党委或组织部选定优秀项目"
JUDGES_USAGE = "请发送：观摩评委 {year} 张三、李四"
JUDGES_SAVED = "{year}年书记项目观摩评比评委：{names}。"
SHOW_USAGE = "请发送：观摩评分 #编号 分数（0–100） 意见，例如：观摩评分 #12 92 成效明显"
SHOW_NOT_JUDGE = "您不是项目 #{id} 的观摩评比评委。"
SHOW_TWICE = "您已为项目 #{id} 打过观摩评比分（{score}分），不能修改。"
SHOW_SAVED = "已记录项目 #{id}「{title}」观摩评比得分 {score} 分。"
NOT_ACCEPTED_YET = "项目 #{id} 尚未入库（{state}），不能观摩评比或评为优秀。"
EXCELLENT_NOT_ALLOWED = "项目 #{id} 的优秀项目由其上级党委的书记、副书记、组织委员或组织部选定。"
EXCELLENT_TWICE = "项目 #{id} 已经是优秀项目。"
EXCELLENT_SAVED = "已将项目 #{id}「{title}」评为{year}年优秀项目，将在典型项目展示页展示。"
RANKING_TITLE = "{year}年书记项目观摩评比排名"
RANKING_LINE = "第{rank}名 #{id} {title}（{unit}）观摩{show}，满意率{rate}，评审{score}{excellent}"
RANKING_EMPTY = "{year}年您管理范围内没有入库的书记项目。"
RANKING_NONE = "—"
RANKING_EXCELLENT = " ★优秀"
H5_SHOWCASE_TITLE = "典型项目展示"
H5_SHOWCASE_EMPTY = "{year}年还没有选定的优秀项目。"

# 排位赛 and 进度通报 (handlers.projects.bulletin)
HELP_QUARTER = "排位赛 [季度] [党委]：查看本党委书记项目季度排位（季度写成 年份Q季度，不写即上一季度）"
HELP_BULLETIN = "进度通报 [季度]：查看已发布的书记项目进度通报（不写季度即全部，最新的在前）"
HELP_QUARTER_CONFIRM = "确认排位 季度 党委：党委确认季度排位并发布进度通报"
QUARTER_USAGE = "请发送：排位赛 {example}（或“{example_cn}”），管理多个党委时在后面写上党委名称。"
QUARTER_CONFIRM_USAGE = "请发送：确认排位 {example}（或“{example_cn}”），管理多个党委时在后面写上党委名称。"
BULLETIN_USAGE = "请发送：进度通报，或 进度通报 {example}（{example_cn}）。"
QUARTER_BAD = "季度应写成 年份Q季度（如 2026Q3）或“2026年第3季度”这样的格式。"
QUARTER_NO_COMMITTEE = (
    "您不是党委的书记、副书记或组织委员，请在后面写上党委名称，例如：排位赛 {example} 城关镇党委。"
)
QUARTER_WHICH = "您管理多个党委（{names}），请在后面写上党委名称，例如：排位赛 {quarter} {first}。"
QUARTER_UNKNOWN_COMMITTEE = "没有找到名为“{name}”的党委。"
QUARTER_NOT_YOURS = "只有本党委的书记、副书记、组织委员或组织部可以确认排位赛。"
QUARTER_NOT_OVER = "{quarter}尚未结束，季度结束后才能确认排位赛。"
QUARTER_CONFIRMED = "{committee}{quarter}的排位赛已经确认，不能重复确认。"
QUARTER_EMPTY = "{committee}{quarter}没有已入库的书记项目，无需排位。"
QUARTER_NOTHING = "本季度各项目没有到期节点，也没有进展报告，无需排位。"
QUARTER_KIND = "书记项目排位赛"  # the message title: what kind of message (the heading says whose)
QUARTER_TITLE = "{committee}{quarter}书记项目排位赛"
QUARTER_PROPOSED = "系统建议排位（尚未确认）："
QUARTER_DONE = "已由党委确认并发布进度通报。"
QUARTER_HOW = "确认请发送：确认排位 {quarter} {committee}，或在管理后台“书记项目 → 排位赛”确认。"
QUARTER_LINE = "第{rank}名 {unit}：{title}（{facts}）"
QUARTER_FACTS = "节点按期完成{on_time}/{due}，逾期未完成{late}个，报告进展{reported}/{months}个月，红旗{red}次，蜗牛{snail}次，未办结督办单{orders}件"
QUARTER_SAVED_REPLY = (
    "已确认{committee}{quarter}排位赛，进度通报已发给党委领导和各项目所在党组织书记（共{count}人）。"
)
QUARTER_SAVED = "已确认排位并发布进度通报。"
QUARTER_RUNNING = "{quarter}尚未结束：以下排位按今天（{today}）的情况计算，季度结束后才能确认。"
BULLETIN_KIND = "书记项目进度通报"
BULLETIN_TITLE = "{committee}{quarter}书记项目进度通报"
BULLETIN_RANKING = "**排位赛**"
BULLETIN_PICKS = "**红旗项目和蜗牛项目**"
BULLETIN_PICK_LINE = "- {month}：红旗 {red}；蜗牛 {snail}"
BULLETIN_PICKS_NONE = "本季度党委未评定红旗项目和蜗牛项目。"
BULLETIN_ORDERS = "**未办结督办单**"
BULLETIN_ORDER_LINE = "- #{id} {title}：{text}（{due}前）"
BULLETIN_ORDERS_NONE = "无"
BULLETIN_LINK = "[查看进度通报]({url})"
BULLETIN_NONE = "{committee}{quarter}的进度通报尚未发布。"
BULLETIN_MINE_NONE = "还没有您可以查看的进度通报。"
BULLETIN_MINE_NONE_QUARTER = "{quarter}还没有您可以查看的进度通报。"
BULLETIN_MINE_LINE = "· [{title}]({url})"  # WeCom markdown has no lists
BULLETIN_NOT_VISIBLE = "这份进度通报只对本党委领导、组织部和所列项目所在党组织的党员开放。"
BULLETIN_REMIND_TITLE = "书记项目排位赛待确认"
BULLETIN_REMIND_TEXT = (
    "{committee}{quarter}已结束{days}天，书记项目排位赛尚未确认，进度通报尚未发布。"
    "请发送“排位赛 {code}”查看系统建议排位，确认后发布进度通报。"
)
H5_BULLETIN_TITLE = "书记项目进度通报"
SHOWCASE_TITLE = "书记项目观摩评比"
SHOWCASE_NOT_LEADER = "观摩评比排名和优秀项目由党委的书记、副书记、组织委员或组织部查看和选定。"
SHOWCASE_SAVED = "已评为优秀项目。"
