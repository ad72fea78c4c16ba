"""台账 (#17 item 3): the 观察员台账 of a unit as a page, an .xlsx and a printable .docx, at
/console/ledgers/{unit_id}/observers(.xlsx|.docx)?period=…; out of scope: 404 (LedgerPages). An
observer sees only their own records (handlers.ledgers.observers decides, from the Scope). A unit above
a branch gets its .xlsx and its .docx (one section per observer) from the background (生成台账 on the
page and the hub, Excel or Word: handlers.ledgers.exports); the direct routes answer it 400 saying so.
A unit seen only as its observer (their own records: a few pages) stays a download, as a branch's."""

from fastapi import APIRouter, Request

from bot.web.api.schemas import Id
from bot.web.console.deps import ConsoleApp, Viewer, viewer_type
from bot.web.console.ledgers import LedgerPages
from handlers.ledgers import observers as observers_ledger
from handlers.ledgers import strings as ledger_strings
from handlers.ledgers.observers_export import observers_docx, observers_xlsx
from handlers.ledgers.workbook import DOCX, XLSX, download_name
from handlers.observers.forms import observers_config
from handlers.observers.periods import local_day


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    kit = LedgerPages(console)

    def data(
        viewer: Viewer, unit_id: int, period: str | None, *, file: str = ""
    ) -> observers_ledger.ObserversLedger:
        """The ledger; `file` ("xlsx" | "docx"): for a direct download, refused above a branch the viewer
        leads (its file is built in the background)."""
        unit = kit.unit_of(viewer, unit_id)
        if file and viewer.scope.can_edit_unit(unit):
            kit.branch_file(unit, word=file == "docx")
        return observers_ledger.observers_ledger(
            viewer.session, viewer.scope, unit, kit.pick(period), now=console.clock(),
            cfg=observers_config(console.core),
        )  # fmt: skip

    def name(ledger: observers_ledger.ObserversLedger, ext: str) -> str:
        return download_name(ledger.unit.name, ledger_strings.OBSERVERS, ledger.period.label, ext=ext)

    @router.get("/ledgers/{unit_id}/observers")
    def observers_page(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        ledger, refused = kit.loaded(request, viewer, lambda: data(viewer, unit_id, period))
        if refused:
            return refused
        return kit.page(request, viewer, "console/ledgers_observers.html",
                        title=f"{ledger.unit.name} {ledger_strings.OBSERVERS}", unit=ledger.unit,
                        period=ledger.period, ledger=ledger, crumbs=kit.crumbs(viewer, ledger.unit),
                        exports=kit.exports(viewer, ledger.unit), **kit.export_context())  # fmt: skip

    @router.get("/ledgers/{unit_id}/observers.xlsx")
    def observers_xlsx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        ledger, refused = kit.loaded(request, viewer, lambda: data(viewer, unit_id, period, file="xlsx"))
        if refused:
            return refused
        return kit.download(observers_xlsx(ledger, console.core.tz), XLSX, name(ledger, "xlsx"))

    @router.get("/ledgers/{unit_id}/observers.docx")
    def observers_docx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        ledger, refused = kit.loaded(request, viewer, lambda: data(viewer, unit_id, period, file="docx"))
        if refused:
            return refused
        today = local_day(console.clock(), observers_config(console.core))
        return kit.download(observers_docx(ledger, console.core.tz, today=today), DOCX, name(ledger, "docx"))

    return router
