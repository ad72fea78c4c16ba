"""Demo history of handlers.appraisal (registered on models.seed.HISTORY_GENERATORS)."""

from __future__ import annotations
