"""Demo history of handlers.lifemeeting (registered on models.seed.HISTORY_GENERATORS)."""

from __future__ import annotations
