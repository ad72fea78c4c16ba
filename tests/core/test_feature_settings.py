"""Feature rules set in the environment reach a chat handler and a scheduled job (issue #13 item 2).

The composition root reads the settings once (bot.cli.common.core_config) and every feature derives
its rules from the CoreConfig it is handed; nothing reads a module-level configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from sqlalchemy import select

from bot.cli.common import core_config
from bot.core.context import CoreConfig, HandlerContext
from bot.core.errors import Refused
from config import load_settings
from handlers.fees import chat as fees_chat
from handlers.meetings import chat as meetings_chat
from models.org import UnitKind
from models.outbox import OutboxMessage
from scheduler.jobs import all_jobs
from tests import builders
from tests.fees.conftest import FEE_DAY, add_person
from tests.fees.conftest import NOW as FEES_NOW
from tests.meetings.conftest import NOW, build_org


def _core(monkeypatch, **env: str) -> CoreConfig:
    for name, value in env.items():
        monkeypatch.setenv(f"ZHIBU_{name}", value)
    return core_config(load_settings(_env_file=None, database_url="sqlite://"))


def _plan_card_text(session, person, core: CoreConfig) -> str:
    replies = []
    ctx = HandlerContext(session=session, event=None, now=NOW, config=core, person=person)
    ctx.reply = replies.append  # the card, not an outbox row: this is about what the handler decides
    meetings_chat.plan(ctx, "")
    (card,) = replies
    return card.text


def test_the_plan_deadline_and_the_manager_roles_from_the_environment_reach_the_chat_handler(
    session, monkeypatch
):
    org = build_org(session)
    session.commit()
    assert "请于25日前提交" in _plan_card_text(session, org.secretary, _core(monkeypatch))
    later = _core(monkeypatch, MEETINGS__PLAN_DEADLINE_DAY="20")
    assert "请于20日前提交" in _plan_card_text(session, org.secretary, later)
    # Only the 副书记 manages meetings here: the 书记 is refused, the 副书记 is answered.
    deputies = _core(monkeypatch, MEETINGS__MANAGER_ROLES='["deputy_secretary"]')
    with pytest.raises(Refused):
        _plan_card_text(session, org.secretary, deputies)
    assert "请于20日前提交" in _plan_card_text(session, org.deputy, deputies)


def test_the_zone_from_the_environment_reaches_the_fee_reminder_job(session_factory, session, monkeypatch):
    committee = builders.unit(session, "湖滨区直属机关党委", UnitKind.COMMITTEE)
    add_person(
        session, "张三", builders.unit(session, "第一党支部", UnitKind.BRANCH, committee), account="zhangsan"
    )
    session.commit()
    jobs = {j.name: j for j in all_jobs(_core(monkeypatch, TIMEZONE="Asia/Urumqi"))}
    with session_factory() as s, s.begin():
        jobs["fees.reminders"].function(s, datetime(2026, 11, 5, 18, 5, tzinfo=UTC), FEE_DAY.isoformat())
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("fee:"))))
    assert rows
    assert {r.next_attempt_at for r in rows} == {
        datetime(2026, 11, 6, 3, 0, tzinfo=UTC)
    }  # 09:00 in Urumqi (UTC+6), not Shanghai's 01:00


def test_the_fee_policy_from_the_environment_reaches_the_reminder_job_and_the_arrears(
    session_factory, session, monkeypatch
):
    """A branch without a FeePolicy row follows the settings' fees section: its reminders wait for the
    configured time, and a member's own status counts unpaid months back only as far as configured."""
    committee = builders.unit(session, "湖滨区直属机关党委", UnitKind.COMMITTEE)
    member = add_person(
        session, "张三", builders.unit(session, "第一党支部", UnitKind.BRANCH, committee), account="zhangsan"
    )
    session.commit()
    core = _core(monkeypatch, FEES__REMINDER_TIME="10:30", FEES__MAX_BACKPAY_MONTHS="2")
    jobs = {j.name: j for j in all_jobs(core)}
    with session_factory() as s, s.begin():
        jobs["fees.reminders"].function(s, datetime(2026, 11, 5, 16, 5, tzinfo=UTC), FEE_DAY.isoformat())
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("fee:"))))
    assert rows
    assert {r.next_attempt_at for r in rows} == {datetime(2026, 11, 6, 2, 30, tzinfo=UTC)}  # 10:30, not 09:00

    def status(core: CoreConfig) -> str:
        replies = []
        ctx = HandlerContext(session=session, event=None, now=FEES_NOW, config=core, person=member)
        ctx.reply = replies.append
        fees_chat.my_fees(ctx, "")
        (reply,) = replies
        return reply.text

    assert "9月、10月、11月" in status(core) and "8月" not in status(core)
    assert "5月、6月" in status(_core(monkeypatch, FEES__MAX_BACKPAY_MONTHS="6"))  # the default: six back


def test_the_observers_preset_from_the_environment_sets_the_gap_report_job(monkeypatch):
    specs = {j.name: j for j in all_jobs(_core(monkeypatch, OBSERVERS__PRESET="hubin"))}
    assert specs["observers.coverage_gaps"].cron == "30 9 20 * *"
    assert {j.name: j for j in all_jobs(_core(monkeypatch, OBSERVERS__PRESET="taihu"))}[
        "observers.coverage_gaps"
    ].cron == "30 9 6 5,11 *"


def test_an_unknown_role_name_stops_the_composition_root_with_the_variable_named(monkeypatch, capsys):
    with pytest.raises(typer.Exit):
        _core(monkeypatch, MONTHLY__REMINDER_ROLES='["secretary", "chairman"]')
    err = capsys.readouterr().err
    assert "ZHIBU_MONTHLY__REMINDER_ROLES" in err and "chairman" in err


def test_the_projects_section_from_the_environment_reaches_the_review_and_the_progress_job(
    session_factory, session, monkeypatch
):
    """ZHIBU_PROJECTS__PASS_SCORE decides whether a score accepts a project, and __REMIND_DAY when the
    registered job reminds a secretary who has not reported this month."""
    from datetime import date

    from handlers.projects import library, review
    from handlers.projects.config import projects_config
    from models.projects import ProjectStatus
    from tests.projects.conftest import REGISTRATION, build, local

    org = build(session)
    session.commit()
    t0 = local(date(2027, 2, 10))

    def scored(core: CoreConfig, who, account, score):
        cfg = projects_config(core)
        p = library.register(session, who, REGISTRATION[account], now=t0, cfg=cfg)
        review.pre_accept(session, org.zhou, p.id, now=t0, cfg=cfg, public_base_url=core.public_base_url)
        review.score(session, org.sun, p.id, score, "", now=t0, cfg=cfg, public_base_url=core.public_base_url)
        session.commit()
        return p

    default = _core(monkeypatch)  # before the variables below are set (_core leaves them set)
    strict = _core(monkeypatch, PROJECTS__PASS_SCORE="70", PROJECTS__REMIND_DAY="20")
    assert scored(strict, org.wang, "wangsj", 65).status == ProjectStatus.NOT_ACCEPTED
    assert scored(default, org.li, "lisj", 65).status == ProjectStatus.ACCEPTED  # the default pass score, 60

    def reminded(core: CoreConfig) -> bool:
        (spec,) = [j for j in all_jobs(core) if j.name == "projects.progress"]
        with session_factory() as s, s.begin():
            spec.function(s, local(date(2027, 2, 21), 9), "2027-02-21")
        return any(
            "月度进展提醒" in str(r.payload)
            for r in session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == org.li.id))
        )

    assert not reminded(default)  # the 21st is before the default 25th
    assert reminded(strict)


def test_the_appraisal_section_from_the_environment_reaches_the_opening(
    session_factory, session, monkeypatch
):
    """ZHIBU_APPRAISAL__WINDOW_DAYS sets the window `开始民主评议` opens without an end day, and
    __MANAGER_ROLES who may open it (here the 组织委员, not the 书记)."""
    from handlers.appraisal import chat as appraisal_chat
    from models.appraisal import Appraisal
    from models.org import Role
    from tests import harness

    committee = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    branches = {}
    for key, name in (("a", "东门社区党支部"), ("b", "河西村党支部")):
        branch = branches[key] = builders.unit(session, name, UnitKind.BRANCH, committee)
        for account, person_name, role in (
            (f"{key}-sj", f"{name[:2]}书记", Role.SECRETARY),
            (f"{key}-zw", f"{name[:2]}委员", Role.ORGANIZATION_MEMBER),
            (f"{key}-dy", f"{name[:2]}党员", None),
        ):
            p = builders.person(session, person_name, branch, account_id=account, corp=harness.DT)
            if role:
                builders.role(session, p, branch, role)
    session.commit()
    now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 December, 10:00 in Shanghai

    def chat(core: CoreConfig):
        return harness.Chat(session_factory, [appraisal_chat.router], now=now, config=core)

    def closes_on(branch) -> str:
        session.expire_all()
        a = session.scalar(select(Appraisal).where(Appraisal.branch_id == branch.id))
        return (a.closes_at.astimezone(core.tz) - timedelta(days=1)).date().isoformat()

    core = _core(monkeypatch)
    assert "已开启" in chat(core).say("a-sj", "开始民主评议").text
    assert closes_on(branches["a"]) == "2026-12-09"  # the default: today and the next 6 days

    core = _core(monkeypatch, APPRAISAL__WINDOW_DAYS="10", APPRAISAL__MANAGER_ROLES='["organization_member"]')
    assert "已开启" not in chat(core).say("b-sj", "开始民主评议").text
    assert session.scalar(select(Appraisal).where(Appraisal.branch_id == branches["b"].id)) is None
    assert "已开启" in chat(core).say("b-zw", "开始民主评议").text
    assert closes_on(branches["b"]) == "2026-12-12"


@pytest.mark.parametrize(
    "variable",
    [
        "ZHIBU_PROJECTS__COMMITTEE_ROLES",
        "ZHIBU_LIFEMEETING__REPORT_ROLES",
        "ZHIBU_APPRAISAL__MANAGER_ROLES",
        "ZHIBU_TALKS__RECORDER_ROLES",
        "ZHIBU_INSPECTION__CHECKER_ROLES",
        "ZHIBU_OBSERVERS__YEARLY_CONFIRM_ROLES",
    ],
)
def test_an_unknown_role_in_a_newer_section_stops_the_composition_root_too(monkeypatch, capsys, variable):
    """Every section's names are checked when the process starts (zhibu serve, run-job, …), not when a job
    list or the first chat message first builds that feature's config."""
    with pytest.raises(typer.Exit):
        _core(monkeypatch, **{variable.removeprefix("ZHIBU_"): '["secretary", "chairman"]'})
    err = capsys.readouterr().err
    assert variable in err and "chairman" in err


def test_an_unknown_ladder_for_the_projects_stops_the_composition_root(monkeypatch, capsys):
    with pytest.raises(typer.Exit):
        _core(monkeypatch, PROJECTS__LADDER="nowhere")
    assert "ZHIBU_PROJECTS__LADDER" in capsys.readouterr().err


def test_a_yearly_observers_setting_reaches_the_yearly_rating_and_leaves_the_forms_alone(monkeypatch):
    from handlers.observers.forms import observers_config
    from handlers.observers.yearly_config import yearly_config

    core = _core(monkeypatch, OBSERVERS__YEARLY_FOLLOWUP_DAYS="14")
    assert yearly_config(core).followup_days == 14
    assert observers_config(core) is not None  # it raised TypeError on the yearly_* field before
