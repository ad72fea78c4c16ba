"""`zhibu seed --months N` also writes 书记项目 with plausible progress: the console and 晒比评 show them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from handlers.projects import compare
from handlers.projects.config import DEFAULT as CFG
from models.org import OrgUnit, UnitKind
from models.projects import ProjectMilestone, ProjectProgress, ProjectStatus, SecretaryProject
from models.projects_seed import projects_history
from models.seed import HISTORY_GENERATORS, seed

NOW = datetime(2026, 11, 20, 2, tzinfo=UTC)


def test_seeded_projects_are_plausible(session):
    assert projects_history in HISTORY_GENERATORS
    result = seed(
        session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=6, today=NOW.date(), now=NOW
    )
    session.commit()
    assert result.rows["secretary_project"] >= 3 and result.rows["project_progress"] >= 3
    projects = session.scalars(select(SecretaryProject)).all()
    assert {p.year for p in projects} == {2026}
    accepted = [p for p in projects if p.status == ProjectStatus.ACCEPTED]
    assert len(accepted) >= len(projects) / 2
    for p in projects:
        assert p.milestones and all(m.due_on.year == 2026 for m in p.milestones)
        assert (p.decided_at is not None) == (p.status == ProjectStatus.ACCEPTED)
    for m in session.scalars(select(ProjectMilestone)):
        assert m.done_on is None or m.done_on <= NOW.date()
    for r in session.scalars(select(ProjectProgress)):
        project = session.get(SecretaryProject, r.project_id)
        assert project.status == ProjectStatus.ACCEPTED and r.reported_at <= NOW and r.month.year == 2026
        assert r.month >= date(2026, 6, 1)  # within the six months of history
    committee = session.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE)).first()
    rows, decided = compare.month_view(session, committee, date(2026, 10, 1), CFG)
    assert rows and not decided
