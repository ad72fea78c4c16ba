"""包保联系 (item 6): 组织部 cadres assigned 1–3 committees, their monthly digest of those committees, the
overdue rectification escalated to them, the console's form and table; and the committees' 月度通报 and
the ladders' notices to their leaders reaching the cadres too, once each, on DingTalk and WeCom, in as
many statements as without them. (The console narrowed to the committees: tests/console/test_liaison_scope.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from config import demo
from handlers.inspection import liaison, rounds
from handlers.inspection.config import DEFAULT
from handlers.monthly import observers_bridge, service
from models.inspection import Liaison, RoundKind
from models.meetings import MeetingType
from models.org import ChatAccount, Platform, Role, UnitKind
from models.outbox import OutboxMessage
from tests import builders
from tests.console.people_world import console_app, csrf_of, login
from tests.core.e2e import running_bot
from tests.core.statements import count_statements
from tests.inspection.conftest import local, st
from tests.monthly import conftest as monthly
from tests.monthly.small import small_county

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


# --- the committees' 月度通报 and the ladders' notices ---------------------------------------------

JUL = date(2026, 7, 1)


def _july(session, *, platform: Platform = Platform.DINGTALK):
    """The monthly tests' small county in July: 河西村 held nothing, so it and 河西乡党委 lag. 组织部小刘
    (the whole tree) is the cadre of 河西乡党委, and so is its 组织委员 (组织部 staff as well)."""
    c = monthly.build_county(session)
    for b in (c.b1, c.b2, c.b4):
        monthly.comply(session, c, b, JUL, (MeetingType.THEME_DAY,))
    staff, officer = c.people["staff"], c.people["c2org"]
    builders.role(session, officer, c.c2, Role.ORG_STAFF)
    session.add_all([Liaison(person_id=p.id, committee_id=c.c2.id) for p in (staff, officer)])
    if platform == Platform.WECOM:
        for acc in session.scalars(select(ChatAccount)):
            acc.platform, acc.corp_id = Platform.WECOM, demo.WECOM_CORP_ID
    session.flush()
    return c


def _run(session, *, send: bool = True):
    return service.run_month(session, JUL, now=monthly.run_at(JUL), send=send, base_url=monthly.BASE,
                             secret=monthly.SECRET, mcfg=small_county(), cfg=monthly.CFG)  # fmt: skip


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_digest_and_escalations_reach_the_cadres_once(session_factory, database_url, monkeypatch, platform):
    monkeypatch.setattr(observers_bridge, "month_summary", lambda session, month, cfg: {})
    with session_factory() as s, s.begin():
        c = _july(s, platform=Platform(platform))
        staff, officer, c1org = c.people["staff"].id, c.people["c2org"].id, c.people["c1org"].id
    with running_bot(session_factory, database_url, clock_start=monthly.run_at(JUL)) as bot:
        with session_factory() as s, s.begin():
            _run(s)
        bot.drain()
        with session_factory() as s:
            account = dict(s.execute(select(ChatAccount.person_id, ChatAccount.account_id)).tuples().all())

        def count(person_id, text):
            sent = [m for m in bot.sb.outbox(platform=platform) if account[person_id] in m.get("to", [])]
            return sum(text in str(m) for m in sent)

        # 组织部小刘: the county's digest as before, and now 河西乡党委's, not 城关镇党委's.
        assert count(staff, "【2026年7月月度通报】全部党委") == 1
        assert count(staff, "【2026年7月月度通报】河西乡党委") == 1
        assert count(staff, "【2026年7月月度通报】城关镇党委") == 0
        # The notices to 河西乡党委's leaders (its own 落后, 河西村's) reach him, copied.
        committee, branch = "【月积分】河西乡党委：党委落后约谈", "【月积分】河西村党支部：支部落后提醒"
        assert count(staff, committee) == 1 and count(staff, branch) == 1
        # Its 组织委员, a leader and a cadre: each card once.
        assert count(officer, "【2026年7月月度通报】河西乡党委") == 1
        assert count(officer, committee) == 1 and count(officer, branch) == 1
        # 城关镇党委 has no cadre: its 组织委员 hears of nothing of 河西乡.
        assert count(c1org, "河西") == 0
    with session_factory() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("monthly:esc:"))
        ).all()
        by_key: dict[str, list[int]] = {}
        for m in rows:
            by_key.setdefault(m.dedup_key, []).append(m.person_id)
    assert all(len(v) == len(set(v)) for v in by_key.values())
    c2_notices = [k for k in by_key if f":{c.c2.id}:" in k or f":{c.b3.id}:" in k]
    assert c2_notices and all(staff in by_key[k] and by_key[k].count(officer) == 1 for k in c2_notices)


def test_the_monthly_run_costs_the_same_statements_with_cadres(session, engine, monkeypatch):
    """The cadres are read once per run, whatever their number and their committees' (more committees
    and cadres: not one statement more)."""
    monkeypatch.setattr(observers_bridge, "month_summary", lambda session, month, cfg: {})
    c = _july(session)
    session.commit()

    def statements() -> int:
        n = count_statements(engine, lambda: _run(session))
        session.rollback()
        return n

    statements()  # the first run of a process reads what it then keeps (its caches)
    with_two = statements()
    # Four more committees, each with a lagging branch, its 组织委员 and a cadre; six cadres of every one.
    committees = [c.c1, c.c2]
    for i in range(4):
        unit = monthly._unit(session, f"新镇{i}党委", UnitKind.COMMITTEE, c.county)
        monthly._unit(session, f"新村{i}党支部", UnitKind.BRANCH, unit, c.b3.category)
        officer = builders.person(session, f"新组织委员{i}", None, account_id=f"xzz{i}", corp=monthly.CORP)
        builders.role(session, officer, unit, Role.ORGANIZATION_MEMBER)
        committees.append(unit)
    for i in range(6):
        cadre = builders.person(session, f"包保干部{i}", None, account_id=f"bbgb{i}", corp=monthly.CORP)
        builders.role(session, cadre, None, Role.ORG_STAFF)
        session.add_all([Liaison(person_id=cadre.id, committee_id=u.id) for u in committees])
    session.commit()
    assert statements() == with_two


def test_a_cadre_opens_the_digest_they_were_sent(session):
    """The 月度通报's 查看详情 opens for a committee's 包保 cadre as for its leaders, even when their own 组织部
    role is at another committee; not for the committees they are not the cadre of."""
    from handlers.monthly import digest
    from handlers.monthly.scoring import load_units

    c = monthly.build_county(session)
    cadre = builders.person(session, "包保干部甲", None, account_id="bbgbj", corp=monthly.CORP)
    builders.role(session, cadre, c.c1, Role.ORG_STAFF)  # 组织部 staff placed at 城关镇党委 only
    session.flush()
    units, mcfg = load_units(session), small_county()

    def sees(unit) -> bool:
        return digest.can_view(session, cadre.id, unit.id, mcfg, units)

    assert sees(c.c1) and sees(c.b1) and not sees(c.c2) and not sees(c.b3)
    session.add(Liaison(person_id=cadre.id, committee_id=c.c2.id))
    session.flush()
    assert sees(c.c2) and sees(c.b3)  # 河西乡党委's card reached them: its page and its branches open
    assert not digest.can_view(session, cadre.id, digest.ALL, mcfg, units)
