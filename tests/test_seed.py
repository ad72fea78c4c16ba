"""zhibu seed: the demo organisation, the refusal to overwrite, history hooks and a small custom scale."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import models.seed as seed_module
from bot.cli import app
from config import demo
from handlers.roster import import_roster, structure_warnings, write_roster
from handlers.roster.exporter import roster_rows
from models.org import (
    BRANCH_COMMITTEE_ROLES,
    ROLES_BY_UNIT_KIND,
    ChatAccount,
    MemberStatus,
    OrgUnit,
    Person,
    Platform,
    Role,
    RoleAssignment,
    UnitKind,
)
from models.seed import DEMO_PEOPLE, OrganisationExists, Scale, reset_database, seed

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SMALL = Scale("test", committees=4, branches=24, members=700)
TABLES = (OrgUnit, Person, RoleAssignment, ChatAccount)


def dump(session):
    session.expire_all()
    return {
        m.__tablename__: [tuple(r) for r in session.execute(select(*m.__table__.columns).order_by(m.id))]
        for m in TABLES
    }


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def cli_db(migrated_url, session_factory):
    """The CLI's environment on a database as `zhibu db upgrade` leaves it (a copy of the run's migrated
    one: none of these tests is about migrating), and sessions on it."""
    return {"ZHIBU_DATABASE_URL": migrated_url}, session_factory


def run(env, *args):
    return CliRunner().invoke(app, ["seed", *args], env=env)


def test_demo_seed_has_the_promised_organisation_and_both_platforms(cli_db):
    env, factory = cli_db
    result = run(env)
    assert result.exit_code == 0, result.output
    assert "60 名党员" in result.output
    with factory() as s:
        kinds = Counter(s.scalars(select(OrgUnit.kind)))
        assert kinds[UnitKind.COMMITTEE] == 2 and kinds[UnitKind.BRANCH] == 6
        assert count(s, Person) == 60
        for platform, corp in (
            (Platform.DINGTALK, demo.DINGTALK_CORP_ID),
            (Platform.WECOM, demo.WECOM_CORP_ID),
        ):
            assert count(s, ChatAccount, ChatAccount.platform == platform, ChatAccount.corp_id == corp) == 60
        # Same readable id on both platforms, unique.
        ids = s.execute(select(ChatAccount.person_id, ChatAccount.platform, ChatAccount.account_id)).all()
        per_person = {}
        for pid, platform, account_id in ids:
            per_person.setdefault(pid, {})[platform] = account_id
        assert all(a[Platform.DINGTALK] == a[Platform.WECOM] for a in per_person.values())
        assert len({a[Platform.DINGTALK] for a in per_person.values()}) == 60

        def roles_of(account_id):
            person = s.scalars(
                select(Person).join(ChatAccount).where(ChatAccount.account_id == account_id).limit(1)
            ).one()
            units = {u.id: u for u in s.scalars(select(OrgUnit))}
            return person, {
                (r.role, units[r.org_unit_id].name if r.org_unit_id else None) for r in person.roles
            }

        person, roles = roles_of(DEMO_PEOPLE["branch_secretary"])
        assert person.name == "王建国" and roles == {(Role.SECRETARY, "东风村党支部")}
        person, roles = roles_of(DEMO_PEOPLE["member"])
        assert person.name == "李小红" and roles == set() and person.group_id is not None
        assert roles_of(DEMO_PEOPLE["committee_organization_member"])[1] == {
            (Role.ORGANIZATION_MEMBER, "城关镇党委")
        }
        assert roles_of(DEMO_PEOPLE["observer"])[1] == {(Role.OBSERVER, "城关镇党委")}
        assert roles_of(DEMO_PEOPLE["org_staff"])[1] == {(Role.ORG_STAFF, None)}
        assert roles_of(DEMO_PEOPLE["fee_collector"])[1] == {
            (Role.ORGANIZATION_MEMBER, "东风村党支部"),
            (Role.FEE_COLLECTOR, "东风村党支部"),
        }
        # The demo follows the 条例: no structural warnings.
        assert structure_warnings(s) == []


def test_seed_refuses_an_organisation_that_exists_unless_reset(cli_db):
    env, factory = cli_db
    assert run(env).exit_code == 0
    with factory() as s:
        before = dump(s)
    result = run(env, "--scale", "demo")
    assert result.exit_code != 0
    assert "已经有组织架构" in result.output and "--reset" in result.output
    with factory() as s:
        assert dump(s) == before
    result = run(env, "--reset")
    assert result.exit_code == 0, result.output
    assert "已清空" in result.output
    with factory() as s:
        assert count(s, Person) == 60 and count(s, ChatAccount) == 120  # replaced, not doubled


def test_months_without_history_generators_says_so(cli_db, monkeypatch):
    env, _ = cli_db
    monkeypatch.setattr(seed_module, "HISTORY_GENERATORS", [])
    monkeypatch.setattr("bot.cli.seed.HISTORY_GENERATORS", seed_module.HISTORY_GENERATORS)
    result = run(env, "--months", "6")
    assert result.exit_code == 0, result.output
    assert "还没有可生成的历史数据" in result.output


def test_history_generators_run_after_the_organisation(session, monkeypatch):
    seen = []

    def meetings(ctx):
        # The organisation is already written and visible in the same transaction.
        seen.append((ctx.months, ctx.today, count(ctx.session, Person), len(ctx.plan.people)))
        return {"meeting": 42}

    monkeypatch.setattr(seed_module, "HISTORY_GENERATORS", [meetings])
    result = seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=TODAY, now=NOW)
    assert seen == [(3, TODAY, 60, 60)]
    assert result.rows["meeting"] == 42 and result.history_ran == [
        "test_history_generators_run_after_the_organisation.<locals>.meetings"
    ]
    seen.clear()
    reset_database(session)
    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=0, today=TODAY, now=NOW)
    assert seen == []  # no months, no history


def test_small_scale_counts_and_invariants(session):
    result = seed(
        session, SMALL, dingtalk_corp_id="dcorp", wecom_corp_id="wcorp", seed=7, today=TODAY, now=NOW
    )
    session.commit()
    assert result.rows["person"] == 700
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    kinds = Counter(u.kind for u in units.values())
    assert kinds[UnitKind.COMMITTEE] == 4 and kinds[UnitKind.BRANCH] == 24
    allowed_parent = {
        UnitKind.COMMITTEE: {None},
        UnitKind.GENERAL_BRANCH: {UnitKind.COMMITTEE},
        UnitKind.BRANCH: {UnitKind.COMMITTEE, UnitKind.GENERAL_BRANCH},
        UnitKind.GROUP: {UnitKind.BRANCH},
    }
    for unit in units.values():
        parent = units.get(unit.parent_id)
        assert (parent.kind if parent else None) in allowed_parent[unit.kind]
        assert unit.path == f"{parent.path if parent else '/'}{unit.id}/"
        assert units[unit.ancestor_ids()[0]].kind == UnitKind.COMMITTEE  # every unit under a committee
        if unit.kind == UnitKind.BRANCH:
            assert unit.category is not None
    names = Counter((u.parent_id, u.name) for u in units.values())
    assert max(names.values()) == 1
    assert len({u.name for u in units.values() if u.kind == UnitKind.COMMITTEE}) == 4

    people = session.scalars(select(Person)).all()
    assert all(units[p.branch_id].kind == UnitKind.BRANCH for p in people)
    assert all(p.group_id is None or units[p.group_id].parent_id == p.branch_id for p in people)
    assert len({p.phone for p in people}) == 700
    full = Counter(p.branch_id for p in people if p.status == MemberStatus.FULL)
    assert min(full[b] for b, u in units.items() if u.kind == UnitKind.BRANCH) >= 3

    roles = session.scalars(select(RoleAssignment)).all()
    for r in roles:
        if r.org_unit_id is None:
            assert r.role == Role.ORG_STAFF
        else:
            assert r.role in ROLES_BY_UNIT_KIND[units[r.org_unit_id].kind]
    secretaries = Counter(r.org_unit_id for r in roles if r.role == Role.SECRETARY)
    for uid, unit in units.items():
        if unit.kind in (UnitKind.BRANCH, UnitKind.COMMITTEE):
            assert secretaries[uid] == 1, unit
    committee_roles = {(r.org_unit_id, r.role) for r in roles}
    for uid in (u for u in units if units[u].kind == UnitKind.COMMITTEE):
        assert {
            (uid, Role.DEPUTY_SECRETARY),
            (uid, Role.ORGANIZATION_MEMBER),
            (uid, Role.OBSERVER),
        } <= committee_roles
    assert any(r.role == Role.ORG_STAFF and r.org_unit_id is None for r in roles)
    # A 支委会 wherever there are 7 正式党员.
    for uid, n in full.items():
        if n >= 7:
            held = {r.role for r in roles if r.org_unit_id == uid}
            assert held >= BRANCH_COMMITTEE_ROLES - {Role.DEPUTY_SECRETARY}

    accounts = session.execute(
        select(ChatAccount.platform, ChatAccount.corp_id, ChatAccount.account_id)
    ).all()
    assert len(accounts) == 1400
    assert len(set(accounts)) == 1400  # unique per corp
    assert {(p, c) for p, c, _ in accounts} == {(Platform.DINGTALK, "dcorp"), (Platform.WECOM, "wcorp")}

    # Ids were assigned in Python: the sequences must have moved past them for later inserts.
    extra = Person(name="新党员", branch_id=people[0].branch_id)
    session.add(extra)
    session.flush()
    assert extra.id == 701
    session.rollback()


def test_same_seed_same_organisation_and_a_refusal_in_the_use_case(session):
    seed(session, SMALL, dingtalk_corp_id="d", wecom_corp_id="w", seed=11, today=TODAY, now=NOW)
    session.commit()
    first = dump(session)
    with pytest.raises(OrganisationExists) as exc:
        seed(session, SMALL, dingtalk_corp_id="d", wecom_corp_id="w", seed=11, today=TODAY, now=NOW)
    assert exc.value.people == 700
    reset_database(session)
    session.commit()
    assert count(session, OrgUnit) == 0
    seed(session, SMALL, dingtalk_corp_id="d", wecom_corp_id="w", seed=11, today=TODAY, now=NOW)
    session.commit()
    assert dump(session) == first
    reset_database(session)
    seed(session, SMALL, dingtalk_corp_id="d", wecom_corp_id="w", seed=12, today=TODAY, now=NOW)
    assert dump(session)["person"] != first["person"]


def test_a_seeded_organisation_round_trips_through_the_roster(session, tmp_path):
    seed(session, SMALL, dingtalk_corp_id="d", wecom_corp_id="w", seed=3, today=TODAY, now=NOW)
    session.commit()
    before = dump(session)
    path = tmp_path / "seeded.csv"
    write_roster(path, roster_rows(session, dingtalk_corp_id="d", wecom_corp_id="w"))
    plan, result = import_roster(session, path, dingtalk_corp_id="d", wecom_corp_id="w", today=TODAY)
    assert plan.ok, [str(e) for e in plan.errors[:5]]
    assert not result.changed, result.summary()
    session.commit()
    assert dump(session) == before


def test_bad_options_are_refused_in_chinese(cli_db):
    env, factory = cli_db
    result = run(env, "--scale", "town")
    assert result.exit_code != 0 and "未知规模「town」" in result.output
    assert "可选：demo、county、city、province" in result.output
    result = run(env, "--months", "-1")
    assert result.exit_code != 0 and "--months" in result.output
    with factory() as s:
        assert count(s, OrgUnit) == 0
    with pytest.raises(ValueError):
        Scale("bad", committees=2, branches=3, members=8).check()  # fewer than 3 per branch


def test_province_is_ten_cities_with_distinct_committee_names():
    """`--scale province` (issue #22): ten times a city in every count, so each committee keeps a
    city's branches and members; its 100 counties' 3,000 committees all have different names."""
    import random

    from models.seed.synthetic import _committee_names

    city, province = seed_module.SCALES["city"], seed_module.SCALES["province"]
    assert (province.committees, province.branches, province.members) == (3000, 100_000, 3_000_000)
    assert (province.branches // province.committees, province.members // province.branches) == (
        city.branches // city.committees,
        city.members // city.branches,
    )
    province.check()
    names = [name for _, name, _ in _committee_names(random.Random(2026), province.committees)]
    assert len(names) == 3000 and len(set(names)) == 3000
