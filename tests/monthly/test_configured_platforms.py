"""`zhibu run-job monthly --send` on a WeCom-only deployment: the digests and notices go to WeCom."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from models.meetings import MeetingType
from models.org import Platform
from models.outbox import DeliveryStatus, OutboxMessage
from tests import builders
from tests.core.test_configured_platforms import wecom_only
from tests.monthly.conftest import QUARTER, build_county, comply

SEP = date(2026, 9, 1)


def test_monthly_send_queues_on_wecom_when_only_wecom_is_configured(
    migrated_url, session_factory, monkeypatch
):
    wecom_only(monkeypatch, migrated_url)
    factory = session_factory  # not told the platforms: the CLI's own factory must decide
    with factory() as session:
        county = build_county(session)  # everyone on DingTalk
        for person in county.people.values():
            builders.account(session, person, f"W{person.id}", platform=Platform.WECOM, corp="ww-corp")
        for b in (county.b1, county.b3, county.b4):
            comply(session, county, b, SEP, QUARTER)
        comply(session, county, county.b2, SEP, (MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE))
        session.commit()
    result = CliRunner().invoke(app, ["run-job", "monthly", "--period", "2026-09", "--send"])
    assert result.exit_code == 0, result.output
    with factory() as session:
        rows = list(session.scalars(select(OutboxMessage)))
    assert rows and {(r.status, r.platform) for r in rows} == {(DeliveryStatus.QUEUED, "wecom")}
