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

from collections.abc import Callable, Iterable
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.utils import get_openapi
from sqlalchemy.orm import Session, sessionmaker

from bot.web.api import deliveries, people, roles, tokens, units
from bot.web.api.deps import (
    ApiContext,
    Principal,
    PrincipalDep,
    SessionDep,
    WriterDep,
    not_found,
    refused,
    reject_unknown_query_params,
    unit_in_scope,
)
from bot.web.api.docs import add_docs_routes, add_method_not_allowed_routes
from bot.web.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    LimitQuery,
    OffsetQuery,
    Page,
    list_route,
    paginate,
)
from bot.web.api.schemas import (
    MAX_ID,
    NOT_FOUND,
    PREFIX,
    REFUSED,
    WRITE_RESPONSES,
    DateTimeIn,
    Id,
    PersonRef,
    Problem,
    UnitRef,
)
from models.base import utcnow

# What the features, the app factory, the tests and the benchmarks import from bot.web.api.
__all__ = [
    "DEFAULT_LIMIT",
    "MAX_ID",
    "MAX_LIMIT",
    "NOT_FOUND",
    "PREFIX",
    "REFUSED",
    "WRITE_RESPONSES",
    "DateTimeIn",
    "Id",
    "LimitQuery",
    "OffsetQuery",
    "Page",
    "PersonRef",
    "Principal",
    "PrincipalDep",
    "Problem",
    "SessionDep",
    "UnitRef",
    "WriterDep",
    "build_api_router",
    "list_route",
    "not_found",
    "paginate",
    "refused",
    "unit_in_scope",
]


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
        dependencies=[Depends(bind), Depends(reject_unknown_query_params)],
        responses={
            400: {"model": Problem, "description": "Unknown query parameter"},
            401: {"model": Problem, "description": "Missing, invalid or revoked bearer token"},
        },
    )

    # The OpenAPI document lists the paths in the order they are included.
    for resource in (tokens, units, people, roles, deliveries):
        router.include_router(resource.router)
    for feature in features:
        router.include_router(feature)
    schema = get_openapi(title="zhibu 支部助手 API", version="1", description=__doc__, routes=router.routes)
    add_docs_routes(router, schema)
    add_method_not_allowed_routes(router, schema)
    return router
