"""Every Chinese word the roster shows: column headers, the notes sheet, errors and warnings.

Kept in one place so the organisation department can review the wording.
"""

from __future__ import annotations

from models.org import BRANCH_CATEGORY_LABELS, FEE_CATEGORY_LABELS, MEMBER_STATUS_LABELS

SHEET_ROSTER = "花名册"
SHEET_NOTES = "说明"
EXAMPLE_MARK = "示例"  # in the 序号 column: the row is an example and is never imported

# Column headers, in the order the template and the export write them.
SEQ = "序号"
COMMITTEE = "党委"
GENERAL_BRANCH = "党总支"
BRANCH = "党支部"
CATEGORY = "支部类别"
GROUP = "党小组"
NAME = "姓名"
PHONE = "手机号"
STATUS = "党员类别"
JOINED = "入党日期"
FEE_CATEGORY = "党费类别"
FEE_BASE = "党费基数"
FEE_FIXED = "固定党费"
MOBILE = "流动党员"
EXEMPT = "免于参加组织生活原因"
ROLES = "职务"
DINGTALK = "钉钉userId"
WECOM = "企业微信userid"

HEADERS = [
    SEQ, COMMITTEE, GENERAL_BRANCH, BRANCH, CATEGORY, GROUP, NAME, PHONE, STATUS, JOINED,
    FEE_CATEGORY, FEE_BASE, FEE_FIXED, MOBILE, EXEMPT, ROLES, DINGTALK, WECOM,
]  # fmt: skip
REQUIRED_HEADERS = [COMMITTEE, BRANCH, NAME, PHONE]

YES, NO = "是", "否"
ROLE_SEPARATORS = "、，,；;"

EXAMPLE_ROW = {
    SEQ: EXAMPLE_MARK,
    COMMITTEE: "城关镇党委",
    GENERAL_BRANCH: "",
    BRANCH: "东风村党支部",
    CATEGORY: "农村",
    GROUP: "第一党小组",
    NAME: "张三",
    PHONE: "13912345678",
    STATUS: "正式",
    JOINED: "2010-07-01",
    FEE_CATEGORY: "在职",
    FEE_BASE: "4500",
    FEE_FIXED: "",
    MOBILE: NO,
    EXEMPT: "",
    ROLES: "书记、党费收缴员",
    DINGTALK: "zhangsan",
    WECOM: "zhangsan",
}


def _values(labels: dict) -> str:
    return "、".join(labels.values())


ROLE_NOTATION = (
    "多个职务用顿号「、」或逗号分隔，例如「书记、党费收缴员」。"
    "本支部的职务直接写：书记、副书记、组织委员、宣传委员、纪检委员、支部联系人、党费收缴员；"
    "本党小组：党小组组长；本党总支：总支书记、总支副书记、总支组织委员、总支宣传委员、总支纪检委员；"
    "本党委（党工委）：党委书记、党委副书记、党委组织委员、观察员（由本党委选派）；"
    "组织部：组织部（管理全部组织），或「组织部（某某党委）」只管理该党委。"
    "担任其他组织的职务时，在括号里写出该组织的完整名称，从党委写起、用「/」分隔，"
    "例如「观察员（县直机关工委）」「书记（城关镇党委/东风村党支部）」。"
)

# (column, required?, explanation, allowed values) for the notes sheet.
NOTES = [
    (SEQ, "否", f"序号，导入时忽略。填「{EXAMPLE_MARK}」的行是示例，不会导入。", ""),
    (COMMITTEE, "是", "所属党委或党工委的全称，例如「城关镇党委」「县直机关工委」。填写党支部时必填。", ""),
    (GENERAL_BRANCH, "否", "支部隶属党总支时填写党总支全称；直属党委的支部留空。", ""),
    (BRANCH, "是", "党支部全称。只担任党委职务或组织部职务、不在任何支部的人员可以留空。", ""),
    (
        CATEGORY,
        "新支部应填",
        "支部类别，用于同类支部之间排名。同一支部各行应一致，可只在一行填写；新支部都没有填写时按「其他」导入并提示。",
        _values(BRANCH_CATEGORY_LABELS),
    ),
    (GROUP, "否", "所在党小组名称，例如「第一党小组」。", ""),
    (NAME, "是", "姓名。", ""),
    (
        PHONE,
        "是",
        "11 位手机号，用于识别同一个人。确实没有手机号时可以留空，但必须填写钉钉userId或企业微信userid。",
        "",
    ),
    (STATUS, "是", "正式党员或预备党员。", _values(MEMBER_STATUS_LABELS)),
    (JOINED, "否", "入党日期（预备党员为支部大会通过之日），例如 2010-07-01 或 2010/7/1。", ""),
    (FEE_CATEGORY, "否", "党费类别，留空按「在职」。", _values(FEE_CATEGORY_LABELS)),
    (FEE_BASE, "否", "党费计算基数（元/月），在职、离退休党员填写，例如 4500。", ""),
    (FEE_FIXED, "否", "每月固定交纳的党费金额（元），仅党费类别为「固定金额」时填写。", ""),
    (MOBILE, "否", "是否流动党员，留空按「否」。", f"{YES}、{NO}"),
    (EXEMPT, "否", "经批准免于参加组织生活的，写明原因（如年老体弱、长期患病）；否则留空。", ""),
    (ROLES, "否", ROLE_NOTATION, ""),
    (DINGTALK, "否", "钉钉通讯录中的 userId（管理后台 → 通讯录 → 成员详情）。留空不会删除已有账号。", ""),
    (WECOM, "否", "企业微信通讯录中的账号（userid）。留空不会删除已有账号。", ""),
]

# Errors: each is shown as 第N行「列」：message.
E = {
    "missing_headers": "缺少必需的列：{columns}。请使用 `zhibu roster template` 生成的模板。",
    "no_rows": "文件里没有可导入的人员。",
    "unsupported": "不支持的文件类型「{suffix}」，请使用 .xlsx 或 .csv（旧版 .xls 请在 Excel 中另存为 .xlsx）。",
    "not_found": "找不到文件：{path}",
    "required": "不能为空。",
    "too_long": "太长了（最多 {limit} 个字）。",
    "bad_name": "「{value}」不像姓名：姓名不能含有 = + @ * # < > [ ] 等符号，少数民族和外国人名字中间可用间隔号「·」，同名可用括号区分，例如 王芳（大）。",
    "slash_in_name": "组织名称中不能有「/」（职务里用「/」分隔上下级组织）。",
    "no_committee": "填写了党支部「{branch}」，但没有填写所属党委。",
    "general_without_branch": "填写了党总支，但没有填写党支部。",
    "group_without_branch": "填写了党小组，但没有填写党支部。",
    "bad_category": "「{value}」不是有效的支部类别，应为：{allowed}。",
    "category_conflict": "与第{other}行填写的「{value}」不一致（同一支部的类别应相同）。",
    "bad_phone": "「{value}」不是有效的手机号，应为 11 位数字、以 1 开头。",
    "no_identity": "手机号、钉钉userId、企业微信userid 至少要填一项，用于识别同一个人。",
    "duplicate_phone": "手机号「{value}」与第{other}行重复。",
    "bad_status": "「{value}」不是有效的党员类别，应为：正式 或 预备。",
    "status_required": "请填写党员类别：正式 或 预备。",
    "bad_date": "「{value}」不是有效的日期，应为 年-月-日，例如 2010-07-01。",
    "date_range": "日期「{value}」不合理：应在 1921-07-01 和今天之间。",
    "bad_fee_category": "「{value}」不是有效的党费类别，应为：{allowed}。",
    "bad_amount": "「{value}」不是有效的金额，应为不小于 0 的数字，例如 4500 或 0.20。",
    "fixed_required": "党费类别为「固定金额」时必须填写固定党费。",
    "fixed_not_allowed": "只有党费类别为「固定金额」时才填写固定党费（现为「{category}」）。",
    "bad_yes_no": "「{value}」应为：是 或 否。",
    "bad_userid": "「{value}」不是有效的账号，只能包含字母、数字和 _ - . @，最长 64 位。",
    "no_corp": "没有配置{platform}的企业 ID（{variable}），无法导入{platform}账号。",
    "duplicate_userid": "{platform}账号「{value}」与第{other}行重复（一个账号只能属于一个人）。",
    "unknown_role": "不认识的职务「{value}」。" + ROLE_NOTATION,
    "role_needs_branch": "职务「{value}」需要填写党支部。",
    "role_needs_group": "职务「{value}」需要填写党小组。",
    "role_needs_general": "职务「{value}」需要填写党总支。",
    "role_needs_committee": "职务「{value}」需要填写党委。",
    "role_unit_missing": "职务「{value}」中的组织「{path}」不存在（系统里和本文件里都没有）。",
    "role_kind_mismatch": "职务「{value}」：{kind}不能设「{role}」（{kind}可设：{allowed}）。",
    "kind_conflict": "「{path}」{where}是{actual}，这里却作为{expected}填写。",
    "kind_conflict_file": "在第{other}行",
    "kind_conflict_db": "在系统中",
    "two_people": "无法确定是哪一个人：{details}都在系统中，但属于不同的人。",
    "same_person": "与第{other}行是同一个人（系统中的「{name}」），请合并为一行。",
    "phone_taken": "手机号「{value}」在系统中属于「{name}」。",
    "account_taken": "{platform}账号「{value}」在系统中属于「{name}」。",
    "out_of_scope": "「{path}」不在您的管理范围内。",
}

W = {
    "default_category": "新支部「{branch}」没有填写支部类别，按「其他」导入。",
    "no_fee_base": "第{row}行 {name}：党费类别为「{category}」但没有填写党费基数，暂时无法计算应交党费。",
    "too_few": "{branch}：只有 {full} 名正式党员，《支部工作条例》要求党支部至少有 3 名正式党员。",
    "too_many": "{branch}：共 {total} 名党员，超过 50 人，可考虑分设支部或成立党总支。",
    "committee_needed": "{branch}：有 {full} 名正式党员（7 名以上），应设立支部委员会，还缺少：{missing}。",
    "no_secretary": "{branch}：没有书记。",
}

SUMMARY = (
    "导入完成：新建组织 {units_created} 个、更新 {units_updated} 个；"
    "新增人员 {people_created} 人、更新 {people_updated} 人、未变化 {people_unchanged} 人；"
    "职务新增 {roles_added} 项、撤销 {roles_removed} 项；账号新增 {accounts_added} 个、更新 {accounts_updated} 个。"
)
# Told once, by the import that set the start month (models.startmonth).
START_MONTH_SET = (
    "\n这是第一次导入花名册：已把支部助手的启用月份设为{month}（导入日的下一个月），从这个月起计算月积分、"
    "发月度通报。如需改动，请运行 zhibu golive YYYY-MM。"
)
SKIPPED_EXAMPLES = "已跳过 {count} 行示例（序号为「示例」）。"
NOT_IN_FILE = "文件中没有的人员和组织保持不变（导入不会删除任何人或组织）。"
