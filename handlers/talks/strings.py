"""All Chinese text of 谈心谈话, in one place."""

from __future__ import annotations

from collections.abc import Collection

from models.org import ROLE_LABELS, Role


def recorders(roles: Collection[Role]) -> str:
    """书记、副书记和组织委员: TalksConfig.recorder_roles in words, in the roster's order of offices."""
    labels = [ROLE_LABELS[r] for r in ROLE_LABELS if r in roles]
    return labels[0] if len(labels) == 1 else "、".join(labels[:-1]) + "和" + labels[-1]


# 帮助 shows the first of these the reader may use (chat.py registers the recorders' first).
HELP_RECORD_ANY = "谈心谈话 姓名 日期 主题：登记一次谈心谈话（也可登记本支部任意两人的谈话，写两个姓名）"
HELP_RECORD = "谈心谈话 姓名 日期 主题：登记一次您参加的谈心谈话"
HELP_COVERAGE = "谈心谈话情况：本支部今年谈心谈话的覆盖情况和还没谈到的人"

USAGE = (
    "用法：谈心谈话 姓名 日期 主题，例如：谈心谈话 张三 2026-11-20 工作和思想情况。"
    "支部{recorders}登记别人之间的谈话时写两个姓名：谈心谈话 张三 李四 11月20日 主题。"
)
NOT_BOUND = "您的账号还没有绑定党员信息，请联系支部书记。"
NO_BRANCH = "您还没有编入党支部，不能登记谈心谈话。"
NO_TOPIC = "请写明谈话主题（不需要写谈话内容），例如：谈心谈话 {names} {day} 工作和思想情况"
TOPIC_TOO_LONG = "主题请写简短些（不超过{n}个字），谈话内容不需要登记。"
BAD_DAY = "没有看懂日期“{text}”。请写成 2026-11-20、11月20日、今天 或 昨天。"
FUTURE_DAY = "{day}还没有到，谈话结束后再登记。"
BEFORE_START = "{day}在本系统启用（{start}）之前，不用登记。"
TOO_OLD = "只能登记今年和去年的谈心谈话，{day}太早了。"
NOT_FOUND = (
    "本支部（{branch}）没有找到党员“{name}”。只能登记本支部党员之间的谈心谈话，请核对姓名，或改用手机号。"
)
NOT_FOUND_SUGGEST = "本支部（{branch}）没有找到党员“{name}”，您是不是想写：{names}？"
AMBIGUOUS = "本支部有{n}名党员叫“{name}”，请改用手机号，例如：谈心谈话 13800000000 {day} 主题"
SEVERAL = "“{name}”可能是本支部的{names}，请写全名。"
SEVERAL_BRANCHES = "{branches}都有“{names}”，分不清这次谈话是哪个支部的。同名的请改用手机号，例如：谈心谈话 13800000000 {day} 主题"
SAME_PERSON = "谈心谈话至少要有两个人，“{name}”写了两次。"
SELF_ONLY = "请写上和您谈话的人的姓名，例如：谈心谈话 张三 {day} 主题"
TOO_MANY = "一次谈心谈话最多登记{n}人；人多的请作为会议登记。"
NOT_PARTICIPANT = "您只能登记自己参加的谈心谈话（支部{recorders}可以登记本支部任何人之间的谈话）。"

RECORDED = "已登记谈心谈话（#{id}）：{names}，{day}，主题：{topic}。"
ALREADY = "这次谈心谈话已经登记过了（#{id}）：{names}，{day}，主题：{topic}。"
TOPIC_UPDATED = "这次谈心谈话已登记过（#{id}），已把主题改为：{topic}。"
PROGRESS = "{branch}{year}年谈心谈话已完成{done}/{required}项。"

COVERAGE_TITLE = "{year}年谈心谈话情况"
COVERAGE_NOT_RECORDER = "谈心谈话情况只给支部{recorders}查看。"
COVERAGE_HEAD = "**{branch}**：{year}年已登记谈心谈话{talks}次，应谈{required}项，已完成{done}项。"
COVERAGE_RULE = (
    "（按每年至少一次计：支委之间两两谈话；每名党员至少与一名{with_whom}谈一次{peer}。一次有几人参加的，"
    "其中每两人都算谈过。）"
)
RULE_WITH_COMMITTEE = "支委"
RULE_WITH_SECRETARY = "支部书记"
RULE_PEER = "；每名党员至少与另一名党员谈一次"
LINE_COMMITTEE = "- 支委之间：{done}/{required}"
LINE_MEMBERS = "- {with_whom}与党员：{done}/{required}"
LINE_PEERS = "- 党员之间：{done}/{required}"
MISSING_PAIRS = "  还没谈：{pairs}"
MISSING_PEOPLE = "  还没谈到：{names}"
PAIR = "{a}—{b}"
MORE = "等{n}人"
MORE_PAIRS = "等{n}对"
ALL_DONE = "今年应谈的都已谈到。"
NOT_APPLICABLE = "（本支部只有{n}名支委以外的党员，不计党员之间）"

DIGEST_SECTION = "**谈心谈话（{year}年）**：已完成{done}/{required}项（{parts}）{missing}"
DIGEST_COMMITTEE = "支委之间{counts}"
DIGEST_MEMBERS = "{with_whom}与党员{counts}"
DIGEST_PEERS = "党员之间{counts}"
DIGEST_MISSING = "；还没谈到：{names}"
DIGEST_DONE = "；应谈的都已谈到"
