"""Routes added after every endpoint, from the finished OpenAPI document: the document itself and its
Swagger UI, and the 405 answers listing each path's methods."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from bot.web.api.schemas import PREFIX


def add_docs_routes(router: APIRouter, schema: dict[str, Any]) -> None:
    @router.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> JSONResponse:
        return JSONResponse(schema)

    @router.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        # root_path keeps the link right when a proxy serves zhibu under a sub-path.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=f"{root}{PREFIX}/openapi.json", title="zhibu API")


_SCHEMA_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class _MethodNotAllowed:
    """An ASGI app answering 405 with a fixed Allow. An app, not a function: a route whose endpoint is a
    function is a GET route, one whose endpoint is an app takes every method."""

    def __init__(self, allow: str) -> None:
        self.allow = allow

    async def __call__(self, scope, receive, send) -> None:
        response = JSONResponse(
            {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": self.allow}
        )
        await response(scope, receive, send)


def add_method_not_allowed_routes(router: APIRouter, schema: dict[str, Any]) -> None:
    """After every endpoint, one route per path that answers any other method 405 with the full Allow.

    Left to itself the router answers a wrong method from the first route that matched the path, so
    GET and PATCH /meetings/{id} would each claim to be the only method there (RFC 9110 wants them all).
    """
    for path, item in schema.get("paths", {}).items():
        methods = [m.upper() for m in _SCHEMA_METHODS if m in item]
        if "GET" in methods:
            methods.insert(methods.index("GET") + 1, "HEAD")  # the router answers HEAD wherever GET is
        router.add_route(path, _MethodNotAllowed(", ".join(methods)), include_in_schema=False)
