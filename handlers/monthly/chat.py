"""Chat: 本月积分 / 排名 for secretaries and committee leaders, and the 已阅 / 已约谈 buttons of the notices."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from bot.core.context import HandlerContext
from bot.core.messages import Card, CardUpdate, Markdown, Text, md_escape
from bot.core.router import Router, any_role
from handlers.meetings.types import meetings_config
from handlers.monthly import strings, watch
from handlers.monthly.config import monthly_config
from handlers.monthly.digest import (
    ALL,
    MonthData,
    available,
    committee_ranking,
    load,
    text_for,
    unit_name,
    viewable_units,
    visible,
)
from handlers.monthly.ladder import ACK_ACTION, MEMBER_LADDERS, member_notice, member_run, unit_notice
from handlers.monthly.scoring import load_units
from models.monthly import AckKind, Escalation, Ladder, MonthlyScore
from models.org import OrgUnit, Role, UnitKind

router = Router("monthly")

leaders = any_role(Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.ORG_STAFF)
ACK_LABELS = {AckKind.READ: strings.ACK_READ, AckKind.INTERVIEWED: strings.ACK_INTERVIEWED}


def _my_unit(ctx: HandlerContext) -> int | None:
    """The unit a person's score question is about: their branch as its secretary, else their
    committee as its leader, else what 组织部 staff cover (a unit, or ALL for the whole tree)."""
    direct, over, everything = viewable_units(ctx.session, ctx.person.id, monthly_config(ctx.config))
    if ctx.person.branch_id in direct:
        return ctx.person.branch_id
    committee = ctx.session.scalar(
        select(func.min(OrgUnit.id)).where(OrgUnit.id.in_(direct), OrgUnit.kind == UnitKind.COMMITTEE)
    )
    if committee is not None:
        return committee
    if everything:
        return ALL
    # 组织部 staff of a subtree: the highest unit they cover (the county, or a committee).
    top = ctx.session.scalar(
        select(OrgUnit.id)
        .where(OrgUnit.id.in_(over))
        .order_by(func.length(OrgUnit.path), OrgUnit.id)
        .limit(1)
    )
    return top if top is not None else next(iter(sorted(direct)), None)


def _latest(ctx: HandlerContext, unit_id: int) -> MonthlyScore | None:
    return ctx.session.scalar(
        select(MonthlyScore)
        .where(MonthlyScore.unit_id == unit_id)
        .order_by(MonthlyScore.month.desc())
        .limit(1)
    )


def _overview(ctx: HandlerContext, unit_id: int) -> MonthData | None:
    """The latest month's scores under a unit with no score of its own (the whole tree, a county):
    the 组织部 view, the same the digest gives them."""
    month = ctx.session.scalar(select(func.max(MonthlyScore.month)))
    if month is None:
        return None
    data = load(ctx.session, month, meetings_config(ctx.config), with_details=False, scope=unit_id)
    return data if available(data, unit_id) else None


def _scope(ctx: HandlerContext) -> tuple[int, MonthlyScore | None, MonthData | None] | None:
    """The asker's unit with its latest score, or (a unit with no score of its own: the county) the
    overview of the committees under it; None once the asker has been told why there is none."""
    if ctx.person is None:
        ctx.reply(Text(strings.NOT_BOUND))
        return None
    unit_id = _my_unit(ctx)
    if unit_id is None:
        ctx.reply(Text(strings.NO_SCOPE))
        return None
    row = _latest(ctx, unit_id) if unit_id != ALL else None
    if row is not None:
        return unit_id, row, None
    data = _overview(ctx, unit_id)
    if data is None:
        ctx.reply(Text(strings.NOTHING_YET))
        return None
    return unit_id, None, data


@router.command("本月积分", "积分", "月积分", help=strings.CMD_SCORE_HELP, audience=leaders)
def my_score(ctx: HandlerContext, _args: str) -> None:
    scope = _scope(ctx)
    if scope is None:
        return
    unit_id, row, data = scope
    if row is None:
        title = strings.SCORE_TITLE.format(unit=unit_name(data, unit_id), month=strings.fmt_month(data.month))
        ctx.reply(Card(title=title, text=text_for(data, unit_id, monthly_config(ctx.config).committee_kinds)))
        return
    unit = ctx.session.get(OrgUnit, unit_id)
    exp = row.explanation or {}
    group = strings.group_label(row.peer_group, monthly_config(ctx.config).committee_kinds)
    lines = [f"{group}第{row.rank}名（共{row.group_size}个）"]
    if row.lagging:
        lines.append(
            strings.DIGEST_LAGGING.format(reasons=strings.lag_reasons(exp.get("lagging", []))).lstrip("，")
        )
    rule = strings.rank_rule(exp.get("rank") or {}, row.unit_kind)
    if rule:
        lines.append(rule)
    if "formula" in exp:
        lines.append(strings.explain(row.score, exp))
    missing = strings.missing_text(exp.get("missing", []))
    if missing:
        lines.append("未完成：\n" + "\n".join(f"- {m}" for m in missing))
    ctx.reply(
        Card(
            title=strings.SCORE_TITLE.format(unit=unit.name, month=strings.fmt_month(row.month)),
            text=f"**得分 {row.score:g}**\n\n" + "\n\n".join(lines),
        )
    )


@router.command("排名", "积分排名", help=strings.CMD_RANK_HELP, audience=leaders)
def ranking(ctx: HandlerContext, _args: str) -> None:
    scope = _scope(ctx)
    if scope is None:
        return
    unit_id, row, data = scope
    if row is None:
        # 组织部: every committee, ranked within its kind (the county has no score of its own).
        ctx.reply(
            Card(
                title=strings.RANK_TITLE.format(
                    group=unit_name(data, unit_id), month=strings.fmt_month(data.month)
                ),
                text=committee_ranking(data, unit_id, monthly_config(ctx.config).committee_kinds),
            )
        )
        return
    units = load_units(ctx.session)
    peers = ctx.session.execute(
        select(MonthlyScore.unit_id, MonthlyScore.rank, MonthlyScore.score, MonthlyScore.lagging)
        .where(MonthlyScore.month == row.month, MonthlyScore.peer_group == row.peer_group)
        .order_by(MonthlyScore.rank, MonthlyScore.unit_id)
    ).all()
    # Only peers this person may see by name; the others are counted, not named.
    scope = viewable_units(ctx.session, ctx.person.id, monthly_config(ctx.config))
    shown = [p for p in peers if visible(scope, p[0], units)]
    lines = [
        strings.RANK_LINE.format(rank=r, name=md_escape(units[u].name) if u in units else u, score=s,
                                 lag=strings.RANK_LAG if lag else "")
        for u, r, s, lag in shown[:30]
    ]  # fmt: skip
    lines.append(f"（同类共{len(peers)}个）")
    ctx.reply(
        Card(
            title=strings.RANK_TITLE.format(
                group=strings.group_label(row.peer_group, monthly_config(ctx.config).committee_kinds),
                month=strings.fmt_month(row.month),
            ),
            text="\n".join(lines),
        )
    )


def _targets(ctx: HandlerContext, params: dict[str, str]) -> list[Escalation]:
    if "id" in params:
        try:
            esc = ctx.session.get(Escalation, int(params["id"]))
        except ValueError:
            return []
        return [esc] if esc is not None else []
    try:
        ladder = Ladder(params.get("ladder", ""))
        branch_id = int(params.get("branch", ""))
        year, month = (int(p) for p in params.get("month", "").split("-"))
    except ValueError:
        return []
    return list(
        ctx.session.scalars(
            select(Escalation).where(
                Escalation.ladder == ladder,
                Escalation.unit_id == branch_id,
                Escalation.month == date(year, month, 1),
            )
        )
    )


def _addressed(person_id: int, esc: Escalation) -> bool:
    """Sent to this person: the notice's recorded addressees and copies, never anyone who merely
    may view the unit (the lagging branch's own secretary may see its scores, not 约谈 himself)."""
    detail = esc.detail or {}
    return person_id in (detail.get("to") or []) or person_id in (detail.get("cc") or [])


def _own_case(person_id: int, esc: Escalation) -> bool:
    return esc.ladder in MEMBER_LADDERS and esc.subject_id == person_id


@router.action(ACK_ACTION)
def acknowledge(ctx: HandlerContext, params: dict[str, str]) -> None:
    """已阅 / 已约谈 on a notice: recorded once, with who and when."""
    if ctx.person is None:
        ctx.reply(Text(strings.NOT_BOUND))
        return
    try:
        kind = AckKind(params.get("kind", ""))
    except ValueError:
        ctx.reply(Text(strings.ACK_MISSING))
        return
    targets = _targets(ctx, params)
    if not targets:
        ctx.reply(Text(strings.ACK_MISSING))
        return
    # A member card lists several members; each line was addressed to its own people, so a person
    # acknowledges the lines sent to them, and never the line about themselves.
    pid = ctx.person.id
    mine = [e for e in targets if _addressed(pid, e) and not _own_case(pid, e)]
    if not mine:
        own = any(_own_case(pid, e) for e in targets)
        ctx.reply(Text(strings.ACK_OWN_CASE if own else strings.ACK_NOT_YOURS))
        return
    targets = mine
    done = [e for e in targets if e.acknowledged_at is not None]
    if done and len(done) == len(targets):
        first = done[0]
        who = ctx.session.get(type(ctx.person), first.acknowledged_by_id)
        ctx.reply(
            Text(strings.ACK_ALREADY.format(who=who.name if who else "", kind=ACK_LABELS[first.ack_kind]))
        )
        return
    ids = [e.id for e in targets if e.acknowledged_at is None]
    ctx.session.execute(
        update(Escalation)
        .where(Escalation.id.in_(ids), Escalation.acknowledged_at.is_(None))
        .values(acknowledged_at=ctx.now, acknowledged_by_id=ctx.person.id, ack_kind=kind),
        execution_options={"synchronize_session": False},
    )
    now = ctx.local_now
    when = f"{now.month}月{now.day}日 {now:%H:%M}"
    state = strings.ACK_STATE.format(who=md_escape(ctx.person.name), when=when, kind=ACK_LABELS[kind])
    card = _acknowledged_card(ctx, targets, state)
    key = f"esc:{targets[0].id}" if "id" in params else (
        f"esc-member:{params.get('ladder')}:{params.get('branch')}:{params.get('month')}"
    )  # fmt: skip
    ctx.reply(CardUpdate(card_key=key, title=card.title, text=card.text, status_label=ACK_LABELS[kind]))


def _acknowledged_card(ctx: HandlerContext, targets: list[Escalation], state: str) -> Card:
    """The notice as it was sent, rebuilt from its rows, with who acknowledged it and when in place of
    the request to press: the unit, the rule and what was missing stay on the card."""
    first = targets[0]
    unit = ctx.session.get(OrgUnit, first.unit_id)
    name = unit.name if unit is not None else ""
    if first.ladder not in MEMBER_LADDERS:
        detail = dict(first.detail or {})
        if "rank" not in detail:  # notices sent before the rank was recorded with them
            row = ctx.session.scalar(
                select(MonthlyScore).where(
                    MonthlyScore.unit_id == first.unit_id, MonthlyScore.month == first.month
                )
            )
            if row is not None:
                detail.update(
                    group=row.peer_group, rank=row.rank, size=row.group_size, copied=bool(detail.get("cc"))
                )
        return unit_notice(
            first.ladder.value, name, detail, monthly_config(ctx.config).committee_kinds, state=state
        )
    # A member card lists every member of its branch, ladder and month: all of them, as sent.
    rows = ctx.session.scalars(
        select(Escalation).where(
            Escalation.ladder == first.ladder,
            Escalation.unit_id == first.unit_id,
            Escalation.month == first.month,
        )
    ).all()
    items = [(member_run(e.detail or {}, e.unit_id), e.rung) for e in rows]
    top = max(r.streak for r in monthly_config(ctx.config).member_ladder.rungs)
    return member_notice(first.ladder, name, first.month, items, top, state=state)


# --- the 自行脱党 watch's records (domain.md §2, E14–E15): entered by the branch, counted monthly ---

recorders = any_role(*watch.RECORDER_ROLES)


def _record(ctx: HandlerContext, use_case, args: str) -> None:
    """Run a record use case and answer (a refusal, bot.core.errors.Refused, is answered by the dispatcher)."""
    ctx.reply(Text(use_case(ctx.session, ctx.person, args, now=ctx.now, today=ctx.local_now.date())))


def _listing(ctx: HandlerContext, lister) -> None:
    title, text = lister(ctx.session, ctx.person, today=ctx.local_now.date())
    ctx.reply(Markdown(title=title, text=text))


@router.command("未做分配工作", help=strings.CMD_WORK_HELP, audience=recorders)
def work_not_done(ctx: HandlerContext, args: str) -> None:
    if not args:
        _listing(ctx, watch.work_list)
        return
    _record(ctx, watch.record_work_not_done, args)


@router.command("撤销未做分配工作", help=strings.CMD_WORK_UNDO_HELP, audience=recorders)
def work_not_done_withdraw(ctx: HandlerContext, args: str) -> None:
    _record(ctx, watch.withdraw_work_not_done, args)


@router.command("失联", "失去联系", help=strings.CMD_LOST_HELP, audience=recorders)
def lost_contact(ctx: HandlerContext, args: str) -> None:
    if not args:
        _listing(ctx, watch.lost_list)
        return
    _record(ctx, watch.record_lost_contact, args)


@router.command("恢复联系", "撤销失联", help=strings.CMD_RESTORE_HELP, audience=recorders)
def contact_restored(ctx: HandlerContext, args: str) -> None:
    _record(ctx, watch.restore_contact, args)
