"""The ledgers' Chinese text, in one place (the page templates keep the rest)."""

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

# 观察员台账 (#17 item 3)
OBSERVERS = "观察员台账"
OBSERVERS_NOTE = "观察员分工，每次观察的评价表各项得分和观察结论（现场提醒、叫停、责令纠正、责令重开），整改事项的期限和销号情况，各党支部每期列席覆盖（含未安排观察员的支部），观察员年度考核记录。"
OBSERVERS_OWN = "您以观察员身份查看：这里只列出您本人的分工、观察记录和提出的整改事项。"
