"""观察员年度评定 page: /console/observer-ratings."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.console.deps import ConsoleApp


def build_router(console: ConsoleApp) -> APIRouter:
    return APIRouter()
