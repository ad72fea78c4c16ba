"""/healthz names the configured platforms and counts what waits or failed for one that is not
configured, without calling that unhealthy."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.core.ratelimit import ManualClock
from bot.core.relay import Relay
from bot.platforms.wiring import Platforms
from bot.web.app import create_app
from models.outbox import OutboxMessage
from tests.core.helpers import T0, FakeSender, make_org
from tests.core.test_configured_platforms import _rows, strand


def test_healthz_reports_the_platforms_and_what_they_cannot_take_and_stays_healthy(session_factory, session):
    org = make_org(session_factory)
    strand(session_factory, org)
    platforms = Platforms(senders=[FakeSender("wecom")])
    client = TestClient(create_app(session_factory, platforms=platforms, clock=lambda: T0))
    body = client.get("/healthz")
    assert body.status_code == 200, body.text
    report = body.json()
    stranded = sum(1 for r in _rows(session) if r.platform == "dingtalk")
    assert report["platforms"] == ["wecom"] and report["status"] == "ok"
    assert report["unconfigured_platform"] == {"queued": stranded, "failed_24h": 0}
    Relay(session_factory, [FakeSender("wecom")], clock=ManualClock(T0)).drain()
    report = client.get("/healthz").json()
    assert report["status"] == "ok"
    assert report["unconfigured_platform"] == {"queued": 0, "failed_24h": stranded - 1}  # the secretary moved
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == stranded + 1
