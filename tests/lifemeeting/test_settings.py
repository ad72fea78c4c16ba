"""The settings' lifemeeting section (ZHIBU_LIFEMEETING__…) reaches the chat and the reminder job: the
composition root builds the feature's config from it, not from the module's defaults."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.cli.common import core_config
from bot.core.context import CoreConfig
from config import load_settings
from handlers import all_routers
from models.lifemeeting import LifeMeetingPlan
from models.outbox import OutboxMessage
from scheduler.jobs import all_jobs
from tests import harness
from tests.lifemeeting.conftest import local

NOW = local(date(2026, 11, 20), 10)


def _core(monkeypatch, **env: str) -> CoreConfig:
    for name in ("DAYS_BEFORE", "MANAGER_ROLES", "REMIND_DAYS_BEFORE"):
        monkeypatch.delenv(f"ZHIBU_LIFEMEETING__{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"ZHIBU_LIFEMEETING__{name}", value)
    return core_config(load_settings(_env_file=None, database_url="sqlite://"))


def test_the_due_days_and_the_managers_from_the_environment_reach_the_chat(
    session_factory, session, branches, monkeypatch
):
    core = _core(monkeypatch, DAYS_BEFORE='{"study": 28}', MANAGER_ROLES='["organization_member"]')
    chat = harness.Chat(session_factory, all_routers(), now=NOW, config=core)
    # The 书记 does not manage the 组织生活会 under these settings; the 组织委员 does.
    refused = chat.say("wang", "组织生活会计划 12月20日")
    assert "只有支部组织委员可以安排组织生活会" in refused  # the refusal names who may, as configured
    assert session.scalar(select(LifeMeetingPlan)) is None
    reply = chat.say("li", "组织生活会计划 12月20日")
    assert "- 学习研讨：2026年11月22日前" in reply
    plan = session.scalar(select(LifeMeetingPlan))
    assert (plan.study_due, plan.opinions_due, plan.talks_due, plan.materials_due) == (
        date(2026, 11, 22),
        date(2026, 12, 6),
        date(2026, 12, 13),
        date(2026, 12, 17),
    )  # fmt: skip  (the steps not named keep their defaults: 14, 7 and 3 days)


def test_the_reminder_lead_from_the_environment_reaches_the_registered_job(
    session_factory, session, branches, monkeypatch
):
    """The study is due on 29 November (21 days before 20 December): by default its reminder goes out on
    the 28th; with ZHIBU_LIFEMEETING__REMIND_DAYS_BEFORE=3 on the 26th."""
    default = _core(monkeypatch)
    harness.Chat(session_factory, all_routers(), now=NOW, config=default).say(
        "wang", "组织生活会计划 12月20日"
    )
    plan = session.scalar(select(LifeMeetingPlan))
    assert plan.study_due == date(2026, 11, 29)
    key = f"lifemeeting:{plan.id}:study:20261129:due"

    def run(core: CoreConfig, day: date) -> int:
        (spec,) = [j for j in all_jobs(core) if j.name == "lifemeeting.reminders"]
        with session_factory() as s, s.begin():
            spec.function(s, local(day, 9), day.isoformat())
        session.expire_all()
        return len(session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == key)).all())

    assert run(default, date(2026, 11, 26)) == 0
    assert (
        run(_core(monkeypatch, REMIND_DAYS_BEFORE="3"), date(2026, 11, 26)) == 8
    )  # every person of 东门社区
