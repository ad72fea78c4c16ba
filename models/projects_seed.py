"""Demo history of 书记项目 (registered on models.seed.HISTORY_GENERATORS)."""

from __future__ import annotations
