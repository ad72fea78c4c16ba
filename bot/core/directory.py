"""Directory changes: a platform saying that a member left its corp's directory, came back, or changed.

The adapters translate DingTalk's contact EVENTs (user_leave_org, user_add_org, user_modify_org) and
WeCom's change_contact callbacks (delete_user, create_user, update_user) into a DirectoryChange;
DirectoryEvents runs the use case that handles it (handlers.roster.directory, handed in by the
composition root) in one transaction behind the same inbound dedup row as chat events, so an event the
platform delivers twice does one thing, and a failure rolls back and lets the platform deliver again.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.dispatcher import Dispatcher, Outcome
from models.audit import Actor, act_as
from models.org import PLATFORM_LABELS, Platform

logger = logging.getLogger(__name__)


class ChangeKind(enum.StrEnum):
    LEFT = "left"  # the users are no longer in the corp's directory
    JOINED = "joined"  # the users were added to the directory (again)
    UPDATED = "updated"  # a user's entry changed; they are still in the directory


@dataclass(frozen=True)
class DirectoryChange:
    event_id: str  # the platform's id of this delivery's event: the dedup key
    platform: Platform
    corp_id: str
    kind: ChangeKind
    account_ids: tuple[str, ...]
    # UPDATED only: the user's new userid (WeCom's NewUserID), and a mobile when the platform sends one.
    new_account_id: str = ""
    mobile: str = ""
    # When the platform says it happened (None: unknown); orders a late "left" against a newer "joined".
    occurred_at: datetime | None = None


# The use case: (session, change, now, config); it never commits.
DirectoryHandler = Callable[[Session, DirectoryChange, datetime, CoreConfig], None]


class DirectoryEvents:
    """Runs a DirectoryHandler for each change, with the dispatcher's database, clock and wake-up."""

    def __init__(self, dispatcher: Dispatcher, handler: DirectoryHandler) -> None:
        self.dispatcher = dispatcher
        self.handler = handler

    async def handle_async(self, change: DirectoryChange) -> Outcome:
        return await anyio.to_thread.run_sync(self.handle, change)

    def handle(self, change: DirectoryChange) -> Outcome:
        """Handle one change; raises when it could not be stored (the platform should deliver it again)."""
        d = self.dispatcher
        now = d.clock()
        platform = str(change.platform)
        # The key differs from any chat message id: a directory event and a message never collide.
        with d.claimed(platform, f"directory:{change.event_id}", now) as session:
            if session is None:
                logger.info("duplicate %s directory event %s ignored", platform, change.event_id)
                return Outcome.DUPLICATE
            label = f"{PLATFORM_LABELS.get(change.platform, platform)}通讯录"
            act_as(session, Actor("system", None, label), clock=lambda: now)
            self.handler(session, change, now, d.config)
        if d.on_committed is not None:
            d.on_committed()
        return Outcome.HANDLED
