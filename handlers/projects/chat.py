"""Chat commands of 书记项目. Thin: parse, call a use case, answer."""

from __future__ import annotations

from bot.core.router import Router

router = Router("projects")
