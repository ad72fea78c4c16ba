"""User-facing text of 督查/巡查 (Chinese)."""

TITLE = "督查巡查"
NO_ROUND = "没有编号为 {id} 的督查轮次。"
NO_UNIT = "这个轮次里没有这个单位。"
NO_FINDING = "没有编号为 {id} 的督查发现。"
NO_RECT = "没有编号为 {id} 的督查整改事项。"
NOT_INSPECTOR = "你不是这个单位本轮的督查人员，不能记录发现。"
NOT_ORGANISER = "只有组织部或本轮的组织单位可以这样做。"
ROUND_CLOSED = "本轮已结束，发现不能再修改；如需更正，请写明更正原因。"
ROUND_ALREADY_CLOSED = "本轮已于 {when} 结束。"
ROUND_OPEN = "本轮尚未结束，直接修改发现即可，不需要更正。"
NEED_REASON = "请写明更正原因。"
NEED_PROBLEM = "发现问题时请写明问题（不超过500字）。"
NEED_ITEM = "请写明督查事项。"
NEED_TITLE = "请填写轮次名称（不超过200字）。"
BAD_DAY = "日期格式不对，请写成 2026-12-31。"
DUE_PAST = "整改期限不能早于今天。"
NO_UNITS = "请至少选择一个被督查单位。"
UNIT_NOT_BRANCH = "{name} 不是党支部。"
NO_INSPECTOR = "请为 {name} 指定督查人员。"
BAD_SHARE = "抽查比例须在 1% 到 100% 之间。"
ALREADY_DRAWN = "{month} 已经抽签（第 {id} 轮），不再重复抽取。"
TOO_FEW_TO_PAIR = "{name} 下只有 {n} 个党支部，不能交叉互查。"
NOT_OWNER = "只有整改责任人或本支部书记可以报告整改完成。"
NOT_CONFIRMER = "只有本单位的督查人员或本轮组织单位可以销号或退回。"
RECT_NOT_REPORTED = "这项整改还没有报告完成，不能销号或退回。"
RECT_ALREADY_CLOSED = "这项整改已经销号。"
RECT_NOT_OPEN = "这项整改已报告完成，正在等待确认。"
NEED_NOTE = "请写明整改情况。"
NEED_REOPEN_REASON = "请写明退回原因。"

STATUS_OK = "无问题"
STATUS_PROBLEM = "发现问题"
RECT_STATUS_LABELS = {
    "open": "整改中",
    "reported": "待销号",
    "closed": "已销号",
    "reopened": "已退回",
}

# Chat
HELP_TASKS = "督查任务：查看我要督查、巡查的单位和我负责的督查整改"
HELP_REPORT = "督查整改 编号 整改情况：报告督查发现的问题已整改"
TASKS_NONE = "你目前没有督查或巡查任务。"
TASKS_HEAD = "你的督查巡查任务："
TASK_LINE = "- 第{round}轮「{title}」：{unit}{done}"
TASK_DONE = "（已记录 {n} 项）"
RECT_TASKS_HEAD = "你负责的督查整改："
RECT_TASK_LINE = "- 整改编号 {id}（{branch}，{status}，期限 {due}{overdue}）：{text}"
RECT_TASK_OVERDUE = "，已逾期"
RECT_TASKS_HINT = "整改后请发送“督查整改 编号 整改情况”，例如：督查整改 12 已补齐会议记录"
REPORT_USAGE = "请这样写：督查整改 12 已补齐会议记录并上传"
REPORTED = "已报告整改完成：{text}。等待督查人员确认销号。"
REPORTED_TO_INSPECTOR = (
    "{branch} 报告督查整改完成（编号 {id}）：{text}\n整改情况：{note}\n请到管理后台“督查巡查”确认销号或退回。"
)
RECT_ASSIGNED = "{branch} 在「{round}」中发现问题（整改编号 {id}）：{text}\n整改期限：{due}。整改后请发送“督查整改 {id} 整改情况”。"
RECT_REOPENED = "督查整改（编号 {id}）被退回：{reason}\n请整改后再发送“督查整改 {id} 整改情况”。"
PATROL_LIST_TITLE = "{month} 随机抽查名单"
PATROL_LIST_TEXT = (
    "本月请对以下党支部的党员活动日（主题党日）进行不打招呼的抽查（名单月底前不对支部公开）：\n\n{lines}"
)
PATROL_ROUND_TITLE = "{month} 随机抽查"

# Console
SAVED_FINDING = "已记录 {unit} 的“{item}”。"
SAVED_CORRECTION = "已更正 {unit} 的“{item}”，原因已记入审计日志。"
SAVED_ROUND = "已建立第 {id} 轮「{title}」。"
SAVED_CLOSED = "第 {id} 轮已结束，发现不再修改。"
SAVED_RECT = "整改事项 {id} 已{status}。"
SAVED_ITEM = "已加入清单：{title}。"

# 巡查指导's quarterly line, exactly as the seed (004) reports it.
GUIDANCE_LINE = "巡查指导 {units} 个基层党组织，发现反馈问题 {found} 条，指导整改完成 {done} 条"

FILE_TITLE = "{unit} 督查档案（一户一档）"
FILE_EMPTY = "暂无督查、巡查记录。"

# H5 (the inspector's finding form, with photos)
H5_NEED_LOGIN = "请在钉钉或企业微信中打开此页面。"
H5_NOT_MEMBER = ("督查巡查", "您的账号还没有绑定到花名册中的人员，请联系组织部。")
H5_TITLE = "记录督查发现"
H5_ITEM = "督查事项"
H5_RESULT_OK = "无问题"
H5_RESULT_PROBLEM = "发现问题"
H5_TEXT = "问题描述（发现问题时必填）"
H5_DUE = "整改期限（选填，默认30天）"
H5_SUBMIT = "提交"
H5_WORKING = "正在提交…"
H5_BAD_FORM = "提交内容有误，请检查标出的项目。"
H5_SAVED = "已记录 {unit} 的“{item}”。"
H5_RECORDED = "已记录"

RECT_DUE_SOON = "督查整改（编号 {id}）{days}天后到期（{due}）：{text}\n整改后请发送“督查整改 {id} 整改情况”。"
RECT_OVERDUE = "{branch} 的督查整改（编号 {id}）已超过期限（{due}）仍未完成：{text}"

# 包保联系
LIAISON_TOO_MANY = "每名包保干部联系 1 到 {n} 个党委。"
LIAISON_NOT_STAFF = "{name} 不是组织部工作人员，不能包保联系党委。"
LIAISON_NOT_COMMITTEE = "只能包保联系党委（党工委）。"
LIAISON_DIGEST_TITLE = "{month} 包保党委督查情况"
LIAISON_DIGEST_LINE = "**{committee}**：{line}；督查整改未完成 {open} 条（逾期 {overdue} 条）；上月随机抽查 {drawn} 个支部，发现问题 {found} 条"
SAVED_LIAISON = "已保存包保联系。"
