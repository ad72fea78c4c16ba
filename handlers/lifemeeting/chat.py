"""Chat commands of handlers.lifemeeting. Thin: parse, call a use case, answer."""

from __future__ import annotations

from bot.core.router import Router

router = Router("lifemeeting")
