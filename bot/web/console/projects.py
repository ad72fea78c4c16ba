"""书记项目 pages of the console: /console/projects."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.console.deps import ConsoleApp


def build_router(console: ConsoleApp) -> APIRouter:
    return APIRouter()
