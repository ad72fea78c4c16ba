"""组织与党员 pages: /console/people (the tree and the people, searchable), /console/people/{id} (a person,
their roles and accounts, and the forms that change them), /console/people/roster (a roster file: the
dry run first, then the apply of that very file), /console/people/accounts (按手机号匹配账号: the
platforms asked for the accounts of people with a phone and none, shown, then applied).

Rules live in handlers.console.people (which runs the roster import's own checks); these routes parse
forms, render, and answer 404 for anything outside the viewer's scope and 403 for a read-only viewer's
change. The forms post with htmx and swap the person's panel (hx-select), so the page keeps its place;
without JavaScript they post and get the whole page back.
"""

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from annotated_types import Ge
from fastapi import APIRouter, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse

from bot.platforms.directory import directories
from bot.web.api.schemas import Id
from bot.web.console.deps import ConsoleApp, Viewer, viewer_type
from handlers.console import people, strings
from handlers.roster import accounts
from handlers.spreadsheets import LIMITS
from handlers.spreadsheets import TEXT as SHEET_TEXT
from models.audit import Actor, act_as
from models.org import FEE_CATEGORY_LABELS, PLATFORM_LABELS

UPLOAD_SUFFIXES = (".xlsx", ".csv")


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)

    def corp_ids() -> people.CorpIds:
        ids = console.identities
        return people.CorpIds(
            getattr(ids.get("dingtalk"), "corp_id", "") or "", getattr(ids.get("wecom"), "corp_id", "") or ""
        )

    def today():
        return console.clock().astimezone(console.core.tz).date()

    def acting(viewer: Viewer, via: str = "console") -> None:
        """Record this request's changes under the viewer, at the app's (injected) time."""
        if viewer.scope.read_only:
            raise HTTPException(status_code=403, detail=strings.READ_ONLY)
        act_as(viewer.session, Actor(via, viewer.person.id), clock=console.clock)

    def refused(request: Request, viewer: Viewer, exc: Exception) -> HTMLResponse:
        if isinstance(exc, people.ReadOnly):
            return console.message(request, strings.FORBIDDEN, strings.READ_ONLY, status=403, viewer=viewer)
        return console.message(request, strings.FORBIDDEN, strings.NOT_FOUND, status=404, viewer=viewer)

    @router.get("/people", response_class=HTMLResponse)
    def people_page(
        request: Request,
        viewer: ViewerDep,
        q: str = "",
        unit: Id | None = None,
        page: Annotated[int, Ge(1)] = 1,
    ):
        try:
            found = people.search_people(viewer.session, viewer.scope, q=q[:50], unit_id=unit, page=page)
        except people.NotVisible as exc:
            return refused(request, viewer, exc)
        return console.page(
            request,
            "console/people.html",
            viewer=viewer,
            nav="people",
            title="组织与党员",
            tree=people.unit_tree(viewer.session, viewer.scope, unit),
            found=found,
            q=q,
            unit=unit,
        )

    def person_page(
        request: Request,
        viewer: Viewer,
        person_id: int,
        *,
        errors: dict | None = None,
        notice: str = "",
        warnings: list[str] | None = None,
        form: dict | None = None,
        paths: people.UnitPaths | None = None,
    ) -> HTMLResponse:
        detail = people.person_detail(viewer.session, viewer.scope, person_id, paths=paths)
        return console.page(
            request,
            "console/person.html",
            viewer=viewer,
            nav="people",
            title=detail.person.name,
            d=detail,
            errors=errors or {},
            notice=notice,
            warnings=warnings or [],
            form=form or {},
            status_choices=people.STATUS_CHOICES,
            fee_choices=people.FEE_CATEGORY_CHOICES,
            fee_label=FEE_CATEGORY_LABELS[detail.person.fee_category],
        )

    @router.get("/people/{person_id}", response_class=HTMLResponse)
    def person_get(request: Request, viewer: ViewerDep, person_id: Id):
        try:
            return person_page(request, viewer, person_id)
        except people.NotVisible as exc:
            return refused(request, viewer, exc)

    def outcome_page(request, viewer, person_id, outcome: people.EditOutcome, done: str, form: dict):
        if not outcome.ok:
            # Nothing was written: the request's unit of work has nothing to commit.
            return person_page(
                request, viewer, person_id, errors=outcome.errors, form=form, paths=outcome.paths
            )
        changed = outcome.result is not None and outcome.result.changed
        viewer.session.flush()
        viewer.session.expire_all()
        return person_page(
            request,
            viewer,
            person_id,
            notice=done if changed else people.UNCHANGED,
            warnings=outcome.warnings,
            paths=outcome.paths,
        )

    @router.post("/people/{person_id}", response_class=HTMLResponse)
    async def person_post(request: Request, viewer: ViewerDep, person_id: Id):
        form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
        acting(viewer)
        try:
            outcome = people.edit_person(
                viewer.session, viewer.scope, person_id, form, corp_ids=corp_ids(), today=today()
            )
        except (people.NotVisible, people.ReadOnly) as exc:
            return refused(request, viewer, exc)
        return outcome_page(request, viewer, person_id, outcome, people.SAVED, form)

    @router.post("/people/{person_id}/roles", response_class=HTMLResponse)
    async def role_add(request: Request, viewer: ViewerDep, person_id: Id):
        form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
        acting(viewer)
        try:
            unit_id = int(form.get("role_unit", "0") or 0)
        except ValueError:
            unit_id = 0
        try:
            outcome = people.add_role(
                viewer.session,
                viewer.scope,
                person_id,
                unit_id,
                form.get("role", ""),
                corp_ids=corp_ids(),
                today=today(),
            )
        except (people.NotVisible, people.ReadOnly) as exc:
            return refused(request, viewer, exc)
        return outcome_page(request, viewer, person_id, outcome, people.SAVED, form)

    @router.post("/people/{person_id}/roles/{assignment_id}/end", response_class=HTMLResponse)
    def role_end(request: Request, viewer: ViewerDep, person_id: Id, assignment_id: Id):
        acting(viewer)
        try:
            outcome, what = people.end_role(
                viewer.session, viewer.scope, person_id, assignment_id, corp_ids=corp_ids(), today=today()
            )
        except (people.NotVisible, people.ReadOnly) as exc:
            return refused(request, viewer, exc)
        return outcome_page(request, viewer, person_id, outcome, what, {})

    # ---- the roster file

    def roster_page(request: Request, viewer: Viewer, **context) -> HTMLResponse:
        return console.page(
            request, "console/roster.html", viewer=viewer, nav="people", title="上传花名册", **context
        )

    @router.get("/people/roster/upload", response_class=HTMLResponse)
    def roster_get(request: Request, viewer: ViewerDep):
        if viewer.scope.read_only:
            return console.message(request, strings.FORBIDDEN, strings.READ_ONLY, status=403, viewer=viewer)
        return roster_page(request, viewer)

    @router.post("/people/roster/upload", response_class=HTMLResponse)
    async def roster_preview(request: Request, viewer: ViewerDep, file: UploadFile | None = None):
        acting(viewer, "import")
        suffix = Path(file.filename or "").suffix.lower() if file is not None else ""
        if file is None or suffix not in UPLOAD_SUFFIXES:
            return roster_page(request, viewer, problem=people.UPLOAD_MISSING)
        data = await file.read(LIMITS.file_bytes + 1)
        if not data:
            return roster_page(request, viewer, problem=people.UPLOAD_MISSING)
        if len(data) > LIMITS.file_bytes:
            size = round((file.size or len(data)) / (1 << 20))
            too_large = SHEET_TEXT["file_too_large"].format(size=size, limit=LIMITS.file_bytes >> 20)
            return roster_page(request, viewer, problem=too_large)
        staged = people.stage_upload(console.cfg.uploads, data, suffix)
        report = people.check_roster(
            viewer.session,
            viewer.scope,
            staged,
            corp_ids=corp_ids(),
            today=today(),
            tz=console.core.tz,
            apply=False,
        )
        token = ""
        if report.ok:
            expires = console.clock() + timedelta(seconds=people.STAGING_SECONDS)
            token = people.upload_token(console.core.secret_key, viewer.person.id, staged, expires)
        return roster_page(request, viewer, report=report, token=token, filename=file.filename, applied=False)

    @router.post("/people/roster/apply", response_class=HTMLResponse)
    async def roster_apply(request: Request, viewer: ViewerDep):
        acting(viewer, "import")
        form = await request.form()
        staged = people.staged_upload(
            console.cfg.uploads,
            console.core.secret_key,
            viewer.person.id,
            str(form.get("token", "")),
            console.clock(),
        )
        if staged is None:
            return roster_page(request, viewer, problem=people.UPLOAD_STALE)
        report = people.check_roster(
            viewer.session,
            viewer.scope,
            staged,
            corp_ids=corp_ids(),
            today=today(),
            tz=console.core.tz,
            apply=True,
        )
        if report.ok:
            staged.unlink(missing_ok=True)
        return roster_page(
            request, viewer, report=report, applied=report.ok, filename=str(form.get("filename", ""))
        )

    # ---- chat accounts found by phone

    def accounts_page(request: Request, viewer: Viewer, **context) -> HTMLResponse:
        return console.page(
            request,
            "console/people_accounts.html",
            viewer=viewer,
            nav="people",
            title="按手机号匹配账号",
            outcomes=accounts.Outcome,
            labels=accounts.OUTCOME_LABELS,
            platform_labels=PLATFORM_LABELS,
            **context,
        )

    def lookups() -> list:
        return directories(console.identities)

    @router.get("/people/accounts/match", response_class=HTMLResponse)
    def accounts_get(request: Request, viewer: ViewerDep):
        if viewer.scope.read_only:
            return console.message(request, strings.FORBIDDEN, strings.READ_ONLY, status=403, viewer=viewer)
        found = lookups()
        return accounts_page(
            request,
            viewer,
            platforms=[PLATFORM_LABELS[lk.platform] for lk in found],
            problem="" if found else people.MATCH_NO_PLATFORM,
        )

    @router.post("/people/accounts/match", response_class=HTMLResponse)
    def accounts_match(request: Request, viewer: ViewerDep):
        """The dry run: ask the platforms, show what they answered; nothing is written."""
        if viewer.scope.read_only:
            return console.message(request, strings.FORBIDDEN, strings.READ_ONLY, status=403, viewer=viewer)
        found = lookups()
        names = [PLATFORM_LABELS[lk.platform] for lk in found]
        if not found:
            return accounts_page(request, viewer, platforms=names, problem=people.MATCH_NO_PLATFORM)
        report = people.match_accounts(viewer.session, viewer.scope, found)
        token = ""
        if report.matched:
            expires = console.clock() + timedelta(seconds=people.MATCH_SECONDS)
            token = people.match_token(
                console.cfg.uploads, console.core.secret_key, viewer.person.id, report, expires
            )
        return accounts_page(request, viewer, platforms=names, report=report, token=token)

    @router.post("/people/accounts/apply", response_class=HTMLResponse)
    async def accounts_apply(request: Request, viewer: ViewerDep):
        acting(viewer)
        form = await request.form()
        report = people.apply_matched(
            viewer.session,
            viewer.scope,
            console.cfg.uploads,
            console.core.secret_key,
            viewer.person.id,
            str(form.get("token", "")),
            console.clock(),
        )
        names = [PLATFORM_LABELS[lk.platform] for lk in lookups()]
        if report is None:
            return accounts_page(request, viewer, platforms=names, problem=people.MATCH_STALE)
        return accounts_page(request, viewer, platforms=names, report=report, applied=True)

    return router
