"""Lists: ``limit`` / ``offset`` query parameters, one page in a stable order, and the ``Page`` answer."""

from typing import Annotated, Generic, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.web.api.schemas import NOT_FOUND

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Beyond this an OFFSET only overflows the database's integer, never finds rows.
MAX_OFFSET = 2**31 - 1

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1…{MAX_LIMIT}.")]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many items match, over all pages.")
    limit: int
    offset: int


def paginate(session: Session, stmt, order_by, limit: int, offset: int) -> tuple[list, int]:
    """One page of `stmt` in a stable order, and how many rows match in all."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.order_by(*order_by).limit(limit).offset(offset)).unique())
    return rows, total


def list_route(router: APIRouter, path: str, item: type, *, summary: str, tags: list[str] | None = None):
    """GET `path` answering one Page of `item`; 404 where a filter names a unit out of scope."""
    return router.get(path, response_model=Page[item], tags=tags, responses=NOT_FOUND, summary=summary)
