"""The request's context, which every endpoint (ours and the features') declares: the per-request
transaction, the calling token (``Principal``) and what it may do, the refusal of unknown query
parameters, the error answers, and the scope check on a unit."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session, sessionmaker

from bot.web.api.schemas import REFUSED
from models.api_token import ApiToken, authenticate
from models.audit import Actor, act_as
from models.org import OrgUnit

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="A token from `zhibu api-token create`, sent as `Authorization: Bearer zbt_…`.",
)


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


# scope="function": the transaction ends when the endpoint returns, BEFORE the response is sent. With
# the default ("request") FastAPI commits after the client has its 201, so a client could read before
# the write landed and a failed commit would be lost behind a success.
_SESSION = Depends(get_session, scope="function")


def get_principal(
    request: Request,
    session: Annotated[Session, _SESSION],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    """The calling token, read in the request's own transaction: the one place where a request's
    Session and its Principal meet. FastAPI runs it once per request (WriterDep goes through it too), so
    whatever must happen in the same transaction once the caller is known (an audit of writes) goes here.
    """
    if credentials is None:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    token: ApiToken | None = authenticate(session, credentials.credentials, now=_context(request).clock())
    if token is None:
        raise _unauthorized("invalid or revoked token", error="invalid_token")
    # Whatever this request changes is the token's doing in the audit log (models.audit).
    act_as(session, Actor("api", label=token.name), clock=_context(request).clock)
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
SessionDep = Annotated[Session, _SESSION]
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


def reject_unknown_query_params(request: Request) -> None:
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
# Scope (query helpers never commit)


def unit_in_scope(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not principal.sees_path(unit.path):
        raise not_found("unit", unit_id)
    return unit
