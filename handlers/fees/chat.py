"""党费 in chat: 已交, 党费, 党费确认 (with its card), 党费名单, and the card buttons.

Every refusal is a bot.core.errors.Refused raised before any change; the dispatcher answers it in
Chinese and rolls back to its savepoint.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Button, Card, CardUpdate, Markdown, Text, md_escape
from bot.core.router import Router, any_role, bound
from handlers.common import dates, roles
from handlers.delivery import branches_held
from handlers.fees import arrears, payments, policy, strings
from handlers.fees.months import parse_months
from handlers.fees.policy import Policy, local_month
from models.fees import PAYMENT_METHOD_LABELS, FeePayment
from models.org import OrgUnit, Person, Role

router = Router("fees")

CONFIRM_ACTION = "fees.confirm"
CONFIRM_ALL_ACTION = "fees.confirm_all"
MAX_CARD_BUTTONS = 10  # one per pending payment on the card; the rest via 全部确认

collector = any_role(Role.FEE_COLLECTOR, Role.SECRETARY)


def _local_day(ctx: HandlerContext) -> date:
    return ctx.local_now.date()


# --- the collector's card ------------------------------------------------------------------------


def card_key(branch_id: int) -> str:
    return f"fee-pending:{branch_id}"


def pending_card_parts(session: Session, branch: OrgUnit) -> tuple[str, str, tuple[Button, ...]]:
    pending = payments.pending_payments(session, branch.id)
    title = strings.PENDING_TITLE.format(branch=branch.name)
    if not pending:
        return title, strings.PENDING_EMPTY.format(branch=md_escape(branch.name)), ()
    payers = {
        p.id: p.name
        for p in session.scalars(
            select(Person).where(
                Person.id.in_({pay.paid_by_person_id for pay, _ in pending if pay.paid_by_person_id})
            )
        )
    }
    lines, buttons = [], []
    for pay, person in pending:
        how = PAYMENT_METHOD_LABELS[pay.method]
        payer = pay.paid_by_name or payers.get(pay.paid_by_person_id or 0)
        if payer:
            how += strings.PENDING_PROXY.format(payer=md_escape(payer))
        lines.append(
            strings.PENDING_LINE.format(
                name=md_escape(person.name),
                month=dates.fmt_month(pay.month),
                amount=strings.yuan(pay.amount or None),
                how=how,
            )
        )
        if len(buttons) < MAX_CARD_BUTTONS:
            buttons.append(
                Button(
                    label=strings.BUTTON_CONFIRM_ONE.format(name=f"{person.name}{pay.month.month}月"),
                    action=CONFIRM_ACTION,
                    params={"payment_id": str(pay.id)},
                )
            )
    if len(pending) > MAX_CARD_BUTTONS:
        lines.append(strings.PENDING_MORE.format(n=len(pending) - MAX_CARD_BUTTONS))
    buttons.append(
        Button(
            label=strings.BUTTON_CONFIRM_ALL, action=CONFIRM_ALL_ACTION, params={"branch_id": str(branch.id)}
        )
    )
    return title, "\n".join(lines), tuple(buttons)


def collectors_of(session: Session, branch_id: int) -> list[int]:
    """Who confirms for a branch: its 党费收缴员, or the 书记 when it has none."""
    holders = roles.people_by_role(session, branch_id, payments.COLLECTING_ROLES)
    return holders.get(Role.FEE_COLLECTOR) or holders.get(Role.SECRETARY, [])


def notify_collectors(
    session: Session,
    branch: OrgUnit,
    *,
    now: datetime,
    local_day: date,
    update_key: str,
    exclude: int | None = None,
) -> None:
    """Give each collector today's pending card, or update the one they already have.

    `update_key` names the change (the chat event, the H5 request) so that each change updates the
    card once."""
    title, text, buttons = pending_card_parts(session, branch)
    for pid in collectors_of(session, branch.id):
        if pid == exclude:
            continue
        new = outbox.enqueue_to_people(
            session,
            [pid],
            Card(title=title, text=text, buttons=buttons, card_key=card_key(branch.id)),
            dedup_key=f"fee-pending:{branch.id}:{local_day.isoformat()}",
            now=now,
        )
        if not new:
            outbox.enqueue_to_people(
                session,
                [pid],
                CardUpdate(card_key=card_key(branch.id), title=title, text=text, buttons=buttons),
                dedup_key=f"fee-pending:{branch.id}:update:{update_key}",
                now=now,
            )


def report_and_notify(
    session: Session,
    person: Person | None,
    months: list[date],
    *,
    now: datetime,
    local_day: date,
    update_key: str,
    tz: ZoneInfo,
    default: Policy,
) -> str:
    """A member's 已交 (in chat or on the H5 page): record it, update the collectors' card, and
    return the answer. Raises Refused (nothing changed) for a month that cannot be reported.
    `tz` and `default`: the configured zone and fee policy (settings.timezone, default_policy(core))."""
    changed = payments.report_paid(session, person, months, now, tz=tz, default=default)
    if not changed:
        return strings.REPORTED_NOTHING.format(months="、".join(dates.fmt_month(m) for m in months))
    total = sum((p.amount for p in changed), start=changed[0].amount * 0)
    branch = session.get(OrgUnit, person.branch_id)
    notify_collectors(session, branch, now=now, local_day=local_day, update_key=update_key, exclude=person.id)
    return strings.REPORTED_OK.format(
        months="、".join(dates.fmt_month(p.month) for p in changed), amount=strings.yuan(total)
    )


def _report(ctx: HandlerContext, months: list[date]) -> None:
    answer = report_and_notify(
        ctx.session,
        ctx.person,
        months,
        now=ctx.now,
        local_day=_local_day(ctx),
        update_key=ctx.event.event_id,
        tz=ctx.config.tz,
        default=policy.default_policy(ctx.config),
    )
    ctx.reply(Text(answer))


@router.command("已交", "已缴", "交了", help=strings.HELP_PAID, audience=bound)
def paid(ctx: HandlerContext, args: str) -> None:
    months = parse_months(args, local_month(ctx.now, ctx.config.tz)) or [local_month(ctx.now, ctx.config.tz)]
    _report(ctx, months)


@router.command("党费", "我的党费", help=strings.HELP_STATUS, audience=bound)
def my_fees(ctx: HandlerContext, _args: str) -> None:
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    st = arrears.member_status(
        ctx.session, ctx.person, ctx.now, tz=ctx.config.tz, default=policy.default_policy(ctx.config)
    )
    ctx.reply(Markdown(strings.STATUS_TITLE, status_text(st, ctx.local_now.year)))


def status_text(st: arrears.FeeStatus, this_year: int) -> str:
    """A member's own fee status, as 党费 answers it and the H5 已交 page shows it."""
    unpaid = "、".join(
        f"{m.month}月" if m.year == this_year else dates.fmt_month(m) for m in st.unpaid_months
    )
    return strings.STATUS_LINES.format(
        fee_day=dates.fmt_day_weekday(st.fee_day.day)
        + (f"（{md_escape(st.fee_day.reason)}）" if st.fee_day.moved else ""),
        monthly=strings.yuan(st.monthly),
        this_month=st.this_month,
        unpaid=unpaid or strings.STATUS_NONE_UNPAID,
        due=strings.yuan(st.total_due),
    )


# --- collector commands and buttons --------------------------------------------------------------


def _collecting_branches(ctx: HandlerContext) -> list[OrgUnit]:
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    branches = branches_held(ctx, payments.COLLECTING_ROLES)
    if not branches:
        raise Refused(strings.NO_BRANCH_ROLE, status=403)
    return sorted(branches, key=lambda b: b.name)


@router.command("党费确认", "确认党费", help=strings.HELP_CONFIRM, audience=collector)
def confirm_card(ctx: HandlerContext, _args: str) -> None:
    for branch in _collecting_branches(ctx):
        title, text, buttons = pending_card_parts(ctx.session, branch)
        ctx.reply(Card(title=title, text=text, buttons=buttons, card_key=card_key(branch.id)))


def _after_confirm(ctx: HandlerContext, branch_id: int, payments: list[FeePayment]) -> None:
    # Each member hears once of everything confirmed for them by this press, months listed. The key
    # names exactly these payments: it never meets the day's reminder key (fee_message_key), which
    # used to swallow the confirmation on a fee day, nor another confirmation of other months.
    by = ctx.person.name
    mine: dict[int, list[FeePayment]] = defaultdict(list)
    for p in payments:
        mine[p.person_id].append(p)
    for person_id, paid in mine.items():
        paid.sort(key=lambda p: p.month)
        total = sum((p.amount for p in paid), Decimal(0))
        outbox.enqueue_to_people(
            ctx.session,
            [person_id],
            Text(
                strings.CONFIRMED_NOTICE.format(
                    months="、".join(dates.fmt_month(p.month) for p in paid),
                    amount=strings.yuan(total)
                    if len(paid) == 1
                    else strings.CONFIRMED_TOTAL.format(amount=strings.yuan(total)),
                    by=by,
                )
            ),
            dedup_key="fee-confirmed:" + ",".join(str(p.id) for p in paid),
            now=ctx.now,
        )
    branch = ctx.session.get(OrgUnit, branch_id)
    title, text, buttons = pending_card_parts(ctx.session, branch)
    ctx.send(
        collectors_of(ctx.session, branch_id),
        CardUpdate(card_key=card_key(branch_id), title=title, text=text, buttons=buttons),
        dedup_key=f"fee-pending:{branch_id}:update:{ctx.event.event_id}",
    )


def _int(params: dict[str, str], name: str) -> int:
    try:
        return int(params.get(name, ""))
    except ValueError:
        raise Refused(strings.PAYMENT_NOT_FOUND, status=404) from None


@router.action(CONFIRM_ACTION)
def confirm_one(ctx: HandlerContext, params: dict[str, str]) -> None:
    payment = payments.confirm_payment(ctx.session, ctx.person, _int(params, "payment_id"), ctx.now)
    person = ctx.session.get(Person, payment.person_id)
    ctx.reply(
        Text(
            strings.CONFIRMED_ONE.format(
                name=person.name, month=dates.fmt_month(payment.month), amount=strings.yuan(payment.amount)
            )
        )
    )
    _after_confirm(ctx, payment.branch_id, [payment])


@router.action(CONFIRM_ALL_ACTION)
def confirm_everyone(ctx: HandlerContext, params: dict[str, str]) -> None:
    branch_id = _int(params, "branch_id")
    done = payments.confirm_all(ctx.session, ctx.person, branch_id, ctx.now)
    ctx.reply(Text(strings.CONFIRMED_ALL.format(n=len(done)) if done else strings.CONFIRMED_NONE))
    if done:
        _after_confirm(ctx, branch_id, done)


@router.command("党费名单", "未交党费", "党费未交", help=strings.HELP_LIST, audience=collector)
def unpaid_list(ctx: HandlerContext, _args: str) -> None:
    month = local_month(ctx.now, ctx.config.tz)
    default = policy.default_policy(ctx.config)
    for branch in _collecting_branches(ctx):
        unpaid = arrears.unpaid_members(ctx.session, [branch.id], month, default=default)
        pending = len(payments.pending_payments(ctx.session, branch.id))
        fd = policy.fee_day_for(ctx.session, branch, month, default)
        if not unpaid:
            ctx.reply(Text(strings.UNPAID_EMPTY.format(branch=branch.name, month=dates.fmt_month(month))))
            continue
        lines = [
            strings.UNPAID_HEADING.format(branch=md_escape(branch.name), month=dates.fmt_month(month)),
            "",
            strings.UNPAID_COLUMNS,
        ]
        lines += [
            strings.UNPAID_LINE.format(name=md_escape(m.name), amount=strings.yuan(m.amount)) for m in unpaid
        ]
        lines.append(
            strings.UNPAID_FOOTER.format(
                n=len(unpaid), pending=pending, fee_day=dates.fmt_day_weekday(fd.day)
            )
        )
        ctx.reply(
            Markdown(
                strings.UNPAID_TITLE,
                "\n".join(lines),
            )
        )
