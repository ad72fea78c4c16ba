"""Feature handlers: one module per feature, each with a Router and plain use-case functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.router import Router

if TYPE_CHECKING:
    from bot.core.context import CoreConfig
    from bot.core.relay import Feeder


def all_routers() -> list[Router]:
    """Every feature's router: the single list the composition root wires in. One line per feature."""
    # Imported here, not at module level, so importing one feature's use cases stays cheap.
    from handlers import delivery, help
    from handlers.appraisal import chat as appraisal
    from handlers.console import chat as console
    from handlers.fees import chat as fees
    from handlers.inspection import chat as inspection
    from handlers.lifemeeting import chat as lifemeeting
    from handlers.meetings import chat as meetings
    from handlers.monthly import chat as monthly
    from handlers.observers import chat as observers
    from handlers.projects import chat as projects
    from handlers.talks import chat as talks

    return [
        help.router,
        delivery.router,
        meetings.router,
        fees.router,
        observers.router,
        talks.router,
        lifemeeting.router,
        appraisal.router,
        monthly.router,
        projects.router,
        inspection.router,
        console.router,
    ]


def fallback():
    """The answer to text no command matched."""
    from handlers.help import fallback

    return fallback


def all_feeders(core: CoreConfig) -> list[Feeder]:
    """Every feature's relay feeders: what the relays queue from facts already recorded, instead of the
    request that recorded them. The single list the composition root gives its relays."""
    from functools import partial

    from handlers.meetings.signin import queue_signin_receipts
    from handlers.meetings.types import meetings_config

    return [partial(queue_signin_receipts, cfg=meetings_config(core))]
