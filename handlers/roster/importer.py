"""The roster import lives in three steps: parse.py (rows), validate.py (checks against each other and
the database) and apply.py (writes); handlers.roster exports them. This module only keeps the two
names handlers.roster.exporter still imports from here (its owner moves that import line next)."""

from __future__ import annotations

from handlers.roster.parse import UnitPath
from handlers.roster.validate import unit_paths_by_id

__all__ = ["UnitPath", "unit_paths_by_id"]
