"""The delivery ledger: one row per outbox message and recipient, in scope by the recipient's branch."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from bot.web.api.deps import PrincipalDep, SessionDep, unit_in_scope
from bot.web.api.pagination import DEFAULT_LIMIT, LimitQuery, OffsetQuery, Page, list_route, paginate
from bot.web.api.schemas import DateTimeIn, DeliveryOut, Id, PersonRef, unit_ref
from models.org import OrgUnit, Person, subtree_filter
from models.outbox import DELIVERY_STATUS_LABELS, DeliveryStatus, OutboxMessage

router = APIRouter()


@list_route(
    router,
    "/deliveries",
    DeliveryOut,
    tags=["deliveries"],
    summary="The delivery ledger: one row per message and recipient, newest first",
)
def list_deliveries(
    session: SessionDep,
    principal: PrincipalDep,
    branch_id: Annotated[Id | None, Query(description="Only recipients in this branch.")] = None,
    unit_id: Annotated[
        Id | None, Query(description="Only recipients in branches at or below this unit.")
    ] = None,
    status: Annotated[DeliveryStatus | None, Query(description="queued, sending, sent or failed.")] = None,
    person_id: Annotated[Id | None, Query(description="Only this person's deliveries.")] = None,
    dedup_key: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this message.")
    ] = None,
    created_from: Annotated[DateTimeIn | None, Query(description="Queued at or after (with zone).")] = None,
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
        stmt = stmt.where(OutboxMessage.branch_id.in_(select(OrgUnit.id).where(subtree_filter(unit))))
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
            branch=unit_ref(units.get(r.branch_id)) if r.branch_id else None,
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
