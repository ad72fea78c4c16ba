"""消息台账 (#17 item 5): /console/ledgers/{unit}/messages (a page of the unit's messages, filtered by
?status= and ?kind=, paged by ?before=<row id>), messages.xlsx (a branch's: the same rows, all of them;
a unit above a branch gets its file, every message of the period, from the background: 生成台账 on the
page and the hub, handlers.ledgers.exports), and POST messages/resend (补发 of the 未送达 rows ticked,
or the one whose button was pressed).

The data and the 补发 rules are handlers.ledgers.messages'; these routes parse, render and answer 404
for a unit the viewer does not lead (LedgerPages; an observer included). The POST carries
the CSRF token (checked by the Viewer dependency) and commits with the request's unit of work, under
the viewer in the audit log.
"""

from typing import Annotated

from annotated_types import Ge
from fastapi import APIRouter, Form, Request

from bot.web.api.schemas import Id
from bot.web.console.deps import ConsoleApp, Viewer, viewer_type
from bot.web.console.ledgers import LedgerPages
from handlers.ledgers import messages
from handlers.ledgers import strings as ledger_strings
from handlers.ledgers.workbook import XLSX, download_name
from handlers.meetings.types import meetings_config


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    kit = LedgerPages(console)
    tz = console.core.tz

    def data(viewer: Viewer, unit_id: int, period: str | None, status: str | None, kind: str | None,
             before: int | None) -> messages.MessagesLedger:  # fmt: skip
        unit = kit.unit_of(viewer, unit_id)
        st, kd = messages.parse_filters(status, kind)
        return messages.messages_ledger(viewer.session, viewer.scope, unit, kit.pick(period), tz=tz, status=st,
                                        kind=kd, before=before)  # fmt: skip

    def render(request: Request, viewer: Viewer, ledger: messages.MessagesLedger, notices: list[str] = ()):
        return kit.page(request, viewer, "console/ledgers_messages.html",
                        title=f"{ledger.unit.name} {ledger_strings.MESSAGES}", unit=ledger.unit,
                        period=ledger.period, ledger=ledger, crumbs=kit.crumbs(viewer, ledger.unit), m=messages,
                        notices=list(notices), exports=kit.exports(viewer, ledger.unit),
                        **kit.export_context())  # fmt: skip

    @router.get("/ledgers/{unit_id}/messages")
    def messages_page(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None,
                      status: str | None = None, kind: str | None = None,
                      before: Annotated[int, Ge(1)] | None = None):  # fmt: skip
        ledger, refused = kit.loaded(
            request, viewer, lambda: data(viewer, unit_id, period, status, kind, before)
        )
        if refused:
            return refused
        return render(request, viewer, ledger)

    @router.get("/ledgers/{unit_id}/messages.xlsx")
    def messages_xlsx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None,
                           status: str | None = None, kind: str | None = None):  # fmt: skip
        def load():
            unit = kit.unit_of(viewer, unit_id)  # a unit outside the scope is a 404 page, not a broken file
            messages.check(viewer.scope, unit)  # nor one only observed (the rows are read lazily below)
            kit.branch_file(unit)
            return unit, kit.pick(period), messages.parse_filters(status, kind)

        found, refused = kit.loaded(request, viewer, load)
        if refused:
            return refused
        unit, p, (st, kd) = found
        # The rows are read a chunk at a time as the sheet is written (the same query as the pages).
        lines = messages.all_lines(viewer.session, viewer.scope, unit, p, tz=tz, status=st, kind=kd)
        name = download_name(unit.name, ledger_strings.MESSAGES, p.label, ext="xlsx")
        return kit.download(messages.messages_xlsx(lines, unit, p, tz), XLSX, name)

    def row_id(value: str) -> int | None:
        # ASCII digits only: str.isdigit() also takes 「²」, which int() refuses (a 500, not a notice).
        return int(value) if value.isascii() and value.isdecimal() else None

    # A plain def: FastAPI parses the form before it, and runs the database work in its thread pool
    # rather than on the event loop.
    @router.post("/ledgers/{unit_id}/messages/resend")
    def messages_resend(request: Request, viewer: ViewerDep, unit_id: Id, row: list[str] = Form([]),
                        one: str = Form(""), period: str = Form(""), status: str = Form(""),
                        kind: str = Form("")):  # fmt: skip
        # the row's own button: that row alone, whatever else is ticked; an id that is not one is no row
        picked = [one] if one else row
        ids = [i for i in map(row_id, picked) if i is not None]
        period, status, kind = period or None, status or None, kind or None

        def act():
            unit = kit.unit_of(viewer, unit_id)
            p = kit.pick(period)
            return messages.resend(viewer.session, viewer.scope, unit, ids, now=console.clock(),
                                   cfg=meetings_config(console.core)), p  # fmt: skip

        found, refused = kit.loaded(request, viewer, act)
        if refused:
            return refused
        outcome, _ = found
        viewer.session.flush()
        ledger = data(viewer, unit_id, period, status, kind, None)
        return render(request, viewer, ledger, outcome.notices())

    return router
