"""One 书记项目's file (档案) as a .docx: 申报, 预审 and 评审, milestones, monthly progress, 晒比评, 督办单,
群众评议 and the result (with the 观摩评比 scores and the 优秀项目 choice), in that order, for the committee's or the 组织部's records (issue #21 item 8).

The ledgers sit above the features (pyproject's import contracts), so the project's tables are read here;
every label is handlers.projects.strings'. Who rated is never printed, only what was said. Nothing here
writes.
"""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.common.dates import fmt_full_day, fmt_month
from handlers.ledgers.document import Styles, a4_document, docx_bytes, heading, kv, table, when
from handlers.projects import rating
from handlers.projects import strings as S
from models.org import OrgUnit, Person
from models.projects import (
    ProjectPick,
    ProjectProgress,
    ProjectRating,
    ProjectReview,
    ProjectShowScore,
    SecretaryProject,
    SupervisionOrder,
)


def _names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return (
        dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()) if ids else {}
    )


def project_file_docx(session: Session, p: SecretaryProject, tz: tzinfo) -> bytes:
    reviews = session.scalars(
        select(ProjectReview).where(ProjectReview.project_id == p.id).order_by(ProjectReview.scored_at)
    ).all()
    reports = session.scalars(
        select(ProjectProgress)
        .where(ProjectProgress.project_id == p.id)
        .order_by(ProjectProgress.month, ProjectProgress.reported_at)
    ).all()
    picks = session.scalars(
        select(ProjectPick).where(ProjectPick.project_id == p.id).order_by(ProjectPick.month)
    ).all()
    orders = session.scalars(
        select(SupervisionOrder).where(SupervisionOrder.project_id == p.id).order_by(SupervisionOrder.id)
    ).all()
    ratings = session.scalars(
        select(ProjectRating).where(ProjectRating.project_id == p.id).order_by(ProjectRating.rated_at)
    ).all()
    shows = session.scalars(
        select(ProjectShowScore)
        .where(ProjectShowScore.project_id == p.id)
        .order_by(ProjectShowScore.scored_at)
    ).all()
    names = _names(
        session,
        [
            p.secretary_id,
            p.prereviewed_by_id,
            *(r.reviewer_id for r in reviews),
            *(s.judge_id for s in shows),
        ],
    )
    unit = session.get(OrgUnit, p.unit_id)
    seqs = {m.id: m.seq for m in p.milestones}

    doc = a4_document()
    styles = Styles(doc)
    doc.add_heading(S.FILE_TITLE.format(year=p.year), 0)
    doc.add_paragraph(f"#{p.id} {p.title}")
    sec = iter(S.FILE_SECTIONS)

    heading(doc, styles, next(sec), 1)
    values = (unit.name, names.get(p.secretary_id, ""), p.title, p.problem, p.content, p.expected, p.leaders,
              when(p.submitted_at, tz), S.STATUS_LABELS[p.status])  # fmt: skip
    kv(doc, styles, list(zip(S.FILE_APPLY, values, strict=True)))

    heading(doc, styles, next(sec), 1)
    pre = (
        names.get(p.prereviewed_by_id, ""),
        when(p.prereviewed_at, tz),
        str(p.return_count),
        p.return_reason or "",
    )
    kv(doc, styles, list(zip(S.FILE_PRE, pre, strict=True)))
    if reviews:
        doc.add_paragraph()
        rows = [
            [names.get(r.reviewer_id, ""), str(r.score), r.comment, when(r.scored_at, tz)] for r in reviews
        ]
        table(doc, styles, list(S.FILE_REVIEW_HEAD), rows)

    heading(doc, styles, next(sec), 1)
    table(doc, styles, list(S.FILE_MILESTONE_HEAD), [
        [str(m.seq), m.title, fmt_full_day(m.due_on), fmt_full_day(m.done_on) if m.done_on else ""]
        for m in p.milestones
    ])  # fmt: skip

    heading(doc, styles, next(sec), 1)
    if reports:
        table(doc, styles, list(S.FILE_PROGRESS_HEAD), [
            [fmt_month(r.month), str(seqs.get(r.milestone_id, "")), r.text, "√" if r.done else "",
             when(r.reported_at, tz)]
            for r in reports
        ])  # fmt: skip
    else:
        doc.add_paragraph(S.FILE_NONE)

    heading(doc, styles, next(sec), 1)
    if picks:
        table(doc, styles, list(S.FILE_PICK_HEAD), [
            [fmt_month(k.month), S.PICK_NAMES.get(k.proposed_kind or "", ""),
             S.PICK_NAMES.get(k.chosen_kind or "", "") if k.decided_at else ""]
            for k in picks
        ])  # fmt: skip
    else:
        doc.add_paragraph(S.FILE_NONE)

    heading(doc, styles, next(sec), 1)
    if orders:
        table(doc, styles, list(S.FILE_ORDER_HEAD), [
            [str(o.id), o.text, fmt_full_day(o.due_on), S.ORDER_STATUS[o.status], o.report_note or "",
             S.FILE_INTERVIEWED if o.interview_at else ""]
            for o in orders
        ])  # fmt: skip
    else:
        doc.add_paragraph(S.FILE_NONE)

    heading(doc, styles, next(sec), 1)
    # The counts from the ratings already loaded (result_line would query them again).
    doc.add_paragraph(rating.result_line(session, p, Counter(r.verdict for r in ratings)))
    if ratings:
        table(doc, styles, list(S.FILE_RATING_HEAD), [
            [S.VERDICT_LABELS[r.verdict], r.comment, S.FILE_RATING_FROM[r.person_id is None]] for r in ratings
        ])  # fmt: skip

    heading(doc, styles, next(sec), 1)
    done = sum(m.done_on is not None for m in p.milestones)
    result = (
        f"{p.score:g}" if p.score is not None else "",
        f"{p.satisfaction * 100:.1f}%" if p.satisfaction is not None else "",
        f"{done}/{len(p.milestones)}",
        S.FILE_SHOW.format(
            mean=sum(s.score for s in shows) / len(shows),
            count=len(shows),
            scores="、".join(f"{names.get(s.judge_id, '')}{s.score}" for s in shows),
        )
        if shows
        else "",
        S.FILE_EXCELLENT.format(when=when(p.excellent_at, tz)) if p.excellent_at else "",
    )
    kv(doc, styles, list(zip(S.FILE_RESULT, result, strict=True)))
    return docx_bytes(doc)
