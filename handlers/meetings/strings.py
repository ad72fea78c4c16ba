"""Every Chinese text of the meetings feature, in one place to review and change."""

from __future__ import annotations

from handlers.common.dates import fmt_day, fmt_month, fmt_when  # noqa: F401  (the meetings texts' names)
from models.meetings import (
    AttendanceStatus,
    LeaveStatus,
    MakeupStatus,
    MeetingType,
    PlanStatus,
    SigninOutcome,
)
from models.org import ROLE_LABELS, Role

TYPE_LABELS = {
    MeetingType.PARTY_CONGRESS: "支部党员大会",
    MeetingType.BRANCH_COMMITTEE: "支委会",
    MeetingType.GROUP_MEETING: "党小组会",
    MeetingType.PARTY_LECTURE: "党课",
    MeetingType.THEME_DAY: "主题党日",
    MeetingType.ORG_LIFE: "组织生活会",
    MeetingType.DEMOCRATIC_REVIEW: "民主评议党员",
}
TYPE_ALIASES = {
    MeetingType.PARTY_CONGRESS: ("党员大会", "支部大会"),
    MeetingType.BRANCH_COMMITTEE: ("支部委员会会议", "支部委员会"),
    MeetingType.GROUP_MEETING: ("小组会",),
    MeetingType.DEMOCRATIC_REVIEW: ("民主评议",),
}
PLAN_STATUS_LABELS = {
    PlanStatus.DRAFT: "未提交",
    PlanStatus.SUBMITTED: "待审核",
    PlanStatus.APPROVED: "已备案",
    PlanStatus.RETURNED: "已退回",
}
ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: "出席",
    AttendanceStatus.LATE: "迟到",
    AttendanceStatus.LEAVE: "请假",
    AttendanceStatus.ABSENT: "缺席",
}
LEAVE_STATUS_LABELS = {
    LeaveStatus.PENDING: "待审批",
    LeaveStatus.APPROVED: "已批准",
    LeaveStatus.REJECTED: "未批准",
}
MAKEUP_STATUS_LABELS = {
    MakeupStatus.OPEN: "待补学",
    MakeupStatus.REPORTED: "待确认",
    MakeupStatus.CONFIRMED: "已完成",
    MakeupStatus.RETURNED: "已退回",
}


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]


# Refusals and bad input
NOT_BOUND = "没有找到您的党员信息：您的账号还没有和党员名册关联，请联系支部书记或组织部。"
NO_BRANCH = "您不属于任何党支部，无法办理此事。"
NO_ROLE = "只有本支部的{roles}可以办理此事，您的请求没有执行。"
NO_REVIEW_ROLE = "只有上级党委的{roles}可以审核支部的月度计划，您的请求没有执行。"
OTHER_BRANCH = "这不是您所在支部的会议，不能操作。"
UNKNOWN_TYPE = "不认识的会议类型「{text}」。可选：{known}。"
GROUP_REQUIRED = "党小组会需要指定党小组。"
BAD_GROUP = "所选党小组不属于本支部。"
NO_MEETING = "没有找到这次会议。"
MEETING_CANCELLED = "这次会议已经取消。"
BAD_TIME = "时间格式不对，请写成「2026-05-08 09:00」这样的形式。"
TIME_IN_PAST = "会议时间不能早于现在。"
EMPTY_FIELD = "请填写{field}。"
TOO_LONG = "{field}太长了（最多{limit}字）。"
NO_TYPES = "请至少选择一种会议类型。"

# Plans
PLAN_MONTH_PASSED = "{month}的计划已经不能再修改。"
PLAN_ALREADY_APPROVED = "{month}的计划已经备案，不能再修改；如需调整，请直接调整会议时间。"
PLAN_EMPTY = "计划里还没有任何活动，请先添加。"
PLAN_NOT_SUBMITTED = "这份计划不是待审核状态，无需审核。"
PLAN_ITEM_OUTSIDE = "活动日期（{day}）不在计划月份（{month}）内。"
PLAN_RETURN_REASON = "退回时请写明原因。"
PLAN_SELF_REVIEW = "不能审核自己负责的支部报送的计划，应由上级党委其他组织委员审核，您的操作没有执行。"
PLAN_REVIEW_TITLE = "月度计划待审核：{branch} {month}"
PLAN_REVIEW_TEXT = (
    "{branch}提交了{month}组织生活计划（计划 #{id}，第{revision}次提交），共{count}项：\n\n{items}"
)
PLAN_LINE = "- {when} {types}｜{place}｜{topic}"
PLAN_APPROVE = "备案"
PLAN_RETURN = "退回"
PLAN_APPROVED_TEXT = "{month}组织生活计划已备案，{count}次会议已安排并通知到相关党员。"
PLAN_RETURNED_TEXT = "{month}组织生活计划被退回，原因：{reason}。请修改后重新提交。"
PLAN_SUBMITTED_REPLY = "{month}计划已提交，等待上级党委审核。"
PLAN_LATE_NOTE = "（已超过{day}日的报送期限）"
PLAN_REVIEWED_CARD = "已{decision}：{branch} {month}"
PLAN_REMINDER_TITLE = "请报送下月组织生活计划"
PLAN_REMINDER_TEXT = "{branch}尚未提交{month}的组织生活计划，请于{day}日前提交。"
PLAN_OVERDUE_TITLE = "未按时报送月度计划的支部"
PLAN_OVERDUE_TEXT = "截至{day}日，以下支部未提交{month}组织生活计划：\n\n{branches}"
PLAN_FORM_BUTTON = "填写计划"
PLAN_REQUIRED = "{month}应开：{items}。"
PLAN_REQUIRED_ITEM = "{type}{n}次"
PLAN_MISSING_CONFIRM = (
    "{month}计划中没有安排{items}，按规定本月应开。确需不安排的，请确认后再提交，上级党委审核时会看到。"
)
PLAN_REVIEW_MISSING = "⚠ 计划未安排应开的{items}（支部书记已确认提交）。"

# Meetings
NOTICE_TITLE = "会议通知：{title}"
NOTICE_TEXT = "请准时参加。如不能参加，请在会前点「请假」并写明原因。"
MOVED_TITLE = "会议时间/地点调整：{title}"
MOVED_TEXT = "会议安排有调整，原定{was}，现改为下列时间、地点，请以本通知为准。"
MOVED_FROM = "{when}在{place}"
CANCELLED_TITLE = "会议取消：{title}"
CANCELLED_TEXT = "本次会议已取消。原因：{reason}"
REMINDER_TITLE = "会议提醒：{title}"
REMINDER_TEXT = "会议将于{when}开始，请准时参加，到场后扫码签到。"
FIELD_TIME = "时间"
FIELD_PLACE = "地点"
FIELD_TOPIC = "议题"
FIELD_TYPES = "类型"
BUTTON_LEAVE = "请假"
BUTTON_DETAIL = "详情"
MEETING_CREATED_REPLY = "已安排会议「{title}」，通知已发给{count}名党员。"
MEETING_MOVED_REPLY = "已调整会议「{title}」，调整通知已发给{count}名党员。"
MEETING_CANCELLED_REPLY = "已取消会议「{title}」，取消通知已发给{count}名党员。"
MONTH_MEETINGS_TITLE = "{branch} {month}会议"
MONTH_MEETINGS_EMPTY = "{month}还没有安排会议。"
# {types}: （主题党日）, or "" when the title already begins with the types (the default 主题党日：主题).
MONTH_MEETING_LINE = "- #{id} {when} {title}{types}｜{state}"
MONTH_MEETING_TYPES = "（{types}）"
MONTH_MEETINGS_MORE = "还有{count}次会议（{ids}）没有按钮，发送“会议 #编号”查看详情，例如“会议 #{example}”。"
STATE_UPCOMING = "未开始"
STATE_OPEN = "签到中"
STATE_CANCELLED = "已取消"
STATE_HELD = "已召开，出席{present}/{expected}"
STATE_NO_MINUTES = "待记录，出席{present}/{expected}"
STATE_REOPENED = "已召开（观察员责令重开，不计入），出席{present}/{expected}"
DETAIL_MY_STATUS = "我的状态"
MY_STATUS_NONE = "未签到"

# Sign-in
SIGNIN_CODE_TITLE = "签到码：{title}"
SIGNIN_CODE_TEXT = (
    "请党员用钉钉或企业微信扫描二维码签到。签到时间：{opens}至{closes}。"
    "本二维码{valid_until}前有效，过期请再发送「签到码」；投屏请打开「投屏签到」链接，二维码每{refresh}秒自动刷新。"
)
SIGNIN_PROJECTOR_BUTTON = "投屏签到"
SIGNIN_CONFIRM = "您已签到：{title}（{when}）{late}"
SIGNIN_CONFIRM_LATE = "，记为迟到"
SIGNIN_PAGE = {
    SigninOutcome.OK: ("签到成功", "{name}，您已签到：{title}。"),
    SigninOutcome.LATE: (
        "签到成功（迟到）",
        "{name}，您已签到：{title}。会议已于{start}开始，本次记为迟到。",
    ),
    SigninOutcome.ALREADY: ("您已签到", "{name}，您已于{at}签到，无需重复签到。"),
    SigninOutcome.NOT_EXPECTED: (
        "无需签到",
        "{name}，您不在本次会议的应到人员名单中。如有疑问，请联系支部书记。",
    ),
    SigninOutcome.NOT_MEMBER: ("无法签到", "没有找到您的党员信息，请联系支部书记核对名册。"),
    SigninOutcome.NOT_OPEN: ("签到尚未开始", "签到将于{opens}开始，请稍后再扫码。"),
    SigninOutcome.CLOSED: ("签到已结束", "本次会议签到已于{closes}结束。如确实到会，请联系支部书记代签。"),
    SigninOutcome.CANCELLED: ("会议已取消", "本次会议已取消，无需签到。"),
    SigninOutcome.EXPIRED: ("二维码已过期", "二维码已过期，请扫描屏幕上最新的二维码。"),
    SigninOutcome.FORGED: ("二维码无效", "这个二维码无法识别，请扫描会场展示的签到码。"),
    SigninOutcome.OTHER_MEETING: ("二维码无效", "这个二维码不属于本次会议，请扫描会场展示的签到码。"),
}
SIGNIN_NEED_APP = ("请在钉钉或企业微信中打开", "请使用钉钉或企业微信扫描会场的签到码，以便确认您的身份。")
# Every other H5 page: it was opened from a message, not from a code on the wall.
H5_NEED_APP = (
    "请在钉钉或企业微信中打开",
    "这个页面需要由钉钉或企业微信确认您的身份，请在钉钉或企业微信的消息里点开它。",
)
SIGNIN_IDENTITY_FAILED = ("身份确认失败", "无法确认您的身份，请关闭页面后重新扫码。")
SIGNIN_WAITING = "正在确认身份…"
PROJECTOR_COUNT = "已签到 {present} / 应到 {expected}"
PROXY_REASON_REQUIRED = "代签需要写明原因，例如：代签 张三 手机没电"
PROXY_USAGE = "用法：代签 [#会议编号] 姓名 原因"
PROXY_NO_PERSON = "本次会议的应到人员中没有「{name}」。"
PROXY_AMBIGUOUS = "应到人员中有多位「{name}」，请联系管理员。"
PROXY_DONE = "已为{name}代签（原因：{reason}）。"
PROXY_ALREADY = "{name}已有记录：{status}，未重复登记。"
ATTENDANCE_TITLE = "签到情况：{title}"
ATTENDANCE_TEXT = "应到{expected}人，已签到{present}人（其中迟到{late}人、代签{proxy}人），请假{leave}人，未签到{missing}人。"
ATTENDANCE_MISSING = "未签到"
ATTENDANCE_LEAVE = "请假"
# The host and recorder count as present (issue 15 point 5): why their row says so.
HOST_PRESUMED = "会议由其安排，按主持人计为到会"
HOST_CHAIR = "会议记录中的主持人"
HOST_RECORDER = "会议记录中的记录人"
HOST_SIGNIN_TITLE = "签到已开始：{title}"
HOST_SIGNIN_TEXT = (
    "会议 #{id} 将于{when}开始，签到已开放，{closes}结束。请点「签到码」投屏或发到群里，"
    "您本人也请扫码签到。会议记录里的主持人、记录人计为到会。"
)
BUTTON_SIGNIN_CODE = "签到码"
CLOSED_SUMMARY_TITLE = "签到已结束：{title}"
CLOSED_SUMMARY_TEXT = (
    "会议 #{id}：应到{expected}人，实到{present}人，请假{leave}人，缺席{missing}人。"
    "缺席和请假的党员已收到补学任务。"
)
CLOSED_SUMMARY_MISSING = "缺席：{names}"
CLOSED_SUMMARY_LEAVE = "请假：{names}"
BUTTON_MINUTES = "填写会议记录"

# Leave
LEAVE_USAGE = "请假请写明原因，例如：请假 出差在外"
LEAVE_NO_MEETING = "您近期没有需要参加的会议，无需请假。"
LEAVE_AFTER_START = "会议已于{start}开始，不能再请假。如有特殊情况，请直接联系支部书记。"
LEAVE_NOT_EXPECTED = "您不在这次会议的应到人员中，无需请假。"
LEAVE_DUPLICATE = "您已为这次会议请过假（{status}），每次会议只能请一次假。"
LEAVE_ALREADY_SIGNED = "您已签到，无需请假。"
LEAVE_SUBMITTED = "请假申请已提交（{title}，{when}），等待书记审批。"
LEAVE_SUBMITTED_ROUTED = "请假申请已提交（{title}，{when}）。{note}"
LEAVE_CARD_TITLE = "请假审批：{name}"
LEAVE_CARD_TEXT = "{name}申请不参加「{title}」（{when}）。"
LEAVE_REASON = "原因"
LEAVE_APPROVE = "批准"
LEAVE_REJECT = "不批准"
LEAVE_DECIDED_TITLE = "请假{decision}：{name}"
LEAVE_DECIDED_STATUS = "已{decision}"
LEAVE_NOT_PENDING = "这条请假申请已经处理过了（{status}）。"
LEAVE_APPROVED_TO_MEMBER = "您的请假申请已批准（{title}）。会后请按时完成补学。"
LEAVE_REJECTED_TO_MEMBER = "您的请假申请未批准（{title}），请按时参加会议。{note}"
LEAVE_SELF_DECISION = (
    "不能审批自己的请假申请，应由本支部其他负责同志或上级党委组织委员审批，您的操作没有执行。"
)

# Make-up study
MAKEUP_TITLE = "补学任务：{title}"
MAKEUP_TEXT = "您{origin}「{title}」（{when}），请在{due}前完成补学，完成后回复「补学完成 学习心得」。"
MAKEUP_ORIGIN_LEAVE = "请假未参加"
MAKEUP_ORIGIN_ABSENCE = "未参加"
MAKEUP_MATERIAL = "学习内容"
MAKEUP_MINUTES = "会议记录"
MAKEUP_WITHDRAWN = (
    "您已计为「{title}」到会（会议记录中的主持人或记录人），这次会议的补学任务已撤销，无需补学。"
)
MAKEUP_NONE_OPEN = "您目前没有待完成的补学任务。"
MAKEUP_NOTE_REQUIRED = "请简要写明补学内容或心得，例如：补学完成 已学习会议传达的文件精神"
MAKEUP_REPORTED = "已提交补学情况（{title}），等待书记确认。"
MAKEUP_REPORTED_ROUTED = "已提交补学情况（{title}）。{note}"
MAKEUP_CONFIRM_TITLE = "补学确认：{name}"
MAKEUP_CONFIRM_TEXT = "{name}报告已完成「{title}」的补学：{note}"
MAKEUP_CONFIRM = "确认"
MAKEUP_RETURN = "退回"
MAKEUP_CONFIRMED_TO_MEMBER = "您的补学（{title}）已确认完成。"
MAKEUP_RETURNED_TO_MEMBER = "您的补学（{title}）被退回：{reason}。请补充后再次回复「补学完成 心得」。"
MAKEUP_RETURN_REASON_DEFAULT = "内容不够具体"
MAKEUP_NOT_REPORTED = "这项补学还没有提交，或已经处理过了（{status}）。"
MAKEUP_DECIDED_STATUS = "已{decision}"
MAKEUP_SELF_DECISION = "不能确认自己的补学，应由本支部其他负责同志或上级党委组织委员确认，您的操作没有执行。"

# Nobody decides their own case (leave, 补学): what the person is told about who decides instead.
WHAT_LEAVE = "请假"
WHAT_MAKEUP = "补学"
VERB_LEAVE = "审批"
VERB_MAKEUP = "确认"
ROUTED_PASSED_OVER = "您不能{verb}自己的{what}，已转请{names}{verb}。"
ROUTED_TO_COMMITTEE = "本支部暂无其他可以{verb}的负责同志，已转请{names}{verb}。"
ROUTED_COMMITTEE_PREFIX = "上级党委的"
ROUTED_NOBODY = (
    "本支部和上级党委目前都没有可以{verb}的人（本人不能{verb}自己的{what}），"
    "请联系上级党委组织部安排{verb}人。"
)
MAKEUP_REMINDER_TITLE = "补学提醒"
MAKEUP_DUE_TEXT = "您的补学「{title}」将于{due}到期，请尽快完成。"
MAKEUP_OVERDUE_TEXT = "您的补学「{title}」已于{due}逾期，请尽快完成并回复「补学完成 心得」。"
MY_MAKEUP_TITLE = "我的补学"
MY_MAKEUP_LINE = "- {title}（{when}）｜截止{due}｜{status}"

# Minutes
MINUTES_SAVED = "会议记录已保存：{title}。"
# After the minutes of a 组织生活会: its own record is kept in chat (handlers/lifemeeting).
MINUTES_ORG_LIFE_HINT = (
    "这是组织生活会，会上的发言和整改请在聊天中记录：批评和自我批评 姓名 自我批评：……；受到批评：……；"
    "查摆问题 ……；整改措施 内容 责任人 姓名 期限 日期。"
)
MINUTES_BEFORE_START = "会议还没有开始，不能填写会议记录。"
MINUTES_REMINDER_TITLE = "待办：补填会议记录"
MINUTES_REMINDER_TEXT = (
    "以下会议还没有会议记录（应于会后{days}个工作日内完成），没有记录的会议不计为已召开：\n\n{items}"
)
MINUTES_LINE = "- {title}（{when}），截止{due}"
MINUTES_BUTTON = "填写记录"
NO_PHOTO = "没有找到这张照片。"
PHOTO_NOT_YOURS = "只有本支部党员和负责本支部会议的同志可以查看会议记录的照片。"

# Quorum and votes (handlers/meetings/quorum.py; 条例 第十一、十二条)
HEADCOUNT_TEXT = (
    "应到{expected}人（正式党员{ef}人、预备党员{ep}人），实到{present}人（正式党员{pf}人、预备党员{pp}人）。"
)
QUORUM_CONGRESS = (
    "有表决权的正式党员应到{base}人，实到{present}人；表决须超过半数到会（至少{needed}人）：{verdict}。"
    "预备党员没有表决权，不计入；免于参加组织生活的党员不计入应到人数。"
)
QUORUM_ELECTION = "选举须有选举权的党员超过五分之四到会（至少{needed}人）：{verdict}。"
QUORUM_COMMITTEE = (
    "支部委员应到{base}人，实到{present}人；支委会须超过半数委员到会（至少{needed}人）：{verdict}。"
)
QUORUM_MET = "已达到"
QUORUM_NOT_MET = "未达到"
PASS_RULE = (
    "决议须经应到会有表决权党员的半数以上同意，即赞成票至少{needed}票（按应到人数计，不是按实到人数）。"
)
VOTE_NOT_A_DECIDING_MEETING = "表决应在支部党员大会或支委会上进行，本次会议不是这两种会议，不能登记表决。"
VOTE_ELECTION_ONLY_CONGRESS = "选举只能在支部党员大会上进行。"
VOTE_WRITTEN_ONLY_DECISION = "书面表决意见只适用于支部党员大会表决接收预备党员、预备党员转正。"
VOTE_COUNT_REQUIRED = "进行了表决，请填写赞成票数。"
VOTE_COUNT_BAD = "赞成票数和书面意见份数请填写整数。"
VOTE_COUNT_OVER = "赞成票数最多{most}票（到会有表决权的{present}人，加书面意见{written}份），请核对。"
VOTE_WRITTEN_TOO_MANY = "书面表决意见不能多于未到会的有表决权党员（{absent}人）。"
VOTE_KIND_BAD = "表决类型不对，请刷新页面后重试。"
VOTE_SUMMARY_PASSED = "表决：赞成{votes}票，超过应到会有表决权党员{base}人的半数，通过。"
VOTE_SUMMARY_FAILED = (
    "表决：赞成{votes}票，未超过应到会有表决权党员{base}人的半数（至少{needed}票），未通过。"
)
VOTE_SUMMARY_COMMITTEE = "支委会表决：赞成{votes}票（委员{base}人，到会{present}人）。"
VOTE_VOID = "到会人数未达到规定，表决无效，需要补开。"
RECONVENE_TITLE = "表决无效，需补开：{title}"
RECONVENE_CONGRESS = (
    "{branch}{when}召开的「{title}」进行了表决，但到会的有表决权党员{present}人，"
    "没有超过应到会有表决权党员{base}人的半数（至少需{needed}人）。"
    "按《中国共产党支部工作条例（试行）》第十一条，本次表决无效，请补开支部党员大会后重新表决。"
)
RECONVENE_ELECTION = (
    "{branch}{when}召开的「{title}」进行了选举，但到会的有选举权党员{present}人，"
    "没有超过应到会有选举权党员{base}人的五分之四（至少需{needed}人）。"
    "按《中国共产党基层组织选举工作条例》，本次选举无效，请补开支部党员大会重新选举。"
)
RECONVENE_COMMITTEE = (
    "{branch}{when}召开的「{title}」作出了决定，但到会委员{present}人，"
    "没有超过支部委员{base}人的半数（至少需{needed}人）。"
    "按《中国共产党支部工作条例（试行）》第十二条，支委会不能作出决定，请补开支委会后重新研究决定。"
)
RECONVENE_CLEARED_TITLE = "已更正：{title}"
RECONVENE_CLEARED_TEXT = "「{title}」的会议记录已更正，到会人数达到规定，不再需要补开。"
MINUTES_SAVED_RECONVENE = "会议记录已保存：{title}。{void}已告知支部书记和上级党委组织委员。"
MINUTES_RECONVENE_PENDING = "⚠ 本次会议表决时到会人数未达到规定，表决无效，需要补开。"
MINUTES_RECONVENED = "本次会议表决无效，已于{when}补开（「{title}」）。"
STATE_NEEDS_RECONVENE = "；表决无效，需补开"
STATE_RECONVENED = "；已补开"

# Help
HELP_MONTH = "本月会议：查看本支部本月的会议和状态"
HELP_MEETINGS = "会议：查看本支部近期会议；会议 #编号：查看一次会议的详情"
HELP_CODE = "签到码：取得当前会议的签到二维码"
HELP_PROXY = "代签 [#编号] 姓名 原因：为到会但无法扫码的党员代签（签到结束后也可补登）"
HELP_ATTENDANCE = "签到情况：查看当前会议的实时签到名单"
HELP_LEAVE = "请假 原因：为下一次会议请假"
HELP_MAKEUP_DONE = "补学完成 心得：报告补学已完成"
HELP_MY_MAKEUP = "我的补学：查看自己的补学任务"
HELP_PLAN = "月度计划：查看或填写下月组织生活计划"
HELP_NEW_MEETING = "安排会议：打开会议表单安排一次会议"
NEW_MEETING_TITLE = "安排会议"
NEW_MEETING_TEXT = "点击下方按钮填写会议类型、时间、地点和议题。"
NEW_MEETING_BUTTON = "打开会议表单"
PLAN_CARD_TITLE = "{month}组织生活计划"
PLAN_CARD_TEXT = "状态：{status}。{extra}"
PLAN_CARD_DEADLINE = "请于{day}日前提交。"
PLAN_CARD_SUBMITTED = (
    "已提交，等待上级党委组织委员审核；审核前仍可修改后重新提交，备案后会议将自动安排并通知党员。"
)
PLAN_CARD_APPROVED = "已备案，计划中的会议已安排并通知党员；如需调整，请用「调整会议 #编号」。"

# Web forms
FORM_SAVED = "已保存"
FORM_ERROR = "提交失败"
NEED_LOGIN = "请在钉钉或企业微信中打开此页面。"
H5_BAD_REQUEST = "提交的内容格式不对，请刷新页面后重试（已填写的内容请先复制保存）。"
H5_CROSS_SITE = "页面已过期或不是从本系统打开的，请刷新页面后重试。"

ABSENT_NO_REASON = "无故缺席"
FIELD_CHAIR = "主持人"
FIELD_RECORDER = "记录人"
FIELD_CONTENT = "会议内容"
FIELD_DECISIONS = "决定事项"
CANCEL_REASON = "取消原因"

PLAN_RETURN_HINT = "请回复「退回计划 #{id} 原因」，写明退回原因。"
PLAN_RETURN_USAGE = "用法：退回计划 #计划编号 原因"
NO_SIGNIN_MEETING = "近期没有需要签到的会议。"
DETAIL_NOT_YOURS = "您不在这次会议的人员名单中，无法查看。"
SIGNIN_LINK = "签到链接"
HELP_PLAN_RETURN = "退回计划 #编号 原因：退回支部的月度计划（上级党委组织委员）"

# Labels of the H5 pages (bot/web/templates/meetings)
H5 = {
    "signin_title": "会议签到",
    "identify_title": "确认身份",
    "projector_scan": "请使用钉钉或企业微信扫码签到",
    "projector_refresh": "二维码每{n}秒自动刷新",
    "plan_title": "月度组织生活计划",
    "plan_add": "添加一项活动",
    "plan_remove": "删除",
    "plan_submit": "提交审核",
    "plan_confirm": "\n\n仍要提交吗？",
    "plan_status": "当前状态",
    "plan_returned": "退回原因",
    "meeting_title": "安排会议",
    "meeting_submit": "安排并通知党员",
    "minutes_title": "会议记录",
    "minutes_submit": "保存会议记录",
    "field_types": "会议类型（可多选，一次活动可计为多种会议）",
    "field_time": "时间",
    "field_place": "地点",
    "field_topic": "议题",
    "field_title": "会议名称（可不填）",
    "field_group": "党小组（党小组会必选）",
    "field_none": "无",
    "field_chair": "主持人",
    "field_recorder": "记录人",
    "field_attendance": "到会情况（根据签到自动生成）",
    "field_content": "会议内容、讨论情况",
    "field_decisions": "决定事项及表决情况",
    "field_headcount": "应到、实到人数（根据应到名单和签到自动计算）",
    "field_vote": "表决",
    "vote_held": "本次会议进行了表决（作出决定）",
    "vote_kind": "表决事项",
    "vote_kind_decision": "表决议题（如接收预备党员、预备党员转正、决定事项）",
    "vote_kind_election": "选举",
    "votes_for": "赞成票数",
    "votes_for_election": "当选人中最低的得票数",
    "written_votes": "其中未到会党员会前提交的书面表决意见（仅接收预备党员、预备党员转正时计入）",
    "vote_pass": "赞成{n}票：通过",
    "vote_fail": "赞成{n}票：未通过（至少需{needed}票）",
    "working": "正在提交…",
}
HELP_MOVE = "调整会议 #编号 2026-12-05 09:00 [新地点]：调整会议时间或地点并通知党员"
HELP_CANCEL = "取消会议 #编号 原因：取消会议并通知党员"
MOVE_USAGE = "用法：调整会议 #编号 2026-12-05 09:00 [新地点]"
CANCEL_USAGE = "用法：取消会议 #编号 原因"
LEAVE_CARD_ASK_TITLE = "请假：{title}"
LEAVE_CARD_ASK_TEXT = "请选择请假原因；其他原因请回复「请假 #{id} 原因」。"

# Minutes from chat, the 详情 card by role, numbers on every list (issue 15 points 6 and 7)
HELP_MINUTES = "会议记录 [#编号]：打开会议记录表单（不写编号时列出待填记录的会议）"
MINUTES_CARD_TITLE = "会议记录：{title}"
MINUTES_CARD_TEXT = "会议 #{id}（{when}）{state}。点击下方按钮填写，到会情况根据签到自动生成。"
MINUTES_CARD_DONE = "，记录已于{at}保存，可以修改"
MINUTES_CARD_DUE = "，记录应于{due}前完成"
MINUTES_CARD_OVERDUE = "，记录已于{due}到期，请尽快补填"
MINUTES_NONE_WAITING = "本支部没有待填写记录的会议。要修改已保存的记录，请回复「会议记录 #编号」。"
MINUTES_WAITING_TITLE = "待填写记录的会议（{count}次）"
MINUTES_WAITING_LINE = "- #{id} {when} {title}，截止{due}"
SIGNIN_ALREADY_CLOSED = "这次会议的签到已经结束。"
SIGNIN_END_BEFORE_START = "会议{start}开始，开始后才能结束签到。"
SIGNIN_ENDED_REPLY = "已结束「{title}」的签到。{summary}"
BUTTON_PROXY = "代签"
BUTTON_END_SIGNIN = "结束签到"
BUTTON_MOVE = "调整"
BUTTON_CANCEL = "取消"
PROXY_HINT = "请回复「代签 #{id} 姓名 原因」，例如：代签 #{id} 张三 手机没电。{missing}"
PROXY_HINT_MISSING = "目前未签到：{names}。"
MOVE_HINT = "请回复「调整会议 #{id} 新时间 [新地点]」，例如：调整会议 #{id} {example}"
CANCEL_HINT = "请回复「取消会议 #{id} 原因」，例如：取消会议 #{id} 与县委中心组学习冲突"
DETAIL_MEETING_STATE = "状态：{state}"
FIELD_NUMBER = "会议编号"

# 党员活动日 and the 主题党日's menu (issue 20 item 5; handlers/meetings/activity.py)
ACTIVITY_DAY_LINE = "本月党员活动日：{day}"
ACTIVITY_DAY_MONTH_LINE = "{month}党员活动日：{day}"
ACTIVITY_DAY_MOVED = "（遇节假日顺延：{nominal}为{why}）"
ACTIVITY_DAY_NO_FRIDAY = "（当月没有作为工作日的周五，改为当月第一个工作日）"
ACTIVITY_DAY_DIFFERS = "本次主题党日安排在{day}，与{month}党员活动日（{fixed}）不是同一天。"
ACTIVITY_DAY_ON_IT = "本次主题党日在党员活动日举行。"
ACTIVITY_PLAN_DIFFERS = "（与党员活动日{fixed}不同）"
ACTIVITY_PLAN_DIFFERS_SENTENCE = "主题党日安排在{day}，与党员活动日（{fixed}）不是同一天"
MENU_TITLE = "主题党日「{label}」：{items}，另可开展自选动作。"
MENU_FIELD_FIXED = "规定动作（已开展的请勾选）"
MENU_FIELD_EXTRA = "自选动作（可不填，最多{limit}字）"
MENU_UNKNOWN_ITEM = (
    "「{item}」不是本组织主题党日的规定动作。规定动作有：{items}；其他内容请写在「自选：」后面。"
)
MENU_EXTRA_TOO_LONG = "自选动作太长了（最多{limit}字）。"
MENU_NOT_THEME_DAY = "会议 #{id} 不是主题党日，不用记录规定动作。"
MENU_NEEDS_MINUTES = "会议 #{id} 还没有会议记录，请先填写会议记录（回复「会议记录 #{id}」），再记录规定动作。"
MENU_SAVED = "已记录会议 #{id} 的主题党日动作：{done}。{missing}"
MENU_SAVED_ALL = "规定动作已全部开展。"
MENU_SAVED_MISSING = "未开展的规定动作：{items}。"
MENU_NONE_DONE = "未勾选规定动作"
MENU_EXTRA_DONE = "自选动作：{extra}"
MENU_USAGE = (
    "用法：党日动作 #会议编号 规定动作（名称或序号，用空格或顿号隔开） 自选：自选动作\n"
    "例如：党日动作 #{id} 1 2 3 自选：参观红色教育基地\n规定动作：{items}"
)
MENU_STATE = "会议 #{id}「{title}」已记录：{done}。"
MENU_STATE_NONE = "会议 #{id}「{title}」还没有记录规定动作。"
MENU_NO_THEME_DAY = "本支部没有待记录规定动作的主题党日。"
MENU_HINT = "这是主题党日：请在表单中勾选已开展的规定动作，也可以回复「党日动作 #{id} 1 2 3 自选：…」记录。"
HELP_MENU = "党日动作 #编号 1 2 3 自选：…：记录主题党日开展了哪些规定动作和自选动作"
