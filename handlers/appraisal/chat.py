"""Chat commands of handlers.appraisal. Thin: parse, call a use case, answer."""

from __future__ import annotations

from bot.core.router import Router

router = Router("appraisal")
