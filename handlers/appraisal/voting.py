"""党员互评 and 民主测评: one anonymous ballot per voter (models/appraisal.py says how it stays anonymous).

A voter (正式党员, not under 留党察看) gives each other member of the appraisal one of the four grades, all
at once, inside the window. The ballot is final: nothing links a stored ballot to its voter, so there is
nothing to find and replace; a second submission is refused (409) rather than silently added.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.appraisal import service, strings
from models.appraisal import AppraisalBallot, AppraisalMember, Grade
from models.org import Person

FIELD = "p{id}"  # the form field of the grade given to member {id}


def check_voter(row: AppraisalMember) -> None:
    if row.probationary:
        raise Refused(strings.NO_VOTE_PROBATIONARY, status=403)
    if row.suspended:
        raise Refused(strings.NO_VOTE_SUSPENDED, status=403)
    if row.has_voted:
        raise Refused(strings.ALREADY_VOTED, status=409)


def cast_ballot(
    session: Session,
    voter: Person,
    appraisal_id: int,
    marks: Mapping[str, str],
    *,
    now: datetime,
    tz: ZoneInfo,
) -> int:
    """Store one ballot: a grade for every other member, or nothing. Returns how many marks were stored."""
    a = service.get_appraisal(session, appraisal_id)
    row = service.membership(session, a, voter)
    service.check_window(a, now, tz)
    check_voter(row)
    subjects = [(m, p) for m, p in service.members(session, a) if p.id != voter.id]
    grades: dict[int, Grade] = {}
    missing = []
    for _m, p in subjects:
        value = str(marks.get(FIELD.format(id=p.id), "") or "").strip()
        if not value:
            missing.append(p.name)
            continue
        try:
            grades[p.id] = Grade(value)
        except ValueError:
            raise Refused(strings.BALLOT_BAD, (FIELD.format(id=p.id),), status=422) from None
    if missing:
        raise Refused(strings.BALLOT_INCOMPLETE.format(n=len(missing), names="、".join(missing)), status=422)
    extra = {k for k in marks if k.startswith("p")} - {FIELD.format(id=p.id) for _m, p in subjects}
    if extra:
        raise Refused(strings.BALLOT_BAD, status=422)
    # The vote is counted first, conditionally: of two submissions racing, one finds has_voted set.
    done = session.execute(
        update(AppraisalMember)
        .where(
            AppraisalMember.appraisal_id == a.id,
            AppraisalMember.person_id == voter.id,
            AppraisalMember.has_voted.is_(False),
        )
        .values(has_voted=True)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Refused(strings.ALREADY_VOTED, status=409)
    session.expire(row)
    # Random keys (the model's default) and a shuffled order: nothing in the rows says they came together.
    items = list(grades.items())
    secrets.SystemRandom().shuffle(items)
    session.add_all(AppraisalBallot(appraisal_id=a.id, subject_id=pid, grade=g) for pid, g in items)
    session.flush()
    return len(items)
