"""Reading rows for a list of ids in a number of statements that does not grow with the list.

Up to one IN list's worth (CHUNK ids) a statement is narrowed to the ids, in lists of CHUNK. Above it,
the statement runs once without them, with the caller's `whole` conditions instead (the year, the month),
and the caller keeps only the rows of its ids. At a province (100,000 branches) that is one statement per
table instead of a hundred, each of which scanned the same month's rows again; reading some rows more than
asked (when the ids are a large part of the organisation) costs less than the lists would.
"""

from __future__ import annotations

from sqlalchemy import Select

CHUNK = 1000  # ids per IN list: SQLite's and PostgreSQL's limits are far above, plans stay simple


def by_ids(ids: list[int], column, stmt: Select, *whole) -> list[Select]:
    """`stmt` for `ids` of `column`: one statement per CHUNK ids, or one in all (with `whole`) above it."""
    if len(ids) > CHUNK:
        return [stmt.where(*whole)]
    return [stmt.where(column.in_(ids[start : start + CHUNK])) for start in range(0, len(ids), CHUNK)]


def whole(ids: list[int]) -> bool:
    """True when by_ids reads the whole organisation for `ids` (the caller filters the rows itself)."""
    return len(ids) > CHUNK
