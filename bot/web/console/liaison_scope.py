"""包保联系 in the top bar: POST /console/scope switches a 包保 cadre's console between their committees
(只看包保党委, the default) and their whole scope (查看全县).

The choice is a cookie (deps.SCOPE_COOKIE) the viewer dependency reads on every request; it can only
choose between the person's own scope and the part of it under their liaison committees
(handlers.console.scope.Scope.to_liaison), so no value of it, and no URL, widens anything.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.web.console.auth import safe_next
from bot.web.console.deps import PREFIX, SCOPE_COOKIE, WHOLE_SCOPE, ConsoleApp, viewer_type

LIAISON = "liaison"
TITLE = "查看范围"
BAD_CHOICE = "无法切换：请选择“只看包保党委”或“查看全县”。"
NO_LIAISON = "您没有包保联系的党委，后台按您的职务范围显示。"


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    ViewerDep = viewer_type(console)
    https = console.core.public_base_url.startswith("https://")

    @router.post("/scope", response_class=HTMLResponse)
    async def switch(request: Request, viewer: ViewerDep) -> Response:
        form = await request.form()
        to = str(form.get("to", ""))
        if to not in (LIAISON, WHOLE_SCOPE):
            return console.message(request, TITLE, BAD_CHOICE, status=400, viewer=viewer)
        if not viewer.scope.liaison:
            return console.message(request, TITLE, NO_LIAISON, status=403, viewer=viewer)
        response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
        if to == WHOLE_SCOPE:
            response.set_cookie(
                SCOPE_COOKIE, WHOLE_SCOPE, path=PREFIX, httponly=True, samesite="lax", secure=https
            )
        else:
            response.delete_cookie(SCOPE_COOKIE, path=PREFIX)
        return response

    return router
