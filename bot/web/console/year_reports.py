"""年终通报 (the year-end report to the 党员大会) page: /console/year-reports."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.console.deps import ConsoleApp


def build_router(console: ConsoleApp) -> APIRouter:
    return APIRouter()
