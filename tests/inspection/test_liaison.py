"""包保联系 (item 6, in this feature's reach): 组织部 cadres assigned 1–3 committees, their monthly digest
of those committees, the overdue rectification escalated to them, and the console's form and table.
(Seeing the committees elsewhere in the console needs handlers/console/scope.py: not this feature's.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from handlers.inspection import liaison, rounds
from handlers.inspection.config import DEFAULT
from models.inspection import Liaison, RoundKind
from models.org import UnitKind
from models.outbox import OutboxMessage
from tests import builders
from tests.console.people_world import console_app, csrf_of, login
from tests.inspection.conftest import local, st

TODAY = date(2027, 5, 10)
NOW = local(TODAY)


def _msgs(session, person, kind):
    return [
        m
        for m in session.scalars(select(OutboxMessage))
        if m.person_id == person.id and f":{kind}:" in m.dedup_key
    ]


def test_assign_digest_and_escalation(session, county):
    sun = st(session, county.sun)
    third = builders.unit(session, "第三镇党委", UnitKind.COMMITTEE)
    fourth = builders.unit(session, "第四镇党委", UnitKind.COMMITTEE)
    with pytest.raises(Refused) as none:
        liaison.assign(session, sun, county.qian, [], DEFAULT)
    assert none.value.status == 422
    with pytest.raises(Refused) as four:
        liaison.assign(session, sun, county.qian, [county.town, county.east, third, fourth], DEFAULT)
    assert four.value.status == 422
    with pytest.raises(Refused) as not_staff:
        liaison.assign(session, sun, county.wang, [county.town], DEFAULT)
    assert not_staff.value.status == 422
    with pytest.raises(Refused) as branch:
        liaison.assign(session, sun, county.qian, [county.village], DEFAULT)
    assert branch.value.status == 422
    with pytest.raises(Refused) as outside:  # 钱督查 is 组织部 over 城关镇 only
        liaison.assign(session, st(session, county.qian), county.qian, [county.east], DEFAULT)
    assert outside.value.status == 403
    liaison.assign(session, sun, county.qian, [county.town, third], DEFAULT)
    liaison.assign(session, sun, county.qian, [county.east], DEFAULT)  # replaces the earlier two
    session.commit()
    assert [r.committee_id for r in session.scalars(select(Liaison))] == [county.east.id]
    # A problem in 东风一村, overdue: escalated to the cadre of 东风镇.
    rnd = rounds.open_round(session, sun, kind=RoundKind.SUPERVISION, title="督查", unit=None,
                            assignments=[(county.east1, county.sun.id, None)], today=TODAY)  # fmt: skip
    ru = rnd.units[0]
    due = TODAY + timedelta(days=5)
    rounds.record_finding(session, sun, rnd, ru, item="台账", ok=False, text="缺页", due_on=due,
                          now=NOW, today=TODAY, cfg=DEFAULT)  # fmt: skip
    rounds.remind(session, today=due + timedelta(days=1), now=NOW, cfg=DEFAULT)
    assert len(_msgs(session, county.qian, "overdue")) == 1
    # The digest on the 2nd: 东风镇's line, its open and overdue items.
    june = date(2027, 6, 2)
    assert liaison.send_digests(session, today=june, now=local(june)) == 1
    assert liaison.send_digests(session, today=june, now=local(june)) == 0
    (digest,) = _msgs(session, county.qian, "liaison")
    text = str(digest.payload)
    assert "东风镇党委" in text and "督查整改未完成 1 条（逾期 1 条）" in text and "城关镇党委" not in text
    assert _msgs(session, county.sun, "liaison") == []


def test_the_console_form(session_factory, session, county):
    app = console_app(session_factory, now=NOW)
    sun = login(session_factory, app, county.sun.id, now=NOW)
    bad = sun.post("/console/inspection/liaison", data={"csrf_token": csrf_of(sun), "person": county.qian.id})
    assert bad.status_code == 422 and session.scalar(select(Liaison.id)) is None
    ok = sun.post("/console/inspection/liaison", data={"csrf_token": csrf_of(sun), "person": county.qian.id,
                  "committees": [county.town.id]}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    assert "钱督查" in sun.get("/console/inspection").text
    qian = login(session_factory, app, county.qian.id, now=NOW)
    page = qian.get("/console/inspection").text
    assert "我包保的党委" in page and "巡查指导 0 个基层党组织" in page
    wang = login(session_factory, app, county.wang.id, now=NOW)
    refused = wang.post("/console/inspection/liaison", data={"csrf_token": csrf_of(wang), "person": county.qian.id,
                        "committees": [county.town.id]})  # fmt: skip
    assert refused.status_code in (403, 404)
