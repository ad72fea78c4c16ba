"""`zhibu seed --months N` writes a closed 督查 round with findings and rectifications, and this month's
random patrol (seeded, hidden from branches until the month ends): the console shows both."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from handlers.inspection import guidance, rounds
from handlers.inspection.config import DEFAULT
from models.inspection import Finding, InspectionRectification, InspectionRound, Liaison, RoundKind
from models.inspection_seed import inspection_history
from models.org import OrgUnit, Person, Role, RoleAssignment, UnitKind
from models.seed import HISTORY_GENERATORS, seed

NOW = datetime(2026, 11, 20, 2, tzinfo=UTC)


def test_seeded_rounds(session):
    assert inspection_history in HISTORY_GENERATORS
    result = seed(
        session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=NOW.date(), now=NOW
    )
    session.commit()
    assert result.rows["inspection_round"] == 3 and result.rows["inspection_finding"] >= 10
    assert result.rows["inspection_liaison"] == 1  # 赵敏: 城关镇党委 (县直机关工委 is outside her 包保)
    assert {(p, u) for p, u in session.execute(
        select(Person.name, OrgUnit.name).join(Liaison, Liaison.person_id == Person.id)
        .join(OrgUnit, OrgUnit.id == Liaison.committee_id)
    )} == {("赵敏", "城关镇党委")}  # fmt: skip
    assert guidance.quarter_counts(session, None, NOW.date()).line() == (
        "巡查指导 2 个基层党组织，发现反馈问题 2 条，指导整改完成 1 条"
    )
    supervision = session.scalar(select(InspectionRound).where(InspectionRound.kind == RoundKind.SUPERVISION))
    assert supervision.closed_at is not None and len(supervision.units) == 3
    assert session.scalar(select(Finding.id).where(Finding.ok.is_(False))) is not None
    assert session.scalar(select(InspectionRectification.id)) is not None
    patrol = session.scalar(select(InspectionRound).where(InspectionRound.kind == RoundKind.PATROL))
    branches = session.scalar(select(OrgUnit.id).where(OrgUnit.kind == UnitKind.BRANCH).limit(1))
    assert (
        patrol.seed is not None
        and patrol.month == date(2026, 11, 1)
        and patrol.visible_from == date(2026, 12, 1)
    )
    assert patrol.units and branches is not None
    # A drawn branch's secretary does not see it in November, and does in December.
    drawn = patrol.units[0].branch_id
    secretary = session.scalar(
        select(RoleAssignment.person_id).where(
            RoleAssignment.org_unit_id == drawn, RoleAssignment.role == Role.SECRETARY
        )
    )
    st = rounds.standing(session, secretary, DEFAULT)
    assert rounds.visible_units(session, st, patrol, date(2026, 11, 30)) == []
    assert rounds.visible_units(session, st, patrol, date(2026, 12, 1))


def test_seeded_findings_match_their_items_are_unique_and_within_the_history(session):
    """No 谈心谈话 problem under 组织生活会, no branch with the same problem twice, no 3月 in a history
    that starts in September."""
    import re

    from models.inspection import RoundUnit
    from models.inspection_seed import ITEMS, PROBLEMS
    from models.seed import seed_start_month

    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=NOW.date(), now=NOW)
    session.commit()
    start = seed_start_month(NOW.date(), 3)
    problems = session.scalars(select(Finding).where(Finding.ok.is_(False))).all()
    assert len(problems) >= 3
    for f in problems:
        if f.item_title in ITEMS:
            templates = PROBLEMS[ITEMS.index(f.item_title)]
            assert any(re.fullmatch(t.replace("{m}", r"\d+"), f.text) for t in templates), (
                f.item_title,
                f.text,
            )
        for month in re.findall(r"(\d+)月", f.text):
            assert int(month) in {start.month, 10, 11}, f.text  # September to November 2026
    for ru in session.scalars(select(RoundUnit)).all():
        texts = [f.text for f in ru.findings if not f.ok]
        assert len(texts) == len(set(texts)), texts
