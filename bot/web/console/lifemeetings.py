"""组织生活会 page: /console/lifemeetings."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.console.deps import ConsoleApp


def build_router(console: ConsoleApp) -> APIRouter:
    return APIRouter()
