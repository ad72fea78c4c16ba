"""Storing the software's yearly proposals (the branches' rating, the observers' rating): worked out on demand
when someone opens the page, written with 系统 as the audit actor, and safe against two viewers at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.audit import SYSTEM, act_as, actor_of


def save_as_system(session: Session, new: list[Any], reread: Callable[[], dict]) -> dict | None:
    """Flush the proposals (the `new` rows and the changed ones already in the session) as 系统, whoever opened
    the page. Two viewers opening it at once: the second's insert hits the rows' unique key, and it gets the
    first's rows back from `reread` (its own new rows are dropped); None when its own rows were saved."""
    actor = actor_of(session)
    act_as(session, SYSTEM)
    try:
        fresh = None
        if new:
            try:
                with session.begin_nested():
                    session.add_all(new)
            except IntegrityError:
                fresh = reread()
        session.flush()
    finally:
        act_as(session, actor)
    return fresh
