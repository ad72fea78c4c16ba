"""Demo history of the observers' yearly rating (registered on models.seed.HISTORY_GENERATORS)."""

from __future__ import annotations
