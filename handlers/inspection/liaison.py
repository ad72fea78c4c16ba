"""包保联系 (鱼台, issue #20 item 6): 组织部 cadres are assigned 1–3 committees each; each month they get
their committees' inspection digest (the quarter's 巡查指导 line, open and overdue rectifications, last
month's patrol), and an overdue rectification in one of their committees reaches them too
(rounds.remind). Elsewhere the Liaison rows are read where they act: the console narrows a cadre's
scope to their committees (handlers.console.scope.Scope.to_liaison, the top bar's 只看包保党委 /
查看全县), and the monthly run sends them their committees' 月度通报 and the ladders' notices to the
committees' leaders (handlers.monthly.recipients.RoleBook.liaisons_of; monthly may not import this)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Markdown, md_escape
from handlers.common import dates
from handlers.inspection import guidance, strings
from handlers.inspection.config import InspectionConfig
from handlers.inspection.rounds import Standing
from models.inspection import Finding, InspectionRectification, InspectionRound, Liaison, RoundKind, RoundUnit
from models.observers import RectificationStatus
from models.org import OrgUnit, Person, RoleAssignment, UnitKind


def assign(
    session: Session, st: Standing, cadre: Person, committees: list[OrgUnit], cfg: InspectionConfig
) -> list[Liaison]:
    """Replace the cadre's committees (1 to liaison_max_committees) by the 组织部 over them all."""
    if not 1 <= len(committees) <= cfg.liaison_max_committees:
        raise Refused(
            strings.LIAISON_TOO_MANY.format(n=cfg.liaison_max_committees), ("committees",), status=422
        )
    for c in committees:
        if c.kind != UnitKind.COMMITTEE:
            raise Refused(strings.LIAISON_NOT_COMMITTEE, ("committees",), status=422)
        if not st.organises(c.path):
            raise Refused(strings.NOT_ORGANISER, status=403)
    is_staff = session.scalar(
        select(RoleAssignment.id)
        .where(RoleAssignment.person_id == cadre.id, RoleAssignment.role.in_(cfg.inspector_roles))
        .limit(1)
    )
    if is_staff is None:
        raise Refused(strings.LIAISON_NOT_STAFF.format(name=cadre.name), ("person",), status=422)
    wanted = {c.id for c in committees}
    current = session.scalars(select(Liaison).where(Liaison.person_id == cadre.id)).all()
    for row in current:
        if row.committee_id not in wanted:
            session.delete(row)
    have = {r.committee_id for r in current}
    for cid in sorted(wanted - have):
        session.add(Liaison(person_id=cadre.id, committee_id=cid, assigned_by_id=st.person_id))
    session.flush()
    return list(
        session.scalars(select(Liaison).where(Liaison.person_id == cadre.id).order_by(Liaison.committee_id))
    )


def committee_summary(session: Session, committee: OrgUnit, today: date) -> dict:
    """What a liaison cadre reads about one committee."""
    under = select(OrgUnit.id).where(OrgUnit.path.startswith(committee.path))
    open_rects = select(func.count()).where(
        InspectionRectification.branch_id.in_(under),
        InspectionRectification.status != RectificationStatus.CLOSED,
    )
    overdue = open_rects.where(InspectionRectification.due_on < today)
    last_month = dates.add_months(dates.month_start(today), -1)
    patrol_units = (
        select(RoundUnit.id)
        .join(InspectionRound, InspectionRound.id == RoundUnit.round_id)
        .where(
            InspectionRound.kind == RoundKind.PATROL,
            InspectionRound.month == last_month,
            RoundUnit.branch_id.in_(under),
        )
    )
    return {
        "committee": committee,
        "line": guidance.quarter_counts(session, committee, today).line(),
        "open": session.scalar(open_rects) or 0,
        "overdue": session.scalar(overdue) or 0,
        "drawn": session.scalar(select(func.count()).select_from(patrol_units.subquery())) or 0,
        "found": session.scalar(
            select(func.count()).where(Finding.round_unit_id.in_(patrol_units), Finding.ok.is_(False))
        ) or 0,
    }  # fmt: skip


def send_digests(session: Session, *, today: date, now: datetime) -> int:
    """Each cadre's monthly digest of their committees (once per month)."""
    per: dict[int, list[int]] = {}
    for pid, cid in session.execute(
        select(Liaison.person_id, Liaison.committee_id).order_by(Liaison.committee_id)
    ):
        per.setdefault(pid, []).append(cid)
    sent = 0
    for pid, cids in sorted(per.items()):
        committees = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(cids)).order_by(OrgUnit.path)).all()
        lines = []
        for c in committees:
            s = committee_summary(session, c, today)
            lines.append(strings.LIAISON_DIGEST_LINE.format(**{**s, "committee": md_escape(c.name)}))
        sent += outbox.enqueue_to_people(
            session, [pid],
            Markdown(title=strings.LIAISON_DIGEST_TITLE.format(month=dates.fmt_month(today)), text="\n\n".join(lines)),
            dedup_key=f"inspection:liaison:{pid}:{today:%Y-%m}", now=now,
        )  # fmt: skip
    return sent
