"""台账 (#17): the messages ledger's page and downloads (filled in by its own change)."""

from fastapi import APIRouter

from bot.web.console.deps import ConsoleApp
from bot.web.console.ledgers import LedgerPages


def build_router(console: ConsoleApp) -> APIRouter:
    router = APIRouter()
    LedgerPages(console)
    return router
