"""督查 rounds (item 1): a round over chosen units with named inspectors, findings per unit and item,
problems to rectification items tracked 整改 → 退回 → 整改 → 确认销号, the close that freezes findings
(a correction only by an organiser, with a reason, in the audit log), who sees what, and the unit's
file (一户一档)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from handlers.inspection import guidance, rounds
from handlers.inspection.config import DEFAULT
from models.audit import AuditEntry
from models.inspection import Finding, InspectionRectification, RoundKind
from models.observers import RectificationStatus
from models.outbox import OutboxMessage
from tests.inspection.conftest import local, st

TODAY = date(2027, 5, 10)
NOW = local(TODAY)


def _round(session, county):
    guidance.ensure_defaults(session, TODAY.year)
    return rounds.open_round(
        session, st(session, county.sun), kind=RoundKind.SUPERVISION, title="2027年第一轮综合督查",
        unit=None, assignments=[(county.village, county.qian.id, None), (county.east1, county.sun.id, None)],
        today=TODAY, scope_kind="综合", target_kind="随机", method="查资料",
    )  # fmt: skip


def _messages(session, person_id):
    return [m for m in session.scalars(select(OutboxMessage)) if m.person_id == person_id]


def test_a_round_from_findings_to_closure(session, county):
    rnd = _round(session, county)
    ru = rounds.get_round_unit(session, rnd, county.village.id)
    qian = st(session, county.qian)
    items = [i.title for i in rounds.items_for(session, rnd, county.village)]
    assert len(items) == len(guidance.SUPERVISION_DEFAULT)
    rounds.record_finding(session, qian, rnd, ru, item=items[0], ok=True, now=NOW, today=TODAY, cfg=DEFAULT)
    bad = rounds.record_finding(
        session, qian, rnd, ru, item=items[1], ok=False, text="4月主题党日无记录", photos=[7],
        now=NOW, today=TODAY, cfg=DEFAULT,
    )  # fmt: skip
    rect = bad.rectification
    assert rect.owner_id == county.wang.id and rect.status == RectificationStatus.OPEN
    assert rect.due_on == TODAY + timedelta(days=DEFAULT.rectification_days)
    assert any("4月主题党日无记录" in str(m.payload) for m in _messages(session, county.wang.id))
    # A problem needs its text; someone else's unit is refused.
    with pytest.raises(Refused) as no_text:
        rounds.record_finding(
            session, qian, rnd, ru, item=items[2], ok=False, now=NOW, today=TODAY, cfg=DEFAULT
        )
    assert no_text.value.status == 422
    other = rounds.get_round_unit(session, rnd, county.east1.id)
    with pytest.raises(Refused) as not_theirs:
        rounds.record_finding(
            session, qian, rnd, other, item=items[0], ok=True, now=NOW, today=TODAY, cfg=DEFAULT
        )
    assert not_theirs.value.status == 403
    # 整改 → 退回 → 整改 → 确认销号
    with pytest.raises(Refused) as early:
        rounds.decide(session, qian, rect, confirm=True, now=NOW)
    assert early.value.status == 409
    with pytest.raises(Refused) as stranger:
        rounds.report_fixed(session, county.li, rect, "补了", now=NOW)
    assert stranger.value.status == 403
    rounds.report_fixed(session, county.wang, rect, "已补记录", now=NOW)
    assert any("已补记录" in str(m.payload) for m in _messages(session, county.qian.id))
    rounds.decide(session, qian, rect, confirm=False, reason="没有签到表", now=NOW)
    assert rect.status == RectificationStatus.REOPENED and rect.reopen_count == 1
    assert any("没有签到表" in str(m.payload) for m in _messages(session, county.wang.id))
    rounds.report_fixed(session, county.wang, rect, "补签到表", now=NOW)
    rounds.decide(session, qian, rect, confirm=True, now=NOW)
    assert rect.status == RectificationStatus.CLOSED and rect.closed_by_id == county.qian.id
    with pytest.raises(Refused) as twice:
        rounds.decide(session, qian, rect, confirm=True, now=NOW)
    assert twice.value.status == 409
    # The close freezes the findings: the inspector cannot edit; the 组织部 corrects with a reason.
    with pytest.raises(Refused) as not_organiser:
        rounds.close_round(session, qian, rnd, now=NOW)
    assert not_organiser.value.status == 403
    sun = st(session, county.sun)
    rounds.close_round(session, sun, rnd, now=NOW)
    with pytest.raises(Refused) as frozen:
        rounds.record_finding(
            session, qian, rnd, ru, item=items[0], ok=False, text="x", now=NOW, today=TODAY, cfg=DEFAULT
        )
    assert frozen.value.status == 409
    with pytest.raises(Refused) as no_reason:
        rounds.record_finding(
            session, sun, rnd, ru, item=items[0], ok=False, text="x", now=NOW, today=TODAY, cfg=DEFAULT
        )
    assert no_reason.value.status == 422
    fixed = rounds.record_finding(
        session, sun, rnd, ru, item=items[0], ok=False, text="补查发现会议记录代签", now=NOW, today=TODAY,
        cfg=DEFAULT, correction_reason="复核录音发现问题",
    )  # fmt: skip
    session.commit()
    assert fixed.corrected_by_id == county.sun.id and fixed.correction_reason == "复核录音发现问题"
    assert fixed.recorded_by_id == county.qian.id  # who found it first stays
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "inspection_finding", AuditEntry.entity_id == fixed.id)
    ).all()
    assert [a.action for a in audit][-1] == "update" and audit[-1].before["ok"] is True
    # The unit's file holds the round, both findings and the rectification.
    entries = rounds.unit_file(session, county.village)
    assert len(entries) == 1 and {f.item_title for f in entries[0].findings} == {items[0], items[1]}
    assert (
        session.scalar(
            select(InspectionRectification.status).where(InspectionRectification.finding_id == bad.id)
        )
        == RectificationStatus.CLOSED
    )


def test_who_sees_which_round(session, county):
    rnd = _round(session, county)
    session.commit()
    seen = {u.branch_id for u in rounds.visible_units(session, st(session, county.qian), rnd, TODAY)}
    assert seen == {county.village.id, county.east1.id}  # an inspector sees the units of their rounds
    assert [u.branch_id for u in rounds.visible_units(session, st(session, county.wang), rnd, TODAY)] == [
        county.village.id
    ]
    assert rounds.visible_units(session, st(session, county.li), rnd, TODAY) == []
    assert rounds.rounds_for(session, st(session, county.member), TODAY) == []
    assert [r.id for r, _ in rounds.rounds_for(session, st(session, county.wang), TODAY)] == [rnd.id]


def test_a_problem_turned_fine_drops_its_unreported_rectification(session, county):
    rnd = _round(session, county)
    ru = rounds.get_round_unit(session, rnd, county.village.id)
    qian = st(session, county.qian)
    kw = {"now": NOW, "today": TODAY, "cfg": DEFAULT}
    rounds.record_finding(session, qian, rnd, ru, item="台账", ok=False, text="缺页", **kw)
    rounds.record_finding(session, qian, rnd, ru, item="台账", ok=True, **kw)
    session.commit()
    assert session.scalar(select(InspectionRectification.id)) is None
    assert session.scalar(select(Finding.ok)) is True
    with pytest.raises(Refused) as past:
        rounds.record_finding(session, qian, rnd, ru, item="台账", ok=False, text="缺页",
                              due_on=TODAY - timedelta(days=1), **kw)  # fmt: skip
    assert past.value.status == 422


def test_deadline_reminders(session, county):
    rnd = _round(session, county)
    ru = rounds.get_round_unit(session, rnd, county.village.id)
    qian = st(session, county.qian)
    kw = {"now": NOW, "today": TODAY, "cfg": DEFAULT}
    due = TODAY + timedelta(days=10)
    open_one = rounds.record_finding(
        session, qian, rnd, ru, item="台账", ok=False, text="缺页", due_on=due, **kw
    )
    done = rounds.record_finding(session, qian, rnd, ru, item="党费", ok=False, text="漏登", due_on=due, **kw)
    rounds.report_fixed(session, county.wang, done.rectification, "已补登", now=NOW)
    rounds.decide(session, qian, done.rectification, confirm=True, now=NOW)
    session.commit()

    def kinds(person):
        return [
            m.dedup_key.split(":")[1]
            for m in _messages(session, person.id)
            if m.dedup_key.split(":")[1] in ("due", "overdue")
        ]

    assert rounds.remind(session, today=due - timedelta(days=4), now=NOW, cfg=DEFAULT) == 0
    soon = due - timedelta(days=DEFAULT.remind_days_before)
    assert rounds.remind(session, today=soon, now=NOW, cfg=DEFAULT) == 1
    assert rounds.remind(session, today=soon, now=NOW, cfg=DEFAULT) == 0  # a rerun sends nothing more
    assert kinds(county.wang) == ["due"] and kinds(county.qian) == []
    assert f"编号 {open_one.rectification.id}" in str(_messages(session, county.wang.id)[-1].payload)
    assert (
        rounds.remind(session, today=due + timedelta(days=1), now=NOW, cfg=DEFAULT) == 3
    )  # owner, inspector, creator
    assert (
        kinds(county.wang) == ["due", "overdue"]
        and kinds(county.qian) == ["overdue"]
        and kinds(county.sun) == ["overdue"]
    )
