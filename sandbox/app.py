"""The sandbox's ASGI app: one port serves every emulated host (their paths do not collide).

FastAPI/Starlette on uvicorn, the project's web stack; uvicorn serves the Stream WebSocket through the
installed `websockets` library.
"""

from __future__ import annotations

import contextlib

from fastapi import FastAPI, Request

from sandbox import control, dingtalk, directory, weblogin, wecom
from sandbox.common import gate
from sandbox.state import Sandbox


def create_app(sandbox: Sandbox | None = None) -> FastAPI:
    sb = sandbox or Sandbox()

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        if sb.http is not None:
            await sb.http.aclose()
            sb.http = None

    app = FastAPI(
        lifespan=lifespan,title="zhibu sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json",
                  redoc_url=None)  # fmt: skip
    app.state.sandbox = sb

    @app.middleware("http")
    async def _gate(request: Request, call_next):
        return await gate(sb, request, call_next)

    app.include_router(dingtalk.router)
    app.include_router(wecom.router)
    app.include_router(weblogin.router)
    app.include_router(directory.router)
    app.include_router(control.router)
    return app
