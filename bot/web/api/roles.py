"""Roles: the catalogue of what each kind of unit can hold, and who holds which role where."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import selectinload

from bot.web.api.deps import PrincipalDep, SessionDep, unit_in_scope
from bot.web.api.pagination import DEFAULT_LIMIT, LimitQuery, OffsetQuery, Page, list_route, paginate
from bot.web.api.schemas import Id, PersonRef, RoleAssignmentOut, RoleCatalogEntry, unit_ref
from models.org import ROLE_LABELS, ROLES_BY_UNIT_KIND, OrgUnit, Role, RoleAssignment, UnitKind

router = APIRouter()


@router.get(
    "/roles", response_model=list[RoleCatalogEntry], tags=["roles"], summary="The roles a unit can hold"
)
def role_catalog(principal: PrincipalDep) -> list[RoleCatalogEntry]:
    return [
        RoleCatalogEntry(
            role=role,
            label=ROLE_LABELS[role],
            unit_kinds=[k for k in UnitKind if role in ROLES_BY_UNIT_KIND[k]],
        )
        for role in Role
    ]


@list_route(
    router,
    "/role-assignments",
    RoleAssignmentOut,
    tags=["roles"],
    summary="Who holds which role where, in scope",
)
def list_role_assignments(
    session: SessionDep,
    principal: PrincipalDep,
    unit_id: Annotated[Id | None, Query(description="Only roles held in this unit.")] = None,
    role: Annotated[Role | None, Query(description="Only this role.")] = None,
    person_id: Annotated[Id | None, Query(description="Only this person's roles.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
) -> Page[RoleAssignmentOut]:
    if principal.scope_path is None:
        in_scope: ColumnElement[bool] = true()
    else:
        in_scope = RoleAssignment.org_unit_id.in_(select(OrgUnit.id).where(principal.unit_clause()))
    stmt = select(RoleAssignment).where(in_scope)
    if unit_id is not None:
        unit_in_scope(session, principal, unit_id)
        stmt = stmt.where(RoleAssignment.org_unit_id == unit_id)
    if role is not None:
        stmt = stmt.where(RoleAssignment.role == role)
    if person_id is not None:
        stmt = stmt.where(RoleAssignment.person_id == person_id)
    stmt = stmt.options(selectinload(RoleAssignment.person), selectinload(RoleAssignment.org_unit))
    rows, total = paginate(session, stmt, [RoleAssignment.id], limit, offset)
    items = [
        RoleAssignmentOut(
            id=r.id,
            person=PersonRef(id=r.person.id, name=r.person.name),
            role=r.role,
            label=ROLE_LABELS[r.role],
            unit=unit_ref(r.org_unit),
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)
