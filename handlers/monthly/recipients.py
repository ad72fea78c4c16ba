"""Who holds which role where, read once for the whole organisation (one statement)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from handlers.common.roles import role_holders
from handlers.monthly.scoring import Unit
from models.org import Role


class RoleBook:
    def __init__(self, session: Session, roles: set[Role]) -> None:
        self.by_unit = role_holders(session, roles)

    def on(self, unit_id: int | None, roles) -> list[int]:
        return sorted({p for r in roles for p in self.by_unit.get((unit_id, r), ())})

    def org_staff_over(self, unit: Unit) -> list[int]:
        """组织部 staff whose scope covers `unit`: the whole tree (no unit) or an ancestor."""
        ids = set(self.by_unit.get((None, Role.ORG_STAFF), ()))
        for uid in unit.ancestors():
            ids.update(self.by_unit.get((uid, Role.ORG_STAFF), ()))
        return sorted(ids)
