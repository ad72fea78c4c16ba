"""The 已交 page the fee-day reminder links to: /h5/fees/pay/{YYYY-MM}.

The reminder is a card with a link rather than a callback button, so the platforms take it for many
people per call (handlers.fees.jobs.PAY_PAGE). The page identifies the member through the shared
login-free H5 session (bot.web.h5), shows their fee status, and a POST records 已交 for the month
exactly as the chat command does (handlers.fees.chat.report_and_notify): reported, waiting for the
collector, whose card is updated.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from bot.web.h5 import H5Pages, feature_router
from handlers.common import dates
from handlers.fees import arrears, strings
from handlers.fees.chat import report_and_notify, status_text
from handlers.fees.jobs import PAY_PAGE
from handlers.fees.policy import default_policy
from models.db import unit_of_work

PREFIX = "/h5/fees"


def _month(text: str) -> date | None:
    """ "2026-11" → 2026-11-01; None for anything else."""
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


@feature_router(prefix=PREFIX, not_member=(strings.PAY_PAGE_TITLE, strings.NOT_BOUND))
def build_fees_router(h5: H5Pages) -> APIRouter:
    session_factory, clock = h5.session_factory, h5.clock
    router = h5.router()
    pay_path = PAY_PAGE.removeprefix(PREFIX) + "/{month}"  # the reminder links here

    def message(request: Request, text: str, status: int, ok: bool = False):
        return h5.message(request, strings.PAY_PAGE_TITLE, text, status, ok=ok)

    @router.get(pay_path)
    def page(request: Request, month: str):
        m = _month(month)
        if m is None:
            return message(request, strings.PAY_PAGE_BAD_MONTH, 400)
        now = clock()
        with session_factory() as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            # A Refused goes to the app's one handler.
            st = arrears.member_status(session, person, now, tz=h5.core.tz, default=default_policy(h5.core))
            local_year = now.astimezone(h5.core.tz).year
            return h5.page(
                request,
                "fees/pay.html",
                title=f"{strings.PAY_PAGE_TITLE}：{dates.fmt_month(m)}",
                viewer=person.name,
                status=status_text(st, local_year),
                can_report=m in st.unpaid_months,
                button=strings.PAY_PAGE_BUTTON.format(month=dates.fmt_month(m)),
                done=strings.PAY_PAGE_DONE.format(month=dates.fmt_month(m)),
            )

    @router.post(pay_path)
    def report(request: Request, month: str):
        m = _month(month)
        if m is None:
            return message(request, strings.PAY_PAGE_BAD_MONTH, 400)
        now = clock()
        # A Refused leaves unit_of_work, which rolls back, and reaches the app's one handler (the H5
        # message page for this plain form post).
        with unit_of_work(session_factory) as session:
            person = h5.person(request, session)
            if person is None:
                return h5.identify(request)
            answer = report_and_notify(
                session,
                person,
                [m],
                now=now,
                local_day=now.astimezone(h5.core.tz).date(),
                update_key=f"h5:{person.id}:{now.isoformat()}",
                tz=h5.core.tz,
                default=default_policy(h5.core),
            )
        return message(request, answer, 200, ok=True)

    return router
