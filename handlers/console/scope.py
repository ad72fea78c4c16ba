"""What a console user may see and change: the one place every console query is filtered.

- 组织部 staff (组织部 role with no unit): the whole tree; with a unit: that unit's subtree.
- A committee's (or general branch's) 书记/副书记/组织委员: that unit's subtree.
- A branch's 书记/副书记/组织委员: their branch.
- An observer: the branches they are assigned to, read-only.
A person may hold several of these; the scope is their union. Anyone else (a member, a 宣传委员, a
党小组组长) has no console scope: the console is for 书记/党委/组织部.

包保联系 (鱼台, models.inspection.Liaison): a 组织部 cadre assigned committees sees them as 我包保的党委
(Scope.liaison, only those their scope already holds) and may narrow the whole console to them
(Scope.narrowed: the part of their scope under those committees). Narrowing only ever drops units: a
liaison never widens a scope, and a narrowed scope remembers the whole one (Scope.full) so the
console can offer it back (查看全县).

Pages never test roles themselves: they ask the Scope (sees_unit, unit_clause, can_edit_unit), so a
route that forgets a check cannot exist, and a unit outside the scope answers 404 like one that does
not exist (nothing is disclosed by the difference).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from models.inspection import Liaison
from models.observers import ObserverAssignment
from models.org import ROLE_LABELS, OrgUnit, Person, Role, RoleAssignment

# The roles that open the console on the unit they are held on (its subtree).
LEADER_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER})


@dataclass(frozen=True)
class LiaisonCommittee:
    """A committee the viewer is the 包保 cadre of (as the top bar links it)."""

    id: int
    name: str
    path: str


@dataclass(frozen=True)
class Scope:
    person_id: int
    everything: bool  # 组织部 over the whole tree
    roots: tuple[str, ...]  # materialised paths of the subtrees led (editable)
    observed: tuple[str, ...]  # paths of the branches observed (read-only)
    title: str  # how the console names the viewer's standing, e.g. "组织部" or "城关镇党委 书记"
    # 我包保的党委: the viewer's liaison committees that this scope holds (in path order).
    liaison: tuple[LiaisonCommittee, ...] = ()
    full: Scope | None = None  # narrowed to the liaison committees: the scope it was narrowed from

    @property
    def read_only(self) -> bool:
        return not self.everything and not self.roots

    @property
    def narrowed(self) -> bool:
        return self.full is not None

    def to_liaison(self) -> Scope:
        """This scope narrowed to the liaison committees (itself when it has none, or is narrowed
        already): the units of the scope under one of them, editable where they were, nothing more.
        The month cache and every page then filter with it as with any scope."""
        if not self.liaison or self.full is not None:
            return self
        tops = [c.path for c in self.liaison]
        if self.everything:
            roots: tuple[str, ...] = _outermost(tops)
        else:
            roots = _outermost(_within(self.roots, tops) + _within(tops, self.roots))
        observed = _within(self.observed, tops) + _within(tops, self.observed)
        return Scope(
            person_id=self.person_id,
            everything=False,
            roots=roots,
            observed=tuple(p for p in _outermost(observed) if not any(p.startswith(r) for r in roots)),
            title=self.title,
            liaison=self.liaison,
            full=self,
        )

    # ---- units

    def unit_clause(self, path_column=OrgUnit.path, *, editable: bool = False) -> ColumnElement[bool]:
        """A WHERE clause over a unit path column (OrgUnit.path by default): the units in scope (with
        `editable`, only those the viewer leads, as can_edit_unit)."""
        if self.everything:
            return true()
        paths = self.roots if editable else self.roots + self.observed
        if not paths:
            return false()
        return or_(*(path_column.startswith(p) for p in paths))

    def sees_unit(self, unit: OrgUnit | None) -> bool:
        if unit is None:
            return False
        return self.everything or any(unit.path.startswith(p) for p in self.roots + self.observed)

    def can_edit_unit(self, unit: OrgUnit | None) -> bool:
        if unit is None:
            return False
        return self.everything or any(unit.path.startswith(p) for p in self.roots)

    # ---- people

    def person_clause(self, *, editable: bool = False) -> ColumnElement[bool]:
        """A WHERE clause over Person: people whose branch is in scope (with `editable`: whose branch
        the viewer leads, not merely observes, as can_edit_person)."""
        if self.everything:
            return true()
        return Person.branch_id.in_(select(OrgUnit.id).where(self.unit_clause(editable=editable)))

    def sees_person(self, session: Session, person: Person | None) -> bool:
        if person is None:
            return False
        if self.everything:
            return True
        if person.id == self.person_id:
            return True
        return self.sees_unit(session.get(OrgUnit, person.branch_id) if person.branch_id else None)

    def can_edit_person(self, session: Session, person: Person | None) -> bool:
        if person is None:
            return False
        if self.everything:
            return True
        return self.can_edit_unit(session.get(OrgUnit, person.branch_id) if person.branch_id else None)


# The whole tree on no one's behalf: what the console's month cache reads ahead of its viewers (the
# 组织部's trend); never a viewer's scope, which is always scope_of's.
WHOLE_TREE = Scope(person_id=0, everything=True, roots=(), observed=(), title="组织部")


def scope_of(session: Session, person_id: int) -> Scope | None:
    """The person's console scope, or None when they hold no role that opens the console."""
    everything = False
    roots: list[str] = []
    titles: list[str] = []
    rows = session.execute(
        select(RoleAssignment.role, OrgUnit.path, OrgUnit.name)
        .outerjoin(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.person_id == person_id)
        .order_by(OrgUnit.path)
    ).all()
    for role, path, name in rows:
        role = Role(role)
        if role == Role.ORG_STAFF:
            if path is None:
                everything = True
                titles.insert(0, "组织部")
            else:
                roots.append(path)
                titles.append(f"{name} 组织部")
        elif role in LEADER_ROLES and path is not None:
            roots.append(path)
            titles.append(f"{name} {ROLE_LABELS[role]}")
    observed = [
        path
        for (path,) in session.execute(
            select(OrgUnit.path)
            .join(ObserverAssignment, ObserverAssignment.branch_id == OrgUnit.id)
            .where(ObserverAssignment.observer_id == person_id, ObserverAssignment.active.is_(True))
            .order_by(OrgUnit.path)
        )
    ]
    if observed:
        titles.append("组织生活观察员")
    if not everything and not roots and not observed:
        return None
    scope = Scope(
        person_id=person_id,
        everything=everything,
        roots=_outermost(roots),
        observed=tuple(p for p in _outermost(observed) if not any(p.startswith(r) for r in roots)),
        title="、".join(titles),
    )
    liaison = tuple(
        LiaisonCommittee(uid, name, path)
        for uid, name, path in session.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.path)
            .join(Liaison, Liaison.committee_id == OrgUnit.id)
            .where(Liaison.person_id == person_id, OrgUnit.active.is_(True))
            .order_by(OrgUnit.path)
        )
        if scope.everything or any(path.startswith(p) for p in scope.roots + scope.observed)
    )
    return replace(scope, liaison=liaison) if liaison else scope


def _within(paths, tops) -> list[str]:
    """The paths of `paths` inside one of the subtrees `tops`."""
    return [p for p in paths if any(p.startswith(t) for t in tops)]


def _outermost(paths: list[str]) -> tuple[str, ...]:
    """Drop a path already inside another one of the list (a subtree counted once)."""
    kept: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))
