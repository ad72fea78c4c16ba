"""All Chinese text of 月积分 (scores, ladders, digests, 待办), in one place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handlers.common.dates import fmt_month, fmt_months  # noqa: F401  (strings.fmt_month* are the monthly texts' names)
from handlers.meetings.strings import TYPE_LABELS
from handlers.monthly.config import COMMITTEE_KINDS, OTHER_COMMITTEE_KIND, CommitteeKind
from models.meetings import MeetingType
from models.org import BRANCH_CATEGORY_LABELS

ITEM_LABELS = {
    "meetings": "会议完成",
    "plan": "计划按时报送",
    "minutes": "记录按时",
    "attendance": "出勤率",
    "makeup": "补学完成",
    "fees": "党费交纳",
    "quality": "观察质量",
    "rectification": "整改按期",
}
QUALITY_SOURCE = {
    "observers": "观察员评分",
    "proxy_completion": "本月无观察记录，按完成率计",
    "constant": "本月无观察记录，按默认值计",
}
PENALTY_LABELS = {"stop": "叫停", "reopen": "责令重开", "menu": "主题党日规定动作缺"}
PENALTY_UNITS = {"menu": "项"}  # how a penalty's count is said; 次 when not listed
COMMITTEE_GROUP_LABEL = "党委"
COMMITTEE_KIND_LABEL = "{kind}类党委"  # committees are ranked within their kind: 乡镇类党委
MIXED_LABEL = "综合"
BRANCH_GROUP_SUFFIX = "类支部"  # a branch's group in a sentence: 在农村类支部中排第2名  # the small 类别 (or kinds) ranked together: 综合类支部, 综合类党委
# How ranks and 落后 were decided (MonthlyConfig.min_peer_group, min_committee_group, lag_rank_below),
# said in every digest and score card, so a leader can check a 落后 against it.
RANK_RULE = "**{unit}排名规则**：同类{unit}满{min}个的在同类中排名，不足{min}个的类别合并为“综合类”排名"
RANK_RULE_LAG = "；{rules}{below}且低于同类中位数的，列为落后"
RANK_RULE_BELOW = "、得分低于{v:g}分"
RANK_RULE_SMALL = "；合并后仍不足{min}个的，不按排名列为落后"
RANK_RULE_UNITS = {"branch": "支部", "committee": "党委"}
LADDER_LABELS = {
    "committee": "党委落后约谈",
    "branch": "支部落后提醒",
    "member_absence": "连续未参加组织生活",
    "member_fees": "连续未交党费",
    "member_work": "连续未做党组织分配的工作",
    "member_lost_contact": "失去联系满六个月",
}
RUNG_TEXT = {
    "committee": {1: "当月落后，约谈组织委员", 2: "连续两个月落后，约谈党委副书记",
                  3: "连续三个月以上落后，约谈主要负责人，并在季度调度会上作剖析发言"},
    "branch": {1: "支部当月落后，请党委组织委员督促整改"},
    "member": {1: "提醒", 3: "谈话提醒，并报告上级党组织", 5: "提请上级党组织关注，考虑进一步处理",
               6: "已连续六个月，列为支部大会讨论的对象（是否按自行脱党处理由支部大会决定）"},
}  # fmt: skip


def rung_text(ladder: str, streak: int) -> str:
    """The rung's wording: the highest step of the ladder at or below `streak`."""
    steps = RUNG_TEXT[ladder]
    return (
        steps[max(k for k in steps if k <= streak)] if any(k <= streak for k in steps) else steps[min(steps)]
    )


LAG_REASON = {
    "bottom_n": "同类排名倒数第{v}名以内",
    "bottom_pct": "同类排名后{v}%",
    "below": "得分低于{v}分",
    "halt": "本月有叫停或责令重开",
}
ACK_READ = "已阅"
ACK_INTERVIEWED = "已约谈"
ACK_ALREADY = "这条通知已由{who}确认过（{kind}），无需重复确认。"
ACK_NOT_YOURS = "这条通知不是发给您的，无法确认。"
ACK_OWN_CASE = (
    "这条提醒说的是您本人，不能由您自己确认，应由本支部其他负责同志或上级党委组织委员确认，您的操作没有执行。"
)
ACK_MISSING = "没有找到这条通知，可能已被撤回。"
NOT_BOUND = "您的账号还没有绑定党员信息，请联系支部书记。"
NO_SCOPE = "月积分只对支部书记、党委书记、副书记、组织委员和组织部工作人员开放。"
NOTHING_YET = "还没有计算过月积分。"


def group_label(group: str, kinds: Iterable[CommitteeKind] = COMMITTEE_KINDS) -> str:
    """A peer group's name; `kinds`: the configured committee kinds (MonthlyConfig.committee_kinds),
    whose names are configuration like their keywords."""
    if group == "committee":
        return COMMITTEE_GROUP_LABEL
    if group.startswith("committee:"):
        key = group.partition(":")[2]
        labels = {k.key: k.label for k in (*kinds, OTHER_COMMITTEE_KIND)}
        labels.setdefault("mixed", MIXED_LABEL)
        return COMMITTEE_KIND_LABEL.format(kind=labels.get(key, key))
    if group == "mixed":
        return MIXED_LABEL
    try:
        from models.org import BranchCategory

        return BRANCH_CATEGORY_LABELS[BranchCategory(group)]
    except ValueError:
        return group


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def rank_rule(rank: dict[str, Any], unit_kind: str) -> str:
    """The ranking rule a score was ranked by (its explanation's "rank"), in one line."""
    if "min" not in rank:  # scores ranked before the rule was recorded with them
        return ""
    out = RANK_RULE.format(unit=RANK_RULE_UNITS.get(unit_kind, "单位"), min=rank["min"])
    by_rank = [r for r in rank.get("rules", []) if r.startswith(("bottom_n", "bottom_pct"))]
    if by_rank:
        below = RANK_RULE_BELOW.format(v=rank["below"]) if rank.get("below") is not None else ""
        out += RANK_RULE_LAG.format(rules="或".join(lag_reasons([r]) for r in by_rank), below=below)
        out += RANK_RULE_SMALL.format(min=rank["min"])
    others = [r for r in rank.get("rules", []) if not r.startswith(("bottom_n", "bottom_pct"))]
    if others:
        out += "；" + "；".join(lag_reasons([r]) for r in others) + "的，也列为落后"
    return out + "。"


def lag_reasons(reasons: list[str]) -> str:
    out = []
    for r in reasons:
        kind, _, v = r.partition(":")
        out.append(LAG_REASON.get(kind, kind).format(v=v))
    return "；".join(out)


def missing_text(items: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in items:
        k = m["key"]
        if k == "meeting":
            out.append(f"{TYPE_LABELS[MeetingType(m['type'])]}：已开{m['held']}次，应开{m['required']:g}次")
        elif k == "plan":
            out.append("月度计划未按时报送")
        elif k == "minutes_late":
            out.append(f"会议记录逾期{m['count']}次")
        elif k == "unpaid":
            out.append(f"{m['count']}人未交党费")
        elif k == "makeup_open":
            out.append(f"{m['count']}项补学未完成")
        elif k == "rect_open":
            out.append(f"{m['count']}项整改未按期完成")
        elif k == "stop":
            out.append(f"被叫停{m['count']}次")
        elif k == "reopen":
            out.append(f"被责令重开{m['count']}次")
        elif k == "branches_missing_meeting":
            out.append(f"{m['count']}个支部未完成{TYPE_LABELS[MeetingType(m['type'])]}")
        elif k == "menu":
            items = "（" + "、".join(m["items"]) + "）" if m.get("items") else ""
            out.append(f"主题党日规定动作缺{m['count']}项{items}")
        elif k == "branches_plan":
            out.append(f"{m['count']}个支部计划未按时报送")
    return out


def explain(score: float, exp: dict[str, Any]) -> str:
    """The markdown lines that say how a branch's score was reached."""
    f = exp.get("formula", {})
    lines = [
        f"**得分 {score:g}** = 100 ×（{f.get('completion', 0):g}×完成率 {pct(exp.get('completion'))}"
        f" + {f.get('quality', 0):g}×质量 {pct(exp.get('quality'))}"
        f" + {f.get('rectification', 0):g}×整改 {pct(exp.get('rectification'))}）"
        + "".join(
            f" − {p['points']:g}（{PENALTY_LABELS[p['key']]}{p['count']}{PENALTY_UNITS.get(p['key'], '次')}）"
            for p in exp.get("penalties", [])
        )
    ]
    items = exp.get("items", {})
    weights = exp.get("item_weights", {})
    parts = [f"{ITEM_LABELS[k]} {pct(v)}" + (f"（权重{weights[k]:.0%}）" if k in weights else "（本月无此项）")
             for k, v in items.items()]  # fmt: skip
    lines.append("完成率构成：" + "，".join(parts))
    lines.append("质量：" + QUALITY_SOURCE.get(exp.get("quality_source", ""), ""))
    return "\n\n".join(lines)


# --- ladders -------------------------------------------------------------------------------------

ESC_TITLE = "【月积分】{unit}：{ladder}"
ESC_TEXT = (
    "**规则**：{rule}（{reason}）\n\n**月份**：{months}\n\n**单位**：{unit}，{month}得分 {score:g}，"
    "在{group}中排第{rank}名（共{size}个）\n\n**未完成事项**：\n{missing}"
)
ESC_ASK = "请按规定约谈并记录，处理后点击下方按钮。"
# The state an acknowledged notice shows in place of the request to press (the card keeps its content).
ACK_STATE = "**处理情况**：{who}于{when}确认“{kind}”。"
ESC_CC = "（抄送组织部）"
ESC_END_TITLE = "【月积分】{unit}：已赶上"
ESC_END_TEXT = "{unit}{month}已不再落后（得分 {score:g}），此前的{ladder}（{months}）到此结束。"
MEMBER_TITLE = "【月积分】{branch}：{ladder}（{month}）"
MEMBER_LINE = "- {name}：连续{n}个月（{since}起），{step}"
# An absence run with months between that had no meeting the member was expected at (domain.md rule 32:
# those months neither break nor extend the run), so the reader sees which months were counted.
MEMBER_LINE_GAPS = (
    "- {name}：连续{n}个应参会的月份未参加（{since}起，计{months}；其间没有需其参加的会议的月份不计），{step}"
)
MEMBER_WORK_REASON = "；最近登记的原因：{reason}"
LOST_LINE = (
    "- {name}：自{since}起与党组织失去联系，已满{n}个月（支部登记的寻找情况：{note}），列为停止党籍的讨论对象"
)
# The E15 listing (domain.md rule 34): the software lists, the 支部大会 decides, the 基层党委 approves.
LOST_RULE = (
    "\n\n依据《中国共产党党员教育管理工作条例》第二十四条，党员与党组织失去联系6个月以上、通过各种方式查找仍没有音讯的，"
    "应当停止其党籍。本提醒仅根据支部登记的失联情况列出：请先核实是否确已多方查找；是否停止党籍，须由支部大会讨论决定"
    "并报上级党组织审批，系统不作任何认定。停止党籍2年后仍无音讯的，按自行脱党除名，同样由组织决定。"
)
MEMBER_TEXT = "以下党员需要关注（只提示，处理由支部和上级党组织决定）：\n\n{lines}{article9}"
MEMBER_ASK = "处理后请点击下方按钮。"
# Added when a member reaches the six-month step: the software lists, people decide (domain.md E14).
MEMBER_ARTICLE9 = (
    "\n\n依据党章第九条，党员没有正当理由，连续六个月不参加党的组织生活，或不交纳党费，或不做党所分配的工作，"
    "就被认为是自行脱党。本提醒仅由系统根据记录自动列出，供组织核实：是否有正当理由、记录是否属实，"
    "应先与本人谈话并听取其意见。是否按自行脱党处理，须由支部大会讨论决定并报上级党组织批准，系统不作任何认定。"
)
MEMBER_END_TITLE = "【月积分】{branch}：{ladder}提醒结束（{month}）"
MEMBER_END_TEXT = {
    "member_absence": "以下党员{month}已参加组织生活，此前的连续未参加提醒到此结束：\n\n{lines}",
    "member_fees": "以下党员{month}已不再连续未交党费（已交纳或免交），此前的提醒到此结束：\n\n{lines}",
    "member_work": "以下党员{month}没有“未做分配工作”的登记，此前的连续提醒到此结束：\n\n{lines}",
    "member_lost_contact": "以下党员已恢复与党组织的联系（或失联登记已撤销），此前停止党籍讨论的提示到此结束：\n\n{lines}",
}
MEMBER_END_LINE = "- {name}（此前提醒：{months}）"
NONE_MISSING = "- （各项均已完成，按排名规则列为落后）"

# --- digests -------------------------------------------------------------------------------------

DIGEST_TITLE = "【{month}月度通报】{unit}"
DIGEST_VIEW = "查看详情"
# The start month's digest (models.startmonth): its figures cover the first month of use.
DIGEST_FIRST_MONTH = (
    "本月是支部助手启用的第一个月：以下得分和排名只统计本月在支部助手里安排、记录的会议、签到和党费，"
    "启用前的月份不计分、不计入连续缺席和欠缴。\n\n"
)
DIGEST_BRANCH = (
    "**得分 {score:g}**，{group}类支部第{rank}名（共{size}个）{lag}\n\n"
    "**会议**：{meetings}\n\n**出勤**：{attendance}{absent}\n\n**补学**：{makeup}\n\n**党费**：{fees}\n\n"
    "**观察**：{observers}\n\n**整改**：{rect}"
)
DIGEST_LAGGING = "，**列为落后**：{reasons}"
DIGEST_ABSENT = "；缺席：{names}"
DIGEST_NO_MEETINGS = "本月没有应开会议"
DIGEST_ATTENDANCE = "{present}/{total}人次（{rate}）"
DIGEST_NO_ATTENDANCE = "本月没有签到记录"
DIGEST_MAKEUP = "未完成{open}项，已确认{done}项"
DIGEST_FEES = "{members}人中{unpaid}人未交"
DIGEST_OBS_NONE = "本月没有观察记录"
DIGEST_OBS = "{n}次观察，评分{quality}，等级：{grades}"
DIGEST_RECT = "到期{due}项，按期完成{ok}项；未关闭{open}项"
DIGEST_COMMITTEE = (
    "**党委得分 {score:g}**，{group}第{rank}名（共{size}个）{lag}\n\n"
    "**支部**：{n}个，平均{mean:g}分，落后{lagging}个\n\n**落后支部**：{laggards}\n\n"
    "**前五名**：{top}\n\n**主要问题**：{missing}"
)
DIGEST_NONE = "无"
# December's committee digest: the branches' yearly ratings (handlers/rating; read from branch_rating).
DIGEST_RATINGS_HEAD = "**{year}年度支部评定**（系统建议 → 党委评定；已评定{done}个，待评定{todo}个）："
DIGEST_RATING_ROW = "{branch}：{proposed} → {confirmed}"
DIGEST_RATING_PENDING = "待评定"
DIGEST_RATING_NO_PROPOSAL = "暂无建议"
DIGEST_RATINGS_MORE = "……共{n}个支部，全部请在管理后台“年度评定”查看"
DIGEST_PICKS = "**书记项目晒比评（{month}）**：红旗项目：{red}；蜗牛项目：{snail}"
DIGEST_PICK = "{unit}《{title}》"
DIGEST_PICKS_PENDING = (
    "**书记项目晒比评（{month}）**：党委尚未评定红旗项目和蜗牛项目（评定后可在本通报网页查看）。"
)
DIGEST_RATINGS_NONE = "**{year}年度支部评定**：还没有评定建议，请在管理后台“年度评定”查看。"
DIGEST_ORG = (
    "**党委**：{n}个，平均{mean:g}分，落后{lagging}个\n\n**落后党委**：{laggards}\n\n"
    "**排名**（各类党委分别排名）：\n\n{ranking}"
)
DIGEST_ORG_GROUP = "**{group}**（{n}个）\n{lines}"
CHART_BRANCH_TITLE = "{unit} {month}各项完成情况"
CHART_UNITS_TITLE = "{unit} {month}得分排名"
CHART_SCORE = "得分"
CHART_PERCENT = "完成率（%）"

# --- weekly 待办 ----------------------------------------------------------------------------------

TODO_TITLE = "【本周待办】{branch}"
TODO_PLAN = "{month}计划未报送（截止{deadline}）"
TODO_PLAN_LATE = "{month}计划已逾期未报送（截止{deadline}）"
TODO_MINUTES = "{n}次会议待填记录（最早 {first}）"
TODO_LEAVE = "{n}条请假待审批（在收到的请假卡片上点“批准”或“不批准”）"
TODO_MAKEUP = "{n}项补学待确认（在收到的补学卡片上点“确认”）"
TODO_FEES = "{n}笔党费待确认（发送“党费确认”）"
TODO_RECT = "{n}项整改待完成（最早截止 {first}；完成后发送“整改完成 #编号 说明”）"
TODO_PLAN_BUTTON = "报送{month}计划"
TODO_MINUTES_ONE = "填写会议记录"
TODO_MINUTES_MANY = "待填记录的会议"

# --- 未落实提醒 (宿松县, seed 000: 提醒书记、组织委员和支部联系人，逐项提示当月未落实的内容，明确整改措施及要求) ---

REMIND_TITLE = "【{month}组织生活未落实提醒】{branch}"
REMIND_TEXT = (
    "经月度核查，{branch}{month}的组织生活有以下{n}项未落实，请逐项整改：\n\n{items}\n\n"
    "本提醒发给支部{roles}。整改情况计入以后的月积分。"
)
REMIND_PERIOD = {"month": "本月", "quarter": "本季度", "year": "本年度"}
REMIND_GRADES = "等级{grades}"
REMIND_ITEMS = {
    "meeting": "**{type}**：{period}应开{required:g}次，实开{held}次。整改要求：尽快补开，会后{days}个工作日内上传会议记录。",
    "plan": "**{month}计划未按时报送**（应于{deadline}前报上级党组织审核备案）。整改要求：每月{day}日前报送下月计划。",
    "minutes_late": "**{count}次会议记录未按时上传**（应在会后{days}个工作日内）。整改要求：未上传的立即补齐。",
    "unpaid": "**{count}名党员未交{month}党费**。整改要求：党费收缴员逐一提醒，督促尽快补交。",
    "makeup_open": "**{count}项补学未完成**。整改要求：督促相关党员完成补学，书记及时确认。",
    "rect_open": "**{count}项整改未按期完成**。整改要求：抓紧整改，完成后报观察员确认销号。",
    "stop": "**会议被观察员叫停{count}次**。整改要求：按观察员意见整改，并报党委组织委员。",
    "reopen": "**会议被观察员责令重开{count}次**，原会议不算已召开。整改要求：按要求重新召开同类会议。",
    "quality": "**组织生活质量不高**：观察员评分{quality}（{grades}）。整改要求：对照观察员意见改进会前准备、程序和内容。",
}  # fmt: skip

# --- chat ----------------------------------------------------------------------------------------

CMD_SCORE_HELP = "查看本支部（或本党委）最近一个月的积分和扣分原因"
CMD_RANK_HELP = "查看最近一个月的积分排名"
SCORE_TITLE = "{unit} {month}月积分"
RANK_TITLE = "{group} {month}积分排名"
# A bullet, not "1. ": markdown numbers an ordered list itself, so two units tied for first read 1 and 2.
RANK_LINE = "- 第{rank}名 {name} {score:g}{lag}"
RANK_LAG = "（落后）"

# --- web -----------------------------------------------------------------------------------------

WEB_TITLE = "月度通报"
WEB_FORBIDDEN = "您没有查看该单位月度通报的权限。"
WEB_BAD_MONTH = "月份格式应为 2026-10。"
WEB_NOT_FOUND = "该月还没有这个单位的积分。"
NO_CJK_FONT = "找不到中文字体，图表无法显示中文。请安装 fonts-wqy-zenhei（Debian/Ubuntu：apt-get install fonts-wqy-zenhei）。"

# --- 自行脱党 / 失联 records entered by the branch (handlers/monthly/watch.py) ---------------------------

CMD_WORK_HELP = "未做分配工作 姓名 月份 原因：登记党员当月未做党组织分配的工作（书记、副书记、组织委员）"
CMD_WORK_UNDO_HELP = "撤销未做分配工作 姓名 月份：撤销登记错的一条"
CMD_LOST_HELP = "失联 姓名 起始月份 寻找情况：登记与党组织失去联系的党员（书记、副书记、组织委员）"
CMD_RESTORE_HELP = "恢复联系 姓名：失联党员已联系上，结束失联登记"
WORK_USAGE = (
    "用法：未做分配工作 姓名 月份 原因\n例如：未做分配工作 张三 2026-11 支部安排的防汛值守两次未到岗\n"
    "月份也可写成“11月”；同名时用手机号代替姓名；登记错了发送：撤销未做分配工作 张三 2026-11"
)
WORK_UNDO_USAGE = "用法：撤销未做分配工作 姓名 月份，例如：撤销未做分配工作 张三 2026-11"
LOST_USAGE = (
    "用法：失联 姓名 起始月份 寻找情况\n例如：失联 张三 2026-05 电话停机，家属称外出务工后联系不上\n"
    "起始月份是开始联系不上的月份；联系上后发送：恢复联系 张三"
)
RESTORE_USAGE = "用法：恢复联系 姓名 [说明]，例如：恢复联系 张三 已回村，本人来支部说明情况"
WATCH_NO_ROLE = "只有本支部的书记、副书记或组织委员可以登记，您的操作没有执行。"
WATCH_BAD_MONTH = "“{text}”不是月份，请写成 2026-11 或 11月。"
WATCH_FUTURE = "{month}还没有到，不能提前登记。"
WATCH_TOO_OLD = "只能登记最近{n}个月的情况，{month}已超出。"
WATCH_NEED_REASON = "请写明原因：分配了什么工作、为什么算未完成。\n\n" + WORK_USAGE
WATCH_NEED_NOTE = "请写明寻找情况：打过哪些电话、问过哪些人。\n\n" + LOST_USAGE
WATCH_NO_PERSON = "本支部没有找到党员“{name}”，请核对姓名，或改用手机号。"
WATCH_AMBIGUOUS = "本支部有{n}名党员叫“{name}”，请改用手机号，例如：{example}"
WATCH_OWN = "不能为自己登记，请由本支部其他负责同志登记。"
WORK_DONE = "已登记：{name}{month}未做党组织分配的工作。\n原因：{reason}"
WORK_UPDATED = "已更新{name}{month}的登记。\n原因：{reason}"
WORK_RUN = "按目前的登记，{name}已连续{n}个月未做分配的工作（{since}起）。"
WORK_AFTER = "每月1日的月度提醒会计入这条登记（只作提示，如何处理由支部决定）。登记错了请发送：撤销未做分配工作 {who} {ym}"
WORK_WITHDRAWN = "已撤销{name}{month}“未做分配工作”的登记。"
WORK_NOT_FOUND = "没有找到{name}{month}“未做分配工作”的登记。"
WORK_LIST_TITLE = "{branch}：未做分配工作登记"
WORK_LIST_EMPTY = "最近12个月没有登记。"
WORK_LIST_LINE = "- {name}：{months}（最近原因：{reason}）"
LOST_DONE = "已登记：{name}自{since}起与党组织失去联系。\n寻找情况：{note}"
LOST_UPDATED = "已更新{name}的失联登记：自{since}起。\n寻找情况：{note}"
LOST_DUE = (
    "如到{due}仍没有音讯（失联满6个月），月度提醒会把{name}列为停止党籍的讨论对象，由支部大会讨论决定并报上级党组织审批，"
    "系统不作任何认定。联系上后请发送：恢复联系 {who}"
)
LOST_OVERDUE = (
    "已失联{n}个月，月度提醒会把{name}列为停止党籍的讨论对象（已列过的不再重复），由支部大会讨论决定并报上级党组织审批，"
    "系统不作任何认定。联系上后请发送：恢复联系 {who}"
)
LOST_RESTORED = "已记录：{name}已恢复与党组织的联系，自{since}起的失联登记到此结束。"
LOST_NOT_FOUND = "{name}没有未结束的失联登记。"
LOST_LIST_TITLE = "{branch}：失联党员登记"
LOST_LIST_EMPTY = "目前没有失联登记。"
LOST_LIST_LINE = "- {name}：自{since}起，已{n}个月（{note}）"
