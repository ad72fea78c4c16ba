"""`zhibu run-job monthly --period 2026-10 [--send]`: recompute a month's scores and show what changed.

Without --send only the scores (and the ladder rows) are recomputed and stored; nothing is sent.
With --send the ladder notices and the digests are queued as well (each at most once: a unit's
notice or digest already sent for that month is not sent again) and the month's period is claimed,
so the scheduler does not run it a second time.

A month before the start month (`zhibu golive`), or any month while none is set, is refused with
the reason, and nothing is computed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cli.common import core_config, database, echo, fail, settings, settle_heap
from handlers.monthly import service, strings
from models.startmonth import BeforeStartMonth

TEXT = {
    "bad_period": "请用 --period 指定月份，如 --period 2026-10。",
    "summary": "{month}：共{n}个单位，新增{inserted}个，变化{updated}个，不变{unchanged}个。",
    "change": "- {name}：{old:g} → {new:g}（第{old_rank}名 → 第{new_rank}名{lag}；变化：{items}）",
    "lag_on": "，列为落后",
    "lag_off": "，不再落后",
    "more": "……另有{n}个单位有变化。",
    "sent": "已排队：约谈提醒{notices}条，结束提醒{ended}个，党员提示{members}条，月度通报{digests}条，"
    "未落实提醒{reminders}条。",
    "not_sent": "未发送任何消息（加 --send 发送提醒和通报）。",
}
ITEM_NAMES = {**strings.ITEM_LABELS, "completion": "完成率", "penalties": "扣分"}


def run_monthly(period: str, *, send: bool) -> None:
    from scheduler.runner import claim_period

    if not period:
        fail(TEXT["bad_period"])
    try:
        month = service.parse_period(period)
    except ValueError as exc:
        fail(str(exc))
    s = settings()
    core = core_config(s)
    _, session_factory = database(s)
    settle_heap()
    now = datetime.now(UTC)
    try:
        with session_factory() as session, session.begin():
            result = service.run_month_for(session, month, core, now=now, send=send)
            if send:
                claim_period(session, "monthly", f"{month:%Y-%m}", now=now, trigger="manual")
    except BeforeStartMonth as exc:
        fail(exc.reason)
    st = result.stored
    echo(TEXT["summary"].format(month=strings.fmt_month(month), n=st.inserted + st.updated + st.unchanged,
                                inserted=st.inserted, updated=st.updated, unchanged=st.unchanged))  # fmt: skip
    for c in st.changes[:30]:
        lag = "" if c.old_lagging == c.new_lagging else TEXT["lag_on" if c.new_lagging else "lag_off"]
        echo(TEXT["change"].format(name=c.name, old=c.old_score, new=c.new_score, old_rank=c.old_rank,
                                   new_rank=c.new_rank, lag=lag,
                                   items="、".join(ITEM_NAMES.get(i, i) for i in c.changed_items) or "排名"))  # fmt: skip
    if len(st.changes) > 30:
        echo(TEXT["more"].format(n=len(st.changes) - 30))
    if send:
        echo(TEXT["sent"].format(notices=result.units.notices, ended=result.units.ended,
                                 members=result.members.notices, digests=result.digests,
                                 reminders=result.reminders))  # fmt: skip
    else:
        echo(TEXT["not_sent"])
