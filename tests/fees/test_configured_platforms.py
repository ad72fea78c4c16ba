"""`zhibu run-job fees.reminders` on a WeCom-only deployment: every reminder goes to WeCom."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.core import texts
from models.db import make_engine, make_sessionmaker, upgrade
from models.org import ChatAccount, OrgUnit, Platform, UnitKind, set_path
from models.outbox import DeliveryStatus, OutboxMessage
from tests.core.test_configured_platforms import wecom_only
from tests.fees.conftest import add_person


def test_fee_reminders_from_run_job_go_to_wecom_when_only_wecom_is_configured(database_url, monkeypatch):
    wecom_only(monkeypatch, database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        committee = OrgUnit(name="湖滨区直属机关党委", kind=UnitKind.COMMITTEE)
        session.add(committee)
        session.flush()
        set_path(committee, None)
        branch = OrgUnit(name="第一党支部", kind=UnitKind.BRANCH, parent_id=committee.id)
        session.add(branch)
        session.flush()
        set_path(branch, committee)
        # Everyone has a DingTalk account (added by add_person) and most a WeCom one as well.
        people = [add_person(session, f"党员{i}", branch) for i in range(6)]
        for person in people[:5]:
            session.add(
                ChatAccount(
                    person_id=person.id,
                    platform=Platform.WECOM,
                    corp_id="ww-corp",
                    account_id=f"W{person.id}",
                )
            )
        dingtalk_only = people[5].id
    result = CliRunner().invoke(app, ["run-job", "fees.reminders", "--period", "2026-11-06"])
    assert result.exit_code == 0, result.output
    with factory() as session:
        rows = list(session.scalars(select(OutboxMessage)))
    assert len(rows) == 6
    queued = [r for r in rows if r.status == DeliveryStatus.QUEUED]
    assert len(queued) == 5 and {r.platform for r in queued} == {"wecom"}
    (failed,) = [r for r in rows if r.status != DeliveryStatus.QUEUED]
    assert (failed.person_id, failed.status, failed.reason) == (
        dingtalk_only,
        DeliveryStatus.FAILED,
        texts.REASON_NO_PLATFORM,
    )
    engine.dispose()
