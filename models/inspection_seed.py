"""Demo history of 督查/巡查 (registered on models.seed.HISTORY_GENERATORS)."""

from __future__ import annotations
