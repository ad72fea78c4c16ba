"""The JSON API under /api/v1, for integrations, the tests and the later web console.

Wiring: the app factory calls ``app.include_router(build_api_router(session_factory))``; the router
already carries the ``/api/v1`` prefix. Its own OpenAPI document and Swagger UI live at
``/api/v1/openapi.json`` and ``/api/v1/docs`` (whatever the app does with its own /docs), with a
bearer security scheme.

Rules every endpoint follows:
- Authentication: ``Authorization: Bearer zbt_…`` (tokens from ``zhibu api-token create``). A missing,
  unknown or revoked token gets 401 with ``WWW-Authenticate: Bearer``.
- Capability: a token reads; only one created with ``--write`` may also change data. Write endpoints
  declare ``WriterDep`` instead of ``PrincipalDep`` and answer a read-only token 403 with the reason.
- Scope: a token sees only its subtree of the organisation. Anything outside it answers **404**, exactly
  as if it did not exist, so a token cannot probe which ids exist elsewhere. People are in scope when
  their branch is, or when they hold a role on a unit in scope (committee staff, observers); such a
  person's own branch is still named in their record, but their roles elsewhere are left out.
  Delivery-ledger rows are in scope by the recipient's branch; rows with no branch (group chats)
  only for whole-organisation tokens.
- One database transaction per request (the ``session`` dependency), committed when the request
  succeeds and rolled back otherwise. Query helpers never commit. The only write is the token's
  last_used_at (at most once a minute).
- Lists are paginated with ``limit`` (1…MAX_LIMIT, default DEFAULT_LIMIT) and ``offset`` and answer
  ``{"items": [...], "total": n, "limit": l, "offset": o}``. Unknown query parameters are refused
  with 400 rather than silently ignored, so a typo cannot return a wider result than intended.
- Invalid values get FastAPI's 422 with the offending field in ``detail`` (a list of ``{loc, msg,
  type}``). A well-formed request refused by a rule the schema cannot state (a unit that is not a
  branch, a time in the past) gets the same shape with ``type`` ``"refused"`` (``refused()``); other
  errors answer ``{"detail": "..."}`` (``Problem``), and every status an endpoint can answer is in the
  OpenAPI document.
- Ids (path, query and body) are 1…MAX_ID (``Id``), the range of the database's integer columns: a
  larger one is refused with 422 instead of overflowing the driver.
- A method a path does not have answers 405 with ``Allow`` listing the ones it has.

Later features add their own endpoints without touching this file: a feature module builds a plain
``APIRouter`` (paths relative to /api/v1, e.g. ``/meetings``) whose endpoints declare ``SessionDep`` and
``PrincipalDep`` (``WriterDep`` for writes) from here, take ids as ``Id`` and date-times as
``DateTimeIn``, restrict their queries with ``principal.unit_clause()`` / ``unit_in_scope()``, paginate
with ``LimitQuery`` / ``OffsetQuery`` / ``paginate()``, answer ``Page[...]``, refuse with ``refused()``
and document their errors with ``NOT_FOUND`` / ``WRITE_RESPONSES``. The app factory passes it in
``build_api_router(session_factory, features=[router])``; authentication, the per-request transaction,
the unknown-parameter check, the 405 answers and the OpenAPI document then cover it automatically.
"""

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session, selectinload, sessionmaker

from models.api_token import ApiToken, authenticate
from models.base import utcnow
from models.org import (
    BRANCH_CATEGORY_LABELS,
    MEMBER_STATUS_LABELS,
    PLATFORM_LABELS,
    ROLE_LABELS,
    ROLES_BY_UNIT_KIND,
    UNIT_KIND_LABELS,
    BranchCategory,
    MemberStatus,
    OrgUnit,
    Person,
    Platform,
    Role,
    RoleAssignment,
    UnitKind,
)
from models.outbox import DELIVERY_STATUS_LABELS, DeliveryStatus, OutboxMessage, TargetKind

PREFIX = "/api/v1"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Beyond this an OFFSET only overflows the database's integer, never finds rows.
MAX_OFFSET = 2**31 - 1
# Ids are INTEGER columns: 32 bits on PostgreSQL. A larger value can name no row, and handed to the
# driver it overflows (a 500) instead of finding nothing.
MAX_ID = 2**31 - 1

# Every id the API takes, in the path, the query or a body. Plain constraints rather than a
# Path()/Query() marker, so one type serves all three and the range is in the OpenAPI document.
Id = Annotated[int, Ge(1), Le(MAX_ID)]
# The detail type of a 422 for a request the schema allows but a rule refuses (see refused()).
REFUSED = "refused"

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_8601_only(value: Any) -> Any:
    # Left alone pydantic also reads a number as seconds since 1970; the schema promises a string.
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATETIME.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date-time with an offset, e.g. 2026-05-20T15:00:00+08:00")


def _representable_in_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00+08:00 is a valid date-time that has no UTC instant in Python (it is stored in UTC).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(REFUSED, "date-time out of range") from None
    return value


# Every date-time the API takes (query or body): ISO 8601 with an offset, storable in UTC.
DateTimeIn = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only), AfterValidator(_representable_in_utc)]

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1…{MAX_LIMIT}.")]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="A token from `zhibu api-token create`, sent as `Authorization: Bearer zbt_…`.",
)


# ---------------------------------------------------------------------------------------------
# Response shapes (they are the OpenAPI document too)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many items match, over all pages.")
    limit: int
    offset: int


class Problem(BaseModel):
    """The body of every error but 422."""

    detail: str = Field(description="What went wrong, in words.")


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "An id given is unknown or outside the token's scope"}
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "The token is read-only (create one with --write)"}
}


class UnitRef(BaseModel):
    id: int
    name: str
    kind: UnitKind


class UnitCounts(BaseModel):
    members: int = Field(description="Active people whose branch is this unit or below it.")
    probationary: int = Field(description="Of those, 预备党员.")
    children: int = Field(description="Direct child units.")


class UnitOut(BaseModel):
    id: int
    name: str
    kind: UnitKind
    kind_label: str
    category: BranchCategory | None
    category_label: str | None
    parent_id: int | None
    path: str = Field(description="Materialised path of ids from the root, e.g. /1/4/17/.")
    active: bool
    counts: UnitCounts


class UnitNode(UnitOut):
    children: list["UnitNode"] = Field(default_factory=list)


class RoleOut(BaseModel):
    role: Role
    label: str
    unit: UnitRef | None = Field(
        description="The unit the role is held in; null for 组织部 over the whole tree."
    )


class ChatAccountOut(BaseModel):
    platform: Platform
    platform_label: str
    corp_id: str
    account_id: str


class PersonOut(BaseModel):
    id: int
    name: str
    branch: UnitRef | None
    group: UnitRef | None
    status: MemberStatus
    status_label: str
    active: bool
    is_mobile: bool
    roles: list[RoleOut] = Field(description="Only roles held inside the token's scope.")
    chat_accounts: list[ChatAccountOut]


class PersonRef(BaseModel):
    id: int
    name: str


class RoleAssignmentOut(BaseModel):
    id: int
    person: PersonRef
    role: Role
    label: str
    unit: UnitRef | None


class RoleCatalogEntry(BaseModel):
    role: Role
    label: str
    unit_kinds: list[UnitKind] = Field(description="The kinds of unit in which this role can be held.")


class DeliveryOut(BaseModel):
    id: int
    dedup_key: str = Field(description="What was sent: the business key shared by every recipient of it.")
    recipient: str
    person: PersonRef | None
    branch: UnitRef | None = Field(description="The recipient's branch when the message was queued.")
    platform: str = Field(description="dingtalk, wecom, or empty when the person has no chat account.")
    target_kind: TargetKind
    target: str
    status: DeliveryStatus
    status_label: str
    reason: str | None = Field(description="Why a failed delivery failed, in Chinese (e.g. 未绑定).")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class TokenInfo(BaseModel):
    id: int
    name: str
    scope: UnitRef | None = Field(description="The root of what this token sees; null for everything.")
    can_write: bool = Field(description="Whether it may also change data (`zhibu api-token create --write`).")


# ---------------------------------------------------------------------------------------------
# Request context


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token and the subtree it may see (scope_path None = everything)."""

    token_id: int
    token_name: str
    scope_unit_id: int | None
    scope_path: str | None
    can_write: bool = False

    def unit_clause(self, path_column=OrgUnit.path) -> ColumnElement[bool]:
        return true() if self.scope_path is None else path_column.startswith(self.scope_path)

    def sees_path(self, path: str | None) -> bool:
        if self.scope_path is None:
            return True
        return path is not None and path.startswith(self.scope_path)


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="zhibu"' + (f', error="{error}"' if error else "")
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


def not_found(what: str, ident: int) -> HTTPException:
    # The same words whether the row does not exist or lies outside the token's scope.
    return HTTPException(status_code=404, detail=f"{what} {ident} not found")


def refused(msg: str, *loc: str | int) -> HTTPException:
    """422 for a well-formed request that a rule the schema cannot state refuses (a unit that is not a
    branch, a time in the past, a person who is not an observer).

    The same shape as FastAPI's own 422, so clients read one format; ``loc`` names the field
    (``"body", "branch_id"`` or ``"query", "branch_id"``), or the whole body when omitted.
    """
    return HTTPException(
        status_code=422, detail=[{"loc": list(loc) or ["body"], "msg": msg, "type": REFUSED}]
    )


@dataclass(frozen=True)
class ApiContext:
    """What build_api_router binds to each request: where sessions come from, and the clock."""

    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime]


def _context(request: Request) -> ApiContext:
    context = getattr(request.state, "zhibu_api", None)
    if context is None:
        raise RuntimeError("API route reached without build_api_router's binding; include it through there")
    return context


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises."""
    with _context(request).session_factory() as session, session.begin():
        yield session


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    token: ApiToken | None = authenticate(session, credentials.credentials, now=_context(request).clock())
    if token is None:
        raise _unauthorized("invalid or revoked token", error="invalid_token")
    unit = token.scope_unit
    return Principal(
        token_id=token.id,
        token_name=token.name,
        scope_unit_id=unit.id if unit else None,
        scope_path=unit.path if unit else None,
        can_write=token.can_write,
    )


# What every endpoint (ours and the features') declares. Module-level, so that modules written with
# `from __future__ import annotations` resolve them too.
SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_write(principal: PrincipalDep) -> Principal:
    """The caller, when its token may change data; 403 with the reason otherwise."""
    if not principal.can_write:
        raise HTTPException(
            status_code=403,
            detail=(
                f"token #{principal.token_id} ({principal.token_name}) is read-only; "
                "changing data needs a token created with `zhibu api-token create ... --write`"
            ),
            headers={"WWW-Authenticate": 'Bearer realm="zhibu", error="insufficient_scope", scope="write"'},
        )
    return principal


# What write endpoints declare instead of PrincipalDep (and WRITE_RESPONSES in their responses).
WriterDep = Annotated[Principal, Depends(require_write)]


def _reject_unknown_query_params(request: Request) -> None:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in _all_query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise HTTPException(
            status_code=400,
            detail=f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(known)) or 'none'}",
        )


def _all_query_params(dependant) -> list:
    params = list(dependant.query_params)
    for sub in dependant.dependencies:
        params.extend(_all_query_params(sub))
    return params


# ---------------------------------------------------------------------------------------------
# Query helpers (never commit)


def unit_in_scope(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not principal.sees_path(unit.path):
        raise not_found("unit", unit_id)
    return unit


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
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/" + "/".join(parts[:depth]) + "/"
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


def _unit_ref(unit: OrgUnit | None) -> UnitRef | None:
    return UnitRef(id=unit.id, name=unit.name, kind=unit.kind) if unit else None


def _person_scope_clause(principal: Principal) -> ColumnElement[bool]:
    """People whose branch is in scope, or who hold a role in scope (committee staff have no branch)."""
    if principal.scope_path is None:
        return true()
    # IN (subquery) rather than correlated EXISTS: PostgreSQL hashes the set of unit ids once instead
    # of probing it per person; counting a committee's people on a county went from ~800 ms to ~20 ms.
    units = select(OrgUnit.id).where(principal.unit_clause())
    in_branch = Person.branch_id.in_(units)
    holds_role = Person.id.in_(select(RoleAssignment.person_id).where(RoleAssignment.org_unit_id.in_(units)))
    return or_(in_branch, holds_role)


def _person_out(person: Person, principal: Principal) -> PersonOut:
    roles = [
        RoleOut(role=r.role, label=ROLE_LABELS[r.role], unit=_unit_ref(r.org_unit))
        for r in sorted(person.roles, key=lambda r: r.id)
        if (r.org_unit is None and principal.scope_path is None)
        or (r.org_unit is not None and principal.sees_path(r.org_unit.path))
    ]
    accounts = [
        ChatAccountOut(
            platform=a.platform,
            platform_label=PLATFORM_LABELS[a.platform],
            corp_id=a.corp_id,
            account_id=a.account_id,
        )
        for a in sorted(person.chat_accounts, key=lambda a: a.id)
    ]
    return PersonOut(
        id=person.id,
        name=person.name,
        branch=_unit_ref(person.branch),
        group=_unit_ref(person.group),
        status=person.status,
        status_label=MEMBER_STATUS_LABELS[person.status],
        active=person.active,
        is_mobile=person.is_mobile,
        roles=roles,
        chat_accounts=accounts,
    )


_PERSON_LOAD = (
    selectinload(Person.branch),
    selectinload(Person.group),
    selectinload(Person.roles).selectinload(RoleAssignment.org_unit),
    selectinload(Person.chat_accounts),
)


def paginate(session: Session, stmt, order_by, limit: int, offset: int) -> tuple[list, int]:
    """One page of `stmt` in a stable order, and how many rows match in all."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.order_by(*order_by).limit(limit).offset(offset)).unique())
    return rows, total


# ---------------------------------------------------------------------------------------------
# The router


def build_api_router(
    session_factory: sessionmaker[Session],
    *,
    clock: Callable[[], datetime] = utcnow,
    features: Iterable[APIRouter] = (),
) -> APIRouter:
    """An APIRouter with every /api/v1 endpoint, bound to this session factory (and clock, for tests).

    `features` are the later features' own endpoint sets (see the module docstring).
    """
    context = ApiContext(session_factory=session_factory, clock=clock)

    def bind(request: Request) -> None:
        # Router-level dependencies run before the endpoint's own, so get_session and
        # get_principal find this.
        request.state.zhibu_api = context

    router = APIRouter(
        prefix=PREFIX,
        dependencies=[Depends(bind), Depends(_reject_unknown_query_params)],
        responses={
            400: {"model": Problem, "description": "Unknown query parameter"},
            401: {"model": Problem, "description": "Missing, invalid or revoked bearer token"},
        },
    )

    @router.get("/me", response_model=TokenInfo, tags=["tokens"], summary="The calling token and its scope")
    def me(session: SessionDep, principal: PrincipalDep) -> TokenInfo:
        unit = session.get(OrgUnit, principal.scope_unit_id) if principal.scope_unit_id else None
        return TokenInfo(
            id=principal.token_id,
            name=principal.token_name,
            scope=_unit_ref(unit),
            can_write=principal.can_write,
        )

    @router.get(
        "/units",
        response_model=Page[UnitOut],
        tags=["organisation"],
        responses=NOT_FOUND,
        summary="Units of the organisation in scope (flat, ordered by id)",
    )
    def list_units(
        session: SessionDep,
        principal: PrincipalDep,
        kind: Annotated[UnitKind | None, Query(description="Only units of this kind.")] = None,
        parent_id: Annotated[Id | None, Query(description="Only the direct children of this unit.")] = None,
        active: Annotated[
            bool | None, Query(description="Only active (true) or inactive (false) units.")
        ] = None,
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
        return Page(
            items=[_unit_out(u, counts[u.id]) for u in units], total=total, limit=limit, offset=offset
        )

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
            inactive_paths = [u.path for u in units if not u.active]
            units = [u for u in units if not any(u.path.startswith(p) for p in inactive_paths)]
        counts = _unit_counts(session, units)
        nodes = {u.id: UnitNode(**_unit_out(u, counts[u.id]).model_dump()) for u in units}
        roots: list[UnitNode] = []
        for u in units:
            parent = nodes.get(u.parent_id) if u.parent_id is not None else None
            (parent.children if parent else roots).append(nodes[u.id])
        return roots

    @router.get(
        "/people",
        response_model=Page[PersonOut],
        responses=NOT_FOUND,
        tags=["people"],
        summary="People in scope",
    )
    def list_people(
        session: SessionDep,
        principal: PrincipalDep,
        branch_id: Annotated[Id | None, Query(description="Only members of this branch.")] = None,
        unit_id: Annotated[
            Id | None, Query(description="Only members of branches at or below this unit.")
        ] = None,
        status: Annotated[
            MemberStatus | None, Query(description="正式 (full) or 预备 (probationary).")
        ] = None,
        name: Annotated[str | None, Query(min_length=1, max_length=50, description="Name contains.")] = None,
        include_inactive: Annotated[bool, Query(description="Include people no longer active.")] = False,
        limit: LimitQuery = DEFAULT_LIMIT,
        offset: OffsetQuery = 0,
    ) -> Page[PersonOut]:
        stmt = select(Person).where(_person_scope_clause(principal))
        if branch_id is not None:
            branch = unit_in_scope(session, principal, branch_id)
            if branch.kind != UnitKind.BRANCH:
                raise refused(
                    f"unit {branch_id} is a {branch.kind.value}, not a branch", "query", "branch_id"
                )
            stmt = stmt.where(Person.branch_id == branch_id)
        if unit_id is not None:
            unit = unit_in_scope(session, principal, unit_id)
            stmt = stmt.where(
                Person.branch_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path)))
            )
        if status is not None:
            stmt = stmt.where(Person.status == status)
        if name is not None:
            stmt = stmt.where(Person.name.contains(name, autoescape=True))
        if not include_inactive:
            stmt = stmt.where(Person.active.is_(True))
        people, total = paginate(session, stmt.options(*_PERSON_LOAD), [Person.id], limit, offset)
        return Page(
            items=[_person_out(p, principal) for p in people], total=total, limit=limit, offset=offset
        )

    @router.get(
        "/people/{person_id}",
        response_model=PersonOut,
        responses=NOT_FOUND,
        tags=["people"],
        summary="One person",
    )
    def get_person(person_id: Id, session: SessionDep, principal: PrincipalDep) -> PersonOut:
        person = session.scalars(
            select(Person)
            .where(Person.id == person_id, _person_scope_clause(principal))
            .options(*_PERSON_LOAD)
        ).first()
        if person is None:
            raise not_found("person", person_id)
        return _person_out(person, principal)

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

    @router.get(
        "/role-assignments",
        response_model=Page[RoleAssignmentOut],
        tags=["roles"],
        responses=NOT_FOUND,
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
                unit=_unit_ref(r.org_unit),
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @router.get(
        "/deliveries",
        response_model=Page[DeliveryOut],
        tags=["deliveries"],
        responses=NOT_FOUND,
        summary="The delivery ledger: one row per message and recipient, newest first",
    )
    def list_deliveries(
        session: SessionDep,
        principal: PrincipalDep,
        branch_id: Annotated[Id | None, Query(description="Only recipients in this branch.")] = None,
        unit_id: Annotated[
            Id | None, Query(description="Only recipients in branches at or below this unit.")
        ] = None,
        status: Annotated[
            DeliveryStatus | None, Query(description="queued, sending, sent or failed.")
        ] = None,
        person_id: Annotated[Id | None, Query(description="Only this person's deliveries.")] = None,
        dedup_key: Annotated[
            str | None, Query(min_length=1, max_length=200, description="Only this message.")
        ] = None,
        created_from: Annotated[
            DateTimeIn | None, Query(description="Queued at or after (with zone).")
        ] = None,
        created_before: Annotated[DateTimeIn | None, Query(description="Queued before (with zone).")] = None,
        limit: LimitQuery = DEFAULT_LIMIT,
        offset: OffsetQuery = 0,
    ) -> Page[DeliveryOut]:
        stmt = select(OutboxMessage)
        if principal.scope_path is not None:
            # Rows with no branch (group chats, people outside any branch) belong to no subtree.
            scoped_branch_ids = select(OrgUnit.id).where(principal.unit_clause())
            stmt = stmt.where(OutboxMessage.branch_id.in_(scoped_branch_ids))
        if branch_id is not None:
            unit_in_scope(session, principal, branch_id)
            stmt = stmt.where(OutboxMessage.branch_id == branch_id)
        if unit_id is not None:
            unit = unit_in_scope(session, principal, unit_id)
            stmt = stmt.where(
                OutboxMessage.branch_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path)))
            )
        if status is not None:
            stmt = stmt.where(OutboxMessage.status == status)
        if person_id is not None:
            stmt = stmt.where(OutboxMessage.person_id == person_id)
        if dedup_key is not None:
            stmt = stmt.where(OutboxMessage.dedup_key == dedup_key)
        if created_from is not None:
            stmt = stmt.where(OutboxMessage.created_at >= created_from)
        if created_before is not None:
            stmt = stmt.where(OutboxMessage.created_at < created_before)
        rows, total = paginate(session, stmt, [OutboxMessage.id.desc()], limit, offset)
        people = {
            p.id: p
            for p in session.scalars(
                select(Person).where(Person.id.in_({r.person_id for r in rows if r.person_id}))
            )
        }
        units = {
            u.id: u
            for u in session.scalars(
                select(OrgUnit).where(OrgUnit.id.in_({r.branch_id for r in rows if r.branch_id}))
            )
        }
        items = [
            DeliveryOut(
                id=r.id,
                dedup_key=r.dedup_key,
                recipient=r.recipient,
                person=PersonRef(id=r.person_id, name=people[r.person_id].name) if r.person_id else None,
                branch=_unit_ref(units.get(r.branch_id)) if r.branch_id else None,
                platform=r.platform,
                target_kind=r.target_kind,
                target=r.target,
                status=r.status,
                status_label=DELIVERY_STATUS_LABELS[r.status],
                reason=r.reason,
                attempts=r.attempts,
                created_at=r.created_at,
                next_attempt_at=r.next_attempt_at,
                sent_at=r.sent_at,
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    for feature in features:
        router.include_router(feature)
    schema = get_openapi(title="zhibu 支部助手 API", version="1", description=__doc__, routes=router.routes)
    _add_docs_routes(router, schema)
    _add_method_not_allowed_routes(router, schema)
    return router


def _add_docs_routes(router: APIRouter, schema: dict[str, Any]) -> None:
    @router.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> JSONResponse:
        return JSONResponse(schema)

    @router.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        # root_path keeps the link right when a proxy serves zhibu under a sub-path.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=f"{root}{PREFIX}/openapi.json", title="zhibu API")


_SCHEMA_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class _MethodNotAllowed:
    """An ASGI app answering 405 with a fixed Allow. An app, not a function: a route whose endpoint is a
    function is a GET route, one whose endpoint is an app takes every method."""

    def __init__(self, allow: str) -> None:
        self.allow = allow

    async def __call__(self, scope, receive, send) -> None:
        response = JSONResponse(
            {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": self.allow}
        )
        await response(scope, receive, send)


def _add_method_not_allowed_routes(router: APIRouter, schema: dict[str, Any]) -> None:
    """After every endpoint, one route per path that answers any other method 405 with the full Allow.

    Left to itself the router answers a wrong method from the first route that matched the path, so
    GET and PATCH /meetings/{id} would each claim to be the only method there (RFC 9110 wants them all).
    """
    for path, item in schema.get("paths", {}).items():
        methods = [m.upper() for m in _SCHEMA_METHODS if m in item]
        if "GET" in methods:
            methods.insert(methods.index("GET") + 1, "HEAD")  # the router answers HEAD wherever GET is
        router.add_route(path, _MethodNotAllowed(", ".join(methods)), include_in_schema=False)
