"""Observer quality, rectifications and 叫停/责令重开 per branch for a month, from the observers feature.

Reads handlers.observers.scoring's bulk figures (observer_scores, rectification_timeliness,
severe_outcomes: one statement each, every branch at once) into one summary per branch. Monthly sits
above the observers feature and imports it directly (issue #13 point 5: no importlib edge hidden from
import-linter); the module keeps its name because the monthly tests' `observers` fixture replaces
month_summary here by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from handlers.observers.forms import ObserversConfig
from handlers.observers.scoring import observer_scores, rectification_timeliness, severe_outcomes


@dataclass(frozen=True)
class ObserverSummary:
    quality: float | None = None
    observations: int = 0
    stops: int = 0
    reopens: int = 0
    rect_due: int = 0
    rect_closed_on_time: int = 0
    rect_open: int = 0
    grades: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # Flat fields: a shallow copy (grades copied) gives what dataclasses.asdict does, ~10× faster.
        out = dict(self.__dict__)
        out["grades"] = list(self.grades)
        return out


def month_summary(session: Session, month: date, cfg: ObserversConfig) -> dict[int, ObserverSummary]:
    """`cfg`: the observers' rules (MonthlyConfig.observers)."""
    scores = observer_scores(session, month, cfg)
    rects = rectification_timeliness(session, month, cfg)
    severe = severe_outcomes(session, month, cfg)
    out = {}
    for b in set(scores) | set(rects) | set(severe):
        sc, rc, sv = scores.get(b), rects.get(b), severe.get(b)
        out[b] = ObserverSummary(
            quality=sc.average_percent / 100 if sc else None,
            observations=sc.forms if sc else 0,
            stops=sv.stops if sv else 0,
            reopens=sv.reopens if sv else 0,
            rect_due=rc.due if rc else 0,
            rect_closed_on_time=rc.closed_on_time if rc else 0,
            rect_open=rc.open_overdue if rc else 0,
            grades=[sc.lowest_grade] if sc else [],
        )
    return out
