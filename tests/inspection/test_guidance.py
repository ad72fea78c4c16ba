"""巡查指导 (item 2): the quarter's counts per committee and county on crafted visits, in exactly the
seed's line, and the editable default checklists per kind of unit."""

from __future__ import annotations

from datetime import date

from handlers.inspection import guidance, rounds
from handlers.inspection.config import DEFAULT
from models.inspection import RoundKind
from tests.inspection.conftest import local, st

Q2 = date(2027, 5, 10)


def _visit(session, county, branch, inspector, day, problems, fixed):
    sun = st(session, county.sun)
    rnd = rounds.open_round(
        session, sun, kind=RoundKind.GUIDANCE, title=f"{day} 巡查指导", unit=None,
        assignments=[(branch, inspector.id, None)], today=day,
    )  # fmt: skip
    ru = rnd.units[0]
    who = st(session, inspector)
    kw = {"now": local(day), "today": day, "cfg": DEFAULT}
    rounds.record_finding(session, who, rnd, ru, item="基本组织", ok=True, **kw)
    for n in range(problems):
        f = rounds.record_finding(session, who, rnd, ru, item=f"问题{n}", ok=False, text=f"问题{n}", **kw)
        if n < fixed:
            owner = session.get(type(county.wang), f.rectification.owner_id)
            rounds.report_fixed(session, owner, f.rectification, "已整改", now=local(day))
            rounds.decide(session, who, f.rectification, confirm=True, now=local(day))
    return rnd


def test_the_quarters_line(session, county):
    _visit(session, county, county.village, county.qian, date(2027, 4, 3), problems=3, fixed=2)
    _visit(session, county, county.village, county.qian, date(2027, 6, 20), problems=1, fixed=1)  # same unit
    _visit(session, county, county.community, county.qian, date(2027, 5, 8), problems=0, fixed=0)
    _visit(session, county, county.east1, county.sun, date(2027, 6, 30), problems=2, fixed=0)
    _visit(session, county, county.east2, county.sun, date(2027, 7, 1), problems=5, fixed=5)  # next quarter
    _visit(
        session, county, county.office, county.qian, date(2027, 3, 31), problems=4, fixed=4
    )  # last quarter
    session.commit()
    all_q2 = guidance.quarter_counts(session, None, Q2)
    assert all_q2.line() == "巡查指导 3 个基层党组织，发现反馈问题 6 条，指导整改完成 3 条"
    assert all_q2.open == 3
    town = guidance.quarter_counts(session, county.town, Q2)
    assert (town.units, town.found, town.done) == (2, 4, 3)
    east = guidance.quarter_counts(session, county.east, Q2)
    assert (east.units, east.found, east.done) == (1, 2, 0)
    assert guidance.quarter_counts(session, None, date(2027, 8, 1)).line() == (
        "巡查指导 1 个基层党组织，发现反馈问题 5 条，指导整改完成 5 条"
    )


def test_default_checklists_per_kind_and_edits(session, county):
    guidance.ensure_defaults(session, 2027)
    rnd = rounds.open_round(
        session, st(session, county.sun), kind=RoundKind.GUIDANCE, title="巡查", unit=None,
        assignments=[(county.village, county.qian.id, None), (county.office, county.qian.id, None)], today=Q2,
    )  # fmt: skip
    village = {i.title for i in rounds.items_for(session, rnd, county.village)}
    office = {i.title for i in rounds.items_for(session, rnd, county.office)}
    assert "村（社区）“四议两公开”执行规范" in village and "村（社区）“四议两公开”执行规范" not in office
    assert "机关党建与业务工作融合" in office and "机关党建与业务工作融合" not in village
    added = guidance.add_item(session, 2027, RoundKind.GUIDANCE, "软弱涣散整顿成效", ["rural"])
    guidance.ensure_defaults(session, 2027)  # an edited year is left alone
    assert added.title in {i.title for i in rounds.items_for(session, rnd, county.village)}
    assert added.title not in {i.title for i in rounds.items_for(session, rnd, county.office)}
