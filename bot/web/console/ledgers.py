"""台账 pages (#17): /console/ledgers (pick a unit), /console/ledgers/{unit_id} (its ledgers), and each
ledger as a page and as downloads: meetings (.xlsx, .docx), fees (.xlsx), scores (.xlsx). A unit above a
branch gets its meetings, fees, observers and messages files from the background (生成台账,
/ledgers/{unit_id}/exports, with format=docx for a ledger's Word file), not from these downloads.
?period=2026 | 2026-H1 | 2026-Q4 | 2026-10 picks the period (default: this year).

The data comes from handlers.ledgers (the features' own queries, filtered by the viewer's Scope);
these routes parse, render and send files, and answer 404 for a unit outside the scope. LedgerPages
holds what every ledger's routes share; a ledger with routes of its own module takes it.
"""

from collections.abc import Callable
from datetime import date
from typing import TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from bot.web.api.schemas import Id
from bot.web.console.deps import PREFIX, ConsoleApp, Viewer, viewer_type
from handlers.common.dates import fmt_month
from handlers.console import overview, strings
from handlers.fees.policy import default_policy
from handlers.ledgers import exports as ledger_exports
from handlers.ledgers import fees as fees_ledger
from handlers.ledgers import meetings as meetings_ledger
from handlers.ledgers import scores as scores_ledger
from handlers.ledgers import strings as ledger_strings
from handlers.ledgers.fees_export import fees_xlsx
from handlers.ledgers.meetings_export import attendance_text, meetings_docx, meetings_xlsx
from handlers.ledgers.period import LedgerPeriod, parse_period, period_choices
from handlers.ledgers.scores_export import scores_xlsx
from handlers.ledgers.workbook import DOCX, XLSX, download_name
from handlers.meetings.types import local_day, meetings_config
from handlers.monthly.config import monthly_config
from models.exports import READY, LedgerExport
from models.org import UNIT_KIND_LABELS, OrgUnit, UnitKind

UNIT_LIST_LIMIT = 300
HUB_FILES = 5  # a ledger's latest background files listed under its 生成台账 button
BACK_PAGES = ("fees", "observers", "messages")  # a ledger's own page that asked for its file (else the hub)

T = TypeVar("T")


class LedgerPages:
    """What every ledger's routes share: the period, the scope check, the page, the download. One per
    console; each ledger's router (this module's, ledgers_observers, ledgers_messages) takes it."""

    def __init__(self, console: ConsoleApp) -> None:
        self.console = console

    def this_month(self) -> date:
        return self.console.this_month()

    def pick(self, period: str | None) -> LedgerPeriod:
        return parse_period(period, self.this_month())

    def not_found(self, request: Request, viewer: Viewer) -> HTMLResponse:
        return self.console.message(
            request, strings.NOT_FOUND_TITLE, strings.NOT_FOUND, status=404, viewer=viewer
        )

    def bad(self, request: Request, viewer: Viewer, text: str) -> HTMLResponse:
        return self.console.message(request, text, text, status=400, viewer=viewer)

    def loaded(
        self, request: Request, viewer: Viewer, load: Callable[[], T]
    ) -> tuple[T | None, HTMLResponse | None]:
        """What `load()` builds, or the page saying why not: 404 outside the viewer's scope (nothing
        disclosed), 400 a period that cannot be read or has not begun."""
        try:
            return load(), None
        except overview.NotInScope:
            return None, self.not_found(request, viewer)
        except ValueError as exc:
            return None, self.bad(request, viewer, str(exc))

    def page(self, request: Request, viewer: Viewer, name: str, **ctx) -> HTMLResponse:
        return self.console.page(
            request, name, viewer=viewer, nav="ledgers", L=ledger_strings, fmt_month=fmt_month,
            kind_labels={k.value: v for k, v in UNIT_KIND_LABELS.items()},
            tz=meetings_config(self.console.core).tz, periods=period_choices(self.this_month()), **ctx,
        )  # fmt: skip

    @staticmethod
    def download(content: bytes, media_type: str, name: str) -> Response:
        return Response(
            content,
            media_type=media_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )

    @staticmethod
    def child_units(viewer: Viewer, unit: OrgUnit | None) -> list[OrgUnit]:
        """The units a hub lists: a unit's children in scope, or the scope's outermost units."""
        stmt = select(OrgUnit).where(
            OrgUnit.active.is_(True), OrgUnit.kind != UnitKind.GROUP, viewer.scope.unit_clause()
        )  # a 党小组's records are its branch's
        if unit is not None:
            stmt = stmt.where(OrgUnit.parent_id == unit.id)
        rows = list(viewer.session.scalars(stmt.order_by(OrgUnit.path).limit(UNIT_LIST_LIMIT)))
        if unit is None:  # outermost: no ancestor of theirs is listed
            paths = [u.path for u in rows]
            rows = [u for u in rows if not any(u.path != p and u.path.startswith(p) for p in paths)]
        return sorted(rows, key=lambda u: (u.kind == UnitKind.BRANCH, u.name))

    @staticmethod
    def unit_of(viewer: Viewer, unit_id: int) -> OrgUnit:
        return overview.unit_in_scope(viewer.session, viewer.scope, unit_id)

    def exports(self, viewer: Viewer, unit: OrgUnit) -> dict[str, list[LedgerExport]]:
        """The viewer's latest background files of a unit above a branch, by ledger (the hub and the
        fees page list them under their 生成台账 button); none for a branch, whose files are direct."""
        if unit.kind == UnitKind.BRANCH:
            return {}
        # each ledger's own latest few: many fee files do not push a meetings file off the hub
        return {
            ledger: ledger_exports.exports_of(
                viewer.session, viewer.person.id, unit.id, ledger=ledger, limit=HUB_FILES
            )
            for ledger in ledger_exports.LEDGERS
        }

    @staticmethod
    def branch_file(unit: OrgUnit, *, word: bool = False) -> OrgUnit:
        """The unit, for a file built while the browser waits: a branch's. A unit above it has its files
        built in the background (handlers.ledgers.exports): ValueError, the page says where (生成台账,
        in Excel or, `word`, in Word)."""
        if unit.kind != UnitKind.BRANCH:
            raise ValueError(ledger_exports.TEXT["above_branch_docx" if word else "above_branch"])
        return unit

    def export_context(self) -> dict:
        """What console/ledgers_export.html needs beside the row."""
        return {
            "export_status": ledger_exports.status_text,
            "export_label": self.export_label,
            "export_word": ledger_exports.is_word,
            "word_ledgers": ledger_exports.WORD_LEDGERS,
        }

    @staticmethod
    def export_label(row: LedgerExport) -> str:
        name = ledger_exports.LEDGERS.get(ledger_exports.ledger_of(row.ledger), row.ledger)
        name += "（Word）" if ledger_exports.is_word(row.ledger) else ""  # a file is Excel unless it says
        try:  # a stored key always parses; the far month only lifts the not-yet-begun check
            return f"{name} · {parse_period(row.period, date(2100, 12, 1)).label}"
        except ValueError:
            return name

    @staticmethod
    def crumbs(viewer: Viewer, unit: OrgUnit) -> list[OrgUnit]:
        ids = [int(x) for x in unit.path.strip("/").split("/")[:-1] if x]
        if not ids:
            return []
        above = {u.id: u for u in viewer.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
        return [above[i] for i in ids if i in above and viewer.scope.sees_unit(above[i])]


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    kit = LedgerPages(console)
    this_month, pick, not_found, bad, loaded = kit.this_month, kit.pick, kit.not_found, kit.bad, kit.loaded
    page, download, child_units, unit_of, crumbs = (
        kit.page,
        kit.download,
        kit.child_units,
        kit.unit_of,
        kit.crumbs,
    )

    # --- the hubs -----------------------------------------------------------------------------------

    @router.get("/ledgers")
    def ledgers_index(request: Request, viewer: ViewerDep, period: str | None = None):
        p, refused = loaded(request, viewer, lambda: pick(period))
        if refused:
            return refused
        units = child_units(viewer, None)
        # Several top-level units and no county unit above them (the demo's 组织部, and any roster like
        # it): the whole scope's meetings file is offered here, since no unit's page covers it all.
        whole = ledger_exports.has_several_tops(viewer.session, viewer.scope)
        mine = ledger_exports.exports_of(viewer.session, viewer.person.id, None) if whole else []
        return page(request, viewer, "console/ledgers.html", title=ledger_strings.NAV, unit=None, units=units,
                    period=p, crumbs=[], whole_scope=whole, exports={"meetings": mine},
                    **kit.export_context())  # fmt: skip

    # The whole scope's file (unit null); before /ledgers/{unit_id}/… so that "all" is never read as an id.
    @router.post("/ledgers/all/exports")
    def export_request_all(
        request: Request, viewer: ViewerDep, ledger: str = Form(""), period: str = Form("")
    ):
        p, refused = loaded(request, viewer, lambda: pick(period))
        if refused:
            return refused
        if not ledger_exports.has_several_tops(viewer.session, viewer.scope):
            return not_found(request, viewer)
        try:
            ledger_exports.request_export(viewer.session, viewer.scope, None, ledger, p, now=console.clock())
        except ValueError as exc:
            return bad(request, viewer, str(exc))
        return RedirectResponse(f"{PREFIX}/ledgers?period={p.key}", status_code=303)

    @router.get("/ledgers/all/exports/{export_id}")
    def export_status_all(request: Request, viewer: ViewerDep, export_id: Id):
        return export_row(request, viewer, None, export_id)

    @router.get("/ledgers/all/exports/{export_id}/download")
    def export_download_all(request: Request, viewer: ViewerDep, export_id: Id):
        return export_file(request, viewer, None, export_id)

    @router.get("/ledgers/{unit_id}")
    def ledgers_unit(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        found, refused = loaded(request, viewer, lambda: (unit_of(viewer, unit_id), pick(period)))
        if refused:
            return refused
        unit, p = found
        return page(request, viewer, "console/ledgers.html", title=f"{unit.name} {ledger_strings.NAV}", unit=unit,
                    units=child_units(viewer, unit), period=p, crumbs=crumbs(viewer, unit),
                    exports=kit.exports(viewer, unit), **kit.export_context())  # fmt: skip

    # --- 组织生活纪实台账 ----------------------------------------------------------------------------------

    def meetings_data(viewer: Viewer, unit_id: int, period: str | None):
        unit = unit_of(viewer, unit_id)
        p = pick(period)
        cfg = meetings_config(console.core)
        ledger = meetings_ledger.meetings_ledger(
            viewer.session, viewer.scope, unit, p, now=console.clock(), cfg=cfg, current_month=this_month()
        )
        return ledger, cfg

    def meetings_failed(
        request: Request,
        viewer: Viewer,
        unit_id: int,
        period: str | None,
        exc: Exception,
        *,
        page_: bool = False,
    ):
        if isinstance(exc, overview.NotInScope):
            return not_found(request, viewer)
        if isinstance(exc, meetings_ledger.NotABranch) and not page_:
            return bad(request, viewer, ledger_strings.PICK_BRANCH)
        if isinstance(exc, meetings_ledger.NotABranch):
            unit = unit_of(viewer, unit_id)
            return page(request, viewer, "console/ledgers.html", title=f"{unit.name} {ledger_strings.NAV}",
                        unit=unit, units=child_units(viewer, unit), period=pick(period),
                        crumbs=crumbs(viewer, unit), notice=ledger_strings.PICK_BRANCH,
                        exports=kit.exports(viewer, unit), **kit.export_context())  # fmt: skip
        return bad(request, viewer, str(exc))

    @router.get("/ledgers/{unit_id}/meetings")
    def meetings_page(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        try:
            ledger, _ = meetings_data(viewer, unit_id, period)
        except (overview.NotInScope, meetings_ledger.NotABranch, ValueError) as exc:
            return meetings_failed(request, viewer, unit_id, period, exc, page_=True)
        return page(request, viewer, "console/ledgers_meetings.html", title=f"{ledger.branch.name} "
                    f"{ledger_strings.MEETINGS}", unit=ledger.branch, period=ledger.period, ledger=ledger,
                    crumbs=crumbs(viewer, ledger.branch), attendance_text=attendance_text)  # fmt: skip

    @router.get("/ledgers/{unit_id}/meetings.xlsx")
    def meetings_xlsx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        try:
            ledger, cfg = meetings_data(viewer, unit_id, period)
        except (overview.NotInScope, meetings_ledger.NotABranch, ValueError) as exc:
            return meetings_failed(request, viewer, unit_id, period, exc)
        name = download_name(ledger.branch.name, ledger_strings.MEETINGS, ledger.period.label, ext="xlsx")
        return download(meetings_xlsx(ledger, cfg.tz), XLSX, name)

    @router.get("/ledgers/{unit_id}/meetings.docx")
    def meetings_docx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        try:
            ledger, cfg = meetings_data(viewer, unit_id, period)
        except (overview.NotInScope, meetings_ledger.NotABranch, ValueError) as exc:
            return meetings_failed(request, viewer, unit_id, period, exc)
        photos = meetings_ledger.photo_bytes(viewer.session, [a for e in ledger.meetings for a in e.photos])
        content = meetings_docx(ledger, cfg.tz, photos, today=local_day(console.clock(), cfg))
        name = download_name(ledger.branch.name, ledger_strings.MEETINGS, ledger.period.label, ext="docx")
        return download(content, DOCX, name)

    # --- 党费台账 -----------------------------------------------------------------------------------------

    def fees_data(viewer: Viewer, unit_id: int, period: str | None) -> fees_ledger.FeesLedger:
        unit = unit_of(viewer, unit_id)
        p = pick(period)
        return fees_ledger.fees_ledger(
            viewer.session, viewer.scope, unit, p, current_month=this_month(), tz=console.core.tz,
            default=default_policy(console.core),
        )  # fmt: skip

    @router.get("/ledgers/{unit_id}/fees")
    def fees_page(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        ledger, refused = loaded(request, viewer, lambda: fees_data(viewer, unit_id, period))
        if refused:
            return refused
        return page(request, viewer, "console/ledgers_fees.html", title=f"{ledger.unit.name} {ledger_strings.FEES}",
                    unit=ledger.unit, period=ledger.period, ledger=ledger, crumbs=crumbs(viewer, ledger.unit),
                    fees=fees_ledger, exports=kit.exports(viewer, ledger.unit), **kit.export_context())  # fmt: skip

    @router.get("/ledgers/{unit_id}/fees.xlsx")
    def fees_xlsx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        def load():
            kit.branch_file(unit_of(viewer, unit_id))
            return fees_data(viewer, unit_id, period)

        ledger, refused = loaded(request, viewer, load)
        if refused:
            return refused
        name = download_name(ledger.unit.name, ledger_strings.FEES, ledger.period.label, ext="xlsx")
        return download(fees_xlsx(ledger), XLSX, name)

    # --- 月积分台账 ---------------------------------------------------------------------------------------

    def scores_data(viewer: Viewer, unit_id: int, period: str | None) -> scores_ledger.ScoresLedger:
        unit = unit_of(viewer, unit_id)
        p = pick(period)
        core = console.core
        return scores_ledger.scores_ledger(
            viewer.session, viewer.scope, unit, p, now=console.clock(), current_month=this_month(),
            mcfg=monthly_config(core), cfg=meetings_config(core),
            month_data=lambda month: console.month_data(viewer.session, month),  # the 总览's, kept
        )  # fmt: skip

    @router.get("/ledgers/{unit_id}/scores")
    def scores_page(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        ledger, refused = loaded(request, viewer, lambda: scores_data(viewer, unit_id, period))
        if refused:
            return refused
        return page(request, viewer, "console/ledgers_scores.html", title=f"{ledger.unit.name} {ledger_strings.SCORES}",
                    unit=ledger.unit, period=ledger.period, ledger=ledger, crumbs=crumbs(viewer, ledger.unit))  # fmt: skip

    @router.get("/ledgers/{unit_id}/scores.xlsx")
    def scores_xlsx_file(request: Request, viewer: ViewerDep, unit_id: Id, period: str | None = None):
        ledger, refused = loaded(request, viewer, lambda: scores_data(viewer, unit_id, period))
        if refused:
            return refused
        name = download_name(ledger.unit.name, ledger_strings.SCORES, ledger.period.label, ext="xlsx")
        return download(scores_xlsx(ledger, console.core.tz), XLSX, name)

    # --- 后台生成的台账文件（党委、全县） --------------------------------------------------------------------

    @router.post("/ledgers/{unit_id}/exports")
    def export_request(
        request: Request,
        viewer: ViewerDep,
        unit_id: Id,
        ledger: str = Form(""),
        period: str = Form(""),
        back: str = Form(""),
        fmt: str = Form("", alias="format"),  # "xlsx" (or none) | "docx"
    ):
        """Queue a committee's or the county's file (Excel, or Word where the ledger has one), then back
        to the page that asked (the row there shows its progress)."""
        found, refused = loaded(request, viewer, lambda: (unit_of(viewer, unit_id), pick(period)))
        if refused:
            return refused
        unit, p = found
        try:
            key = ledger_exports.export_key(ledger, fmt)
            ledger_exports.request_export(viewer.session, viewer.scope, unit, key, p, now=console.clock())
        except ValueError as exc:
            return bad(request, viewer, str(exc))
        target = f"{PREFIX}/ledgers/{unit.id}" + (f"/{back}" if back in BACK_PAGES else "")
        return RedirectResponse(f"{target}?period={p.key}", status_code=303)

    def export_of(viewer: Viewer, unit_id: int | None, export_id: int) -> LedgerExport | None:
        row = ledger_exports.export_for(viewer.session, viewer.scope, export_id)
        return row if row is not None and row.unit_id == unit_id else None

    @router.get("/ledgers/{unit_id}/exports/{export_id}")
    def export_status(request: Request, viewer: ViewerDep, unit_id: Id, export_id: Id):
        return export_row(request, viewer, unit_id, export_id)

    def export_row(request: Request, viewer: Viewer, unit_id: int | None, export_id: int):
        """The file's row (htmx polls it while it is queued or running)."""
        row = export_of(viewer, unit_id, export_id)
        if row is None:
            return not_found(request, viewer)
        return console.page(
            request, "console/ledgers_export.html", viewer=viewer, x=row, **kit.export_context()
        )

    @router.get("/ledgers/{unit_id}/exports/{export_id}/download")
    def export_download(request: Request, viewer: ViewerDep, unit_id: Id, export_id: Id):
        return export_file(request, viewer, unit_id, export_id)

    def export_file(request: Request, viewer: Viewer, unit_id: int | None, export_id: int):
        """Only the person who asked for it, while the unit is still in their scope (404 otherwise);
        sent a chunk at a time from the database, from whichever web process built it."""
        row = export_of(viewer, unit_id, export_id)
        if row is None or row.status != READY:
            return not_found(request, viewer)
        return StreamingResponse(
            ledger_exports.chunks(console.session_factory, row.id),
            media_type=ledger_exports.file_type(row.ledger)[1],
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
                "Content-Length": str(row.size),
            },
        )

    return router
