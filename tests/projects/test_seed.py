"""`zhibu seed --months N` also writes 书记项目 with plausible progress: the console and 晒比评 show them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from handlers.common.roles import people_with_roles
from handlers.projects import access, bulletin, compare, library, showcase
from handlers.projects.config import DEFAULT as CFG
from models.org import OrgUnit, Person, UnitKind
from models.projects import (
    ProjectBulletin,
    ProjectCall,
    ProjectJudge,
    ProjectMilestone,
    ProjectProgress,
    ProjectRating,
    ProjectShowScore,
    ProjectStatus,
    SecretaryProject,
)
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
    everything = session.scalars(select(SecretaryProject)).all()
    projects = [p for p in everything if p.year == 2026]
    assert {p.year for p in everything} == {2026, 2027}  # November: next year's call is open
    accepted = [p for p in projects if p.status == ProjectStatus.ACCEPTED]
    assert len(accepted) >= len(projects) / 2
    for p in everything:
        assert p.milestones and all(m.due_on.year == p.year for m in p.milestones)
        assert (p.decided_at is not None) == (p.status == ProjectStatus.ACCEPTED)
    for m in session.scalars(select(ProjectMilestone)):
        assert m.done_on is None or m.done_on <= NOW.date()
    for r in session.scalars(select(ProjectProgress)):
        project = session.get(SecretaryProject, r.project_id)
        assert project.status == ProjectStatus.ACCEPTED and r.reported_at <= NOW and r.month.year == 2026
        assert date(2026, 4, 1) <= r.month <= date(2026, 11, 1)  # from April, after the March acceptance
    committee = session.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE)).first()
    rows, decided = compare.month_view(session, committee, date(2026, 10, 1), CFG)
    assert rows and not decided


def test_in_december_next_years_call_is_open_and_a_project_waits_for_each_committees_prereview(session):
    """The demo's season: this year's call long closed and its projects in the library, so the seed opens
    next year's call and leaves, under every committee, one registration of next year waiting for 预审 by
    the committee's 组织委员; any other secretary may register for next year."""
    now = datetime(2026, 12, 4, 2, tzinfo=UTC)
    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=6, today=now.date(), now=now)
    session.commit()
    (call,) = session.scalars(select(ProjectCall).where(ProjectCall.year == 2027)).all()
    assert (call.year, call.deadline, call.unit_id) == (2027, date(2027, 3, 31), None)
    committees = session.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE)).all()
    cfg = CFG
    for committee in committees:
        waiting = [
            p
            for p in session.scalars(select(SecretaryProject).where(SecretaryProject.year == 2027))
            if session.get(OrgUnit, p.unit_id).path.startswith(committee.path)
        ]
        assert [p.status for p in waiting] == [ProjectStatus.SUBMITTED], committee.name
        (p,) = waiting
        assert p.submitted_at <= now and all(
            m.due_on.year == 2027 and m.done_on is None for m in p.milestones
        )
        unit = session.get(OrgUnit, p.unit_id)
        assert access.prereviewers(session, unit, cfg) and access.prereviewers(
            session, unit, cfg
        ) == people_with_roles(session, committee.id, cfg.prereview_roles)
        window = library.registration_window(session, unit, now.date(), cfg)
        assert (window.year, window.open) == (2027, True)


def test_the_seed_has_the_years_end_and_one_confirmed_quarter(session):
    """November: members rated a share of the projects in October, the 观摩评比 panel has scored, one
    project is 优秀, and the first committee confirmed the third quarter's 排位赛 in the order the rule
    gives for the facts the seed wrote; the other committee's quarter waits for its confirmation."""
    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=6, today=NOW.date(), now=NOW)
    session.commit()
    this_year = session.scalar(
        select(ProjectCall).where(ProjectCall.year == 2026, ProjectCall.unit_id.is_(None))
    )
    judges = session.scalars(select(ProjectJudge.person_id).where(ProjectJudge.call_id == this_year.id)).all()
    assert len(judges) == 2
    scores = session.scalars(select(ProjectShowScore)).all()
    assert scores and {s.judge_id for s in scores} <= set(judges) and all(70 <= s.score <= 96 for s in scores)
    assert len({(s.project_id, s.judge_id) for s in scores}) == len(scores)
    (best,) = session.scalars(
        select(SecretaryProject).where(SecretaryProject.excellent_at.is_not(None))
    ).all()
    assert best.status == ProjectStatus.ACCEPTED and showcase.excellent(session, 2026)[0][0].id == best.id
    ratings = session.scalars(select(ProjectRating)).all()
    assert ratings and all(r.rated_at <= NOW and r.person_id is not None for r in ratings)
    rated = {r.project_id for r in ratings}
    for pid in rated:
        p = session.get(SecretaryProject, pid)
        assert p.rating_opens_on == date(2026, 10, 8) and p.rating_closes_on == date(2026, 10, 31)
        assert p.satisfaction is not None and 0 <= p.satisfaction <= 1
        members = {r.person_id for r in ratings if r.project_id == pid}
        branch = session.get(OrgUnit, p.unit_id)
        assert all(session.get(Person, m).branch_id == branch.id for m in members)

    (b,) = session.scalars(select(ProjectBulletin)).all()
    assert b.quarter == date(2026, 7, 1) and b.confirmed_at is not None and b.confirmed_at <= NOW
    committee = session.get(OrgUnit, b.committee_id)
    rows, confirmed = bulletin.quarter_view(session, committee, b.quarter, CFG)
    proposed = bulletin.propose(bulletin.quarter_facts(session, committee, b.quarter, CFG))
    assert confirmed is not None and len(rows) >= 2
    assert [(r.project.id, r.rank, r.facts()) for r in rows] == [
        (r.project.id, r.rank, r.facts()) for r in proposed
    ]
    assert set(bulletin.recipients(session, committee, rows, CFG)) == set(b.recipients)
    others = session.scalars(
        select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE, OrgUnit.id != committee.id)
    ).all()
    assert others and all(bulletin.quarter_view(session, c, b.quarter, CFG)[1] is None for c in others)


def test_every_past_month_of_the_year_has_plausible_progress_reports(session):
    """A demo seeded with a short history (December, two months) still shows each quarter's 排位赛 with
    real differences: most months reported, some missed, never all 0/3."""
    now = datetime(2026, 12, 4, 2, tzinfo=UTC)
    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=2, today=now.date(), now=now)
    session.commit()
    committees = session.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE)).all()
    for quarter in (date(2026, 4, 1), date(2026, 7, 1)):
        reported = [
            r.months_reported for c in committees for r in bulletin.quarter_facts(session, c, quarter, CFG)
        ]
        assert reported and sum(reported) > 2 * len(reported), quarter  # most months reported
        assert len(set(reported)) > 1 and min(reported) < 3, quarter  # some missed
    for r in session.scalars(select(ProjectProgress)):
        assert r.reported_at <= now and date(2026, 4, 1) <= r.month <= date(2026, 12, 1)
