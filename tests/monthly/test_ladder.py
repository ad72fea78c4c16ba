"""The escalation ladders over four months and their end, member flags, and the 已阅 / 已约谈 buttons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from handlers.monthly import service
from handlers.monthly.chat import router
from handlers.monthly.ladder import ACK_ACTION
from models.meetings import MeetingType
from models.monthly import AckKind, Escalation, Ladder
from tests import harness
from tests.monthly.conftest import BASE, CFG, QUARTER, SECRET, TZ, comply, outbox, run_at
from tests.monthly.small import small_county

MONTHS = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]


def _month(session, county, month, *, b3_lags: bool):
    types = QUARTER if month.month in (3, 6, 9, 12) else (MeetingType.THEME_DAY,)
    for b in (county.b1, county.b2, county.b4) + (() if b3_lags else (county.b3,)):
        comply(session, county, b, month, types)
    session.commit()


def _run(session, month):
    result = service.run_month(
        session,
        month,
        now=run_at(month),
        send=True,
        base_url=BASE,
        secret=SECRET,
        mcfg=small_county(),
        cfg=CFG,
    )
    session.commit()
    return result


def _who(session, prefix) -> set[str]:
    ids = {m.person_id for m in outbox(session, prefix)}
    from models.org import Person

    return {p.name for p in session.scalars(select(Person).where(Person.id.in_(ids)))}


def test_committee_ladder_climbs_and_ends(session, county, observers):
    c2 = county.c2.id
    seen: dict[int, set[str]] = {}
    for i, month in enumerate(MONTHS[:3], start=1):
        _month(session, county, month, b3_lags=True)
        _run(session, month)
        seen[i] = _who(session, f"monthly:esc:committee:{c2}:{i}:{month:%Y-%m}")
    assert seen[1] == {"组织委员2"}
    assert seen[2] == {"党委副书记2"}
    assert seen[3] == {"党委书记2", "组织部小刘"}  # 主要负责人, copied to 组织部
    # The third notice names the rule, the months and what is missing.
    (third,) = outbox(session, f"monthly:esc:committee:{c2}:3:2026-09")[:1]
    text = third.payload["text"]
    assert "约谈主要负责人" in text and "2026年7月、2026年8月、2026年9月" in text
    assert "1个支部未完成主题党日" in text and "（抄送组织部）" in text
    assert [b["label"] for b in third.payload["buttons"]] == ["已阅", "已约谈"]
    # The branch ladder told the committee's 组织委员 about 河西村 every month; c1 was never lagging.
    assert _who(session, f"monthly:esc:branch:{county.b3.id}:1:2026-08") == {"组织委员2"}
    assert not outbox(session, f"monthly:esc:committee:{county.c1.id}:")
    # Rerunning a month (restart, a second run) sends nothing new and adds no notice.
    before = (len(outbox(session)), session.query(Escalation).count())
    _run(session, MONTHS[2])
    assert (len(outbox(session)), session.query(Escalation).count()) == before
    # October: 河西村 catches up, everyone ties at 100, nobody lags: the escalation ends, once.
    _month(session, county, MONTHS[3], b3_lags=False)
    # A preview first (recompute without sending) must not swallow the end of the escalation.
    preview = service.run_month(
        session, MONTHS[3], now=run_at(MONTHS[3]), send=False, mcfg=small_county(), cfg=CFG
    )
    assert preview.units.ended == 2
    session.commit()
    result = _run(session, MONTHS[3])
    assert result.units.ended == 2  # the committee and the branch
    assert not outbox(session, f"monthly:esc:committee:{c2}:" + "3:2026-10")
    ended = outbox(session, f"monthly:esc-end:committee:{c2}:2026-10")
    assert {m.person_id for m in ended} == {county.people[k].id for k in ("c2org", "c2dep", "c2sec", "staff")}
    assert "已不再落后" in ended[0].payload["text"] and "到此结束" in ended[0].payload["text"]
    rows = session.scalars(select(Escalation).where(Escalation.ladder == Ladder.COMMITTEE)).all()
    assert [r.rung for r in rows] == [1, 2, 3] and all(r.ended_month == MONTHS[3] for r in rows)
    _run(session, MONTHS[3])
    assert len(outbox(session, f"monthly:esc-end:committee:{c2}:")) == len(ended)


def test_member_absence_steps(session, county, observers):
    # 党员2乙 misses every meeting from July to September (1, 2, 3 months), then comes back.
    for month in MONTHS:
        for b in (county.b1, county.b2, county.b3, county.b4):
            absent = ("党员2乙",) if b == county.b2 and month < MONTHS[3] else ()
            comply(session, county, b, month, (MeetingType.THEME_DAY,), absent=absent)
        session.commit()
        _run(session, month)
    flags = session.scalars(select(Escalation).where(Escalation.ladder == Ladder.MEMBER_ABSENCE)).all()
    assert [(f.rung, f.month) for f in flags] == [(1, MONTHS[0]), (3, MONTHS[2])]  # no repeat at month 2
    assert _who(session, f"monthly:member:member_absence:{county.b2.id}:2026-07") == {"书记2"}
    sep = outbox(session, f"monthly:member:member_absence:{county.b2.id}:2026-09")
    assert {m.person_id for m in sep} == {county.people["sec2"].id, county.people["c1org"].id}
    assert "党员2乙：连续3个月（2026年7月起），谈话提醒" in sep[0].payload["text"]
    # October: they attend again, so both open notices end and the people told hear so, once.
    assert all(f.ended_month == MONTHS[3] for f in flags)
    ended = outbox(session, f"monthly:member-end:member_absence:{county.b2.id}:2026-10")
    assert {m.person_id for m in ended} == {county.people["sec2"].id, county.people["c1org"].id}
    assert "党员2乙（此前提醒：2026年7月、2026年9月）" in ended[0].payload["text"]


def test_member_fee_steps_article9_and_end(session, county, observers):
    """The one fee-arrears mechanism: counts from the fees feature, steps 1/3/5/6, the end told once."""
    from models.fees import FeeExemption, FeePolicy

    session.add(FeePolicy(org_unit_id=county.county.id, tracking_start=date(2026, 6, 1)))
    late = county.people["m2b"]  # 党员2乙 pays nothing from June; everyone else is 免交
    for key, p in county.people.items():
        if p.branch_id is not None and key != "m2b":
            session.add(FeeExemption(person_id=p.id, from_month=date(2026, 6, 1), amount=0))
    session.commit()
    months = [date(2026, m, 1) for m in range(6, 12)]
    for month in months:
        _run(session, month)
    flags = session.scalars(select(Escalation).where(Escalation.ladder == Ladder.MEMBER_FEES)).all()
    assert [(f.subject_id, f.rung, f.month) for f in flags] == [
        (late.id, 1, months[0]), (late.id, 3, months[2]), (late.id, 5, months[4]), (late.id, 6, months[5])
    ]  # fmt: skip
    b2 = county.b2.id
    assert _who(session, f"monthly:member:member_fees:{b2}:2026-06") == {"书记2"}
    assert _who(session, f"monthly:member:member_fees:{b2}:2026-08") == {"书记2", "组织委员1"}
    assert _who(session, f"monthly:member:member_fees:{b2}:2026-10") == {"书记2", "组织委员1", "党委副书记1"}
    assert not outbox(session, f"monthly:member:member_fees:{b2}:2026-09")  # no step at 4 months
    (june,) = outbox(session, f"monthly:member:member_fees:{b2}:2026-06")
    assert (
        "党员2乙：连续1个月（2026年6月起），提醒" in june.payload["text"]
        and "党章第九条" not in june.payload["text"]
    )
    nov = outbox(session, f"monthly:member:member_fees:{b2}:2026-11")
    text = nov[0].payload["text"]
    assert "党员2乙：连续6个月（2026年6月起）" in text
    assert "党章第九条" in text and "支部大会讨论决定" in text and "系统不作任何认定" in text
    assert [b["label"] for b in nov[0].payload["buttons"]] == ["已阅", "已约谈"]
    # The fees feature no longer sends its own arrears notices: one mechanism, one notice.
    from scheduler.jobs import all_jobs
    from tests.harness import CONFIG

    assert "fees.arrears" not in {j.name for j in all_jobs(CONFIG)}
    assert not outbox(session, "fee-arrears")

    # December: 党员2乙 pays; every open notice ends, and the people told are told once that it ended.
    from handlers.fees.payments import record_payment

    record_payment(
        session, county.people["sec2"], late, date(2026, 12, 1), run_at(months[-1]), tz=TZ, amount=Decimal(5)
    )
    session.commit()
    result = _run(session, date(2026, 12, 1))
    assert result.members.ended == 1 and result.members.member_flags == 0
    session.expire_all()
    assert all(f.ended_month == date(2026, 12, 1) for f in session.scalars(select(Escalation)))
    ended = outbox(session, f"monthly:member-end:member_fees:{b2}:2026-12")
    assert {m.person_id for m in ended} == {county.people[k].id for k in ("sec2", "c1org", "c1dep")}
    assert "党员2乙" in ended[0].payload["text"] and "到此结束" in ended[0].payload["text"]
    assert "2026年6月、2026年8月、2026年10月、2026年11月" in ended[0].payload["text"]
    _run(session, date(2026, 12, 1))
    assert len(outbox(session, "monthly:member-end:")) == len(ended)


def test_acknowledgements_are_recorded_once(session_factory, session, county, observers):
    _month(session, county, MONTHS[0], b3_lags=True)
    _run(session, MONTHS[0])
    esc = session.scalars(select(Escalation).where(Escalation.ladder == Ladder.COMMITTEE)).one()
    chat = harness.Chat(session_factory, [router], now=run_at(MONTHS[0]))

    def ack(account: str, **params: str) -> str:
        (reply,) = chat.press(account, ACK_ACTION, **params).replies
        return reply["text"]

    # Someone the notice was not sent to cannot acknowledge it.
    assert "不是发给您的" in ack("sec1", id=str(esc.id), kind="read")
    session.expire_all()
    assert session.get(Escalation, esc.id).acknowledged_at is None
    reply = ack("c2org", id=str(esc.id), kind="interviewed")
    assert "组织委员2" in reply and "已约谈" in reply
    session.expire_all()
    row = session.get(Escalation, esc.id)
    assert row.ack_kind == AckKind.INTERVIEWED and row.acknowledged_by_id == county.people["c2org"].id
    assert "已由组织委员2确认过" in ack("c2org", id=str(esc.id), kind="read")
    session.expire_all()
    assert session.get(Escalation, esc.id).ack_kind == AckKind.INTERVIEWED
    assert "没有找到" in ack("c2org", id="99999", kind="read")
    assert "没有找到" in ack("c2org", id=str(esc.id), kind="bogus")


def test_score_and_ranking_commands(session_factory, session, county, observers):
    _month(session, county, MONTHS[0], b3_lags=True)
    _run(session, MONTHS[0])
    chat = harness.Chat(session_factory, [router], now=run_at(MONTHS[0]))

    def say(account: str, text: str) -> str:
        return chat.say(account, text).text

    mine = say("sec3", "本月积分")
    assert (
        "河西村党支部 2026年7月月积分" in mine and "列为落后" in mine and "主题党日：已开0次，应开1次" in mine
    )
    # The ranking names only what the person may see: a secretary sees their own branch, counted among peers.
    ranking = say("sec3", "排名")
    assert "河西村党支部" in ranking and "河东村党支部" not in ranking and "同类共2个" in ranking
    ranking = say("c2org", "排名")  # a committee's 组织委员: the committees' ranking, only their own named
    assert "河西乡党委" in ranking and "城关镇党委" not in ranking
    assert "月积分只对" in say("m1a", "积分")  # a plain member has no scope
