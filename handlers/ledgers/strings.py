"""The ledgers' Chinese text, in one place (the page templates keep the rest)."""

from bot.core import texts

NAV = "台账"
MEETINGS = "组织生活纪实台账"
FEES = "党费台账"
SCORES = "月积分台账"
MEETINGS_NOTE = "每次会议的类型、时间、地点、主持人和记录人，应到/实到（正式/预备）、请假、缺席名单，补学完成情况，会议记录、表决、照片和观察员列席情况；每月计划与实际开展对照。"
FEES_NOTE = "每名党员每月应交、已交、未交金额和日期，代交、补交、预交标注，连续欠缴情况；党委汇总；年度党费收缴情况（向党员公开）。"
SCORES_NOTE = "各单位每月得分、排名和扣分原因；落后约谈和党员提醒的通知对象、时间和确认情况（已阅/已约谈）。"
PICK_BRANCH = "组织生活纪实台账按党支部查看，请在下面选择一个党支部。"
INDEX_INTRO = "选择单位和期间，查看或下载台账。下载的 Word 文件可直接打印，Excel 文件按记录类别分表。"
DOWNLOAD_XLSX = "下载 Excel"
DOWNLOAD_DOCX = "下载 Word（打印用）"
# What a background file holds, under its 生成台账 button (handlers.ledgers.exports; by ledger).
EXPORT_HOLDS = {
    "messages": "包含本期全部消息（不按页面上的筛选），一张表放不下时接续到下一张，",
}

# 观察员台账 (#17 item 3)
OBSERVERS = "观察员台账"
OBSERVERS_NOTE = "观察员分工，每次观察的评价表各项得分和观察结论（现场提醒、叫停、责令纠正、责令重开），整改事项的期限和销号情况，各党支部每期列席覆盖（含未安排观察员的支部），观察员年度考核记录。"
OBSERVERS_OWN = "您以观察员身份查看：这里只列出您本人的分工、观察记录和提出的整改事项。"

# 消息台账 (#17 item 5)
MESSAGES = "消息台账"
MESSAGES_NOTE = (
    "发给本单位党员的每一条消息：收件人、类别、时间、平台和送达情况；未送达的写明原因，可在页面上补发。"
)
# The title of a message addressed to someone in a role (messages.Kind.private), to other viewers.
MESSAGE_PRIVATE_NOTICE = "（发给观察员/负责人的工作通知，内容不在本台账显示）"
MESSAGE_PRIVATE_REPLY = "（与本人的对话回复，内容不在本台账显示）"
RETRYING = "排队中（等待重试）"
RESENT_OF = "补发"
REASON_REJECTED_PLAIN = "平台拒收了这条消息（多为账号已停用、不在应用可见范围内或内容不符合平台要求）"
REASON_GAVE_UP_PLAIN = "多次重试仍未发出（平台一时无法访问或繁忙）"
REASON_RETRYING_PLAIN = "上次发送没有成功，稍后自动重试"
REASON_MISSING = "原因未记录"
REASON_CODES = {
    "40003": "企业微信中没有这个账号",
    "60011": "应用没有权限给这个账号发消息（不在应用可见范围内）",
    "81013": texts.REASON_UNKNOWN_ACCOUNT,
}
RESEND_DONE = "已补发 {n} 条，稍后送达。"
RESEND_ALREADY = "{n} 条此前已补发过，没有重复发送：{names}。"
RESEND_REFUSED = "{n} 条无法补发：{items}。"
RESEND_NONE = "请先勾选要补发的未送达消息。"
RESEND_NOT_FAILED = "只有未送达的消息可以补发"
RESEND_NOT_HERE = "不在本单位的消息台账中"
RESEND_CARD_UPDATE = "这是对已发卡片的更新，不能单独补发，请补发原卡片"
RESEND_MEETING_CHANGED = "会议已变更或取消，请以最新通知为准"
RESEND_SIGNIN_OVER = "签到已结束"
RESEND_NO_PERSON = "收件人已从名册中删除"
RESEND_INACTIVE = "已不在党员名册中（已转出或已出党）"
