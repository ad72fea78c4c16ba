"""Feature handlers: one module per feature, each with a Router and plain use-case functions."""

from __future__ import annotations

from bot.core.router import Router


def all_routers() -> list[Router]:
    """Every feature's router: the single list the composition root wires in. One line per feature."""
    from handlers import delivery, help

    routers = [help.router, delivery.router]
    routers.append(__import__("handlers.meetings.chat", fromlist=["router"]).router)
    routers.append(__import__("handlers.fees.chat", fromlist=["router"]).router)
    routers.append(__import__("handlers.observers.chat", fromlist=["router"]).router)
    routers.append(__import__("handlers.monthly.chat", fromlist=["router"]).router)
    return routers


def fallback():
    """The answer to text no command matched."""
    from handlers.help import fallback

    return fallback
