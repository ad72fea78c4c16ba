"""督办单: for a 蜗牛 project or a late milestone the committee issues a 督办单 (what, by when, to whom: the
project's secretary); the secretary reports it done, the issuer confirms (办结) or sends it back, as an
observer's rectification (handlers.observers.rectification). A project's `interview_misses`-th miss (a 督办单
past its date without being closed, or sent back) tells the committee's 书记 to hold a 约谈 with the secretary.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Button, Card, Text, md_escape
from handlers.common import dates
from handlers.common.roles import people_with_roles
from handlers.projects import access, strings
from handlers.projects.config import ProjectsConfig
from models.org import OrgUnit, Person
from models.projects import OrderStatus, ProjectStatus, SecretaryProject, SupervisionOrder

ACTION_CONFIRM = "projects.order_confirm"
ACTION_REOPEN = "projects.order_reopen"


def _committee(session: Session, p: SecretaryProject) -> OrgUnit | None:
    return access.committee_above(session, session.get(OrgUnit, p.unit_id))


def issuers(session: Session, p: SecretaryProject, cfg: ProjectsConfig) -> list[int]:
    """Who may issue (and sign off) a project's 督办单: the committee above's `committee_roles`, or 组织部."""
    committee = _committee(session, p)
    found = set(people_with_roles(session, committee.id, cfg.committee_roles)) if committee else set()
    return sorted(found | set(access.org_staff_over(session, session.get(OrgUnit, p.unit_id))))


def _order(session: Session, order_id: int) -> SupervisionOrder:
    order = session.get(SupervisionOrder, order_id)
    if order is None:
        raise Refused(strings.NO_ORDER.format(id=order_id), status=404)
    return order


def issue(
    session: Session,
    person: Person | None,
    project_id: int,
    due_on: date,
    text: str,
    *,
    milestone_seq: int | None = None,
    now: datetime,
    cfg: ProjectsConfig,
) -> SupervisionOrder:
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    p = access.project(session, project_id)
    if person.id not in issuers(session, p, cfg):
        raise Refused(strings.ORDER_NOT_ISSUER.format(id=p.id), status=403)
    if p.status != ProjectStatus.ACCEPTED:
        raise Refused(
            strings.PROGRESS_NOT_ACCEPTED.format(id=p.id, state=strings.STATUS_LABELS[p.status]), status=409
        )
    text = (text or "").strip()
    today = now.astimezone(cfg.tz).date()
    if not text or due_on < today:
        raise Refused(strings.ORDER_USAGE, status=422)
    milestone = None
    if milestone_seq is not None:
        milestone = next((m for m in p.milestones if m.seq == milestone_seq), None)
        if milestone is None:
            raise Refused(
                strings.PROGRESS_NO_MILESTONE.format(id=p.id, seq=milestone_seq, count=len(p.milestones)),
                status=422,
            )
    order = SupervisionOrder(
        project_id=p.id,
        milestone_id=milestone.id if milestone else None,
        text=text[:500],
        due_on=due_on,
        issued_by_id=person.id,
        addressee_id=p.secretary_id,
        issued_at=now,
        status=OrderStatus.OPEN,
        reopen_count=0,
    )
    session.add(order)
    session.flush()
    outbox.enqueue_to_people(
        session,
        [p.secretary_id],
        Text(
            strings.ORDER_TO_SECRETARY.format(
                id=order.id,
                project=p.id,
                title=p.title,
                milestone=strings.ORDER_MILESTONE.format(seq=milestone.seq, title=milestone.title)
                if milestone
                else "",
                text=order.text,
                due=dates.fmt_full_day(due_on),
                issuer=person.name,
            )
        ),
        dedup_key=f"projects:order:{order.id}:issued",
        now=now,
    )
    return order


def report_done(
    session: Session, person: Person | None, order_id: int, note: str, *, now: datetime, cfg: ProjectsConfig
) -> SupervisionOrder:
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    order = _order(session, order_id)
    if person.id != order.addressee_id:
        raise Refused(strings.ORDER_NOT_YOURS.format(id=order.id), status=403)
    note = (note or "").strip()
    if not note:
        raise Refused(strings.ORDER_NOTE_REQUIRED.format(id=order.id), status=422)
    if order.status not in (OrderStatus.OPEN, OrderStatus.REOPENED):
        raise Refused(
            strings.ORDER_WRONG_STATE.format(id=order.id, state=strings.ORDER_STATUS[order.status]),
            status=409,
        )
    order.status, order.report_note, order.reported_at = OrderStatus.REPORTED, note[:1000], now
    session.flush()
    p = session.get(SecretaryProject, order.project_id)
    params = {"order": str(order.id)}
    outbox.enqueue_to_people(
        session,
        [order.issued_by_id] if order.issued_by_id else issuers(session, p, cfg),
        Card(
            title=strings.ORDER_REVIEW_TITLE.format(unit=session.get(OrgUnit, p.unit_id).name),
            text=strings.ORDER_REVIEW_TEXT.format(
                id=order.id,
                title=md_escape(p.title),
                text=md_escape(order.text),
                note=md_escape(order.report_note),
            ),
            buttons=(
                Button(strings.BUTTON_ORDER_CONFIRM, action=ACTION_CONFIRM, params=params),
                Button(strings.BUTTON_ORDER_REOPEN, action=ACTION_REOPEN, params=params),
            ),
            card_key=f"project_order:{order.id}:{order.reopen_count}",
        ),
        dedup_key=f"projects:order:{order.id}:reported:{order.reopen_count}",
        now=now,
    )
    return order


def _issuer_order(
    session: Session, person: Person | None, order_id: int, cfg: ProjectsConfig
) -> SupervisionOrder:
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    order = _order(session, order_id)
    p = session.get(SecretaryProject, order.project_id)
    if person.id not in issuers(session, p, cfg):
        raise Refused(strings.ORDER_NOT_ISSUER.format(id=p.id), status=403)
    if order.status != OrderStatus.REPORTED:
        raise Refused(
            strings.ORDER_WRONG_STATE.format(id=order.id, state=strings.ORDER_STATUS[order.status]),
            status=409,
        )
    return order


def confirm(
    session: Session, person: Person | None, order_id: int, *, now: datetime, cfg: ProjectsConfig
) -> SupervisionOrder:
    order = _issuer_order(session, person, order_id, cfg)
    order.status, order.closed_at = OrderStatus.CLOSED, now
    session.flush()
    outbox.enqueue_to_people(
        session,
        [order.addressee_id],
        Text(strings.ORDER_CLOSED_TO_SECRETARY.format(id=order.id, name=person.name)),
        dedup_key=f"projects:order:{order.id}:closed",
        now=now,
    )
    return order


def reopen(
    session: Session, person: Person | None, order_id: int, reason: str, *, now: datetime, cfg: ProjectsConfig
) -> SupervisionOrder:
    order = _issuer_order(session, person, order_id, cfg)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(strings.ORDER_REASON_REQUIRED.format(id=order.id), status=422)
    order.status, order.reopen_reason = OrderStatus.REOPENED, reason[:500]
    order.reopen_count += 1
    session.flush()
    outbox.enqueue_to_people(
        session,
        [order.addressee_id],
        Text(strings.ORDER_REOPENED_TO_SECRETARY.format(id=order.id, reason=order.reopen_reason)),
        dedup_key=f"projects:order:{order.id}:reopened:{order.reopen_count}",
        now=now,
    )
    _maybe_interview(session, order, now=now, cfg=cfg)
    return order


def misses(session: Session, project_id: int) -> int:
    """A project's misses so far: its 督办单 that went past their date unclosed, and every send-back."""
    past = session.scalar(
        select(func.count()).where(
            SupervisionOrder.project_id == project_id, SupervisionOrder.missed_at.is_not(None)
        )
    )
    sent_back = session.scalar(
        select(func.coalesce(func.sum(SupervisionOrder.reopen_count), 0)).where(
            SupervisionOrder.project_id == project_id
        )
    )
    return int(past or 0) + int(sent_back or 0)


def _maybe_interview(session: Session, order: SupervisionOrder, *, now: datetime, cfg: ProjectsConfig) -> int:
    """The 约谈 notice, once per order, when the project's misses reach `interview_misses`."""
    if order.interview_at is not None:
        return 0
    count = misses(session, order.project_id)
    if count < cfg.interview_misses:
        return 0
    p = session.get(SecretaryProject, order.project_id)
    committee = _committee(session, p)
    leaders = people_with_roles(session, committee.id, cfg.interview_roles) if committee else []
    if not leaders:
        leaders = access.org_staff_over(session, session.get(OrgUnit, p.unit_id))
    order.interview_at = now
    session.flush()
    secretary = session.get(Person, p.secretary_id)
    return outbox.enqueue_to_people(
        session,
        sorted(set(leaders) | {p.secretary_id} | ({order.issued_by_id} if order.issued_by_id else set())),
        Text(
            strings.INTERVIEW_TEXT.format(
                id=p.id, title=p.title, secretary=secretary.name, count=count, order=order.id
            )
        ),
        dedup_key=f"projects:order:{order.id}:interview",
        now=now,
    )


def check_orders(session: Session, *, now: datetime, cfg: ProjectsConfig) -> int:
    """Daily: an order past its date and not closed is a miss (the secretary and the issuer hear once);
    the project's second miss brings the 约谈."""
    today = now.astimezone(cfg.tz).date()
    sent = 0
    for order in session.scalars(
        select(SupervisionOrder)
        .where(
            SupervisionOrder.status.in_([OrderStatus.OPEN, OrderStatus.REOPENED]),
            SupervisionOrder.due_on < today,
            SupervisionOrder.missed_at.is_(None),
        )
        .order_by(SupervisionOrder.id)
    ):
        order.missed_at = now
        session.flush()
        sent += outbox.enqueue_to_people(
            session,
            sorted({order.addressee_id} | ({order.issued_by_id} if order.issued_by_id else set())),
            Text(
                strings.ORDER_OVERDUE.format(
                    id=order.id, text=order.text, due=dates.fmt_full_day(order.due_on)
                )
            ),
            dedup_key=f"projects:order:{order.id}:overdue",
            now=now,
        )
        sent += _maybe_interview(session, order, now=now, cfg=cfg)
    return sent


def open_orders(session: Session, person: Person) -> list[SupervisionOrder]:
    """Orders not closed that the person answers for (as the secretary) or issued."""
    return list(
        session.scalars(
            select(SupervisionOrder)
            .where(
                SupervisionOrder.status != OrderStatus.CLOSED,
                (SupervisionOrder.addressee_id == person.id) | (SupervisionOrder.issued_by_id == person.id),
            )
            .order_by(SupervisionOrder.due_on, SupervisionOrder.id)
        )
    )
