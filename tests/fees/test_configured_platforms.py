"""`zhibu run-job fees.reminders` on a WeCom-only deployment: every reminder goes to WeCom."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.core import texts
from models.org import Platform, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage
from tests import builders
from tests.core.test_configured_platforms import wecom_only
from tests.fees.conftest import add_person


def test_fee_reminders_from_run_job_go_to_wecom_when_only_wecom_is_configured(
    migrated_url, session_factory, monkeypatch
):
    wecom_only(monkeypatch, migrated_url)
    factory = session_factory  # not told the platforms: the CLI's own factory must decide
    with factory() as session, session.begin():
        committee = builders.unit(session, "湖滨区直属机关党委", UnitKind.COMMITTEE)
        branch = builders.unit(session, "第一党支部", UnitKind.BRANCH, committee)
        # Everyone has a DingTalk account (added by add_person) and most a WeCom one as well.
        people = [add_person(session, f"党员{i}", branch) for i in range(6)]
        for person in people[:5]:
            builders.account(session, person, f"W{person.id}", platform=Platform.WECOM, corp="ww-corp")
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
