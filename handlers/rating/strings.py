"""Every Chinese text of the yearly rating (reasons, refusals, the console page and the digest line)."""

MONTHS = "全年计入{n}个月的月积分，平均得分{mean:g}分"
MONTHS_FROM_START = "全年计入{n}个月的月积分（{start}月启用，之前的月份不计），平均得分{mean:g}分"
NO_MONTHS = "{year}年还没有计算过月积分（启用月份之前的月份不计），暂无法提出建议"
POOR_MONTHS = "{n}个月低于{below:g}分（差）"
LAGGING_MONTHS = "{n}个月落后"
NOT_SERIOUS = "被观察员{what}（组织生活不认真）"
STOPS = "叫停{n}次"
REOPENS = "责令重开{n}次"
IRREGULAR = "{n}个月规定的会议没有开齐（组织生活不经常）"
IRREGULAR_RECORDS = "{n}个月会议记录没有按时完成（组织生活不规范）"
CAPPED = "按规定不得评为较好及以上"
OVERDUE = "年底仍有{n}项整改逾期未销号，不宜评为好"
OVERDUE_NOW = "目前有{n}项整改逾期未销号，不宜评为好"
PROPOSE = "建议评为{grade}"

# Refusals (the console answers with these; nothing is changed).
NOT_RATER = "只有上级党委的书记、副书记、组织委员或组织部可以评定支部的年度等次，支部书记不能评定本支部。"
BAD_GRADE = "请选择评定等次：好、较好、一般或差。"
NEED_REASON = "评定等次与系统建议（{proposed}）不同，请填写调整的理由。"
REASON_TOO_LONG = "理由请控制在500字以内。"
BAD_YEAR = "年份应为 2026 这样的四位数。"
SAVED = "已将{branch}{year}年度评定为{grade}。"

# Console page.
TITLE = "支部年度评定"
NO_PROPOSAL = "暂无建议"
NOT_CONFIRMED = "待评定"
