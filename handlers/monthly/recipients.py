"""Who holds which role where, and who are the 包保 cadres of which committee, read once for the whole
organisation (one statement each; the cadres on first use, so a book that never asks reads nothing)."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.orm import Session

from handlers.common.roles import liaisons_by_committee, role_holders
from handlers.monthly.scoring import Unit
from models.org import Role


class RoleBook:
    def __init__(self, session: Session, roles: set[Role]) -> None:
        self.session = session
        self.by_unit = role_holders(session, roles)

    def on(self, unit_id: int | None, roles) -> list[int]:
        return sorted({p for r in roles for p in self.by_unit.get((unit_id, r), ())})

    def org_staff_over(self, unit: Unit) -> list[int]:
        """组织部 staff whose scope covers `unit`: the whole tree (no unit) or an ancestor."""
        ids = set(self.by_unit.get((None, Role.ORG_STAFF), ()))
        for uid in unit.ancestors():
            ids.update(self.by_unit.get((uid, Role.ORG_STAFF), ()))
        return sorted(ids)

    @cached_property
    def _liaisons(self) -> dict[int, list[int]]:
        return liaisons_by_committee(self.session)

    def liaisons_of(self, committee_id: int | None) -> list[int]:
        """The committee's 包保 cadres (包保联系, models.inspection.Liaison): what reaches its leaders
        reaches them too (its 月度通报, the ladders' notices to its leaders)."""
        return self._liaisons.get(committee_id, []) if committee_id is not None else []
