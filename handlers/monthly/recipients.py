"""Who holds which role where, read once for the whole organisation (one statement)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.monthly.scoring import Unit
from models.org import Role, RoleAssignment


class RoleBook:
    def __init__(self, session: Session, roles: set[Role]) -> None:
        self.by_unit: dict[tuple[int | None, Role], list[int]] = defaultdict(list)
        for pid, unit_id, role in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.org_unit_id, RoleAssignment.role).where(
                RoleAssignment.role.in_(list(roles))
            )
        ):
            self.by_unit[(unit_id, Role(role))].append(pid)

    def on(self, unit_id: int | None, roles) -> list[int]:
        return sorted({p for r in roles for p in self.by_unit.get((unit_id, r), ())})

    def org_staff_over(self, unit: Unit) -> list[int]:
        """组织部 staff whose scope covers `unit`: the whole tree (no unit) or an ancestor."""
        ids = set(self.by_unit.get((None, Role.ORG_STAFF), ()))
        for uid in unit.ancestors():
            ids.update(self.by_unit.get((uid, Role.ORG_STAFF), ()))
        return sorted(ids)
