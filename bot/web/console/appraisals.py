"""民主评议党员 page: /console/appraisals."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.console.deps import ConsoleApp


def build_router(console: ConsoleApp) -> APIRouter:
    return APIRouter()
