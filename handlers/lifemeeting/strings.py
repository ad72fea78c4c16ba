"""All Chinese text of the 组织生活会, in one place."""

from __future__ import annotations

STEP_LABELS = {
    "study": "学习研讨",
    "opinions": "征求意见",
    "talks": "谈心谈话",
    "materials": "对照检查材料",
}
STEP_BY_WORD = {
    "学习研讨": "study",
    "学习": "study",
    "征求意见": "opinions",
    "意见": "opinions",
    "谈心谈话": "talks",
    "谈心": "talks",
    "对照检查材料": "materials",
    "对照检查": "materials",
    "材料": "materials",
}

HELP_MINE = "组织生活会：今年组织生活会的安排和我的会前准备情况"
HELP_PLAN = "组织生活会计划 日期：安排今年的组织生活会（各步骤的完成期限按会议日期自动排出，也可写明）"
HELP_STATUS = "组织生活会情况：本支部会前各步骤的完成情况和还没完成的人"
HELP_STUDY = "学习研讨 心得：报告您已参加会前学习研讨"
HELP_OPINIONS = "征求意见 情况：报告您已征求意见"
HELP_MATERIALS = "对照检查材料 正文：提交您的对照检查材料"
HELP_MARK = "标记完成 步骤 姓名：确认党员的会前步骤已完成（写“全体”确认全支部）"
HELP_CRITICISM = "批评和自我批评 姓名 要点：记录组织生活会上一人的自我批评、受到的和提出的批评（分别写“自我批评”“受到批评”“批评他人”）"
HELP_PROBLEMS = "查摆问题 内容：记录组织生活会查摆出的问题"
HELP_MEASURE = "整改措施 内容 责任人 姓名 期限 日期：登记会后整改措施；只发“整改措施”查看清单"
HELP_MEASURE_DONE = "整改措施完成 编号：报告一项整改措施已完成"

NOT_BOUND = "您的账号还没有绑定党员信息，请联系支部书记。"
NO_BRANCH = "您还没有编入党支部。"
NOT_MANAGER = "只有支部{managers}可以{what}。"
WHAT_PLAN = "安排组织生活会"
WHAT_MARK = "确认会前步骤"
WHAT_RECORD = "记录组织生活会"
WHAT_STATUS = "查看全支部的准备情况"
NO_PLAN = "本支部还没有安排{year}年的组织生活会，请联系支部书记。"
NO_PLAN_MANAGER = "本支部还没有安排{year}年的组织生活会。请先发：组织生活会计划 12月20日"
NOT_IN_BRANCH = "您不在本支部的党员名单中，不能提交会前材料。"

PLAN_USAGE = (
    "用法：组织生活会计划 日期，例如：组织生活会计划 2026-12-20。"
    "也可以写各步骤的期限：组织生活会计划 12月20日 学习研讨 11月30日 对照检查材料 12月16日"
)
BAD_DAY = "没有看懂日期“{text}”。请写成 2026-12-20 或 12月20日。"
PAST_DAY = "{day}已经过去了，请写今天以后的日期。"
DUE_AFTER_MEETING = "{step}的期限{due}晚于会议日期{day}，请写会议之前的日期。"
UNKNOWN_STEP = "没有“{text}”这个步骤。会前步骤是：学习研讨、征求意见、谈心谈话、对照检查材料。"
PLAN_SET = "已安排{year}年组织生活会：计划{day}召开。会前各步骤期限：\n{dues}\n会议请用“安排会议”安排（类型选组织生活会），党员会收到通知。"
PLAN_DUE_LINE = "- {step}：{due}前"

MATERIALS_EMPTY = "请把对照检查材料的正文写在命令后面，例如：对照检查材料 一、存在的问题……"
CONTENT_TOO_LONG = "内容太长（最多{n}个字），请分几次发送要点或交书面材料给支部书记。"
ALREADY_DONE = "您的{step}已由支部确认完成，不能再修改。"
SUBMITTED = "已收到您的{step}，等支部书记确认。期限：{due}。"
RESUBMITTED = "已更新您的{step}，等支部书记确认。"

MARK_USAGE = "用法：标记完成 步骤 姓名，例如：标记完成 学习研讨 张三 李四；或：标记完成 对照检查材料 全体"
MARK_ALL = ("全体", "全部", "所有人")
TALKS_DERIVED = "谈心谈话按登记的谈话自动统计，不用标记。请用“谈心谈话 姓名 日期 主题”登记。"
NOT_FOUND = "本支部没有找到“{name}”，请核对姓名。"
AMBIGUOUS = "本支部有{n}人叫“{name}”，请分开确认或联系组织部核对名单。"
MARKED = "已确认{step}完成：{names}。"
MARKED_ALREADY = "此前已确认：{names}。"
MARKED_NONE_SUBMITTED = "（其中{names}还没有提交材料，已按支部确认记为完成。）"

NO_MEETING = "本支部{year}年还没有召开组织生活会。请先用“安排会议”安排，会议开始后再记录。"
CRITICISM_USAGE = "用法：批评和自我批评 姓名 自我批评：……；受到批评：……；批评他人：……"
CRITICISM_SAVED = "已记录{name}在{title}上的批评和自我批评（本次会议已记录{n}人）。"
SELF_LABELS = ("自我批评", "自我剖析", "自我检查")
RECEIVED_LABELS = ("受到批评", "被批评", "收到批评", "他人批评")
GIVEN_LABELS = ("批评他人", "提出批评", "对他人批评")
PROBLEMS_USAGE = "用法：查摆问题 内容，例如：查摆问题 1.理论学习不够系统；2.联系群众不够紧密"
PROBLEMS_SAVED = "已记录{title}查摆出的问题。"

MEASURE_USAGE = (
    "用法：整改措施 内容 责任人 姓名 期限 日期，例如：整改措施 每月集中学习一次 责任人 王书记 期限 2027-03-31"
)
MEASURE_DUE_PAST = "整改期限{due}已经过去了，请写今天以后的日期。"
MEASURE_ADDED = "已登记整改措施#{id}：{content}，责任人{owner}，{due}前完成。"
MEASURE_LIST_TITLE = "{year}年组织生活会整改措施"
MEASURE_LINE = "#{id} {content}（责任人{owner}，{due}前）：{state}"
MEASURE_DONE_STATE = "已完成"
MEASURE_OPEN_STATE = "未完成"
MEASURE_OVERDUE_STATE = "已逾期"
MEASURE_NONE = "{year}年组织生活会还没有登记整改措施。"
MEASURE_USAGE_DONE = "用法：整改措施完成 编号，例如：整改措施完成 3"
MEASURE_NOT_FOUND = "没有找到整改措施#{id}。"
MEASURE_NOT_YOURS = "整改措施#{id}的责任人是{owner}，只有责任人或支部{managers}可以报告完成。"
MEASURE_ALREADY = "整改措施#{id}已于{day}报告完成。"
MEASURE_FINISHED = "整改措施#{id}已记为完成：{content}。"

MINE_TITLE = "{year}年组织生活会"
MINE_PLAN = "支部计划{day}召开组织生活会。"
MINE_HELD = "本支部已于{day}召开组织生活会。"
MINE_STEP = "- {step}（{due}前）：{state}"
STATE_DONE = "已完成"
STATE_SUBMITTED = "已提交，等支部确认"
STATE_MISSING = "未完成"
STATE_OVERDUE = "未完成，已过期限"
MINE_TALKS_NEED = "  还需：{needs}。谈话后请发：谈心谈话 姓名 日期 主题"
NEED_COMMITTEE = "与支委{names}各谈一次"
NEED_LEADER = "与一名{with_whom}谈一次"
NEED_PEER = "与另一名党员谈一次"
MINE_HINT = (
    "提交方式：学习研讨 心得；征求意见 情况；对照检查材料 正文；谈心谈话请用“谈心谈话 姓名 日期 主题”登记。"
)

STATUS_TITLE = "{year}年组织生活会准备情况"
STATUS_HEAD = "**{branch}**：{when}"
STATUS_PLANNED = "计划{day}召开"
STATUS_NOT_PLANNED = "还没有安排"
STATUS_HELD = "已于{day}召开"
STATUS_STEP = "- {step}（{due}前）：{done}/{required}"
STATUS_MISSING = "  未完成：{names}"
STATUS_TALKS = "- 谈心谈话（{due}前）：应谈{required}项，已完成{done}项（已登记{talks}次）"
STATUS_TALKS_PAIRS = "  支委之间还没谈：{pairs}"
STATUS_TALKS_LEADER = "  还没与{with_whom}谈：{names}"
STATUS_TALKS_PEERS = "  还没与其他党员谈：{names}"
STATUS_TALKS_RULE = "  （支委之间两两谈；每名党员与一名{with_whom}谈{peer}。明细请发“谈心谈话情况”）"
STATUS_TALKS_PEER_RULE = "、与另一名党员谈"
STATUS_WAITING = "  已提交待确认：{names}"
STATUS_MEASURES = "- 整改措施：{total}项，未完成{open}项（逾期{overdue}项）"
MORE = "等{n}人"

REMIND_TITLE = "组织生活会会前准备提醒"
REMIND_DUE = "请在{due}前完成组织生活会会前的{step}（支部计划{day}召开组织生活会）。{how}"
REMIND_OVERDUE = "组织生活会会前的{step}已过期限（{due}），您还没有完成，请抓紧（会议计划{day}召开）。{how}"
HOW = {
    "study": "完成后请发：学习研讨 心得",
    "opinions": "完成后请发：征求意见 情况",
    "talks": "谈话后请发：谈心谈话 姓名 日期 主题",
    "materials": "请发：对照检查材料 正文",
}
REPORT_TITLE = "组织生活会会前准备未完成名单"
REPORT = "{branch}：组织生活会会前的{step}期限{due}已到，还有{n}人未完成：{names}。{waiting}"
REPORT_WAITING = "另有{n}人已提交待您确认：{names}（发：标记完成 {step} 姓名）。"
MEASURE_REMIND_TITLE = "整改措施提醒"
MEASURE_REMIND_DUE = "组织生活会整改措施#{id}“{content}”将于{due}到期，完成后请发：整改措施完成 {id}"
MEASURE_REMIND_OVERDUE = (
    "组织生活会整改措施#{id}“{content}”已过期限（{due}），请抓紧落实，完成后请发：整改措施完成 {id}"
)

DIGEST_SECTION = "**组织生活会（{year}年）**：{held}/{total}个支部已召开{missing}"
DIGEST_NOT_HELD = "；未召开：{names}"
DIGEST_STEPS_MISSING = "；会前步骤未完成：{names}"
DIGEST_MORE = "等{n}个"

RATING_NOT_HELD = "全年未召开组织生活会（组织生活不经常）"
