"""Chat commands of 督查/巡查. Thin: parse, call a use case, answer."""

from __future__ import annotations

from bot.core.router import Router

router = Router("inspection")
