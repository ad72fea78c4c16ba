"""The one machine-readable line each benchmark prints at its end, and its reader (bench/all.py).

A bench calls `emit(...)` once per final figure; each prints `SUMMARY {json}` on its own line, so
bench/all.py collects the figures without scraping the free text above them. `floor` is what the
same work costs bare (a bare endpoint, hand-written SQL, the platforms' rate limits), in the same
unit as `value`; `ratio` is value / floor; `goal` says in words what the figure should reach and
`met` whether it did (None where the bench sets no goal).
"""

from __future__ import annotations

import json

PREFIX = "SUMMARY "
FIELDS = ("bench", "database", "figure", "value", "unit", "floor", "ratio", "goal", "met")


def emit(
    bench: str,
    database: str,
    figure: str,
    value: float,
    unit: str,
    *,
    floor: float | None = None,
    goal: str = "",
    met: bool | None = None,
) -> dict:
    """Print one figure as a SUMMARY line (and return it)."""
    ratio = value / floor if floor else None
    row = {
        "bench": bench,
        "database": database,
        "figure": figure,
        "value": round(value, 4),
        "unit": unit,
        "floor": None if floor is None else round(floor, 4),
        "ratio": None if ratio is None else round(ratio, 3),
        "goal": goal,
        "met": met,
    }
    print(PREFIX + json.dumps(row, ensure_ascii=False), flush=True)
    return row


def parse(output: str) -> list[dict]:
    """Every SUMMARY line in a bench's output, as dicts with all FIELDS (missing ones None)."""
    rows = []
    for line in output.splitlines():
        if line.startswith(PREFIX):
            data = json.loads(line[len(PREFIX) :])
            rows.append({field: data.get(field) for field in FIELDS})
    return rows
