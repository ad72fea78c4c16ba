"""The organisation's units: flat and paginated, one by id, and the tree, each with its member counts."""

import os
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.web.api.deps import PrincipalDep, SessionDep, unit_in_scope
from bot.web.api.pagination import DEFAULT_LIMIT, LimitQuery, OffsetQuery, Page, list_route, paginate
from bot.web.api.schemas import NOT_FOUND, Id, UnitCounts, UnitNode, UnitOut
from models.org import BRANCH_CATEGORY_LABELS, UNIT_KIND_LABELS, MemberStatus, OrgUnit, Person, UnitKind

router = APIRouter()


@list_route(
    router,
    "/units",
    UnitOut,
    tags=["organisation"],
    summary="Units of the organisation in scope (flat, ordered by id)",
)
def list_units(
    session: SessionDep,
    principal: PrincipalDep,
    kind: Annotated[UnitKind | None, Query(description="Only units of this kind.")] = None,
    parent_id: Annotated[Id | None, Query(description="Only the direct children of this unit.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) units.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
) -> Page[UnitOut]:
    stmt = select(OrgUnit).where(principal.unit_clause())
    if kind is not None:
        stmt = stmt.where(OrgUnit.kind == kind)
    if parent_id is not None:
        unit_in_scope(session, principal, parent_id)
        stmt = stmt.where(OrgUnit.parent_id == parent_id)
    if active is not None:
        stmt = stmt.where(OrgUnit.active.is_(active))
    units, total = paginate(session, stmt, [OrgUnit.id], limit, offset)
    counts = _unit_counts(session, units)
    return Page(items=[_unit_out(u, counts[u.id]) for u in units], total=total, limit=limit, offset=offset)


@router.get(
    "/units/{unit_id}",
    response_model=UnitOut,
    responses=NOT_FOUND,
    tags=["organisation"],
    summary="One unit",
)
def get_unit(unit_id: Id, session: SessionDep, principal: PrincipalDep) -> UnitOut:
    unit = unit_in_scope(session, principal, unit_id)
    return _unit_out(unit, _unit_counts(session, [unit])[unit.id])


@router.get(
    "/org/tree",
    response_model=list[UnitNode],
    tags=["organisation"],
    summary="The organisation tree in scope, nested (one root for a scoped token)",
)
def org_tree(
    session: SessionDep,
    principal: PrincipalDep,
    include_inactive: Annotated[bool, Query(description="Include inactive units.")] = False,
) -> list[UnitNode]:
    stmt = select(OrgUnit).where(principal.unit_clause()).order_by(OrgUnit.id)
    units = list(session.scalars(stmt))
    if not include_inactive:
        # Hidden with an inactive ancestor: look each unit's ancestor paths up in a set (a handful per
        # unit), not every inactive path against every unit.
        inactive = {u.id for u in units if not u.active}
        units = [u for u in units if inactive.isdisjoint(u.ancestor_ids())]
    counts = _unit_counts(session, units)
    nodes = {u.id: UnitNode(**_unit_out(u, counts[u.id]).model_dump()) for u in units}
    roots: list[UnitNode] = []
    for u in units:
        parent = nodes.get(u.parent_id) if u.parent_id is not None else None
        (parent.children if parent else roots).append(nodes[u.id])
    return roots


def _ancestor_paths(path: str) -> list[str]:
    """'/1/5/9/' -> ['/1/', '/1/5/', '/1/5/9/']: the unit itself and every unit above it."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


def _unit_counts(session: Session, units: list[OrgUnit]) -> dict[int, UnitCounts]:
    """Member counts over each unit's subtree, from one grouped query per branch, summed up the paths."""
    if not units:
        return {}
    # One LIKE on the units' common ancestor: an OR of many prefixes costs far more than counting a
    # whole county's branches (SQLite: 200 prefixes ~1 s, the whole county ~50 ms).
    common = _common_ancestor_path([u.path for u in units])
    stmt = (
        select(OrgUnit.path, Person.status, func.count(Person.id))
        .join(Person, Person.branch_id == OrgUnit.id)
        .where(Person.active.is_(True))
        .group_by(OrgUnit.path, Person.status)
    )
    if common != "/":
        stmt = stmt.where(OrgUnit.path.startswith(common))
    per_branch = session.execute(stmt).all()
    members: dict[str, int] = defaultdict(int)
    probationary: dict[str, int] = defaultdict(int)
    for path, status, n in per_branch:
        # Every ancestor prefix of a branch's path is a unit whose subtree contains it.
        for prefix in _ancestor_paths(path):
            members[prefix] += n
            if status == MemberStatus.PROBATIONARY:
                probationary[prefix] += n
    children = dict(
        session.execute(
            select(OrgUnit.parent_id, func.count(OrgUnit.id))
            .where(OrgUnit.parent_id.in_([u.id for u in units]))
            .group_by(OrgUnit.parent_id)
        ).all()
    )
    return {
        u.id: UnitCounts(
            members=members.get(u.path, 0),
            probationary=probationary.get(u.path, 0),
            children=children.get(u.id, 0),
        )
        for u in units
    }


def _common_ancestor_path(paths: list[str]) -> str:
    """The deepest path every one of `paths` lies under ("/3/17/" and "/3/18/" give "/3/")."""
    prefix = os.path.commonprefix(paths)
    return prefix[: prefix.rfind("/") + 1] or "/"


def _unit_out(unit: OrgUnit, counts: UnitCounts) -> UnitOut:
    return UnitOut(
        id=unit.id,
        name=unit.name,
        kind=unit.kind,
        kind_label=UNIT_KIND_LABELS[unit.kind],
        category=unit.category,
        category_label=BRANCH_CATEGORY_LABELS[unit.category] if unit.category else None,
        parent_id=unit.parent_id,
        path=unit.path,
        active=unit.active,
        counts=counts,
    )
